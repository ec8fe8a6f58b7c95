"""Finding the files of a folder that should be indexed, and saying why the others are not."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from assistant.ingest.readers import detect_format

IGNORE_FILE = ".assistantignore"
SKIP_DIRS = {
    "node_modules", "__pycache__", "venv", "env", "site-packages", "dist-packages", "bower_components",
    "__pypackages__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
}


def is_editor_temp(name: str) -> bool:
    """Editor swap, backup and lock files, which come and go while a file is being saved."""
    return (
        name.endswith(("~", ".swp", ".swo", ".swx", ".tmp", ".part", ".crdownload", ".bak"))
        or (name.startswith("#") and name.endswith("#"))
        or name.startswith(".#")
        or name.startswith("~$")  # MS Office lock files
        or name == "4913"  # vim's write test file
    )


def human_size(n: float) -> str:
    """1234567 -> '1.2 MB'."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


@dataclass(frozen=True)
class FoundFile:
    """A file to index: the path as found under the root, its stat and its format."""

    path: Path
    size: int
    mtime_ns: int
    format: str


@dataclass
class Scan:
    """The result of walking some roots."""

    files: list[FoundFile] = field(default_factory=list)
    errors: list[tuple[Path, str]] = field(default_factory=list)  # candidate files that cannot be indexed
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # passed over on purpose, with the reason


class _Ignore:
    """The .assistantignore rules (gitignore syntax) in force in one folder."""

    def __init__(self, specs: tuple[tuple[Path, object], ...] = ()) -> None:
        self.specs = specs

    def child(self, directory: Path) -> _Ignore:
        f = directory / IGNORE_FILE
        try:
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return self
        import pathspec

        return _Ignore(self.specs + ((directory, pathspec.GitIgnoreSpec.from_lines(text.splitlines())),))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        for base, spec in self.specs:
            rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
            if spec.match_file(rel):  # type: ignore[attr-defined]
                return True
        return False


class Scope:
    """Limits a walk to some paths (files or folders) below a root: folders on the way to them are
    entered, everything else is passed over, so a change deep in a big tree costs little."""

    def __init__(self, paths: list[Path] | None) -> None:
        self.paths = None if paths is None else [str(Path(os.path.abspath(p))) for p in paths]

    def enter(self, directory: Path) -> bool:
        if self.paths is None:
            return True
        d = str(directory)
        return any(p == d or p.startswith(d + os.sep) or d.startswith(p + os.sep) for p in self.paths)

    def take(self, file: Path) -> bool:
        if self.paths is None:
            return True
        f = str(file)
        return any(p == f or f.startswith(p + os.sep) for p in self.paths)


def scan(roots: list[Path], max_bytes: int, scope: list[Path] | None = None) -> Scan:
    """Walk the roots (files or folders) and collect what to index.

    Hidden entries, dependency and virtualenv folders, unsupported file types, editor temp files and
    whatever .assistantignore excludes are skipped with a reason. Symlinks are followed only when they
    stay inside the root they were found in and do not loop. With `scope`, only those paths below the
    roots are looked at (roots that no longer exist are passed over).
    """
    result = Scan()
    limit = Scope(scope)
    for root in roots:
        root = Path(os.path.abspath(root))
        if root.is_dir():
            real_root = Path(os.path.realpath(root))
            _walk(root, real_root, _Ignore().child(root), max_bytes, result, {str(real_root)}, limit)
        elif os.path.lexists(root) or scope is None:
            _consider_file(root, None, max_bytes, result, explicit=True)
    return result


def _walk(
    directory: Path, real_root: Path, ignore: _Ignore, max_bytes: int, result: Scan, seen: set[str],
    limit: Scope | None = None,
) -> None:
    limit = limit or Scope(None)
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        result.errors.append((directory, f"cannot list folder: {exc.strerror or exc}"))
        return
    for entry in entries:
        path = Path(entry.path)
        name = entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_dir = False
        if is_dir:
            if not limit.enter(path):
                continue
            if name.startswith("."):
                result.skipped.append((path, "hidden folder"))
                continue
            if name in SKIP_DIRS or (path / "pyvenv.cfg").exists():
                result.skipped.append((path, "dependency or virtualenv folder"))
                continue
            if ignore.ignored(path, True):
                result.skipped.append((path, f"excluded by {IGNORE_FILE}"))
                continue
            real = os.path.realpath(path)
            if entry.is_symlink():
                if not _inside(real, real_root):
                    result.skipped.append((path, "symlink leads outside the indexed folder"))
                    continue
            if real in seen:
                result.skipped.append((path, "symlink loop (folder already visited)"))
                continue
            seen.add(real)
            _walk(path, real_root, ignore.child(path), max_bytes, result, seen, limit)
            continue
        if not limit.take(path):
            continue
        if name.startswith("."):
            if name != IGNORE_FILE:
                result.skipped.append((path, "hidden file"))
            continue
        if ignore.ignored(path, False):
            result.skipped.append((path, f"excluded by {IGNORE_FILE}"))
            continue
        _consider_file(path, real_root, max_bytes, result)


def _inside(real: str, real_root: Path) -> bool:
    return real == str(real_root) or real.startswith(str(real_root) + os.sep)


def _sniff(path: Path) -> str | None:
    """The format of a file whose name says nothing known, from its first bytes: a file with no extension may
    be plain text too; one with an unknown extension only a document format (not every .bak and .lock)."""
    from assistant.ingest.readers.formats import read_head, sniff_format

    try:
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            return None
        head = read_head(path)
    except OSError:
        return None
    return sniff_format(head, text_too=not path.suffix)


def _consider_file(path: Path, real_root: Path | None, max_bytes: int, result: Scan, explicit: bool = False) -> None:
    name = path.name
    if is_editor_temp(name):
        result.skipped.append((path, "editor temporary or backup file"))
        return
    if os.path.islink(path):
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a -> b -> a: no file behind it (not "unsupported file type")
                result.errors.append((path, f"a symbolic link loop ({path.name} -> {os.readlink(path)} leads "
                                            "back to itself)"))
                return
    fmt = detect_format(path) or _sniff(path)
    if fmt is None:
        if explicit:
            result.errors.append((path, f"unsupported file type '{path.suffix or name}'"))
        else:
            result.skipped.append((path, "unsupported file type"))
        return
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            result.errors.append((path, f"broken symlink (points to {os.readlink(path)}, which does not exist)"))
        else:
            result.errors.append((path, "file not found (it vanished or the path is wrong)"))
        return
    except OSError as exc:  # a symbolic link loop is named above
        result.errors.append((path, f"cannot read file information: {exc.strerror or exc}"))
        return
    if not stat.S_ISREG(st.st_mode):
        result.skipped.append((path, "not a regular file"))
        return
    if real_root is not None and os.path.islink(path) and not _inside(os.path.realpath(path), real_root):
        result.skipped.append((path, "symlink leads outside the indexed folder"))
        return
    if st.st_size > max_bytes:
        result.errors.append(
            (path, f"file is {human_size(st.st_size)}, over the {human_size(max_bytes)} limit (setting max_file_mb)")
        )
        return
    result.files.append(FoundFile(path, st.st_size, st.st_mtime_ns, fmt))
