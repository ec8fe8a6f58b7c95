"""Settings: declared once by group, checked when they load (one line naming the setting, the value and what is
allowed), read from the file, the environment and flags in that order, old flat names still read; paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant import ConfigError, Paths, Settings
from assistant.config import GROUPS, LEGACY, reference

REPO = Path(__file__).resolve().parents[2]


def test_precedence_defaults_file_env_flags(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.load().search.k == 5
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[search]\nk = 7\n\n[index]\nmax_file_mb = 2.5\n")
    s = Settings.load()
    assert (s.search.k, s.index.max_file_mb) == (7, 2.5) and s.notes == []
    monkeypatch.setenv("ASSISTANT_SEARCH_K", "9")
    assert Settings.load().search.k == 9
    assert Settings.load({"search.k": 11}).search.k == 11
    assert Settings.load({"search_k": 12}).search.k == 12  # an old flat name, as flags and front ends pass them


def test_old_flat_names_are_still_read_with_a_note(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config file of an earlier version keeps working: each flat key is read as the setting it became."""
    monkeypatch.delenv("ASSISTANT_MODELS_CHAT")  # the suite's choice of chat model (conftest.home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('search_k = 7\nllm_model = "other.gguf"\nanswer_style = "quote"\n')
    s = Settings.load()
    assert (s.search.k, s.models.chat, s.answer.style) == (7, "other.gguf", "quote")
    assert any("search_k is now [search] k" in note for note in s.notes)
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", "env.gguf")  # the old variable, as scripts set it
    assert Settings.load().models.chat == "env.gguf"
    monkeypatch.setenv("ASSISTANT_MODELS_CHAT", "new.gguf")  # the new one wins over the old
    assert Settings.load().models.chat == "new.gguf"


@pytest.mark.parametrize(("line", "says"), [
    ('search_mode = "magic"', r"\[search\] mode.*'magic' is not allowed; it must be one of hybrid, bm25, dense"),
    ("n_ctx = 10", r"\[models\] context.*10 is not allowed; it must be a whole number, at least 512"),
    ("fusion_weight = 7", r"\[search\] fusion_weight.*7 is not allowed; it must be a number, at least 0.0 and "
                          r"at most 1.0"),
    ("search_k = -4", r"\[search\] k.*-4 is not allowed; it must be a whole number, at least 1"),
    ("temperature = -1", r"\[answer\] temperature.*-1 is not allowed"),
    ("threads = -2", r"\[models\] threads.*-2 is not allowed"),
    ("answer_tokens = -5", r"\[answer\] tokens.*-5 is not allowed"),
    ('relevance_threshold = "high"', r"\[search\] relevance_threshold.*must be auto or a number from 0 to 1.5"),
    ('ocr = "sometimes"', r"\[index\] ocr.*'sometimes' is not allowed; it must be one of auto, off"),
    ("split_questions = 3", r"\[search\] split_questions.*3 is not allowed; it must be true or false"),
])
def test_a_wrong_value_in_the_file_is_one_line_naming_the_setting_and_what_is_allowed(
        home: Path, line: str, says: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(line + "\n")
    with pytest.raises(ConfigError, match=says) as caught:
        Settings.load()
    assert "\n" not in str(caught.value) and "config.toml" in str(caught.value)


def test_every_setting_refuses_a_wrong_value_from_the_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """For every setting of every group, a value of the wrong kind gives one line naming it."""
    for group, kind in GROUPS.items():
        for name, field in kind.model_fields.items():
            if field.annotation in (str, Path):
                continue  # any text is a valid text, or a folder
            env = f"ASSISTANT_{group.upper()}_{name.upper()}"
            monkeypatch.setenv(env, "not-a-value-[]")
            with pytest.raises(ConfigError, match=rf"setting \[{group}\] {name} \(from {env}\): "
                                                  r"'not-a-value-\[\]' is not allowed") as caught:
                Settings.load()
            assert "\n" not in str(caught.value)
            monkeypatch.delenv(env)


def test_unknown_names_say_what_there_is(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("search_k = [unclosed\n")
    with pytest.raises(ConfigError, match="config.toml is not valid TOML"):
        Settings.load()
    (home / "config.toml").write_text("serch_k = 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'serch_k'.*\[search\] k, mode"):
        Settings.load()
    (home / "config.toml").write_text("[search]\nkk = 3\n")
    with pytest.raises(ConfigError, match=r"\[search\] has no setting 'kk'; it has k, mode"):
        Settings.load()


def test_save_round_trips_under_groups(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSISTANT_MODELS_CHAT")  # the suite's choice of chat model (conftest.home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("temperature = 0.5\n")  # an old flat key: rewritten under its group
    s = Settings.load()
    s.save(search_k=3, **{"models.chat": "other.gguf"})
    again = Settings.load()
    assert (again.search.k, again.models.chat, again.answer.temperature) == (3, "other.gguf", 0.5)
    text = (home / "config.toml").read_text()
    assert "[search]\nk = 3" in text and "temperature = 0.5" in text.split("[answer]")[1] and again.notes == []
    with pytest.raises(ConfigError, match=r"\[search\] k.*0 is not allowed"):
        s.save(search_k=0)


def test_every_old_name_maps_to_a_setting_that_exists() -> None:
    for old, (group, name) in LEGACY.items():
        assert name in GROUPS[group].model_fields, old


def test_the_configuration_reference_page_is_generated_from_the_declarations() -> None:
    """docs/reference/configuration.md is what `python -m assistant.config` writes: regenerate it with
    `.venv/bin/python -m assistant.config > docs/reference/configuration.md`."""
    page = (REPO / "docs" / "reference" / "configuration.md").read_text(encoding="utf-8")
    assert page == reference(), "docs/reference/configuration.md is stale: regenerate it (see this test)"
    for group, kind in GROUPS.items():
        for name in kind.model_fields:
            assert f"| `{name}` |" in page.split(f"## [{group}]")[1].split("\n## ")[0], (group, name)


def test_assistant_home_moves_all_state(home: Path) -> None:
    p = Paths.discover()
    assert p.config_file == home / "config.toml"
    assert p.index_file.parent == home and p.log_dir.parent == home


def test_models_folder_of_an_installed_package_is_in_the_user_data_folder(home: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant import paths

    assert paths.default_models_dir() == Path(os.environ["ASSISTANT_MODELS_DIR"]).resolve()
    monkeypatch.delenv("ASSISTANT_MODELS_DIR")
    assert paths.default_models_dir() == paths.REPO_ROOT / "models"  # a source checkout
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "site-packages")  # what a non-editable install sees
    assert paths.default_models_dir() == home.resolve() / "models"


def test_the_settings_command_shows_them_by_group_and_notes_old_names(home: Path, capsys) -> None:
    from conftest import run_cli, run_cli_json

    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("search_k = 7\n")
    data = run_cli_json("settings", capsys=capsys)
    assert data["search"]["k"] == 7 and data["answer"]["style"] == "auto" and set(data) == set(GROUPS)
    code, out, err = run_cli("settings", capsys=capsys)
    assert code == 0 and "[search]\nk = 7" in out
    assert "note: " in err and "search_k is now [search] k" in err
    (home / "config.toml").write_text("[search]\nk = -4\n")
    code, out, err = run_cli("settings", capsys=capsys)
    assert code != 0 and "Traceback" not in err
    assert "setting [search] k" in err and "-4 is not allowed; it must be a whole number, at least 1" in err
