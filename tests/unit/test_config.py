"""Settings precedence and paths."""

from __future__ import annotations

import os
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


@pytest.mark.parametrize(("kind", "raw", "value"), [
    (bool, "false", False), (bool, "False", False), (bool, "0", False), (bool, "no", False), (bool, False, False),
    (bool, "true", True), (bool, "on", True), (bool, True, True),
    (int, "3", 3), (float, "0.25", 0.25), (str, "auto", "auto"),
])
def test_values_are_coerced_to_the_setting_type(kind: type, raw: object, value: object) -> None:
    from assistant.config import _coerce

    assert _coerce("x", kind, raw) == value and type(_coerce("x", kind, raw)) is kind


@pytest.mark.parametrize(("kind", "raw"), [(bool, "maybe"), (int, "x"), (int, True), (float, "fast")])
def test_a_wrong_value_names_the_setting_and_the_type(kind: type, raw: object) -> None:
    from assistant import ConfigError
    from assistant.config import _coerce

    with pytest.raises(ConfigError, match=f"setting x: .* is not a valid {kind.__name__}"):
        _coerce("x", kind, raw)


def test_models_folder_of_an_installed_package_is_in_the_user_data_folder(home: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant import paths

    assert paths.default_models_dir() == Path(os.environ["ASSISTANT_MODELS_DIR"]).resolve()
    monkeypatch.delenv("ASSISTANT_MODELS_DIR")
    assert paths.default_models_dir() == paths.REPO_ROOT / "models"  # a source checkout
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "site-packages")  # what a non-editable install sees
    assert paths.default_models_dir() == home.resolve() / "models"
