"""Settings precedence and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import ConfigError, Paths, Settings


def test_precedence_defaults_file_env_flags(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.load().search_k == 5
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("search_k = 7\nmax_file_mb = 2.5\n")
    s = Settings.load()
    assert (s.search_k, s.max_file_mb) == (7, 2.5)
    monkeypatch.setenv("ASSISTANT_SEARCH_K", "9")
    assert Settings.load().search_k == 9
    assert Settings.load({"search_k": 11}).search_k == 11


def test_assistant_home_moves_all_state(home: Path) -> None:
    p = Paths.discover()
    assert p.config_file == home / "config.toml"
    assert p.index_file.parent == home and p.log_dir.parent == home


def test_bad_config_says_which_file_and_what(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("search_k = [unclosed\n")
    with pytest.raises(ConfigError, match="config.toml is not valid TOML"):
        Settings.load()
    (home / "config.toml").write_text("serch_k = 3\n")
    with pytest.raises(ConfigError, match="unknown setting.*serch_k"):
        Settings.load()
    (home / "config.toml").write_text("")
    monkeypatch.setenv("ASSISTANT_SEARCH_K", "many")
    with pytest.raises(ConfigError, match="search_k"):
        Settings.load()


def test_save_round_trips(home: Path) -> None:
    s = Settings.load()
    s.save(search_k=3, llm_model="other.gguf")
    again = Settings.load()
    assert (again.search_k, again.llm_model) == (3, "other.gguf")
