"""Legacy Office and Outlook files: the share of the text Apache POI's own tests assert that our readers find.

    .venv/bin/python bench/legacy_office.py [--corpus ../shared/corpus/legacy-office] [--json] [-v]

The corpus folder holds real .doc/.xls/.ppt/.msg files and EXPECTED.tsv (file, expected snippet, POI test,
note). A snippet is found when each of its lines and cells occurs in what the reader gives (blocks, their
headings, and attachments), compared case- and space-insensitively, as the corpus README suggests. For an
encrypted file the snippet is what comes out with the password: a reader that reports the file as
password-protected counts as right (the text cannot be read without it). Reading time per file is printed.
"""

from __future__ import annotations

import argparse
import collections
import csv
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import machine, report  # noqa: E402


def _norm(text: str) -> str:
    return " ".join(text.replace("|", " ").split()).lower()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared" / "corpus" / "legacy-office")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the snippets not found")
    args = ap.parse_args()

    from assistant.errors import DocumentError
    from assistant.ingest.readers import detect_format, parse

    rows = list(csv.reader(open(args.corpus / "EXPECTED.tsv", encoding="utf-8"), delimiter="\t",
                           quoting=csv.QUOTE_NONE))[1:]
    texts: dict[str, str] = {}
    protected: set[str] = set()
    seconds = 0.0
    for name in dict.fromkeys(r[0] for r in rows):
        path = args.corpus / name
        t0 = time.perf_counter()
        try:
            doc = parse(path, path.read_bytes(), detect_format(path) or "")
            parts = [b.text for b in doc.blocks] + [h for b in doc.blocks for h in b.heading]
            parts += [b.text for a in doc.attachments if a.document for b in a.document.blocks]
            texts[name] = _norm("\n".join(parts))
        except DocumentError as exc:
            texts[name] = ""
            if "password-protected" in str(exc):
                protected.add(name)
        seconds += time.perf_counter() - t0
    found: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    missed = []
    for name, expected, _source, note in rows:
        kind = Path(name).suffix.lstrip(".")
        total[kind] += 1
        pieces = [p for p in re.split(r"\\[nt]|[\n\t]", expected) if p.strip()]
        if name in protected or all(_norm(p) in texts[name] for p in pieces):
            found[kind] += 1
        else:
            missed.append(f"{name}: {expected[:60]!r} ({note[:60]})")
    result: dict = {"machine": machine(), "files": len(texts), "snippets": sum(total.values()),
                    "read_seconds": round(seconds, 2)}
    for kind in sorted(total):
        result[f"{kind}_found"] = f"{found[kind]}/{total[kind]}"
        result[f"{kind}_share"] = round(found[kind] / total[kind], 3)
    result["all_share"] = round(sum(found.values()) / max(1, sum(total.values())), 3)
    if args.verbose:
        result["missed"] = missed
    report(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
