"""The answer cache's key, and answers given again from it (the table itself is store/cache.py).

A question asked again is answered at once when nothing it depends on changed: its words (case, spaces and
punctuation set aside), the passages asked for and the filters, the settings groups that shape an answer
(search, answer, and which models make it: Settings.answer_shaping, so a setting added to those groups is in
the key without anyone listing it), the examples file, the chat model file (name, size and time), and the code
that searches and checks. Entries are dropped by the store when a document they rest on changes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.answer.prompts import Example
from assistant.config import Settings
from assistant.types import Answer


@functools.cache
def _answer_code() -> str:
    """A digest of the code that makes answers (search, evidence, checks, prompts): an upgrade that changes how
    answers are made or checked never serves answers cached by the older code."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for folder in ("answer", "search"):
        for path in sorted((root / folder).glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(question: str, k: int, filters: Any, settings: Settings, examples: list[Example],
              model: str) -> str:
    """The key of an answer: see the module's docstring. `model` names the chat model that writes it ("" when
    answers are quotes only); `filters` restrict the search (None: the whole library)."""
    words = " ".join(re.sub(r"[^\w\s]", " ", question.lower()).split())
    data = {"q": words, "k": k, "model": model, "code": _answer_code(),
            "filters": [list(filters.paths), list(filters.types)] if filters else None,
            "settings": settings.answer_shaping(),
            "examples": [(e.question, e.answer, e.sources) for e in examples]}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def model_fingerprint(settings: Settings, given: Any | None) -> str:
    """What identifies the chat model of an answer: a generator handed in (tests, front ends) by itself, else the
    model and adapter files by name, size and time; "" when answers are quotes only (no model)."""
    if settings.answer.style == "quote":
        return ""
    if given is not None:
        return f"{given.model_id}:{id(given)}"
    out = ""
    for path in (settings.models.chat_path, settings.models.lora_path):
        if path is not None:
            st = path.stat() if path.exists() else None
            out += f"{path.name}:{st.st_size}:{st.st_mtime_ns};" if st else f"{path.name};"
    return out


def from_cache(cached: dict[str, Any], chat_id: str, on_token: Callable[[str], None] | None) -> Answer:
    """A cached answer, given again in this conversation (stats.cached is true)."""
    answer = Answer.from_dict({**cached, "chat_id": chat_id})
    answer.stats = {**answer.stats, "cached": True}
    if on_token:
        on_token(answer.answer)
    return answer
