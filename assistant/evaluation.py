"""Measuring retrieval quality on a question set: hit@1, hit@k, MRR, the relevance gate and latency.

The question file is JSON Lines: {"question": str, "answers": [str, ...], "source": str (optional),
"sections": [str, ...] (optional), "documents": [str, ...] (optional)}. A question is a hit at rank r when
the r-th passage contains one of its answers (case-insensitive, runs of white space read as one space)
and, when `documents` names files (a file name or the end of a path: "pep-0008.rst"), comes from one of
them: PEP 584 quoting "the PEP 8 maximum line length" does not answer a question about PEP 8. `sections`
names the headings that answer a natural question whose answer is not a short span (the answer must cite
a passage under one of them). Questions with no answers, sections or documents are off-topic: they count
towards `relevant_rate`, and an answer to them should be a refusal.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answer.direct import question_kind
from assistant.answer.evidence import numbers
from assistant.answer.verify import unsupported_numbers
from assistant.errors import AssistantError
from assistant.paths import json_lines
from assistant.text import STOPWORDS, content_words, stem


@dataclass(frozen=True)
class Question:
    question: str
    answers: tuple[str, ...]
    source: str | None = None
    sections: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    unanswerable: bool = False  # written to look answerable from the documents, which do not answer it (SQuAD 2.0)

    def matches(self, hit: Any) -> bool:
        """The passage answers the question: it holds one of the answers (if any are given) and comes from
        one of the documents (if any are named)."""
        if not self.in_documents(hit.path):
            return False
        if not self.answers:
            return True
        text = _squash(hit.text)
        return any(a in text for a in map(_squash, self.answers) if a)

    def in_documents(self, path: str) -> bool:
        """The file is one the question names, or the question names none."""
        if not self.documents:
            return True
        path = "/" + str(path).replace("\\", "/").lstrip("/")
        return any(path.endswith("/" + d.replace("\\", "/").strip("/")) for d in self.documents)


def _squash(text: str) -> str:
    """Lower case, every run of white space one space: a phrase matches across a line break."""
    return " ".join(text.split()).lower()


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question file.

    Raises:
        AssistantError: the file is missing or a line is not a valid question object.
    """
    out = []
    for number, obj in json_lines(path, "question file", AssistantError):
        try:
            q = obj["question"]
            answers = obj.get("answers", [])
            if not isinstance(q, str) or not isinstance(answers, list):
                raise TypeError("'question' must be a string and 'answers' a list")
        except (KeyError, TypeError, AttributeError) as exc:
            raise AssistantError(f"{path}, line {number}: not a question object ({exc}); expected "
                                 '{"question": "...", "answers": ["..."]}') from exc
        out.append(Question(q, tuple(str(a) for a in answers), obj.get("source"),
                            tuple(str(x) for x in obj.get("sections") or ()),
                            tuple(str(x) for x in obj.get("documents") or ()), obj.get("answerable") is False))
    if not out:
        raise AssistantError(f"{path} holds no questions")
    return out


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def evaluate(
    assistant: Any, questions: list[Question], k: int = 5, mode: str = "hybrid",
    progress: Callable[[int, int], None] | None = None, documents: bool = False,
) -> dict[str, Any]:
    """Run every question through search and score the results; with `documents`, also rank documents
    (`search --documents`) for the questions that give theirs, and score where the first of them comes.

    Latency covers retrieval only (the questions are embedded beforehand), which is the part that grows
    with the library.
    """
    vectors = [assistant.question_vector(q.question) for q in questions]  # as search embeds each
    ranks: list[int | None] = []
    relevant = reordered = 0
    named = right_document = 0
    latencies = []
    doc_ranks: list[int | None] = []
    for i, (q, vec) in enumerate(zip(questions, vectors, strict=True)):
        t0 = time.perf_counter()
        hits = assistant.search_vector(q.question, vec, k=k, mode=mode)
        latencies.append((time.perf_counter() - t0) * 1000)
        if hits and hits[0].relevant:
            relevant += 1
        reordered += bool(hits) and hits[0].rerank_score is not None
        if q.answers or q.documents:
            ranks.append(next((r for r, h in enumerate(hits, 1) if q.matches(h)), None))
        if q.documents:
            named += 1
            right_document += bool(hits) and q.in_documents(hits[0].path)
            if documents:
                docs = assistant.search_documents_vector(q.question, vec, k=k, mode=mode)
                doc_ranks.append(next((r for r, d in enumerate(docs, 1) if q.in_documents(d.path)), None))
        if progress:
            progress(i + 1, len(questions))
    hit1, hitk, mrr = _rank_figures(ranks)
    out = {
        "questions": len(questions),
        "hit@1": hit1,
        "hit@k": hitk,
        "k": k,
        "mrr": mrr,
        "relevant_rate": round(relevant / len(questions), 4),
        "reordered_rate": round(reordered / len(questions), 4),  # by the cross-encoder (near-ties, --rerank)
        "latency_ms_p50": round(statistics.median(latencies), 2),
        "latency_ms_p95": round(_percentile(latencies, 95), 2),
        "mode": mode,
    }
    if named:  # the first passage comes from a document the question names, whatever it says
        out["document_hit@1"] = round(right_document / named, 4)
    if doc_ranks:  # documents ranked as documents: where the right one comes
        hit1, hitk, mrr = _rank_figures(doc_ranks)
        out |= {"documents_ranked": len(doc_ranks), "documents_hit@1": hit1, "documents_hit@k": hitk,
                "documents_mrr": mrr}
    return out


