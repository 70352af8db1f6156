"""ONNX vision encoder: export cost, file sizes, parity and per-page CPU time, PyTorch vs ONNX
fp32 vs ONNX INT8, measured side by side in one run on one rendered page.

    .venv/bin/python bench/onnx_vision.py --size tiny        # the test checkpoint's tower
    .venv/bin/python bench/onnx_vision.py --size real        # GLM-4.1V's tower size, random weights
    .venv/bin/python bench/onnx_vision.py --model /root/models/Glyph   # a real checkpoint

``--size real`` builds ``Glm4vVisionModel(Glm4vVisionConfig())`` (transformers' defaults are
GLM-4.1V-9B's tower: depth 24, hidden 1536, 12 heads, out 4096, merger 13696, patch 14, merge 2,
~0.9 B parameters) with random weights (std 0.02): timings are representative, features are not.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.readers.vlm.onnx_preprocess import PreprocessConfig

TEXT = (
    "Glyph renders long documents as compact page images and lets a vision-language model read "
    "them. The quarterly report shows revenue of 4.5 million dollars, an increase of 12 percent "
    "over the previous year; the auditor was Jane Smith from Berlin. Invoice 2024-0173 is due on "
    "March 3rd and the contract ends in December. "
)


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def build_tower(size: str, model: str | None):
    import torch

    if model:
        from app.export.loading import load_vision_tower

        loaded = load_vision_tower(model)
        return loaded.visual, loaded.preprocess, loaded.source
    from transformers import Glm4vVisionConfig, Glm4vVisionModel

    if size == "tiny":
        from tests.helpers.tiny_vlm import build_tokenizer, tiny_config

        config = tiny_config(build_tokenizer()).vision_config
    else:
        config = Glm4vVisionConfig()
    torch.manual_seed(0)
    visual = Glm4vVisionModel(config).eval().to(torch.float32)
    return visual, PreprocessConfig(), f"random Glm4vVisionConfig ({size})"


def page_image():
    from app.render import render, resolve_config

    doc = render(TEXT * 40, resolve_config("en"))
    return doc.pages[0].image


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["tiny", "real"], default="tiny")
    parser.add_argument("--model", help="a GLM-4.1V checkpoint directory instead of --size")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per engine (median)")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime/torch threads")
    parser.add_argument("--workdir", help="where the ONNX files go (default: a temp dir)")
    args = parser.parse_args()

    import gc

    import torch

    from app.export.onnx_export import export_fp32, relative_error
    from app.export.quantize import model_bytes, quantize_int8
    from app.export.vision import reference_features
    from app.readers.vlm.onnx_preprocess import encoder_inputs, preprocess_image
    from app.readers.vlm.onnx_runner import VisionEncoderRunner

    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    visual, preprocess, source = build_tower(args.size, args.model)
    params = sum(p.numel() for p in visual.parameters())
    print(
        f"tower: {source}, {params / 1e6:.1f} M parameters, built in "
        f"{time.perf_counter() - started:.1f}s; torch threads {torch.get_num_threads()}"
    )
    image = page_image()
    pixels, grid_h, grid_w = preprocess_image(image, preprocess)
    inputs = encoder_inputs(pixels, grid_h, grid_w, preprocess.merge_size)
    grid = (1, grid_h, grid_w)
    print(
        f"page {image.size[0]}×{image.size[1]} px → grid {grid}, {pixels.shape[0]} patches, "
        f"{pixels.shape[0] // 4} visual tokens"
    )

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        fp32_path, int8_path = Path(tmp) / "vision.fp32.onnx", Path(tmp) / "vision.int8.onnx"
        started = time.perf_counter()
        exporter, opset, _ = export_fp32(visual, preprocess, fp32_path, source=source)
        export_s = time.perf_counter() - started
        print(f"export ({exporter}, opset {opset}): {export_s:.1f}s; peak RSS {rss_gb():.1f} GB")

        # PyTorch first, then free its weights: the three engines never share the memory
        torch_pixels, grid_t = torch.from_numpy(inputs["pixel_values"]), torch.tensor([grid])
        reference_features(visual, torch_pixels[: 4 * 16], torch.tensor([[1, 8, 8]]))  # warm-up
        t_torch, ref = timed(
            lambda v=visual: reference_features(v, torch_pixels, grid_t).numpy(), args.repeat
        )
        del visual
        gc.collect()

        stats = quantize_int8(fp32_path, int8_path)
        fp32_mb, int8_mb = model_bytes(fp32_path) / 1e6, model_bytes(int8_path) / 1e6
        print(
            f"INT8 quantization {stats['seconds']:.1f}s; files fp32 {fp32_mb:.1f} MB, "
            f"int8 {int8_mb:.1f} MB; peak RSS {rss_gb():.1f} GB"
        )

        threads = args.threads or None
        timings, outputs = {}, {}
        for name, path in (("fp32", fp32_path), ("int8", int8_path)):
            runner = VisionEncoderRunner(path, threads=threads, preprocess=preprocess)
            runner.run(inputs)  # warm-up (first run allocates and pre-packs)
            timings[name], outputs[name] = timed(lambda r=runner: r.run(inputs), args.repeat)
            t_prep, _ = timed(lambda r=runner: r.prepare(image), args.repeat)
            del runner
            gc.collect()
        result = {
            "source": source,
            "parameters_m": round(params / 1e6, 1),
            "grid": grid,
            "repeat": args.repeat,
            "preprocess_s": round(t_prep, 4),
            "torch_fp32_s": round(t_torch, 3),
            "onnx_fp32_s": round(timings["fp32"], 3),
            "onnx_int8_s": round(timings["int8"], 3),
            "speedup_onnx_fp32_vs_torch": round(t_torch / timings["fp32"], 2),
            "speedup_int8_vs_onnx_fp32": round(timings["fp32"] / timings["int8"], 2),
            "rel_err_onnx_fp32": relative_error(outputs["fp32"], ref),
            "rel_err_onnx_int8": relative_error(outputs["int8"], ref),
            "fp32_mb": round(fp32_mb, 1),
            "int8_mb": round(int8_mb, 1),
            "export_s": round(export_s, 1),
            "quantize_s": round(stats["seconds"], 1),
            "peak_rss_gb": round(rss_gb(), 1),
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
