"""Small immutable records passed between the layers of the core."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Block:
    """A structural unit of a document (paragraph, heading, code block, list) with where it came from."""

    text: str
    kind: str = "para"  # "para" | "heading" | "code"
    heading: tuple[str, ...] = ()  # heading path the block sits under (for a heading: its parents)
    page: int | None = None  # 1-based PDF page
    start_line: int | None = None  # 1-based, inclusive
    end_line: int | None = None
    level: int = 0  # heading level, for kind == "heading"
    ocr: bool = False  # read by OCR from a scanned page or an image


@dataclass(frozen=True)
class Document:
    """A parsed file: its format, its blocks in reading order, and the files it carries (mail
    attachments), each a document of its own."""

    path: str
    format: str
    blocks: tuple[Block, ...]
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A file inside another (an e-mail attachment): `name` is its path below the container's path
    ("memo.pdf", or "message 3/memo.pdf" in an mbox), `label` what citations call it ("attachment
    memo.pdf of message Budget"). Either `document` is its parsed content or `error` says why it could
    not be read (with `no_text`, why there is nothing to read: a photo, an empty file; a status, not an error)."""

    name: str
    label: str
    format: str
    data_size: int
    content_hash: str
    document: Document | None = None
    error: str | None = None
    no_text: bool = False


@dataclass(frozen=True)
class Chunk:
    """A passage of a document sized for the embedding model."""

    text: str
    position: int
    heading: str | None
    page: int | None
    start_line: int | None
    end_line: int | None
    token_count: int
    content_hash: str
    ocr: bool = False  # read by OCR (a scanned page or an image)

    @property
    def embed_text(self) -> str:
        """The text the embedding model sees: heading path, then the passage."""
        return f"{self.heading}\n\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class Hit:
    """One search result."""

    path: str
    chunk_id: int
    score: float
    text: str
    heading: str | None
    page: int | None
    start_line: int | None
    end_line: int | None
    relevant: bool = True  # relevance reached the calibrated threshold (setting relevance_threshold)
    relevance: float | None = None  # cosine + 0.5 x share of the question's content words in the passage
    cosine: float | None = None
    bm25_rank: int | None = None  # 1-based rank in the keyword results, None if not among them
    vector_rank: int | None = None  # 1-based rank in the vector results, None if not among them
    ocr: bool = False  # the passage was read by OCR from a scanned page or an image
    rerank_score: float | None = None  # the cross-encoder's logit when it reordered the passage (setting rerank)
    named: bool = False  # from a document the question names by its file name (setting named_documents)

    @property
    def location(self) -> str:
        """Where in its file the passage is: "page 3", "slide 3", "rows 12-18", "lines 12-18", or "" when
        unknown."""
        ext = os.path.splitext(self.path)[1].lower()
        if self.page:
            unit = "slide" if ext in (".pptx", ".ppt", ".pps", ".odp") else "page"
            return f"{unit} {self.page}" + (" (scanned)" if self.ocr else "")
        if self.ocr:
            return "scanned image"
        unit = "rows" if ext in (".xlsx", ".xlsm", ".ods", ".xls") else "lines"
        return f"{unit} {self.start_line}-{self.end_line}" if self.start_line else ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DocumentHit:
    """One document found by a document search, with the passage that matched best."""

    path: str
    score: float  # its best passage's score
    passages: int  # how many of its passages were among the candidates
    best: Hit

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "score": self.score, "passages": self.passages, "best": self.best.to_dict()}


@dataclass(frozen=True)
class Evidence:
    """A sentence that answers the question, quoted verbatim from source number `source` (1-based)."""

    source: int
    text: str  # whitespace collapsed; the exact characters are sources[source - 1].text[start:end]
    start: int  # character offsets into that source's passage text (Hit.text)
    end: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DirectAnswer:
    """The shortest span of the evidence that answers a factoid question ("42 newton-metres"), cut from
    source number `source`: its exact characters are sources[source - 1].text[start:end]."""

    text: str  # whitespace collapsed
    source: int
    start: int
    end: int
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.source, "start": self.start, "end": self.end}


