"""Export the GLM-4.1V vision encoder to ONNX (optionally INT8) for onnxruntime on edge devices.

    python scripts/export_onnx.py --model /root/models/Glyph --output vision.onnx --quantize int8

Thin entry point: the work is in ``app.export``. Prints a JSON report (exporter, sizes, parity
with PyTorch on two grid sizes); exits 1 with a message (en / zh) when something fails.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="GLM-4.1V / Glyph checkpoint directory")
    parser.add_argument(
        "--output", required=True, help="ONNX file to write (the INT8 one with int8)"
    )
    parser.add_argument("--quantize", choices=["int8", "none"], default="int8")
    parser.add_argument(
        "--exporter",
        choices=["auto", "dynamo", "torchscript"],
        default="auto",
        help="auto: dynamo, falling back to TorchScript",
    )
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default: exporter's)")
    parser.add_argument(
        "--keep-fp32", action="store_true", help="with int8, keep <stem>.fp32.onnx next to it"
    )
    parser.add_argument(
        "--per-tensor", action="store_true", help="INT8 scales per tensor instead of per channel"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the parity check")
    parser.add_argument("--lang", default="en", help="language of error messages (en or zh)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from app.errors import GlyphError
    from app.export.onnx_export import export_checkpoint

    try:
        report = export_checkpoint(
            args.model,
            args.output,
            quantize=args.quantize,
            exporter=args.exporter,
            opset=args.opset,
            keep_fp32=args.keep_fp32,
            verify=not args.no_verify,
            per_channel=not args.per_tensor,
        )
    except GlyphError as err:
        print(err.user_message(args.lang), file=sys.stderr)
        return 1
    print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
