"""Export the GLM-4.1V vision tower to ONNX (fp32, optionally INT8) and check it against PyTorch.

``export_checkpoint(model_dir, output, quantize="int8")`` is what ``scripts/export_onnx.py`` runs:
load the tower (``loading.py``), capture ``VisionTowerExport`` (``vision.py``) with the dynamo
exporter (``torch.onnx.export(..., dynamo=True)``; the TorchScript exporter is the fallback),
store the preprocessing and model facts in the file's metadata (the runner needs nothing else),
quantize (``quantize.py``), then compare onnxruntime with the unmodified PyTorch tower on two
grid sizes (crops of a rendered page) and report the relative errors ``‖onnx − torch‖ / ‖torch‖``.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import json
import logging
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import ExportError
from app.export.quantize import EXTERNAL_DATA_BYTES, model_bytes, quantize_int8, save_model
from app.readers.vlm.onnx_preprocess import PreprocessConfig, encoder_inputs, preprocess_image
from app.readers.vlm.onnx_runner import METADATA_KEY, OUTPUT_NAME

log = logging.getLogger(__name__)

INPUT_NAMES = ("pixel_values", "position_ids", "pos_sample_grid")
FP32_TOLERANCE = 1e-4
# Measured on the tiny test model and a random-weight model of the real tower's size (see
# docs/BENCHMARKS.md, "ONNX vision encoder"); generous enough for other checkpoints' weights.
INT8_TOLERANCE = 0.15
PRODUCER = "glyph-visual-reasoning"
PARITY_GRIDS = ((8, 12), (20, 14))  # patch grids (h, w) of the built-in check: two shapes


@dataclass
class ParityCheck:
    grid: tuple[int, int]
    fp32: float
    int8: float | None = None


@dataclass
class ExportReport:
    output: str
    exporter: str
    opset: int
    quantize: str
    parameters: int
    export_s: float
    fp32_bytes: int
    output_bytes: int
    quantize_s: float = 0.0
    fp32_path: str | None = None
    parity: list[ParityCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """‖got − ref‖₂ / ‖ref‖₂ over all elements (float64 accumulation)."""
    ref64 = np.asarray(ref, dtype=np.float64)
    diff = np.asarray(got, dtype=np.float64) - ref64
    return float(np.linalg.norm(diff) / max(np.linalg.norm(ref64), 1e-30))


def vision_facts(visual: Any) -> dict[str, Any]:
    config = visual.config
    return {
        key: getattr(config, key)
        for key in (
            "depth",
            "hidden_size",
            "num_heads",
            "intermediate_size",
            "out_hidden_size",
            "patch_size",
            "spatial_merge_size",
            "temporal_patch_size",
            "image_size",
        )
    }


def metadata(
    visual: Any, preprocess: PreprocessConfig, *, source: str, exporter: str
) -> dict[str, Any]:
    import torch
    import transformers

    return {
        "format": 1,
        "inputs": list(INPUT_NAMES),
        "output": OUTPUT_NAME,
        "one_image_per_run": True,
        "vision": vision_facts(visual),
        "preprocess": preprocess.to_dict(),
        "source": source,
        "exporter": exporter,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }


SAMPLE_TEXT = (
    "Glyph renders long documents as page images for a vision-language model. Revenue grew by "
    "12 percent to 4.5 million dollars; invoice 2024-0173 is due on March 3rd. 审计师来自柏林。"
)


@functools.lru_cache(maxsize=1)
def _sample_page() -> Any:
    from app.render import render, resolve_config

    return render(SAMPLE_TEXT * 60, resolve_config("en")).pages[0].image.convert("RGB")


def sample_inputs(
    grid_h: int, grid_w: int, visual: Any, preprocess: PreprocessConfig | None = None
) -> dict[str, np.ndarray]:
    """ONNX inputs for a ``grid_h``×``grid_w`` patch grid cut from a rendered text page.

    Real page content (not noise) because how much INT8 costs depends on the activations.
    """
    config = visual.config
    patch = int(config.patch_size)
    page = _sample_page()
    crop = page.crop((0, 0, grid_w * patch, grid_h * patch))  # white beyond the page is fine
    prep = dataclasses.replace(
        preprocess or PreprocessConfig(),
        do_resize=False,  # the crop already has the grid's size
        patch_size=patch,
        merge_size=int(config.spatial_merge_size),
        temporal_patch_size=int(config.temporal_patch_size),
    )
    pixels, got_h, got_w = preprocess_image(crop, prep)
    return encoder_inputs(pixels, got_h, got_w, prep.merge_size)


def _torch_args(inputs: dict[str, np.ndarray]) -> tuple[Any, ...]:
    import torch

    return tuple(torch.from_numpy(inputs[name]) for name in INPUT_NAMES)


def _export_dynamo(wrapper: Any, args: tuple[Any, ...], opset: int | None) -> Any:
    import torch

    patches = torch.export.Dim("num_patches", min=4)
    program = torch.onnx.export(
        wrapper,
        args,
        dynamo=True,
        input_names=list(INPUT_NAMES),
        output_names=[OUTPUT_NAME],
        dynamic_shapes={name: {0: patches} for name in INPUT_NAMES},
        opset_version=opset,
        optimize=True,
        verbose=False,
    )
    if program is None:
        raise RuntimeError("torch.onnx.export returned no program")
    return program


def _export_torchscript(wrapper: Any, args: tuple[Any, ...], path: Path, opset: int) -> None:
    import torch

    torch.onnx.export(
        wrapper,
        args,
        str(path),
        dynamo=False,
        input_names=list(INPUT_NAMES),
        output_names=[OUTPUT_NAME],
        dynamic_axes={
            **{name: {0: "num_patches"} for name in INPUT_NAMES},
            OUTPUT_NAME: {0: "num_tokens"},
        },
        opset_version=opset,
    )


def export_fp32(
    visual: Any,
    preprocess: PreprocessConfig,
    path: str | Path,
    *,
    exporter: str = "auto",
    opset: int | None = None,
    source: str = "",
) -> tuple[str, int, list[str]]:
    """Write the fp32 ONNX model to ``path``: (exporter used, opset, notes)."""
    import onnx
    import torch

    from app.export.vision import VisionTowerExport

    if exporter not in {"auto", "dynamo", "torchscript"}:
        raise ValueError(f"unknown exporter {exporter!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = VisionTowerExport(visual).eval()
    args = _torch_args(sample_inputs(*PARITY_GRIDS[0], visual, preprocess))
    notes: list[str] = []
    used = ""
    program = None
    with torch.no_grad():
        if exporter in {"auto", "dynamo"}:
            try:
                program = _export_dynamo(wrapper, args, opset)
                used = "dynamo"
            except Exception as err:  # the exporter raises many kinds; the fallback decides
                if exporter == "dynamo":
                    raise ExportError(
                        f"The dynamo ONNX exporter failed: {err}",
                        f"dynamo ONNX 导出失败：{err}",
                        detail=repr(err),
                    ) from err
                notes.append(f"dynamo exporter failed ({type(err).__name__}: {err}); TorchScript")
                log.warning("dynamo export failed, falling back to TorchScript: %s", err)
        facts = json.dumps(
            metadata(visual, preprocess, source=source, exporter=used or "torchscript"),
            ensure_ascii=False,
        )
        if program is not None:
            # saved straight from the exporter's in-memory model: no second copy of the weights
            program.model.metadata_props[METADATA_KEY] = facts
            program.model.producer_name = PRODUCER
            _remove_model(path)
            program.save(str(path), external_data=weight_bytes(visual) > EXTERNAL_DATA_BYTES)
            opset_used = program.model.opset_imports.get("", 0)
            return used, int(opset_used), notes
        # GridSample with bicubic mode needs opset 16 in the TorchScript exporter
        ts_opset = max(opset or 17, 16)
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            staged = Path(tmp) / "ts.onnx"
            try:
                _export_torchscript(wrapper, args, staged, ts_opset)
            except Exception as err:
                raise ExportError(
                    f"ONNX export of the vision tower failed: {err}",
                    f"视觉编码器的 ONNX 导出失败：{err}",
                    detail=repr(err),
                ) from err
            model = onnx.load(str(staged))
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, facts
    model.producer_name = PRODUCER
    save_model(model, path)
    opset_used = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    return "torchscript", int(opset_used), notes


def weight_bytes(visual: Any) -> int:
    return sum(p.numel() * p.element_size() for p in visual.parameters())


def torch_references(
    visual: Any,
    preprocess: PreprocessConfig | None = None,
    grids: tuple[tuple[int, int], ...] = PARITY_GRIDS,
) -> list[tuple[tuple[int, int], dict[str, np.ndarray], np.ndarray]]:
    """(grid, ONNX inputs, unmodified PyTorch tower's ``pooler_output``) on page crops."""
    import torch

    from app.export.vision import reference_features

    out = []
    for grid_h, grid_w in grids:
        inputs = sample_inputs(grid_h, grid_w, visual, preprocess)
        grid = torch.tensor([[1, grid_h, grid_w]])
        ref = reference_features(visual, torch.from_numpy(inputs["pixel_values"]), grid).numpy()
        out.append(((grid_h, grid_w), inputs, ref))
    return out


def onnx_errors(path: str | Path, references: list[Any]) -> list[float]:
    """Relative errors of the ONNX model at ``path`` against ``torch_references`` output."""
    from app.readers.vlm.onnx_runner import make_session

    session = make_session(path)
    errors = [relative_error(session.run([OUTPUT_NAME], x)[0], ref) for _, x, ref in references]
    del session  # one model in memory at a time (the real tower is 3.6 GB in fp32)
    return errors


def export_vision(
    visual: Any,
    preprocess: PreprocessConfig,
    output: str | Path,
    *,
    source: str = "",
    **options: Any,
) -> ExportReport:
    """Export ``visual`` to ``output`` (the INT8 model when ``quantize="int8"``) and verify it.

    Options: ``quantize`` ("int8" | "none"), ``exporter`` ("auto" | "dynamo" | "torchscript"),
    ``opset``, ``keep_fp32`` (with INT8, keep ``<stem>.fp32.onnx`` next to ``output``; deleted
    otherwise), ``verify`` (parity check, default on), ``per_channel`` (INT8 weight scales).
    """
    from app.export.loading import VisionSource

    return export_source(VisionSource(visual, preprocess, source), output, **options)


def export_source(
    src: Any,
    output: str | Path,
    *,
    quantize: str = "int8",
    exporter: str = "auto",
    opset: int | None = None,
    keep_fp32: bool = False,
    verify: bool = True,
    per_channel: bool = True,
    release: bool = False,
) -> ExportReport:
    """``export_vision`` for a ``VisionSource``; ``release`` drops ``src.visual`` once the
    PyTorch references are computed, so the quantizer's peak (≈4× the fp32 weights for the real
    tower) does not come on top of the PyTorch model's memory."""
    if quantize not in {"int8", "none"}:
        raise ExportError(
            f"Unknown quantization {quantize!r}: use int8 or none.",
            f"未知的量化方式 {quantize!r}：请使用 int8 或 none。",
        )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fp32_path = output if quantize == "none" else output.with_name(output.stem + ".fp32.onnx")
    started = time.perf_counter()
    used, opset_used, notes = export_fp32(
        src.visual, src.preprocess, fp32_path, exporter=exporter, opset=opset, source=src.source
    )
    report = ExportReport(
        output=str(output),
        exporter=used,
        opset=opset_used,
        quantize=quantize,
        parameters=sum(p.numel() for p in src.visual.parameters()),
        export_s=time.perf_counter() - started,
        fp32_bytes=model_bytes(fp32_path),
        output_bytes=0,
        notes=notes,
    )
    refs = torch_references(src.visual, src.preprocess) if verify else []
    if release:
        src.visual = None
        gc.collect()
    if quantize == "int8":
        stats = quantize_int8(fp32_path, output, per_channel=per_channel)
        report.quantize_s = stats["seconds"]
        report.notes.append(
            f"{stats['int8_matmuls']} weight MatMuls in INT8 "
            f"({stats['gemm_rewritten']} Gemm rewritten to MatMul first)"
        )
    report.output_bytes = model_bytes(output)
    if verify:
        fp32 = onnx_errors(fp32_path, refs)
        int8 = onnx_errors(output, refs) if quantize == "int8" else [None] * len(refs)
        report.parity = [
            ParityCheck(g, a, b) for (g, _, _), a, b in zip(refs, fp32, int8, strict=True)
        ]
        _judge(report)
    if quantize == "int8" and not keep_fp32:
        _remove_model(fp32_path)
    else:
        report.fp32_path = str(fp32_path)
    return report


def _judge(report: ExportReport) -> None:
    worst = max(c.fp32 for c in report.parity)
    if worst > FP32_TOLERANCE:
        raise ExportError(
            f"The fp32 ONNX model differs from PyTorch by {worst:.2e} (relative), above "
            f"{FP32_TOLERANCE:g}: the export is wrong.",
            f"fp32 ONNX 模型与 PyTorch 的相对误差为 {worst:.2e}，超过 {FP32_TOLERANCE:g}：导出有误。",
        )
    worst_int8 = max((c.int8 for c in report.parity if c.int8 is not None), default=0.0)
    if worst_int8 > INT8_TOLERANCE:
        # reported, not fatal: how much INT8 costs depends on the weights (docs/BENCHMARKS.md)
        report.notes.append(
            f"INT8 relative error {worst_int8:.3f} is above {INT8_TOLERANCE}: check answer "
            "quality with the INT8 encoder, or use --quantize none"
        )
        log.warning("INT8 relative error %.3f > %s", worst_int8, INT8_TOLERANCE)


def _remove_model(path: Path) -> None:
    data = path.with_name(path.name + ".data")
    path.unlink(missing_ok=True)
    if data.exists():
        data.unlink()


def export_checkpoint(model_dir: str | Path, output: str | Path, **options: Any) -> ExportReport:
    """Load the vision tower of the checkpoint in ``model_dir`` and ``export_vision`` it."""
    from app.export.loading import load_vision_tower

    # passed on without a local name, so release=True really frees the PyTorch weights
    return export_source(load_vision_tower(model_dir), output, release=True, **options)


__all__ = [
    "FP32_TOLERANCE",
    "INT8_TOLERANCE",
    "ExportReport",
    "ParityCheck",
    "export_checkpoint",
    "export_fp32",
    "export_source",
    "export_vision",
    "relative_error",
]
