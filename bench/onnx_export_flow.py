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
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
