"""scripts/export_onnx.py end to end on a checkpoint laid out like GLM-4.1V-9B's vision part:
wall time, peak memory of the export process, file sizes and the parity report.

    .venv/bin/python bench/onnx_export_flow.py --workdir /tmp/flow [--quantize int8]

Writes a checkpoint directory whose ``config.json`` has transformers' default (GLM-4.1V-9B)
vision config and whose safetensors shards (bf16, with an index, like the hub checkpoint) hold
random ``model.visual.*`` weights only — the exporter reads nothing else — then runs the script
in a child process and reports its peak RSS (what a user's machine needs).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What an edge device runs: the runner alone in a fresh process (no torch), one rendered page.
RUNNER = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from app.readers.vlm.onnx_runner import VisionEncoderRunner
from app.render import render, resolve_config
text = "Revenue grew by 12 percent to 4.5 million dollars; invoice 2024-0173 is due. " * 120
page = render(text, resolve_config("en")).pages[0].image
started = time.perf_counter()
runner = VisionEncoderRunner({path!r})
load_s = time.perf_counter() - started
first = runner.encode(page)
second = runner.encode(page)
print(json.dumps({{"load_s": round(load_s, 1), "first_page_s": round(first.encode_s, 1),
    "page_s": round(second.encode_s, 1), "preprocess_s": round(second.preprocess_s, 3),
    "grid": first.grid_thw, "tokens": first.tokens,
    "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
    "torch_imported": "torch" in sys.modules}}))
"""


def write_checkpoint(path: Path, shards: int = 2) -> int:
    import torch
    from safetensors.torch import save_file
    from transformers import Glm4vConfig, Glm4vImageProcessorPil, Glm4vVisionModel

    path.mkdir(parents=True, exist_ok=True)
    config = Glm4vConfig()  # GLM-4.1V-9B defaults; the text part is never instantiated here
    config.save_pretrained(path)
    Glm4vImageProcessorPil().save_pretrained(path)
    torch.manual_seed(0)
    visual = Glm4vVisionModel(config.vision_config)
    state = {f"model.visual.{k}": v.to(torch.bfloat16) for k, v in visual.state_dict().items()}
    params = sum(p.numel() for p in visual.parameters())
    del visual
    keys = sorted(state)
    weight_map = {}
    for i in range(shards):
        name = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = {k: state[k].contiguous() for k in keys[i::shards]}
        save_file(part, str(path / name), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(part, name))
    (path / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": weight_map}), encoding="utf-8"
    )
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--quantize", choices=["int8", "none"], default="int8")
    args = parser.parse_args()
    work = Path(args.workdir)
    ckpt, out = work / "glm41v-vision-random", work / "vision.onnx"
    if not (ckpt / "model.safetensors.index.json").is_file():
        started = time.perf_counter()
        params = write_checkpoint(ckpt)
        print(
            f"checkpoint: {params / 1e6:.1f} M vision parameters, {time.perf_counter() - started:.0f}s"
        )
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "export_onnx.py"),
            "--model",
            str(ckpt),
            "--output",
            str(out),
            "--quantize",
            args.quantize,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    if proc.returncode != 0:
        print(proc.stderr[-4000:])
        sys.exit(proc.returncode)
    report = json.loads(proc.stdout)
    run = subprocess.run(
        [sys.executable, "-c", RUNNER.format(root=str(ROOT), path=str(out))],
        capture_output=True,
        text=True,
        check=True,
    )
    print(
        json.dumps(
            {
                "wall_s": round(wall, 1),
                "peak_rss_gb": round(peak_gb, 1),
                "export_s": round(report["export_s"], 1),
                "quantize_s": round(report["quantize_s"], 1),
                "fp32_mb": round(report["fp32_bytes"] / 1e6, 1),
                "output_mb": round(report["output_bytes"] / 1e6, 1),
                "exporter": report["exporter"],
                "parity": report["parity"],
                "notes": report["notes"],
                "runner_on_one_page": json.loads(run.stdout.strip().splitlines()[-1]),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
