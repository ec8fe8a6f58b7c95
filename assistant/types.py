"""Small immutable records passed between the layers of the core."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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


@dataclass(frozen=True)
class Document:
    """A parsed file: its format and its blocks in reading order."""

    path: str
    format: str
    blocks: tuple[Block, ...]


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

    @property
    def location(self) -> str:
        """Where in its file the passage is: "page 3", "lines 12-18", or "" when unknown."""
        if self.page:
            return f"page {self.page}"
        return f"lines {self.start_line}-{self.end_line}" if self.start_line else ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """A reply to a question: the text, whether it rests on the user's documents, and its sources."""

    answer: str
    grounded: bool
    sources: list[Hit]
    citations: list[int]  # 1-based numbers into `sources` that the answer cites
    chat_id: str
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer, "grounded": self.grounded, "sources": [h.to_dict() for h in self.sources],
            "citations": self.citations, "chat_id": self.chat_id, "stats": self.stats,
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
    chunks_embedded: int = 0
    chunks_reused: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    interrupted: bool = False
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), for `index -v`

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["skipped_files"]  # the JSON reports the count; `index -v` lists them
        return data


@dataclass(frozen=True)
class DocumentInfo:
    """A document as the index knows it."""

    path: str
    format: str | None
    status: str  # "ok" | "error"
    error: str | None
    chunks: int
    size: int | None
    indexed_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
