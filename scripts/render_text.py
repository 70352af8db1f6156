#!/usr/bin/env python
"""Batch-render a JSONL file of texts into page images plus a manifest.

    .venv/bin/python scripts/render_text.py INPUT.jsonl OUT_DIR [--config en] [--workers 2]
        [--set dpi=96 --set font_size=10] [--no-resume] [--no-progress]

Each input line is {"id": ..., "text": ...} or {"id": ..., "path": "file.pdf"} (optional "name",
"config"). Output: OUT_DIR/<id>/page_001.png … (+ layout.npz, text.txt, manifest.json) and one
line per record in OUT_DIR/manifest.jsonl. Rerunning skips ids already rendered.
The logic lives in app/render/batch.py.

Training / evaluation rows ({"text"|"path"|"image_path(s)", "question", "answer"}; detected by
their "question", or --qa) are rendered once per distinct document into OUT_DIR/docs/ and
OUT_DIR/<input name> is written with "image_paths" (and "doc_dir") instead of text/path — the
input of `python -m app.train sft` and scripts/eval_inference.py (logic: app/train/prepare.py).
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
    parser.add_argument(
        "--qa", action="store_true", help="input rows are training/eval rows (auto-detected)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from app.errors import GlyphError
    from app.render.batch import run_batch

    if args.qa or _looks_like_qa(args.input):
        return _render_qa(args)
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


def _looks_like_qa(path: Path) -> bool:
    """True when the first record is a question row (has 'question', no 'id'-only render row)."""
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    record = json.loads(line)
                    return isinstance(record, dict) and "question" in record
    except (OSError, ValueError):
        return False  # run_batch reports unreadable input itself
    return False


def _render_qa(args: argparse.Namespace) -> int:
    from app.errors import GlyphError
    from app.train.prepare import render_rows

    try:
        info = render_rows(
            args.input,
            args.out,
            config=args.config,
            overrides=dict(args.overrides),
            workers=args.workers,
            resume=not args.no_resume,
            progress=not args.no_progress,
            need_answer=False,
        )
    except GlyphError as err:
        print(f"error: {err.en}", file=sys.stderr)
        return 2
    print(
        f"{info['rows']} rows → {info['jsonl']} ({info['documents']} documents: "
        f"{info['rendered']} rendered, {info['already_rendered']} already there, "
        f"{info['render_errors']} failed; {info['rows_failed']} rows left out)"
    )
    return 1 if info["rows_failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
