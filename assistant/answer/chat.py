"""Conversations: answering a question from the documents, with history, citations and refusals."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict

from assistant import language
from assistant.answer.answerable import STRONG, Judgement, borrowed, judge
from assistant.answer.direct import agrees, direct_answer, direct_answer_block, question_kind, span_answer
from assistant.answer.evidence import Evidence, quote_block, select_evidence
from assistant.answer.generation import GenerationRequest, GenerationStats, Generator
from assistant.answer.prompts import (
    Example,
    answer_prefix,
    build_prompt,
    direct_messages,
    quoted_texts,
    source_label,
    system_message,
)
from assistant.answer.verify import (
    FRAGMENT,
    OFF_TOPIC,
    REFUSED,
    REPEATS,
    SentenceCheck,
    Verifier,
    answers,
    restates,
    split_answer,
    without_lead_in,
)
from assistant.config import AnswerSettings
from assistant.errors import ModelNotFoundError
from assistant.types import Answer, DirectAnswer, Embedder, Hit

NOT_COVERED = "Your documents do not seem to cover this, so I will not answer from general knowledge."

TokenFn = Callable[[str], None]
SourcesFn = Callable[[list[Hit], list[Evidence], "DirectAnswer | None"], None]
"""Called as on_sources(sources, evidence, direct_answer) once the evidence is picked, before generation."""
SupportFn = Callable[[str, list[str]], list[float]]
"""The cross-encoder: (question, sentences) -> one relevance logit each."""
RarityFn = Callable[[list[str]], dict[str, float]]
"""Words -> how rare each is in the library (higher: rarer)."""
ShareFn = Callable[[str, list[str]], float]
"""(a name, the quoted files) -> the share of their passages that say it."""


def not_covered_text(hits: list[Hit]) -> str:
    if not hits:
        return NOT_COVERED + " Nothing is indexed that comes close."
    lines = [NOT_COVERED, "", "The closest passages, none of them about your question:", ""]
    lines += [f"- [{i}] {source_label(h)}" for i, h in enumerate(hits, 1)]
    return "\n".join(lines)


_KIND_MISSING = {"person": "names no person", "date": "gives no date", "quantity": "gives no number",
                 "place": "names no place"}


def not_answered_text(question: str, judgement: Judgement, sources: list[Hit], evidence: list[Evidence]) -> str:
    """What an answer says when its passages are about the question but do not answer it: that the documents
    do not say, what is missing, and the closest passages, each with its sentence nearest to an answer, as
    closest passages (never as an answer, never in bold)."""
    lines = [f"The documents do not say {what_is_asked(question)}."]
    if judgement.missing:
        names = ", ".join(f'"{m}"' for m in judgement.missing)
        lines[0] += f" None of the closest passages mentions {names}."
    elif judgement.kind in _KIND_MISSING:
        lines[0] += f" The closest passages {_KIND_MISSING[judgement.kind]} that answers it."
    lines += ["", "The closest passages, which do not answer it:", ""]
    nearest = {}
    for e in evidence:
        nearest.setdefault(e.source, e.text)
    for i, h in enumerate(sources[:3], 1):
        said = nearest.get(i) or " ".join(h.text.split())[:160]
        lines.append(f"- [{i}] {source_label(h)}: “{said}”")
    return "\n".join(lines)


_AUX = frozenset("is are was were do does did has have had can could will would should may might must".split())
_BE = frozenset("is are was were".split())
_WH = frozenset("who whom whose what which when where why how".split())
_PRONOUNS = frozenset("i you we they he she it".split())
_PREPOSITIONS = frozenset("from in on at to for with by about into during before after under over".split())
_PARTICIPLES = frozenset("""held made built found won sold led paid said told kept left met put read run set shot sent
    spent taught thought bought brought caught fought born hit cut lost""".split())


def what_is_asked(question: str) -> str:
    """The question as the end of "The documents do not say ...": "Who chaired the meeting?" -> "who chaired the
    meeting", "When was Pluto discovered?" -> "when Pluto was discovered", "How far is Pluto from the Sun?" ->
    "how far Pluto is from the Sun"; a question this cannot turn into a clause is quoted whole ('"Which database
    does Tracy Yin prefer?"')."""
    words = " ".join(question.strip().rstrip("?").split()).split()
    whole = f'"{question.strip()}"'
    if not words or words[0].lower() not in _WH:
        return whole
    lower = [w.lower() for w in words]
    at = next((i for i, w in enumerate(lower[:5]) if w in _AUX), None)
    if at is None or at + 1 >= len(words):
        return " ".join([lower[0], *words[1:]])  # "who chaired the meeting": already a clause
    head, aux, tail = [lower[0], *words[1:at]], lower[at], words[at + 1:]
    if aux in _BE:
        if len(head) > 1 and len(tail) == 1:
            return " ".join(head + [aux] + tail)  # "which planet is largest": the question phrase is the subject
        last = tail[-1].lower()
        if len(tail) > 1 and (re.search(r"(?:ed|en|wn)$", last) or last in _PARTICIPLES):
            return " ".join(head + tail[:-1] + [aux, tail[-1]])  # "when Pluto was discovered"
        cut = next((i for i, w in enumerate(tail) if i and w.lower() in _PREPOSITIONS), None)
        if cut is not None:
            return " ".join(head + tail[:cut] + [aux] + tail[cut:])  # "how far Pluto is from the Sun"
        return " ".join(head + tail + [aux])  # "what Ryan's last name is"
    if aux not in ("do", "does", "did") and tail[0].lower() in _PRONOUNS:
        return " ".join(head + tail[:1] + [aux] + tail[1:])  # "what I should install"
    return whole


CUT_OFF = "cut off before its end (answer_tokens reached, or stopped)"
DISAGREES = "does not give the answer the quoted evidence gives"
BORROWED = "states the question's own words as a fact its source does not say"
FALLBACK_NOTE = ("The model's own sentences were not supported by the sources, so the answer is the sources' "
                 "own words.")


def answer_question(
    load_generator: Callable[[], Generator], embedder: Embedder, question: str, hits: list[Hit],
    history: list[tuple[str, str]], chat_id: str, settings: AnswerSettings, *, on_token: TokenFn | None = None,
    cancel: threading.Event | None = None, examples: list[Example] | None = None,
    on_sources: SourcesFn | None = None, support: SupportFn | None = None, rarity: RarityFn | None = None,
    share: ShareFn | None = None, capable: Callable[[Generator], bool] | None = None,
) -> Answer:
    """Answer from the relevant hits: evidence first, then (style auto/generate) the model's checked text.

    - No relevant hit: refuse without generating (the model is not even loaded).
    - The evidence is picked from the best three relevant passages; then answerable.judge decides whether it
      answers the question. When it does not, the answer says what the documents do not say and lists the
      closest passages as such (grounded false); the model is not run.
    - The direct answer (a factoid's short span of the evidence, in bold) and the evidence (sentences quoted
      from the sources) are streamed at once, and on_sources gets the numbered sources with them. With a model
      that `capable` accepts, the model picks the direct answer's words from the best sentence.
    - auto: the model reads the quotes (settings.reads; by default for models `capable` refuses) or the best
      `settings.sources` relevant passages; each sentence it writes is streamed
      once verified (and cited by the checker); the verified sentences lead the final text and the quotes follow
      as its evidence. When none is left, the evidence is the answer. A `capable` model that says the documents do
      not say is believed unless the evidence is strongly supported (answerable.STRONG).
    - quote: the evidence alone; no chat model is needed.
    - generate: the model's text as it streams, then unverified sentences are marked "(unverified)".

    Raises:
        ModelNotFoundError: (generate) the chat model is missing or broken.
    """
    style = settings.style
    emit = on_token or (lambda _piece: None)
    relevant = [h for h in hits if h.relevant]
    if not relevant:
        text = not_covered_text(hits)
        emit(text)
        return Answer(text, False, hits, [], chat_id, asdict(GenerationStats()) | {"answer_style": style})
    t0 = time.perf_counter()
    # The cross-encoder and the rules that read a question's words (its names, the kind of thing it asks for, the
    # direct answer's span) know English alone: another language's question or passages are answered by the
    # language-neutral rules (numbers, the relevance gate) and the quotes.
    english = language.english(question, *(h.text for h in relevant[:3]))
    support = support if english else None
    evidence = select_evidence(embedder, question, relevant, support=support)
    judgement = judge(question, relevant, evidence, support, rarity, share, english=english)
    info: dict[str, object] = {"answer_style": style, "evidence_ms": round((time.perf_counter() - t0) * 1000, 1),
                               "judgement": judgement.to_dict()}
    if not judgement.answered:
        text = not_answered_text(question, judgement, relevant, evidence)
        emit(text)
        if on_sources:
            on_sources(relevant, [], None)
        return Answer(text, False, relevant, [], chat_id, asdict(GenerationStats()) | info)
    direct = direct_answer(question, relevant, evidence) if english else None
    quotes = quote_block(evidence)
    if style != "generate":
        emit((f"{direct_answer_block(direct)}\n\n" if direct else "") + quotes)
    if on_sources:
        on_sources(relevant, evidence, direct)
    generator = None
    if style != "quote":
        try:
            generator = load_generator()
        except ModelNotFoundError as exc:
            if style == "generate":
                raise
            info["notice"] = f"No chat model, so the answer is the sources' own words ({exc})."
    if generator is None:
        return _answer(_compose(direct, [], quotes), relevant, evidence, [], chat_id,
                       asdict(GenerationStats()) | info, direct)

    stop = cancel or threading.Event()
    system = system_message(settings.instructions)
    asked_in = language.detect(question)
    if asked_in != "en" and asked_in in language.NAMES:
        system += f" Answer in {language.NAMES[asked_in]}, the language of the question."
    # A model that picks the direct answer itself, and is believed when it says the documents do not say; the
    # smaller ones read the quotes (settings.reads "auto").
    able = capable is not None and capable(generator)
    if english and able and question_kind(question) is not None:
        picked = _model_direct(generator, system, question, relevant, evidence, stop)
        info["direct_by"] = "model"
        if picked != direct:
            direct = picked
            if direct and style != "generate":  # the model's pick, under the quotes shown (the final text leads)
                emit(f"\n\nAnswer: {direct_answer_block(direct)}")
    by_model = info.get("direct_by") == "model"  # the model's pick of the direct answer: a surer one to agree with
    reads = settings.reads if settings.reads != "auto" else "passages" if able else "quotes"
    texts = quoted_texts(relevant, evidence) if reads == "quotes" else None
    prompt = build_prompt(generator, question, relevant[:len(texts) if texts else settings.sources], history,
                          settings.tokens, system, examples, texts)
    stats = GenerationStats()
    kept_examples = (examples or [])[prompt.dropped_turns:]  # over budget, the examples went first
    marker = answer_prefix(kept_examples)  # the examples answer as a list: so does this answer, a sentence an item
    request = GenerationRequest(prompt.messages, settings.tokens, settings.temperature, settings.seed, stop,
                                settings.repeat_penalty, marker)
    info["generation_start_s"] = round(time.perf_counter() - t0, 3)  # the model's first token: this + ttft_s
    verifier = Verifier(relevant[: len(prompt.sources)], question, embedder.embed)
    said = [e.text for e in evidence] + ([direct.text] if direct else [])
    checks: list[SentenceCheck] = []
    raw = ""
    shown = 0  # sentences of the model's text already handled (auto)
    for piece in generator.stream(request, stats):
        raw += piece
        if style == "generate":
            emit(piece)
            continue
        parts = split_answer(raw)
        for sentence, cited in parts[shown: len(parts) - 1]:  # the last one may still be growing
            checks.append(_check_and_emit(verifier, question, said, sentence, cited, checks, emit, marker, direct,
                                          by_model))
        shown = max(shown, len(parts) - 1)
    rest = split_answer(raw)[shown if style != "generate" else 0:]
    cut = stats.stopped != "eos" and bool(rest) and rest[-1][0][-1:] not in ".!?"
    for j, (sentence, cited) in enumerate(rest):
        if cut and j == len(rest) - 1:  # stopped mid-sentence (length or cancel): a fragment can mislead
            checks.append(SentenceCheck(sentence, cited, False, CUT_OFF))
        elif style != "generate":
            checks.append(_check_and_emit(verifier, question, said, sentence, cited, checks, emit, marker, direct,
                                          by_model))
        else:
            checks.append(verifier.check(sentence, cited))
    info |= {"dropped_sources": prompt.dropped_sources, "dropped_turns": prompt.dropped_turns,
             "model_text": raw.strip(), "verified_sentences": sum(c.verified for c in checks),
             "unverified_sentences": sum(not c.verified for c in checks)}
    data = asdict(stats) | info
    if style == "generate":
        text = _join([c.shown() if c.verified else c.shown("(unverified)") for c in checks], marker)
        grounded = bool(checks) and all(c.verified for c in checks)
        cited = sorted({n for c in checks for n in c.citations})
        return Answer(text, grounded, relevant, cited, chat_id, data, evidence, checks, direct)
    lead = _join([c.shown() for c in checks if c.verified], marker)
    if any(c.reason == REFUSED for c in checks):
        data["model_refused"] = True
        # Believed from a capable model only: the smaller ones say it of answerable questions too.
        if able and not lead and (judgement.support is None or judgement.support < STRONG):
            # The model read the passages and found no answer in them, and the evidence is not strong enough to
            # say otherwise: the quotes shown were the closest passages, not an answer.
            judged = Judgement(False, "model", support=judgement.support, details=judgement.details)
            data["judgement"] = judged.to_dict()
            text = not_answered_text(question, judged, relevant, evidence)
            emit("\n\n" + text.split("\n\n", 1)[0] + " The quotes above are the closest passages, not an answer.")
            return Answer(text, False, relevant, [], chat_id, data)
    if not lead:
        data["fallback"] = "evidence"
        data.setdefault("notice", _fallback_note(checks))
    # The model's first sentence may be a quote restated word for word: it leads, and is not quoted again below it.
    said_by_model = [c.text for c in checks if c.verified]
    quotes = quote_block([e for e in evidence if not any(_same(e.text, t) for t in said_by_model)])
    return _answer(_compose(direct, [lead] if lead else [], quotes), relevant, evidence, checks, chat_id, data, direct)


def _compose(direct: DirectAnswer | None, lead: list[str], quotes: str) -> str:
    """The final answer: the direct answer in bold, the model's checked sentences, then the quotes they rest on."""
    return "\n\n".join(part for part in (direct_answer_block(direct), *lead, quotes) if part)


def _fallback_note(checks: list[SentenceCheck]) -> str:
    """Why the quotes stand in for the model: what became of its sentences, truthfully."""
    if not checks:
        return "The model wrote nothing, so the answer is the sources' own words."
    if any(c.supported for c in checks):
        return ("The model's sentences were true to the sources but did not answer the question, so the answer "
                "is the sources' own words.")
    return FALLBACK_NOTE


def _model_direct(generator: Generator, system: str, question: str, sources: list[Hit], evidence: list[Evidence],
                  cancel: threading.Event) -> DirectAnswer | None:
    """The direct answer as the model picks it: the words of the best evidence sentence that answer the
    question, kept only when they are a verbatim span of it and of the kind asked for (span_answer)."""
    e = evidence[0]
    request = GenerationRequest(direct_messages(system, question, e.text), 24, 0.0, 0, cancel)
    text = "".join(generator.stream(request, GenerationStats()))
    return span_answer(question, sources, e, text)


def _join(sentences: list[str], marker: str) -> str:
    """Sentences as running text, or as a list (one item each) when the examples answer as a list."""
    return "\n".join(marker + s for s in sentences) if marker else " ".join(sentences)


def _check_and_emit(verifier: Verifier, question: str, said: list[str], sentence: str, cited: list[int],
                    done: list[SentenceCheck], emit: TokenFn, marker: str = "",
                    direct: DirectAnswer | None = None, by_model: bool = False) -> SentenceCheck:
    """Check a sentence of the model's answer; show it when the sources support it and it answers the
    question. The first sentence shown may say what a quote says, in the model's words or in the quote's own:
    it is the answer, and the quotes follow as its evidence. A later one must add something the quotes and the
    sentences shown before it do not already say."""
    check = verifier.check(without_lead_in(sentence), cited)
    first = not any(c.verified for c in done)
    if check.verified:
        # Examples that answer as a list set the answer's form: its items restate the quotes on purpose, and an
        # item that restates a quote is about the question as much as the quote is.
        earlier = ([] if marker or first else said) + [c.text for c in done if c.verified]
        if any(c.verified and _same(c.text, check.text) for c in done):
            reason = "repeats an earlier sentence"
        elif not marker and any(_same(q, check.text) for q in said[1 if first else 0:]):
            # A quote copied word for word is already shown, as a quote; the first sentence may be the best
            # quote's own (it is the answer), not another's (the model copied the wrong one).
            reason = REPEATS
        else:
            reason = answers(check.text, question, earlier)
        if not reason and first and not marker:  # the sentence that leads the answer
            if not agrees(question, check.text, direct, said, by_model):
                reason = DISAGREES  # the answer it leads with is not the one the quotes give
            elif check.citations and borrowed(question, check.text, verifier.sources[check.citations[0] - 1]):
                reason = BORROWED  # its claim is the question's words, which its source does not say
        if marker and (reason == FRAGMENT or reason == OFF_TOPIC and restates(check.text, said)):
            reason = ""  # a list item need not be a whole sentence ("- 12 March 2026 [1]")
        check = SentenceCheck(check.text, check.citations, not reason, reason, supported=True)
    else:
        check.supported = False
    if check.verified:
        emit(("\n\n" if first else "\n" if marker else " ") + marker + check.shown())
    return check



def _same(a: str, b: str) -> bool:
    """The same sentence, case, spacing and punctuation aside."""
    return re.sub(r"\W+", " ", a).strip().lower() == re.sub(r"\W+", " ", b).strip().lower()


def _answer(text: str, sources: list[Hit], evidence: list[Evidence], checks: list[SentenceCheck], chat_id: str,
            stats: dict[str, object], direct: DirectAnswer | None = None) -> Answer:
    cited = sorted({e.source for e in evidence} | {n for c in checks if c.verified for n in c.citations})
    return Answer(text, True, sources, cited, chat_id, stats, evidence, checks, direct)


def sources_json(answer: Answer) -> str:
    """What a conversation keeps of an answer besides its text: sources, citations, evidence, checks."""
    kept = ("sources", "citations", "evidence", "checks", "direct_answer")  # answer_from_json adds back the rest
    data = {k: v for k, v in answer.to_dict().items() if k in kept}
    # Whether the documents answer it, and whether it was stopped before its end: the app and the export say so.
    stats = {k: answer.stats[k] for k in ("judgement", "stopped") if answer.stats.get(k)}
    if stats:
        data["stats"] = stats
    return json.dumps(data)


def answer_from_json(text: str, grounded: bool, stored: str | None, chat_id: str) -> Answer:
    """An answer as a conversation stored it (the inverse of sources_json)."""
    return Answer.from_dict({**json.loads(stored or "{}"), "answer": text, "grounded": grounded, "chat_id": chat_id})
