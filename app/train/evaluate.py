"""Scoring a reader on a JSONL of questions: exact match, F1, ROUGE-L, per-row outputs, timing.

Any reader works — the built-in OCR reader, the in-process VLM (a base checkpoint, a merged model
or a LoRA adapter directory) or an OpenAI-compatible server — because rows go through the same
``Reader.ask`` the pipeline uses, on documents rendered with the same presets. Readers are built
with ``load_reader`` directly: an evaluation must fail loudly instead of silently falling back to
another reader the way the UI does.

This lives in ``app/train`` rather than a package of its own: it is the measuring half of
fine-tuning (train → eval → compare with the base and the OCR reader) and uses the same JSONL rows
and document loading (``app.train.data``). It depends only on the public reader interface.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from app.datamodel import Mode
from app.errors import GlyphError
from app.readers.base import Reader, final_answer
from app.text import detect_language
from app.train.data import Documents, Row, read_rows
from app.train.metrics import Scores, mean_scores, score

log = logging.getLogger(__name__)

PREDICTIONS = "predictions.jsonl"
SUMMARY = "summary.json"


@dataclass
class EvalReport:
    reader: str
    description: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    scores: list[Scores] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    answer_s: list[float] = field(default_factory=list)
    render_s: float = 0.0
    load_s: float = 0.0
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        by_lang: dict[str, list[Scores]] = defaultdict(list)
        for lang, s in zip(self.langs, self.scores, strict=True):
            by_lang[lang].append(s)
        times = sorted(self.answer_s)
        errors = sum(1 for o in self.outputs if o.get("error"))
        return {
            "reader": self.reader,
            "description": self.description,
            "rows": len(self.outputs),
            "errors": errors,
            "scores": _rounded(mean_scores(self.scores)),
            "by_lang": {
                k: {"rows": len(v), **_rounded(mean_scores(v))} for k, v in sorted(by_lang.items())
            },
            "timing": {
                "reader_load_s": round(self.load_s, 3),
                "render_s": round(self.render_s, 3),
                "answer_s_total": round(sum(times), 3),
                "answer_s_mean": round(statistics.fmean(times), 3) if times else 0.0,
                "answer_s_p50": round(_quantile(times, 0.5), 3),
                "answer_s_p90": round(_quantile(times, 0.9), 3),
                "wall_s": round(self.wall_s, 3),
                "rows_per_s": round(len(times) / self.wall_s, 4) if self.wall_s else 0.0,
            },
        }


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in values.items()}


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def evaluate(
    rows: list[Row],
    reader: Reader,
    documents: Documents,
    *,
    out: IO[str] | None = None,
    progress: bool = False,
    reader_name: str | None = None,
) -> EvalReport:
    """Ask ``reader`` every row's question; a failing row is recorded (score 0), never fatal."""
    from tqdm import tqdm

    report = EvalReport(reader_name or reader.name, reader.capabilities.description)
    started = time.perf_counter()
    for row in tqdm(rows, disable=not progress, desc=f"eval {report.reader}", unit="q"):
        record: dict[str, Any] = {"id": row.id, "question": row.question, "answers": row.answers}
        prediction, seconds = "", 0.0
        lang = row.lang or detect_language(row.question)
        try:
            t0 = time.perf_counter()
            rendered = documents.get(row)
            report.render_s += time.perf_counter() - t0
            lang = row.lang or detect_language(row.question, rendered.text)
            t0 = time.perf_counter()
            answer = final_answer(
                reader.answer(rendered, row.question, Mode(row.mode), stream=False)
            )
            seconds = time.perf_counter() - t0
            prediction = answer.text
            record.update(
                confidence=answer.confidence,
                pages_read=answer.pages_read,
                visual_tokens=answer.stats.visual_tokens,
            )
        except GlyphError as err:
            record["error"] = err.en
        except Exception as err:  # one bad row must not lose the rest of a long evaluation
            log.exception("row %s failed", row.id)
            record["error"] = f"{type(err).__name__}: {err}"
        scores = score(prediction, row.answers)
        record.update(
            lang=lang, prediction=prediction, seconds=round(seconds, 4), **scores.as_dict()
        )
        report.outputs.append(record)
        report.scores.append(scores)
        report.langs.append(lang)
        if "error" not in record:
            report.answer_s.append(seconds)
        if out is not None:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
    report.wall_s = time.perf_counter() - started
    return report


# --- command line (scripts/eval_inference.py, python -m app.train eval) ---------------------------
def _pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {item!r}")
    return key.strip(), value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        type=Path,
        help="JSONL: {image_path|image_paths|text|path, question, answer|answers}",
    )
    parser.add_argument("--reader", "-r", choices=["ocr", "vlm", "openai"], default="ocr")
    parser.add_argument("--out", "-o", type=Path, help=f"directory for {PREDICTIONS} and {SUMMARY}")
    parser.add_argument(
        "--config", "-c", help="render preset for text/path rows (default: GLYPH_RENDER_PRESET)"
    )
    parser.add_argument(
        "--model", help="vlm: checkpoint, merged model or LoRA adapter dir (GLYPH_MODEL)"
    )
    parser.add_argument("--profile", help="vlm: quantization profile (GLYPH_MODEL_PROFILE)")
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        type=_pair,
        default=[],
        metavar="FIELD=VALUE",
        help="any other setting, e.g. max_new_tokens=64",
    )
    parser.add_argument("--limit", type=int, help="only the first N rows")
    parser.add_argument("--no-progress", action="store_true")


def run_from_args(args: argparse.Namespace) -> int:
    from app.readers import load_reader
    from app.settings import Settings

    values: dict[str, Any] = dict(args.settings)
    if args.model:
        values["model"] = args.model
    if args.profile:
        values["model_profile"] = args.profile
    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        print(f"error: unknown setting(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    try:
        settings = Settings(**values)
    except ValueError as err:
        print(f"error: invalid setting: {err}", file=sys.stderr)
        return 2
    rows = read_rows(args.data)[: args.limit] if args.limit else read_rows(args.data)
    t0 = time.perf_counter()
    reader = load_reader(args.reader, settings)
    load_s = time.perf_counter() - t0
    # rows about one document are usually adjacent: a few rendered documents in memory suffice
    documents = Documents(args.config or settings.render_preset, keep=8)
    out_dir = args.out
    try:
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            with (out_dir / PREDICTIONS).open("w", encoding="utf-8") as fh:
                report = evaluate(
                    rows,
                    reader,
                    documents,
                    out=fh,
                    progress=not args.no_progress,
                    reader_name=args.reader,
                )
        else:
            report = evaluate(
                rows, reader, documents, progress=not args.no_progress, reader_name=args.reader
            )
    finally:
        reader.close()
    report.load_s = load_s
    summary = {"data": str(args.data), **report.summary()}
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    if out_dir is not None:
        (out_dir / SUMMARY).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Score a reader (ocr, vlm, openai) on a JSONL of questions: EM, F1, ROUGE-L, timing."
    )
    add_arguments(parser)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        return run_from_args(args)
    except GlyphError as err:
        print(f"error: {err.en}", file=sys.stderr)
        if err.zh != err.en:
            print(f"错误：{err.zh}", file=sys.stderr)
        return 2