def _rank_figures(ranks: list[int | None]) -> tuple[float | None, float | None, float | None]:
    """hit@1, hit@k and MRR of the ranks (1-based; None: not found), each None when there are none."""
    n = len(ranks)
    if not n:
        return None, None, None
    return (round(sum(r == 1 for r in ranks) / n, 4), round(sum(r is not None for r in ranks) / n, 4),
            round(sum(1 / r for r in ranks if r) / n, 4))


def evaluate_feedback(assistant: Any, k: int = 5, mode: str = "hybrid") -> dict[str, Any]:
    """The user's upvoted answers as an eval set: each question should find, at the top, a passage the
    answer cited (same file and text). Downvoted answers are listed with what they cited, to look at.

    Raises:
        AssistantError: nothing has been rated yet.
    """
    rated = assistant.feedback()
    if not rated:
        raise AssistantError("no answer has been rated yet: rate one with `assistant feedback CHAT_ID up` "
                             "(or + and - in the chat app)")
    up = [r for r in rated if r["rating"] == "up" and r["question"]]
    ranks: list[int | None] = []
    for r in up:
        expected = {(c["path"], " ".join(c["text"].split())) for c in r["cited"]}
        hits = assistant.search(r["question"], k=k, mode=mode)
        ranks.append(next((n for n, h in enumerate(hits, 1) if (h.path, " ".join(h.text.split())) in expected), None))
    hit1, hitk, mrr = _rank_figures(ranks)
    return {
        "questions": len(ranks),
        "hit@1": hit1,
        "hit@k": hitk,
        "k": k,
        "mrr": mrr,
        "mode": mode,
        "per_question": [{"question": r["question"], "rank": rank} for r, rank in zip(up, ranks, strict=True)],
        "downvoted": [{"chat_id": r["chat_id"], "turn": r["turn"], "question": r["question"], "answer": r["answer"],
                       "note": r["note"], "cited": [f'{c["path"]} {c["location"]}'.strip() for c in r["cited"]]}
                      for r in rated if r["rating"] == "down"],
    }


