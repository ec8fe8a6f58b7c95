"""Which matrix products the export may keep in float when int8 disagrees (onnx_export.PLANS)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from assistant.ingest.onnx_export import feed_forward_products


def test_feed_forward_products_are_found_by_their_weights_shapes(tmp_path: Path) -> None:
    """A layer's shape, whatever its names: square projections (attention) and products of two activations
    are neither up nor down; a widening weight is an up projection, a narrowing one a down projection."""
    weights = {"w_q": (4, 4), "w_up": (4, 16), "w_down": (16, 4), "gemm_up": (4, 8)}
    inits = [numpy_helper.from_array(np.zeros(s, dtype=np.float32), n) for n, s in weights.items()]
    nodes = [
        helper.make_node("MatMul", ["x", "w_q"], ["q"], name="layer.0/attn/q"),
        helper.make_node("MatMul", ["q", "q_t"], ["scores"], name="layer.0/attn/scores"),  # no weight
        helper.make_node("MatMul", ["q", "w_up"], ["h"], name="layer.0/mlp/fc1"),
        helper.make_node("MatMul", ["h", "w_down"], ["y"], name="layer.0/mlp/fc2"),
        helper.make_node("Gemm", ["y", "gemm_up"], ["z"], name="head"),
        helper.make_node("Add", ["x", "x"], ["unused"], name="add"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
                                           helper.make_tensor_value_info("q_t", TensorProto.FLOAT, [4, 1])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8])], inits)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(path))
    up, down = feed_forward_products(path)
    assert up == ["layer.0/mlp/fc1", "head"]
    assert down == ["layer.0/mlp/fc2"]

