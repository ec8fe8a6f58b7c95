"""Export a local sentence-transformers model folder to an int8 ONNX file, with no network.

install.sh runs `python -m assistant.ingest.onnx_export MODEL_FOLDER` once after unpacking the default
model. The transformer is exported with PyTorch's own ONNX exporter, its weights quantized to int8 by
ONNX Runtime (dynamic quantization, per channel), and the result is kept only when it agrees with the
PyTorch model on a set of test sentences (mean cosine >= MIN_AGREEMENT). The file is written atomically.

Dynamic quantization gives every activation one scale per call. Some models' feed-forward layers carry
activations of a few huge values (all-mpnet-base-v2: every matrix product in int8 agreed with PyTorch at
0.849 mean cosine), so when the whole model in int8 disagrees, the feed-forward block's down projection
(the matrix product whose weight narrows the width) stays in float, then the whole block (PLANS; README
"A stronger embedding model": all-mpnet-base-v2 0.988 with the first, 0.998 with the second). The
products are found by their weights' shapes, not by layer names, so any BERT-like architecture is covered.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.ingest.embedding import ONNX_FILE, OnnxEmbedder, SentenceTransformerEmbedder

PLANS = ("int8", "int8, feed-forward down projections in float", "int8, feed-forward blocks in float")
MIN_AGREEMENT = 0.98  # mean cosine between the int8 export's vectors and PyTorch's on CHECK_TEXTS
CHECK_TEXTS = [
    "What torque should the inlet valve be tightened to?",
    "The inlet valve is tightened to exactly 42 newton-metres.",
    "Employees travelling to Reykjavik receive a daily meal allowance of 87 euros.",
    "assistant never downloads anything at run time; models are read from the models folder.",
    "def main(argv: list[str] | None = None) -> int:\n    return run(argv or sys.argv[1:])",
    "Der Vertrag kann mit einer Frist von drei Monaten gekündigt werden.",
    "A short one.",
    " ".join(["A long passage about indexing, chunking and embedding documents."] * 40),
]


def feed_forward_products(fp32: Path) -> tuple[list[str], list[str]]:
    """The names of the graph's matrix products with a constant 2-D weight that widens (a feed-forward
    block's up projection) and that narrows (its down projection); square ones (attention) are neither."""
    import onnx

    graph = onnx.load(str(fp32), load_external_data=False).graph
    shapes = {w.name: tuple(w.dims) for w in graph.initializer}
    up, down = [], []
    for node in graph.node:
        shape = shapes.get(node.input[1]) if node.op_type in ("MatMul", "Gemm") and len(node.input) > 1 else None
        if shape and len(shape) == 2 and shape[0] != shape[1]:
            (up if shape[0] < shape[1] else down).append(node.name)
    return up, down


def export_onnx(model_dir: Path, threads: int = 0, log: Callable[[str], None] = lambda _: None) -> Path:
    """Write MODEL_DIR/onnx/model_int8.onnx from the folder's PyTorch weights and check it: the first of
    PLANS that agrees with the PyTorch model is kept.

    Returns:
        The path of the ONNX file.

    Raises:
        RuntimeError: no plan's export agrees with the PyTorch model (nothing is written).
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model_dir = Path(model_dir)
    from transformers import AutoModel

    reference = SentenceTransformerEmbedder(model_dir, threads=threads)
    # Plain ("eager") attention exports to a simpler graph than the fused SDPA path: 30% faster int8
    # inference on two cores, with the same vectors.
    transformer = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", local_files_only=True)
    transformer = transformer.eval().requires_grad_(False)
    target = model_dir / ONNX_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        sample = reference.tokenizer(["an example sentence"], return_tensors="pt")
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
        axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"last_hidden_state": {0: "batch", 1: "tokens"}}

        class ByName(torch.nn.Module):  # the exporter passes inputs by position; the model wants names
            def __init__(self) -> None:
                super().__init__()
                self.model = transformer  # a submodule, so its weights are exported as initializers

            def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
                return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(ByName(), tuple(sample[n] for n in names), str(fp32), input_names=names,
                              output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17,
                              dynamo=False)
        up, down = feed_forward_products(fp32)
        expected = reference.embed(CHECK_TEXTS)
        tried: list[str] = []
        done: list[set[str]] = []
        for plan, kept in zip(PLANS, ([], down, up + down), strict=True):
            if set(kept) in done:
                continue  # the same products in float as a plan already tried: the same export again
            done.append(set(kept))
            int8 = Path(tmp) / "model_int8.onnx"
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                             nodes_to_exclude=kept)
            candidate = OnnxEmbedder(model_dir, threads=threads, onnx_file=str(int8.relative_to(model_dir)))
            agreement = float(np.mean(np.sum(candidate.embed(CHECK_TEXTS) * expected, axis=1)))
            del candidate
            log(f"{plan}: agrees with PyTorch at {agreement:.3f} mean cosine")
            if agreement >= MIN_AGREEMENT:
                os.replace(int8, target)
                return target
            tried.append(f"{plan} {agreement:.3f}")
    raise RuntimeError(f"no int8 export agrees with the PyTorch model (need {MIN_AGREEMENT} mean cosine; "
                       f"{', '.join(tried)}); it is not used")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export a local sentence-transformers model to int8 ONNX.")
    parser.add_argument("model_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        path = export_onnx(args.model_dir, log=print)
    except Exception as exc:  # install.sh goes on with the PyTorch backend; say why
        print(f"warning: no ONNX export ({type(exc).__name__}: {str(exc)[:300]}); the embedder will run on PyTorch",
              file=sys.stderr)
        return 1
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
