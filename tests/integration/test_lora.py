"""LoRA adapters for the chat model: a tiny adapter for the default model, built with the gguf package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import MODELS, run_cli_json

from assistant import Assistant, Settings
from assistant.answer.generation import GenerationRequest, GenerationStats, LlamaCppGenerator
from assistant.answer.models import check_adapter
from assistant.errors import ModelNotFoundError

MODEL = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="the default model comes from install.sh")


def write_lora(path: Path, n_embd: int = 576, blocks: int = 30, rank: int = 4, scale: float = 0.3) -> Path:
    """A LoRA adapter on every layer's attention query projection, with fixed random weights."""
    import gguf

    w = gguf.GGUFWriter(str(path), arch="llama")
    w.add_string("general.type", "adapter")
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", float(rank))
    rng = np.random.default_rng(0)
    for b in range(blocks):
        w.add_tensor(f"blk.{b}.attn_q.weight.lora_a", (rng.standard_normal((rank, n_embd)) * scale).astype(np.float32))
        w.add_tensor(f"blk.{b}.attn_q.weight.lora_b", (rng.standard_normal((n_embd, rank)) * scale).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def answer(gen: LlamaCppGenerator) -> str:
    request = GenerationRequest([{"role": "user", "content": "What is the capital of France?"}], max_tokens=16)
    return "".join(gen.stream(request, GenerationStats()))


def test_an_adapter_changes_the_answers_deterministically_and_is_listed_with_its_model(
        home: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / MODEL.name).symlink_to(MODEL)
    adapter = write_lora(models / "terse-style.lora.gguf")
    assert check_adapter(adapter, MODEL).kind == "adapter"

    base = answer(LlamaCppGenerator(MODEL, n_ctx=512))
    styled = answer(LlamaCppGenerator(MODEL, n_ctx=512, lora=adapter))
    assert "Paris" in base and styled != base
    assert answer(LlamaCppGenerator(MODEL, n_ctx=512, lora=adapter)) == styled  # the same every time

    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(models))
    listed = run_cli_json("models", capsys=capsys)
    model = next(m for m in listed if m["name"] == MODEL.name)
    assert model["adapters"] == ["terse-style.lora.gguf"] and model["kind"] == "model"
    assert next(m for m in listed if m["name"] == adapter.name)["kind"] == "adapter"
    a = Assistant(Settings.load({"lora_adapter": adapter.name, "n_ctx": 512}))
    assert a.generator.model_id == f"{MODEL.name}+{adapter.name}"


def test_a_broken_or_mismatched_adapter_is_refused_with_a_reason(tmp_path: Path) -> None:
    other = write_lora(tmp_path / "for-a-bigger-model.gguf", n_embd=512)
    with pytest.raises(ModelNotFoundError, match="does not fit"):
        LlamaCppGenerator(MODEL, n_ctx=512, lora=other)
    good = write_lora(tmp_path / "good.gguf")
    for size in (2000, good.stat().st_size - 100):  # cut in its header, and in its weights
        cut = tmp_path / "cut.gguf"
        cut.write_bytes(good.read_bytes()[:size])
        with pytest.raises(ModelNotFoundError, match="damaged or truncated"):
            LlamaCppGenerator(MODEL, n_ctx=512, lora=cut)
    with pytest.raises(ModelNotFoundError, match="not a LoRA adapter"):
        check_adapter(MODEL, MODEL)
    with pytest.raises(ModelNotFoundError, match="not found"):
        check_adapter(tmp_path / "missing.gguf", MODEL)