def evaluate_answers(
    assistant: Any, questions: list[Question], k: int = 5, limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Answer each question as `ask` would (setting answer_style) and score what the user reads.

    With gold answers: how often the answer contains one (and, side by side from the same run, the quoted
    evidence alone, the model's verified sentences alone and the model's raw text), how often it holds a
    number found in no source it cites (and the raw model text in none of its sources), how often it
    refused, and how often the evidence had to stand in for the model. With sections: how often it answered
    citing a passage under one of them. Off-topic questions: how often it refused.
    """
    chosen = questions[: limit or None]
    n_gold = contains = evidence_gold = lead_gold = raw_gold = refused = fallback = bad_number = raw_bad = 0
    n_unans = unans_refused = unans_bold = model_refused = 0
    ttfts: list[float] = []
    rates: list[float] = []
    supported_gold = 0
    n_sec = answered = right_section = n_off = off_refused = n_doc = right_document = 0
    factoid = direct_given = direct_invented = 0
    direct_em: list[float] = []
    direct_f1: list[float] = []
    shown_sentences = shown_off_topic = 0
    times = []
    for i, q in enumerate(chosen, 1):
        t0 = time.perf_counter()
        ans = assistant.ask(q.question, k=k, save=False)
        times.append(time.perf_counter() - t0)
        if ans.stats.get("completion_tokens"):
            ttfts.append(float(ans.stats.get("ttft_s") or 0.0))
            rates.append(float(ans.stats.get("tokens_per_s") or 0.0))
        model_refused += bool(ans.stats.get("model_refused"))
        cited = [ans.sources[n - 1] for n in ans.citations if 1 <= n <= len(ans.sources)]
        for c in ans.checks:
            if c.verified:
                shown_sentences += 1
                shown_off_topic += off_topic(c.text, q.question)
        da = ans.direct_answer
        if da is not None:
            direct_invented += not _verbatim(da, ans)
        if q.answers and question_kind(q.question) is not None:
            factoid += 1
            if da is not None:
                direct_given += 1
                direct_em.append(max(float(normalise(da.text) == normalise(a)) for a in q.answers))
                direct_f1.append(max(token_f1(da.text, a) for a in q.answers))
        if q.documents:
            # The passage the best quote comes from is in a document the question names.
            n_doc += 1
            right_document += ans.grounded and any(
                q.in_documents(ans.sources[e.source - 1].path) for e in ans.evidence[:1])
        if q.answers:
            n_gold += 1
            gold = [_squash(a) for a in q.answers if a.strip()]
            raw = _squash(str(ans.stats.get("model_text", "")))
            lead = _squash(" ".join(c.shown() for c in ans.checks if c.verified))
            # Quotes count only from the documents the question names (all of them if it names none).
            quotes = _squash(" ".join(e.text for e in ans.evidence if q.in_documents(ans.sources[e.source - 1].path)))
            # A refusal lists its closest passages: what it quotes there is not an answer.
            contains += ans.grounded and any(a in _squash(ans.answer) for a in gold)
            evidence_gold += any(a in quotes for a in gold)
            lead_gold += any(a in lead for a in gold)
            supported = _squash(" ".join(c.text for c in ans.checks if c.supported or c.verified))
            supported_gold += any(a in supported for a in gold)
            raw_gold += any(a in raw for a in gold)
            refused += not ans.grounded
            fallback += ans.stats.get("fallback") == "evidence"
            if ans.grounded:
                bad_number += bool(_invented_numbers(ans.answer, q.question, cited))
            raw_bad += bool(_invented_numbers(raw, q.question, ans.sources)) if raw else 0
        elif q.sections:
            n_sec += 1
            answered += ans.grounded
            # The section of the passage the best quote comes from: what the answer rests on.
            best = [ans.sources[e.source - 1] for e in ans.evidence[:1]]
            right_section += ans.grounded and any(
                s.lower() in (h.heading or "").lower() for h in best for s in q.sections)
        elif q.unanswerable:
            n_unans += 1
            unans_refused += not ans.grounded
            unans_bold += ans.direct_answer is not None  # a bold answer to a question nothing answers is wrong
        elif not q.documents:
            n_off += 1
            off_refused += not ans.grounded
        if progress:
            progress(i, len(chosen))
    out: dict[str, Any] = {"answer_style": assistant.settings.answer.style,
                           "answer_s_p50": round(statistics.median(times), 2) if times else None,
                           "answer_s_p95": round(_percentile(times, 95), 2) if times else None,
                           "first_token_s_p50": round(statistics.median(ttfts), 2) if ttfts else None,
                           "tokens_per_s_p50": round(statistics.median(rates), 1) if rates else None,
                           "model_refused_rate": round(model_refused / len(chosen), 4) if chosen else None}
    if n_gold:
        out |= {
            "answers_evaluated": n_gold,
            "answer_contains_gold": round(contains / n_gold, 4),
            "evidence_contains_gold": round(evidence_gold / n_gold, 4),
            "verified_model_text_contains_gold": round(lead_gold / n_gold, 4),
            "supported_model_text_contains_gold": round(supported_gold / n_gold, 4),
            "raw_model_text_contains_gold": round(raw_gold / n_gold, 4),
            "unsupported_number_rate": round(bad_number / n_gold, 4),
            "raw_model_unsupported_number_rate": round(raw_bad / n_gold, 4),
            "refusal_rate": round(refused / n_gold, 4),
            "evidence_fallback_rate": round(fallback / n_gold, 4),
        }
    if factoid:
        out |= {"factoid_questions": factoid, "direct_answer_rate": round(direct_given / factoid, 4),
                "direct_answer_exact_match": round(statistics.mean(direct_em), 4) if direct_em else None,
                "direct_answer_f1": round(statistics.mean(direct_f1), 4) if direct_f1 else None}
    out |= {"direct_answers_not_verbatim": direct_invented,
            "shown_model_sentences": shown_sentences,
            "shown_model_sentences_off_topic": round(shown_off_topic / shown_sentences, 4) if shown_sentences else 0.0}
    if n_doc:
        out |= {"documents_evaluated": n_doc, "right_document_rate": round(right_document / n_doc, 4)}
    if n_sec:
        out |= {"natural_evaluated": n_sec, "answered_rate": round(answered / n_sec, 4),
                "right_section_rate": round(right_section / n_sec, 4)}
    if n_off:
        out |= {"offtopic_evaluated": n_off, "offtopic_refused_rate": round(off_refused / n_off, 4)}
    if n_unans:  # SQuAD 2.0's: "the documents do not say" is the right answer, a bold one necessarily wrong
        out |= {"unanswerable_evaluated": n_unans, "unanswerable_refused_rate": round(unans_refused / n_unans, 4),
                "unanswerable_bold_rate": round(unans_bold / n_unans, 4)}
    return out


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text.lower())
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's token F1 between a predicted and a gold answer (after normalise)."""
    p, g = normalise(prediction).split(), normalise(gold).split()
    common = sum(min(p.count(w), g.count(w)) for w in set(p) & set(g))
    if not p or not g or not common:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def off_topic(sentence: str, question: str) -> bool:
    """The rule the off-topic share is measured by: the sentence shares no content word (five-letter stem,
    stop words and words about sources set aside) with the question."""
    from assistant.answer.verify import META

    words = {stem(w) for w in content_words(sentence) if w not in META and w not in STOPWORDS}
    return not words & {stem(w) for w in content_words(question) if w not in META}


def _verbatim(da: Any, ans: Any) -> bool:
    """The direct answer is the exact text of its span, inside one quoted sentence of its source."""
    if not 1 <= da.source <= len(ans.sources):
        return False
    text = ans.sources[da.source - 1].text
    inside = any(e.source == da.source and e.start <= da.start and da.end <= e.end for e in ans.evidence)
    return inside and " ".join(text[da.start:da.end].split()) == da.text


def _invented_numbers(text: str, question: str, sources: list[Any]) -> list[str]:
    """Numbers in an answer that are in none of the given sources nor in the question."""
    return sorted(set(unsupported_numbers(text, sources)) - numbers(question))
