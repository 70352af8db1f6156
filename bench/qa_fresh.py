"""A fresh check of the built-in reader: questions on documents that are not in the QA set.

    .venv/bin/python bench/qa_fresh.py [--questions eval/qa_real/fresh2.jsonl] [--out results.json]

``eval/qa_real/fresh.jsonl`` was written on 2026-12-04 by someone who had not seen the reader
run (25 English and 25 Chinese answerable questions in everyday wording, 6 unanswerable; gold
answers and passages copied verbatim from the documents and checked against them). The
documents are HTML pages that Debian packages install (``scripts/setup.sh --dev``): the
Developers' Reference chapter on packages, three English and three Chinese Debian FAQ chapters,
and the Debian Reference chapter on data management in Chinese. The questions are scored as
``bench/qa_real.py`` scores its own (``eval/qa_real/score.py``), and only aggregates are printed:
like the held-out half, this set is for measuring, never for tuning — do not read its misses.

``eval/qa_real/fresh2.jsonl`` (2026-12-06) is a second such set, for measuring only: 48 questions
(24 in each language, 8 unanswerable) on five more documents, written the same way by someone
who had not seen the reader run — Debian Policy's chapters on documentation and on maintainer
scripts, Debian Reference's chapter on authentication in Chinese, and two Chinese Debian FAQ
chapters. ``eval/qa_real/probe.jsonl`` (2026-12-06, written the same way: Debian Policy's
chapter on files, Debian Reference's chapter on package management in Chinese, and the Debian
Edu manual as PDF in English and Chinese) is the other kind: its misses were read to find
classes of failure, so its figures are dev figures; so are ``probe2.jsonl`` (LibreOffice's help
in English and Chinese, installed by ``GLYPH_EVAL_PROBES=1 scripts/setup.sh --dev``) and
``probe3.jsonl`` (two thirds Chinese: Debian Reference's system tips and appendix, LibreOffice's
help on start parameters, keyboard use and CSV filter options, Debian Policy's chapter on the
operating system; LibreOffice's help as for probe2), and ``probe4.jsonl`` (two thirds Chinese:
the Chinese FAQ chapters on getting Debian and on compatibility, GnuPG's Chinese help text,
LibreOffice's help on digital signatures and collaboration, Debian Policy's chapter on
relationships between packages, the LGPL 2.1), and ``probe5.jsonl`` (two thirds Chinese: the
Chinese FAQ chapter on choosing a release, LibreOffice's help on Calc's error codes, finding
records, stock charts and paste special, Debian Policy's chapters on the archive and on shared
libraries). Two sets of Chinese questions whose answers are in English text (2026-12-06) are the
same two kinds: ``probe6.jsonl`` (read like dev) and ``fresh3.jsonl`` (for measuring only).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from qa_real import _evidence, _gold  # noqa: E402

from eval.qa_real import score  # noqa: E402

QUESTIONS = ROOT / "eval" / "qa_real" / "fresh.jsonl"
SHOWN = ("correct", "evidence_on_gold", "answered_not_found", "unflagged_correct")


def load(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def run(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from app.pipeline import Pipeline
    from app.settings import Settings

    pipeline = Pipeline(Settings(reader="ocr"))
    rendered: dict[str, Any] = {}
    records = []
    try:
        for q in questions:
            if q["path"] not in rendered:
                rendered[q["path"]] = pipeline.render(pipeline.open_document(Path(q["path"])))
            doc = rendered[q["path"]]
            gold, gold_boxes = (
                _gold(doc, q, score.squash(doc.text)) if q["answerable"] else ([], [])
            )
            answer = pipeline.ask_once(doc, q["question"], "qa")
            spans, boxes = _evidence(answer)
            closest = [(c.start, c.end) for c in answer.closest]
            record = {k: q[k] for k in ("id", "doc", "language", "type", "answerable")}
            record["passage_located"] = bool(gold) if q["answerable"] else None
            record["needs_review"] = bool(answer.needs_review)
            record["confidence"] = answer.confidence
            record["answer"] = answer.text[:300]
            record.update(
                score.judge(
                    q,
                    answer_text=answer.text,
                    needs_review=bool(answer.needs_review),
                    evidence_on_gold=score.overlaps(spans, gold),
                    box_on_gold=score.boxes_intersect(boxes, gold_boxes),
                    closest_on_gold=score.overlaps(closest, gold),
                )
            )
            records.append(record)
    finally:
        pipeline.close()
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write every record here (for the record only)")
    parser.add_argument(
        "--questions", type=Path, default=QUESTIONS, help=f"a question file (default {QUESTIONS})"
    )
    args = parser.parse_args(argv)
    questions = load(args.questions)
    missing = sorted({q["path"] for q in questions if not Path(q["path"]).is_file()})
    if missing:
        print(
            "missing documents (run scripts/setup.sh --dev; LibreOffice's help, for probe2/probe3:"
            " GLYPH_EVAL_PROBES=1 scripts/setup.sh --dev):",
            *missing,
            sep="\n  ",
        )
        return 2
    records = run(questions)
    summary = {
        "overall": score.summarize(records),
        "by_language": score.breakdown(records, "language"),
        "passages_located": sum(bool(r["passage_located"]) for r in records if r["answerable"]),
    }
    for name, part in [("all", summary["overall"]), *summary["by_language"].items()]:
        shown = ", ".join(f"{k} {part.get(k)}" for k in SHOWN)
        print(f"{name}: {part['questions']} questions ({part['answerable']} answerable): {shown}")
    print(f"gold passages located: {summary['passages_located']}")
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "records": records}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
