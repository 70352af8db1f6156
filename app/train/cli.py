"""``python -m app.train``: sft, merge, eval, synth.

python -m app.train sft --base /root/models/Glyph --data train.jsonl --out runs/contracts
    [--config lora|qlora|full|FILE.yaml] [--set key=value …] [--resume [auto|DIR]] [--merge]
python -m app.train merge runs/contracts/adapter runs/contracts/merged [--base DIR]
python -m app.train eval data.jsonl --reader ocr --out runs/eval-ocr      (= scripts/eval_inference.py)
python -m app.train synth qa.jsonl --n 40 --lang mix                      (a generated QA set)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from app.errors import GlyphError


def _pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {item!r}")
    return key.strip(), value


def _sft_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sft",
        help="fine-tune (LoRA by default)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config", "-c", default="lora", help="configs/train/<name>.yaml or a YAML path"
    )
    p.add_argument("--base", help="base checkpoint: local directory or hub id")
    p.add_argument("--data", help="training JSONL")
    p.add_argument("--out", help="output directory (checkpoints/, adapter/, merged/ or model/)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=_pair,
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (repeatable)",
    )
    p.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        default=None,
        metavar="auto|DIR",
        help="continue from the latest checkpoint in --out (or from DIR)",
    )
    p.add_argument("--merge", action="store_true", default=None, help="also write OUT/merged")
    p.add_argument(
        "--qlora", action="store_true", default=None, help="4-bit base (profile int4-all)"
    )
    p.add_argument("--max-steps", type=int, help="optimizer steps (overrides epochs)")
    p.add_argument(
        "--stop-after",
        type=int,
        metavar="N",
        help="end this run after N steps with a checkpoint (continue with --resume)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _eval_parser(sub: argparse._SubParsersAction) -> None:
    from app.train.evaluate import add_arguments

    p = sub.add_parser("eval", help="score a reader on a JSONL (scripts/eval_inference.py)")
    add_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)
    _sft_parser(sub)
    m = sub.add_parser("merge", help="fold a LoRA adapter into a full checkpoint")
    m.add_argument("adapter", type=Path)
    m.add_argument("out", type=Path)
    m.add_argument(
        "--base", help="base checkpoint (default: the adapter's base_model_name_or_path)"
    )
    _eval_parser(sub)
    s = sub.add_parser("synth", help="write a generated QA set (facts in filler text, en/zh)")
    s.add_argument("out", type=Path)
    s.add_argument("--n", type=int, default=40, help="rows")
    s.add_argument("--lang", choices=["en", "zh", "mix"], default="mix")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--sentences", type=int, default=12, help="filler sentences per document")
    return parser


def run_sft(args: argparse.Namespace) -> int:
    from app.train.config import load_train_config
    from app.train.trainer import train

    overrides = dict(args.overrides)
    overrides.update(
        base_model=args.base,
        data=args.data,
        output_dir=args.out,
        merge=args.merge,
        qlora=args.qlora,
        max_steps=args.max_steps,
        progress=False if args.no_progress else None,
    )
    cfg = load_train_config(args.config, **overrides)
    result = train(cfg, resume=args.resume, stop_after=args.stop_after)
    last = result.history[-1]["loss"] if result.history else None
    print(
        json.dumps(
            {
                "steps": result.steps,
                "final_loss": last,
                "adapter": str(result.adapter_dir) if result.adapter_dir else None,
                "merged": str(result.merged_dir) if result.merged_dir else None,
                "model": str(result.model_dir) if result.model_dir else None,
                "resumed_from": str(result.resumed_from) if result.resumed_from else None,
            },
            ensure_ascii=False,
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "sft":
            return run_sft(args)
        if args.command == "merge":
            from app.train.checkpoint import merge_adapter

            print(merge_adapter(args.adapter, args.out, base=args.base))
            return 0
        if args.command == "eval":
            from app.train.evaluate import run_from_args

            return run_from_args(args)
        from app.train.synth import write_qa_set

        path = write_qa_set(
            args.out, n=args.n, lang=args.lang, seed=args.seed, sentences=args.sentences
        )
        print(path)
        return 0
    except GlyphError as err:
        print(f"error: {err.en}", file=sys.stderr)
        if err.zh != err.en:
            print(f"错误：{err.zh}", file=sys.stderr)
        return 2
