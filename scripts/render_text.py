#!/usr/bin/env python
"""Batch-render a JSONL file of texts into page images plus a manifest.

    .venv/bin/python scripts/render_text.py INPUT.jsonl OUT_DIR [--config en] [--workers 2]
        [--set dpi=96 --set font_size=10] [--no-resume] [--no-progress]

Each input line is {"id": ..., "text": ...} or {"id": ..., "path": "file.pdf"} (optional "name",
"config"). Output: OUT_DIR/<id>/page_001.png … (+ layout.npz, text.txt, manifest.json) and one
line per record in OUT_DIR/manifest.jsonl. Rerunning skips ids already rendered.
The logic lives in app/render/batch.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _override(item: str) -> tuple[str, object]:
    key, sep, value = item.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {item!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Batch-render JSONL texts to page images.")
    parser.add_argument("input", type=Path, help="JSONL with {id, text | path} per line")
    parser.add_argument("out", type=Path, help="output directory")
    parser.add_argument("--config", "-c", default="auto", help="preset name or Glyph JSON path")
    parser.add_argument("--workers", "-w", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=_override,
        default=[],
        metavar="NAME=VALUE",
        help="override one config field (python name), repeatable",
    )
    parser.add_argument("--no-resume", action="store_true", help="start over")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from app.errors import GlyphError
    from app.render.batch import run_batch

    try:
        counts = run_batch(
            args.input,
            args.out,
            config=args.config,
            overrides=dict(args.overrides),
            workers=args.workers,
            resume=not args.no_resume,
            progress=not args.no_progress,
        )
    except GlyphError as err:
        print(f"error: {err.en}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"ok {counts['ok']}, failed {counts['error']}, skipped {counts['skipped']} → {args.out}")
    return 1 if counts["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
