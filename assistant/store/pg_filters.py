"""Search filters (path globs, file extensions, documents) as conditions the team index's server applies
(postgres.py): SQLite's GLOB and the local filters' meaning, in PostgreSQL's LIKE and regular expressions."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SqlFilter:
    """What search filters allow, as a condition on `d` (documents), for the server to apply."""

    where: str
    params: tuple[Any, ...]


def _like_escape(text: str) -> str:
    """Text matched literally by LIKE."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching what starts with the text."""
    return _like_escape(prefix) + "%"


def _glob_regex(glob: str) -> str:
    """A GLOB pattern (as SQLite reads it: * ? [...]) as an anchored regular expression."""
    out, i = [], 0
    while i < len(glob):
        ch = glob[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[" and "]" in glob[i + 2:] + glob[i + 1:i + 2]:
            end = glob.index("]", i + 2) if glob[i + 1] == "]" else glob.index("]", i + 1)
            body = glob[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith("^") else body).replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "^" + "".join(out) + "$"


def filter_sql(globs: Iterable[str], exts: Iterable[str], files: Iterable[str] = ()) -> tuple[str, list[Any]]:
    """A condition on documents `d` for path globs, file extensions and documents (their paths, and what is
    inside them), with %(fN)s parameters; '' when there is no filter."""
    globs, exts, files = list(globs), list(exts), list(files)
    params: list[Any] = []
    clauses = []

    def param(value: Any) -> str:
        params.append(value)
        return f"%(f{len(params) - 1})s"

    if files:
        clauses.append("(d.path = ANY(" + param(files) + ") OR d.path LIKE ANY("
                       + param([like_prefix(f.rstrip(os.sep) + os.sep) for f in files]) + "))")
    if globs:
        clauses.append("(" + " OR ".join(f"d.path ~ {param(_glob_regex(g))}" for g in globs) + ")")
    if exts:
        clauses.append("(" + " OR ".join(f"lower(d.path) LIKE {param('%' + _like_escape(e))}"
                                         for e in exts) + ")")
    return " AND ".join(clauses), params
