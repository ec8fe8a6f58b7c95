"""Conversations: answering a question from the documents, with history, citations and refusals."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict

from assistant.answer.direct import direct_answer, direct_answer_block
from assistant.answer.evidence import Evidence, quote_block, select_evidence
from assistant.answer.generation import GenerationRequest, GenerationStats, Generator
from assistant.answer.prompts import Example, answer_prefix, build_prompt, source_label, system_message
from assistant.answer.verify import (
    FRAGMENT,
    OFF_TOPIC,
    REFUSED,
    SentenceCheck,
    Verifier,
    answers,
    restates,
    split_answer,
    without_lead_in,
)
from assistant.errors import ConfigError, ModelNotFoundError
from assistant.ingest.embedding import Embedder
from assistant.types import Answer, DirectAnswer, Hit

NOT_COVERED = "Your documents do not seem to cover this, so I will not answer from general knowledge."

TokenFn = Callable[[str], None]
SourcesFn = Callable[[list[Hit], list[Evidence], "DirectAnswer | None"], None]
"""Called as on_sources(sources, evidence, direct_answer) once the evidence is picked, before generation."""


def not_covered_text(hits: list[Hit]) -> str:
    if not hits:
        return NOT_COVERED + " Nothing is indexed that comes close."
    lines = [NOT_COVERED, "", "The closest passages, none of them about your question:", ""]
    lines += [f"- [{i}] {source_label(h)}" for i, h in enumerate(hits, 1)]
    return "\n".join(lines)


STYLES = ("auto", "quote", "generate")
CUT_OFF = "cut off before its end (answer_tokens reached, or stopped)"
FALLBACK_NOTE = ("The model's own wording could not be checked against the sources, so the answer is the "
                 "sources' own words.")


def answer_question(
    load_generator: Callable[[], Generator], embedder: Embedder, question: str, hits: list[Hit],
    history: list[tuple[str, str]], chat_id: str, *, style: str, answer_tokens: int, temperature: float,
    seed: int, prompt_sources: int = 2, on_token: TokenFn | None = None, cancel: threading.Event | None = None,
    repeat_penalty: float = 1.1, instructions: str = "", examples: list[Example] | None = None,
    on_sources: SourcesFn | None = None,
) -> Answer:
    """Answer from the relevant hits: evidence first, then (style auto/generate) the model's checked text.

    - No relevant hit: refuse without generating (the model is not even loaded).
    - The model reads the best `prompt_sources` relevant passages; the evidence is picked from the best three.
    - The direct answer (a factoid's short span of the evidence, in bold) and the evidence (sentences quoted
      from the sources) are streamed at once, and on_sources gets the numbered sources with them.
    - auto: each sentence of the model's answer is streamed once verified; unverified ones are dropped
      (so is a claim that the documents do not answer). When none is left, the evidence is the answer.
    - quote: the evidence alone; no chat model is needed.
    - generate: the model's text as it streams, then unverified sentences are marked "(unverified)".

    Raises:
        ConfigError: unknown style.
        ModelNotFoundError: (generate) the chat model is missing or broken.
    """
    if style not in STYLES:
        raise ConfigError(f"unknown answer_style {style!r}; choose one of {', '.join(STYLES)}")
    emit = on_token or (lambda _piece: None)
    relevant = [h for h in hits if h.relevant]
    if not relevant:
        text = not_covered_text(hits)
        emit(text)
        return Answer(text, False, hits, [], chat_id, asdict(GenerationStats()) | {"answer_style": style})
    t0 = time.perf_counter()
    evidence = select_evidence(embedder, question, relevant)
    direct = direct_answer(question, relevant, evidence)
    quotes = (f"{direct_answer_block(direct)}\n\n" if direct else "") + quote_block(evidence)
    info: dict[str, object] = {"answer_style": style, "evidence_ms": round((time.perf_counter() - t0) * 1000, 1)}
    if style != "generate":
        emit(quotes)
    if on_sources:
        on_sources(relevant, evidence, direct)
    said = [e.text for e in evidence] + ([direct.text] if direct else [])
    generator = None
    if style != "quote":
        try:
            generator = load_generator()
        except ModelNotFoundError as exc:
            if style == "generate":
                raise
            info["notice"] = f"No chat model, so the answer is the sources' own words ({exc})."
    if generator is None:
        return _answer(quotes, relevant, evidence, [], chat_id, asdict(GenerationStats()) | info, direct)

    prompt = build_prompt(generator, question, relevant[:prompt_sources], history, answer_tokens,
                          system_message(instructions), examples)
    stats = GenerationStats()
    kept_examples = (examples or [])[prompt.dropped_turns:]  # over budget, the examples went first
    marker = answer_prefix(kept_examples)  # the examples answer as a list: so does this answer, a sentence an item
    request = GenerationRequest(prompt.messages, answer_tokens, temperature, seed, cancel or threading.Event(),
                                repeat_penalty, marker)
    verifier = Verifier(relevant[: len(prompt.sources)], question, embedder.embed)
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
            checks.append(_check_and_emit(verifier, question, said, sentence, cited, checks, emit, marker))
        shown = max(shown, len(parts) - 1)
    rest = split_answer(raw)[shown if style != "generate" else 0:]
    cut = stats.stopped != "eos" and bool(rest) and rest[-1][0][-1:] not in ".!?"
    for j, (sentence, cited) in enumerate(rest):
        if cut and j == len(rest) - 1:  # stopped mid-sentence (length or cancel): a fragment can mislead
            checks.append(SentenceCheck(sentence, cited, False, CUT_OFF))
        elif style != "generate":
            checks.append(_check_and_emit(verifier, question, said, sentence, cited, checks, emit, marker))
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
        data["model_refused"] = True  # wrongly: a relevant passage exists, and the evidence answers
    if not lead:
        data["fallback"] = "evidence"
        data.setdefault("notice", FALLBACK_NOTE)
    return _answer(quotes + (f"\n\n{lead}" if lead else ""), relevant, evidence, checks, chat_id, data, direct)


def _join(sentences: list[str], marker: str) -> str:
    """Sentences as running text, or as a list (one item each) when the examples answer as a list."""
    return "\n".join(marker + s for s in sentences) if marker else " ".join(sentences)


def _check_and_emit(verifier: Verifier, question: str, said: list[str], sentence: str, cited: list[int],
                    done: list[SentenceCheck], emit: TokenFn, marker: str = "") -> SentenceCheck:
    """Check a sentence of the model's answer; show it when the sources support it and it answers the
    question with something the quotes (and the sentences shown before it) do not already say."""
    check = verifier.check(without_lead_in(sentence), cited)
    if check.verified:
        # Examples that answer as a list set the answer's form: its items restate the quotes on purpose, and an
        # item that restates a quote is about the question as much as the quote is.
        earlier = ([] if marker else said) + [c.text for c in done if c.verified]
        reason = "repeats an earlier sentence" if any(c.verified and c.text.lower() == check.text.lower()
                                                      for c in done) else answers(check.text, question, earlier)
        if marker and (reason == FRAGMENT or reason == OFF_TOPIC and restates(check.text, said)):
            reason = ""  # a list item need not be a whole sentence ("- 12 March 2026 [1]")
        check = SentenceCheck(check.text, check.citations, not reason, reason, supported=True)
    else:
        check.supported = False
    if check.verified:
        first = not any(c.verified for c in done)
        emit(("\n\n" if first else "\n" if marker else " ") + marker + check.shown())
    return check


def _answer(text: str, sources: list[Hit], evidence: list[Evidence], checks: list[SentenceCheck], chat_id: str,
            stats: dict[str, object], direct: DirectAnswer | None = None) -> Answer:
    cited = sorted({e.source for e in evidence} | {n for c in checks if c.verified for n in c.citations})
    return Answer(text, True, sources, cited, chat_id, stats, evidence, checks, direct)


def sources_json(answer: Answer) -> str:
    """What a conversation keeps of an answer besides its text: sources, citations, evidence, checks."""
    kept = ("sources", "citations", "evidence", "checks", "direct_answer")  # answer_from_json adds back the rest
    return json.dumps({k: v for k, v in answer.to_dict().items() if k in kept})


def answer_from_json(text: str, grounded: bool, stored: str | None, chat_id: str) -> Answer:
    """An answer as a conversation stored it (the inverse of sources_json)."""
    return Answer.from_dict({**json.loads(stored or "{}"), "answer": text, "grounded": grounded, "chat_id": chat_id})
