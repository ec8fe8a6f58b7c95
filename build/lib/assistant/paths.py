"""Where things live. ASSISTANT_HOME moves all state (config, index, logs) under one folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
        """Create the state folders, private to the user."""
        for d in (self.config_dir, self.data_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)

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
    """ASSISTANT_MODELS_DIR, else the checkout's models/ folder (where install.sh puts them)."""
    env = os.environ.get("ASSISTANT_MODELS_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return REPO_ROOT / "models"


def sample_library() -> Path:
    """The small library shipped with the package (the project's own documentation)."""
    return Path(__file__).resolve().parent / "sample"
