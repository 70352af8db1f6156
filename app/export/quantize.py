"""INT8 dynamic quantization of the exported vision encoder (onnxruntime.quantization).

``quantize_dynamic`` turns MatMuls whose B is a constant into ``DynamicQuantizeMatMul`` /
``MatMulInteger`` (INT8 weights, activations quantized per call to UINT8). It does not cover Gemm,
which is what the exporter emits for every 2-D Linear, so ``gemm_to_matmul`` first rewrites each
Gemm with a constant weight into MatMul (+ Add for a bias). The attention's activation×activation
MatMuls stay float (``MatMulConstBOnly``), as do the norms, softmax and the rotary arithmetic.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from app.errors import ExportError

log = logging.getLogger(__name__)

# Files bigger than this are written with their weights in an external ``.data`` file
# (protobuf cannot serialise a message over 2 GiB).
EXTERNAL_DATA_BYTES = 1_800_000_000


def _attr(node: Any, name: str, default: Any) -> Any:
    from onnx import helper

    for attr in node.attribute:
        if attr.name == name:
            return helper.get_attribute_value(attr)
    return default


class _ExternalWriter:
    """Appends tensors to one external-data file next to a model (one tensor in memory at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = path.open("wb")

    def store(self, tensor: Any) -> None:
        from onnx import TensorProto
        from onnx.external_data_helper import set_external_data

        data = tensor.raw_data
        offset = self.handle.tell()
        self.handle.write(data)
        set_external_data(tensor, self.path.name, offset, len(data))
        tensor.data_location = TensorProto.EXTERNAL
        tensor.ClearField("raw_data")

    def close(self) -> None:
        self.handle.close()


def gemm_to_matmul(
    model: Any, *, base_dir: str | Path = "", writer: _ExternalWriter | None = None
) -> int:
    """Rewrite ``Gemm(A, W[, C])`` with an initializer W into ``MatMul(A, Wᵀ)`` (``+ C``).

    Only plain Gemms (alpha = beta = 1, transA = 0) are rewritten; returns how many were.
    For a model loaded without its external data, weights are read from ``base_dir`` one at a
    time and the transposed ones written through ``writer`` (memory stays one tensor deep).
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    nodes = []
    rewritten = 0
    for node in graph.node:
        weight = inits.get(node.input[1]) if node.op_type == "Gemm" else None
        plain = (
            weight is not None
            and _attr(node, "alpha", 1.0) == 1.0
            and _attr(node, "beta", 1.0) == 1.0
            and _attr(node, "transA", 0) == 0
        )
        if not plain:
            nodes.append(node)
            continue
        name = f"{node.input[1]}__matmul_b"
        if name not in inits:
            array = numpy_helper.to_array(weight, str(base_dir))
            if _attr(node, "transB", 0):
                array = array.T.copy()
            init = numpy_helper.from_array(array, name)
            del array
            if writer is not None:
                writer.store(init)
            graph.initializer.append(init)
            inits[name] = init
        has_bias = len(node.input) > 2 and node.input[2]
        product = f"{node.output[0]}__matmul" if has_bias else node.output[0]
        nodes.append(
            helper.make_node("MatMul", [node.input[0], name], [product], name=f"{node.name}_MatMul")
        )
        if has_bias:
            nodes.append(
                helper.make_node(
                    "Add", [product, node.input[2]], [node.output[0]], name=f"{node.name}_Add"
                )
            )
        rewritten += 1
    del graph.node[:]
    graph.node.extend(nodes)
    # drop weights only the old Gemms used (keeps the fp32 size honest and the file small)
    used = {name for node in graph.node for name in node.input}
    keep = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    return rewritten


def model_bytes(path: str | Path) -> int:
    """Size of an ONNX model on disk, its external data files included."""
    path = Path(path)
    total = path.stat().st_size
    for extra in path.parent.glob(path.name + ".data"):
        total += extra.stat().st_size
    return total


def save_model(model: Any, path: str | Path) -> None:
    """Save, with the weights in ``<path>.data`` when the model is too big for one protobuf."""
    import onnx

    path = Path(path)
    big = tensor_bytes_on_disk(model) > EXTERNAL_DATA_BYTES or not _in_memory(model)
    stale = path.with_name(path.name + ".data")
    if stale.exists():
        stale.unlink()
    if big:
        onnx.save_model(
            model,
            str(path),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=path.name + ".data",
            size_threshold=1024,
        )
    else:
        onnx.save_model(model, str(path))


def tensor_bytes_on_disk(model: Any) -> int:
    """Bytes of all initializers, external ones counted by their recorded length."""
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    total = 0
    for tensor in model.graph.initializer:
        if uses_external_data(tensor):
            total += int(ExternalDataInfo(tensor).length or 0)
        else:
            total += len(tensor.raw_data) or tensor.ByteSize()
    return total


def _in_memory(model: Any) -> bool:
    """True when every initializer's bytes are in the proto (ByteSize is then meaningful)."""
    from onnx.external_data_helper import uses_external_data

    return not any(uses_external_data(t) for t in model.graph.initializer)


def _copy_metadata(source: Any, target: Any, extra: dict[str, str]) -> None:
    props = {p.key: p.value for p in source.metadata_props}
    props.update(extra)
    del target.metadata_props[:]
    for key, value in props.items():
        entry = target.metadata_props.add()
        entry.key, entry.value = key, value


def quantize_int8(
    fp32_path: str | Path, output: str | Path, *, per_channel: bool = True
) -> dict[str, Any]:
    """Write the INT8 (dynamic, QInt8 weights) version of ``fp32_path`` to ``output``.

    Returns what was done: seconds, how many Gemms became MatMul, how many MatMuls are INT8.
    """
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as err:
        from app.errors import MissingExtraError

        raise MissingExtraError("export", err.name or "onnxruntime") from err

    started = time.perf_counter()
    fp32_path, output = Path(fp32_path), Path(output)
    # Structure only: the weights stay on disk until each is needed (a 0.9 B-parameter tower is
    # 3.6 GB in fp32; holding it twice besides the quantizer's own copy exhausts a 24 GB host).
    model = onnx.load(str(fp32_path), load_external_data=False)
    external = not _in_memory(model)
    # the staged model sits next to the fp32 one so its old external references still resolve
    staged = fp32_path.with_name(f".{fp32_path.stem}.matmul.onnx")
    writer = _ExternalWriter(staged.with_name(staged.name + ".data")) if external else None
    try:
        try:
            rewritten = gemm_to_matmul(model, base_dir=fp32_path.parent, writer=writer)
        finally:
            if writer is not None:
                writer.close()
        onnx.save_model(model, str(staged))
        # INT8 weights take a quarter of the fp32 bytes: external data only for huge towers
        big = tensor_bytes_on_disk(model) / 3 > EXTERNAL_DATA_BYTES
        try:
            quantize_dynamic(
                staged,
                output,
                op_types_to_quantize=["MatMul"],
                per_channel=per_channel,
                weight_type=QuantType.QInt8,
                use_external_data_format=big,
                extra_options={"MatMulConstBOnly": True},
            )
        except Exception as err:  # onnxruntime raises plain exceptions of many kinds
            raise ExportError(
                f"INT8 quantization of {fp32_path} failed: {err}",
                f"{fp32_path} 的 INT8 量化失败：{err}",
                detail=repr(err),
            ) from err
    finally:
        staged.unlink(missing_ok=True)
        staged.with_name(staged.name + ".data").unlink(missing_ok=True)
    quantized = onnx.load(str(output), load_external_data=False)
    int8_nodes = sum(
        1 for n in quantized.graph.node if n.op_type in {"MatMulInteger", "DynamicQuantizeMatMul"}
    )
    _copy_metadata(model, quantized, {"glyph.quantization": "int8-dynamic"})
    # tensors in an external file keep pointing at it (same folder, same name)
    onnx.save_model(quantized, str(output))
    seconds = time.perf_counter() - started
    log.info(
        "INT8: %d Gemm→MatMul, %d quantized MatMuls, %.1fs → %s",
        rewritten,
        int8_nodes,
        seconds,
        output,
    )
    return {"seconds": seconds, "gemm_rewritten": rewritten, "int8_matmuls": int8_nodes}
