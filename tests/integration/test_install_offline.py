"""The air-gapped install path, for real: bundle every wheel and model, then install from the bundle
into a fresh copy of the project inside a network namespace that has no network at all."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO


def _can_unshare() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _can_unshare(), reason="needs `unshare -n` (root or user namespaces)")
def test_bundle_then_offline_install_with_no_network(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    p = subprocess.run([str(REPO / "install.sh"), "--bundle", str(bundle)], capture_output=True, text=True,
                       timeout=1800)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert list(bundle.glob("llama_cpp_python-*.whl")) and list(bundle.glob("torch-*.whl"))
    # The smallest chat model, the embedder, the cross-encoder, and the default chat model's six parts.
    assert len(list((bundle / "models").glob("*.whl"))) == 9

    # A fresh copy of the project as git tracks it (no .venv, no models).
    copy = tmp_path / "project"
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for rel in files.split():
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, copy / rel)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "ASSISTANT_"))}
    env["ASSISTANT_HOME"] = str(tmp_path / "home")
    script = (
        f"./install.sh --offline {bundle} && .venv/bin/assistant index --json > /dev/null && "
        ".venv/bin/assistant search 'air-gapped bundle' -k 1 --json && "
        ".venv/bin/assistant ask --style quote 'How do I install on an air-gapped machine?' --json"
    )
    p = subprocess.run(["unshare", "-n", "bash", "-c", script], cwd=copy, capture_output=True, text=True,
                       env=env, timeout=1800)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "All checks passed." in p.stdout
    assert (copy / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf").stat().st_size > 90e6
    assert (copy / "models" / "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf").stat().st_size == 491400064  # joined, checked
    assert '"path"' in p.stdout
    assert (copy / "models" / "ms-marco-MiniLM-L-12-v2" / "model.onnx").stat().st_size > 30e6
    assert '"rerank_score"' in p.stdout  # the answer's sources were reordered by the cross-encoder
