"""Running BERT-like models on ONNX Runtime: what the embedder (ingest/) and the cross-encoder (search/) share,
kept on the ground floor so that every room may use it without importing another room's internals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ModelNotFoundError


def load_onnx(model: Path, tokenizer: Path, threads: int, what: str) -> tuple[Any, Any, set[str]]:
    """A BERT-like model file on ONNX Runtime (CPU) with its tokenizer (padding off): (tokenizer, session,
    the names of the session's inputs), as every model here runs.

    Raises:
        ModelNotFoundError: either file cannot be loaded (`what` names the model in the message).
        ImportError: ONNX Runtime or tokenizers is not installed (the caller says what to do).
    """
    import onnxruntime as ort
    from tokenizers import Tokenizer

    try:
        vocab = Tokenizer.from_file(str(tokenizer))
        session = ort.InferenceSession(str(model), _session_options(ort, threads), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime and tokenizers raise their own exception types
        raise ModelNotFoundError(f"cannot load {what} {model}: {exc}") from exc
    vocab.no_padding()
    return vocab, session, {i.name for i in session.get_inputs()}


def _session_options(ort: Any, threads: int) -> Any:
    options = ort.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle threads sleep instead of spin-waiting for the next batch: on 2 cores a spinning pool takes
    # the CPU from the chat model (and from other processes) between calls.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: its warnings would reach the TUI's terminal
    return options


def onnx_feed(rows: list[list[int]], inputs: set[str], types: list[list[int]] | None = None) -> dict[str, np.ndarray]:
    """A BERT model's inputs for token id rows, padded to the longest: input_ids, attention_mask, and
    token_type_ids when the model takes them (`types`, the segment of each id; all 0 when None)."""
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask, segments = np.zeros_like(ids), np.zeros_like(ids)
    for row, r in enumerate(rows):
        ids[row, : len(r)] = r
        mask[row, : len(r)] = 1
        if types is not None:
            segments[row, : len(r)] = types[row]
    feed = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in inputs:
        feed["token_type_ids"] = segments
    return feed
