"""Scoring int8 codes against a query in one pass: ONNX Runtime's integer matrix product (the CPU's int8
dot-product instructions), scaling and top-k in one graph; numpy, 10x slower, when ONNX Runtime is missing.
Used by the vector index (vectors.py)."""

from __future__ import annotations

import base64
import logging
import os
import threading
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_scorer_lock = threading.Lock()
_scorer: Any = None  # an ONNX Runtime session (see _build_session), or False without one
# The query's int8 range. On CPUs without VNNI (AVX2 only: many AMD EPYC, older Intel), ONNX Runtime's u8 x s8
# product adds pairs in int16 (vpmaddubsw), which saturates past 32,767: 2 x 255 x 127 overflows, and the
# scores came out wrong (a test's best cosine 0.85 instead of 0.96). 2 x 255 x 63 fits; the rows that the
# first pass keeps are scored again in float, so the 7-bit query costs no recall (measured below).
QUERY_LEVELS = 63.0


def top_rows(codes: np.ndarray, scales: np.ndarray, penalty: np.ndarray, query: np.ndarray,
              k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of these codes closest to the query (penalty -inf rules a row out): (rows, approximate
    cosines), best first. One pass of int8 products, scaling and top-k inside ONNX Runtime."""
    peak = float(np.abs(query).max()) or 1.0
    q_scale = peak / QUERY_LEVELS
    q8 = np.ascontiguousarray(np.rint(query / q_scale).astype(np.int8)[:, None])
    session = _session()
    if session:
        values, rows = session.run(None, {"codes": codes, "query": q8, "scales": scales,
                                          "penalty": penalty, "k": np.array([k], dtype=np.int64)})
    else:  # numpy: convert a block at a time
        raw = np.empty(len(codes), dtype=np.float32)
        qf = q8[:, 0].astype(np.float32)
        for i in range(0, len(raw), 65536):
            raw[i : i + 65536] = (codes[i : i + 65536].astype(np.float32) - 128.0) @ qf
        scores = raw * scales + penalty
        rows = np.argpartition(-scores, k - 1)[:k]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        values = scores[rows]
    return np.asarray(rows, dtype=np.int64), np.asarray(values, dtype=np.float32) * np.float32(q_scale)


def _session() -> Any:
    global _scorer
    if _scorer is None:
        with _scorer_lock:
            if _scorer is None:
                try:
                    _scorer = _build_session()
                except Exception as exc:  # ImportError, or a runtime without the operators
                    log.warning("scoring vectors with numpy (slower): ONNX Runtime unavailable (%s)", exc)
                    _scorer = False
    return _scorer


def scorer_model() -> bytes:
    """The scoring graph, top_k((codes - 128) @ query * scales + penalty), built with the onnx package: the
    int8 product uses the CPU's integer dot-product instructions; scaling and the top-k selection stay in
    the same pass. Importing onnx takes 1.3-1.7 s, so a search loads SCORER_MODEL, these bytes as they
    were written once (a test checks they are still what this builds)."""
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info("codes", TensorProto.UINT8, ["n", "d"]),
              helper.make_tensor_value_info("query", TensorProto.INT8, ["d", 1]),
              helper.make_tensor_value_info("scales", TensorProto.FLOAT, ["n"]),
              helper.make_tensor_value_info("penalty", TensorProto.FLOAT, ["n"]),
              helper.make_tensor_value_info("k", TensorProto.INT64, [1])]
    outputs = [helper.make_tensor_value_info("values", TensorProto.FLOAT, ["k"]),
               helper.make_tensor_value_info("rows", TensorProto.INT64, ["k"])]
    consts = [helper.make_tensor("zero", TensorProto.UINT8, [], [128]),
              helper.make_tensor("axes", TensorProto.INT64, [1], [1])]
    nodes = [helper.make_node("MatMulInteger", ["codes", "query", "zero"], ["raw"]),
             helper.make_node("Squeeze", ["raw", "axes"], ["raw1"]),
             helper.make_node("Cast", ["raw1"], ["rawf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["rawf", "scales"], ["scaled"]),
             helper.make_node("Add", ["scaled", "penalty"], ["scores"]),
             helper.make_node("TopK", ["scores", "k"], ["values", "rows"], axis=0, largest=1, sorted=1)]
    graph = helper.make_graph(nodes, "int8_top_k", inputs, outputs, initializer=consts)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


SCORER_MODEL = base64.b64decode(
    "CAg6uQMKKAoFY29kZXMKBXF1ZXJ5CgR6ZXJvEgNyYXciDU1hdE11bEludGVnZXIKGgoDcmF3CgRheGVzEgRyYXcxIgdTcXVlZXplCh0KBHJh"
    "dzESBHJhd2YiBENhc3QqCQoCdG8YAaABAgobCgRyYXdmCgZzY2FsZXMSBnNjYWxlZCIDTXVsCh4KBnNjYWxlZAoHcGVuYWx0eRIGc2NvcmVz"
    "IgNBZGQKSwoGc2NvcmVzCgFrEgZ2YWx1ZXMSBHJvd3MiBFRvcEsqCwoEYXhpcxgAoAECKg4KB2xhcmdlc3QYAaABAioNCgZzb3J0ZWQYAaAB"
    "AhIKaW50OF90b3BfayoMEAIqAoABQgR6ZXJvKg0IARAHOgEBQgRheGVzWhkKBWNvZGVzEhAKDggCEgoKAxIBbgoDEgFkWhgKBXF1ZXJ5Eg8K"
    "DQgDEgkKAxIBZAoCCAFaFQoGc2NhbGVzEgsKCQgBEgUKAxIBbloWCgdwZW5hbHR5EgsKCQgBEgUKAxIBbloPCgFrEgoKCAgHEgQKAggBYhUK"
    "BnZhbHVlcxILCgkIARIFCgMSAWtiEwoEcm93cxILCgkIBxIFCgMSAWtCBAoAEA0=")


def _build_session() -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = min(4, os.cpu_count() or 1)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep (see embedding.py)
    opts.log_severity_level = 3
    return ort.InferenceSession(SCORER_MODEL, opts, providers=["CPUExecutionProvider"])
