"""The embedding backends: the int8 ONNX export install.sh makes, and the PyTorch fallback."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import MODELS

from assistant.errors import ModelNotFoundError
from assistant.ingest.embedding import ONNX_FILE, OnnxEmbedder, SentenceTransformerEmbedder, load_embedder
from assistant.ingest.onnx_export import CHECK_TEXTS, MIN_AGREEMENT, export_onnx

MODEL = MODELS / "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(MODEL, threads=2)


def test_install_made_the_int8_export_and_it_is_the_default(embedder) -> None:
    assert (MODEL / ONNX_FILE).exists(), "install.sh should have exported the embedding model to int8 ONNX"
    assert isinstance(embedder, OnnxEmbedder) and embedder.backend == "onnx-int8"


def test_onnx_agrees_with_pytorch_and_counts_the_same_tokens(embedder, torch_embedder) -> None:
    texts = CHECK_TEXTS + ["Employees get 87 euros a day for meals in Reykjavik.", "x" * 3000]
    assert embedder.count_tokens(texts) == torch_embedder.count_tokens(texts)
    assert embedder.token_spans(texts[1]) == torch_embedder.token_spans(texts[1])
    assert embedder.max_tokens == torch_embedder.max_tokens == 254
    a, b = embedder.embed(texts), torch_embedder.embed(texts)
    assert a.shape == b.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    agreement = (a * b).sum(axis=1)
    # The worst text: 0.99 on CPUs with int8 dot-product instructions (VNNI), 0.969 on AVX2-only ones (AMD EPYC
    # here), whose int8 product adds pairs in 16 bits; retrieval is the same on both (hit@1 0.804 on superbowl50).
    assert agreement.min() > 0.96 and agreement.mean() > MIN_AGREEMENT
    # Meaning survives quantization: the torque question is closest to the torque sentence.
    q = embedder.embed(["How tight should the inlet valve be?"])[0]
    assert int(np.argmax(a[1:4] @ q)) == 0
    assert embedder.embed([]).shape == (0, 384)


def test_a_folder_without_the_export_falls_back_to_pytorch(tmp_path: Path, caplog) -> None:
    plain = tmp_path / "model"
    shutil.copytree(MODEL, plain, ignore=shutil.ignore_patterns("onnx"))
    with caplog.at_level(logging.WARNING):
        e = load_embedder(plain, "auto", threads=2)
    assert isinstance(e, SentenceTransformerEmbedder) and e.backend == "torch"
    assert "PyTorch" in caplog.text
    with pytest.raises(ModelNotFoundError, match="no ONNX export"):
        load_embedder(plain, "onnx")
    assert isinstance(load_embedder(MODEL, "torch"), SentenceTransformerEmbedder)


@pytest.mark.slow
def test_export_writes_a_checked_int8_file(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(MODEL, copy, ignore=shutil.ignore_patterns("onnx"))
    said: list[str] = []
    path = export_onnx(copy, threads=2, log=said.append)
    assert len(said) == 1 and said[0].startswith("int8: agrees")  # the first plan: every product in int8
    assert path == copy / ONNX_FILE and 10e6 < path.stat().st_size < 40e6  # int8: a quarter of the fp32 weights
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary files left behind
    assert isinstance(load_embedder(copy, "auto"), OnnxEmbedder)


def test_indexing_on_the_pytorch_backend(torch_embedder, library: Path) -> None:
    """The fallback runs the same two-thread pipeline (tokens counted while another thread embeds)."""
    from assistant import Assistant, Settings

    for i in range(12):
        (library / f"n{i}.md").write_text(f"# Note {i}\n\n" + " ".join(f"Paragraph {i}.{j} about herons." for j in
                                                                     range(40)) + f"\n\nThe code is {1000 + i}.\n")
    a = Assistant(Settings.load(), embedder=torch_embedder)
    report = a.index([library])
    assert report.added == 12 and report.errors == [] and report.chunks_pending == 0
    assert a.store.check() == [] and a.counts()["pending"] == 0
    assert "1007" in a.search("what is the code of note 7", k=1)[0].text
    a.close()


def tiny_model_with_outliers(folder: Path) -> Path:
    """A small BERT saved by today's sentence-transformers (its folder format: the window in the tokenizer's
    config, `pooling_mode` in the pooling config) whose feed-forward layers hold four huge activations that
    their down projection ignores, as all-mpnet-base-v2's do: in int8 those four set the scale and the rest
    round away."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=256)
    bert = BertModel(config, add_pooling_layer=False)
    with torch.no_grad():
        for layer in bert.encoder.layer:
            layer.intermediate.dense.bias[:4] = 60.0
            layer.output.dense.weight[:, :4] = 0.0
            layer.output.dense.weight[:, 4:] *= 50.0
    hf = folder / "hf"
    bert.save_pretrained(hf)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(MODEL / name, hf / name)
    modules = [st_models.Transformer(str(hf), max_seq_length=128), st_models.Pooling(64, "mean"), st_models.Normalize()]
    SentenceTransformer(modules=modules, device="cpu").save(str(folder / "model"))
    return folder / "model"


@pytest.mark.slow
def test_export_keeps_the_feed_forward_down_projections_in_float_when_int8_disagrees(tmp_path: Path) -> None:
    model = tiny_model_with_outliers(tmp_path)
    said: list[str] = []
    path = export_onnx(model, threads=2, log=said.append)
    assert [line.split(":")[0] for line in said] == ["int8", "int8, feed-forward down projections in float"]
    assert float(said[0].rsplit(" at ", 1)[1].split()[0]) < MIN_AGREEMENT  # all in int8 was refused
    onnx_e, torch_e = load_embedder(model, "onnx", threads=2), SentenceTransformerEmbedder(model, threads=2)
    assert path == model / ONNX_FILE and isinstance(onnx_e, OnnxEmbedder)
    assert onnx_e.max_tokens == torch_e.max_tokens == 126 and onnx_e.dim == 64
    texts = CHECK_TEXTS + ["x " * 400]
    assert ((onnx_e.embed(texts) * torch_e.embed(texts)).sum(axis=1)).min() > 0.98