@dataclass
class SentenceCheck:
    """One sentence of the model's answer and what checking it against the sources found."""

    text: str  # without citation marks
    citations: list[int]  # the sources that support it (1-based): what the shown sentence cites
    verified: bool
    reason: str = ""  # why it is not verified ("" when it is)
    unsupported_facts: list[str] = field(default_factory=list)  # numbers, names, codes found in no source
    # The sources support it (even when it is not shown because it does not answer the question: off-topic,
    # a repeat of the quotes, meta text). None in answers stored before this was recorded.
    supported: bool | None = None

    def shown(self, mark: str = "") -> str:
        """The sentence as the answer shows it: its citations (and a mark) before its final stop."""
        tail = "".join(f" [{n}]" for n in self.citations) + (f" {mark}" if mark else "")
        body, stop = (self.text[:-1], self.text[-1]) if self.text[-1:] in ".!?" else (self.text, "")
        return f"{body}{tail}{stop}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """A reply to a question: the text, whether every claim in it was checked against the user's
    documents (`grounded`), its sources, the evidence it quotes and the check of each generated sentence."""

    answer: str
    grounded: bool  # True only when every sentence shown is a quote or was verified against its source
    sources: list[Hit]
    citations: list[int]  # 1-based numbers into `sources` that the answer cites
    chat_id: str
    stats: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    checks: list[SentenceCheck] = field(default_factory=list)
    direct_answer: DirectAnswer | None = None  # the short span that answers a factoid question, if any

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The inverse of to_dict (as stored in a conversation or exported as JSON)."""
        return cls(data["answer"], bool(data["grounded"]), [Hit(**h) for h in data.get("sources", [])],
                   list(data.get("citations", [])), data.get("chat_id", ""), dict(data.get("stats", {})),
                   [Evidence(**e) for e in data.get("evidence", [])],
                   [SentenceCheck(**c) for c in data.get("checks", [])],
                   DirectAnswer(**data["direct_answer"]) if data.get("direct_answer") else None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer, "grounded": self.grounded, "sources": [h.to_dict() for h in self.sources],
            "citations": self.citations, "chat_id": self.chat_id, "stats": self.stats,
            "evidence": [e.to_dict() for e in self.evidence], "checks": [c.to_dict() for c in self.checks],
            "direct_answer": self.direct_answer.to_dict() if self.direct_answer else None,
        }


@dataclass
class IndexReport:
    """What one `index` run did. Counts are of files, except the chunk counters."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    moved: int = 0
    unchanged: int = 0
    skipped: int = 0  # files passed over on purpose (unsupported type, ignored, hidden)
    no_text: int = 0  # files read that hold nothing readable (photos, blank pages): a status, not an error
    chunks_embedded: int = 0
    chunks_reused: int = 0
    chunks_pending: int = 0  # chunks still waiting for a vector at the end (a stopped run: the next embeds them)
    queued: int = 0  # writes waiting in the outbox for the team index's server (store/team.py)
    errors: list[dict[str, str]] = field(default_factory=list)
    interrupted: bool = False
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), for `index -v`

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["skipped_files"]  # the JSON reports the count; `index -v` lists them
        return data

    def add(self, other: IndexReport) -> None:
        """Count another run's work into this report (a sync of several roots)."""
        for name in ("added", "updated", "removed", "moved", "unchanged", "skipped", "no_text", "chunks_embedded",
                     "chunks_reused"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.chunks_pending = other.chunks_pending  # a count of the whole index, not of the run
        self.errors += other.errors
        self.skipped_files += other.skipped_files
        self.interrupted = self.interrupted or other.interrupted


@dataclass(frozen=True)
class DocumentInfo:
    """A document as the index knows it."""

    path: str
    format: str | None
    status: str  # "ok" | "error" | "no text" (read, nothing readable in it: a photo, a blank scan)
    error: str | None
    chunks: int
    size: int | None
    indexed_at: float
    container: str | None = None  # the file it is inside (a mail attachment's mail file)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChatSummary:
    """One conversation in the list: its id, title, number of questions and times (Unix seconds)."""

    id: str
    title: str
    turns: int
    created_at: float
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: the question and the answer as it was given (None when the
    answer was never stored, e.g. the process was killed while answering)."""

    question: str
    answer: Answer | None
    asked_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "asked_at": self.asked_at,
                "answer": self.answer.to_dict() if self.answer else None}


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors and knows how many tokens the model really reads."""

    model_id: str
    dim: int
    max_tokens: int  # tokens of a passage the model reads per input, special tokens and its prefix excluded

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...

    def embed(self, texts: list[str], query: bool = False) -> np.ndarray:
        """Passages' vectors, or (query) questions': a model trained with prefixes (E5: "query: ",
        "passage: ") reads them with theirs."""
        ...
