"""Where things live. ASSISTANT_HOME moves all state (config, index, logs) under one folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APP_NAME = "assistant"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Paths:
    """The folders and files the assistant uses."""

    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def index_file(self) -> Path:
        return self.data_dir / "index.sqlite"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "assistant.log"

    def ensure(self) -> None:
        """Create the state folders, private to the user (0700, whatever the umask; an existing one that
        others can read, from an older version, is made private too)."""
        for d in (self.config_dir, self.data_dir, self.log_dir):
            private_dir(d)
            if d.stat().st_mode & 0o077:
                os.chmod(d, 0o700)

    @classmethod
    def discover(cls) -> Paths:
        """ASSISTANT_HOME if set, else the platform's config/data/log folders."""
        home = os.environ.get("ASSISTANT_HOME")
        if home:
            base = Path(home).expanduser().resolve()
            return cls(config_dir=base, data_dir=base, log_dir=base / "logs")
        import platformdirs

        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
            log_dir=Path(platformdirs.user_log_dir(APP_NAME)),
        )


def default_models_dir() -> Path:
    """ASSISTANT_MODELS_DIR; else the checkout's models/ folder (where install.sh puts them) when running
    from a source checkout; else (an installed package, e.g. `pipx install .`) `models` in the user's
    data folder."""
    env = os.environ.get("ASSISTANT_MODELS_DIR")
    if env:
        return Path(env).expanduser().resolve()
    if (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "assistant").is_dir():
        return REPO_ROOT / "models"
    return Paths.discover().data_dir / "models"


def sample_library() -> Path:
    """The small library shipped with the package (the project's own documentation)."""
    return Path(__file__).resolve().parent / "sample"


def private_dir(path: Path) -> Path:
    """Create a folder and any missing parents as 0700, whatever the umask (existing ones are left as
    they are: a parent such as ~/.config is not ours)."""
    missing = []
    p = Path(path)
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(d, 0o700)
    return Path(path)


def write_private(path: Path, text: str) -> None:
    """Write a text file that only the user can read (0600, whatever the umask), atomically: the
    text goes to a temporary file beside it that then replaces it."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def touch_private(path: Path) -> Path:
    """Make sure a file exists and is 0600 (before a library such as logging opens it for appending)."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)
    return path


def json_lines(path: Path, what: str, error: type[Exception]) -> list[tuple[int, Any]]:
    """(line number, parsed object) of each non-blank line of a JSON Lines file.

    Raises:
        error: the file cannot be read, or a line is not JSON (the message names the file and line).
    """
    import json

    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read the {what} {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    out = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                out.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise error(f"{path}, line {number}: not JSON ({exc})") from exc
    return out
