"""The built-in reader's first look (issue 17/20): answers from the matching lines alone.

    .venv/bin/python bench/first_lines.py --split dev [--rounds 2 3 8] [--json out.json]

A question on a document that is not read yet is answered from the rendered lines that best
match it (the layout map says where they were drawn; OCR reads only those strips of the page
images) when the answer is sure enough (``EARLY_ANSWER_MIN``); otherwise more is read. The
reader reads the best ``FIRST_ROUND_LINES`` lines first, then the rest of the ``ocr_first_lines``
candidates. This bench asks every question of the real-document set (``eval/qa_real``) as the
first question on its document, with an empty OCR cache of whole pages, and for each first
round size N reports, over the questions:

* **early** — the share answered from the first N lines (sure enough to stop there);
* **early correct** — of those, the share correct (gold alias, evidence on the gold passage;
  unanswerable: not found) — an early answer is final, so this is the figure to keep high;
* **lines read** — the mean number of line strips OCR'd for the first round.

The policy the reader uses (N lines, then all candidates if unsure) is reported as
``policy``: early answers from either round, and their correctness. Tune N on ``dev`` only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.qa_real import score  # noqa: E402
from eval.qa_real.build import default_cache, load_documents, load_questions, materialise  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "heldout"], default="dev")
    parser.add_argument("--rounds", type=int, nargs="+", default=[2, 3, 4, 8])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="glyph-first-lines-"))
    os.environ["GLYPH_DATA_DIR"] = str(work)  # no whole page read before: strips only
    os.environ.pop("GLYPH_CACHE_DIR", None)
    from app.pipeline import Pipeline
    from app.readers.ocr.reader import EARLY_ANSWER_MIN, FIRST_ROUND_LINES
    from app.settings import get_settings
    from app.text import question_language

    get_settings.cache_clear()
    settings = get_settings()
    pipeline = Pipeline(settings)
    reader = pipeline.reader("ocr").reader
    accept = min(EARLY_ANSWER_MIN, settings.review_threshold)
    docs = [d for d in load_documents() if d.split == args.split]
    questions = load_questions()
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for doc in docs:
        rendered = pipeline.render(pipeline.open_document(materialise(doc, default_cache())))
        squashed = score.squash(rendered.text)
        for q in (q for q in questions if q["doc"] == doc.id):
            gold = score.find_gold(rendered.text, q, squashed) if q["answerable"] else []
            ranked = reader._candidate_lines(rendered, q["question"])
            if not ranked:  # a short document, or no line matches: read whole, not measured here
                continue
            row: dict[str, Any] = {"id": q["id"], "language": q["language"], "by_round": {}}
            for n in sorted(set(args.rounds)):
                rows_read = reader._candidate_rows(rendered, ranked[:n])
                *_, part = reader._read_rows(rendered, rows_read)
                answer = reader._qa(part, rendered, q["question"], question_language(q["question"]))
                spans = [(s.start, s.end) for s in answer.spans]
                judged = score.judge(
                    q,
                    answer_text=answer.text,
                    needs_review=answer.confidence < settings.review_threshold,
                    evidence_on_gold=score.overlaps(spans, gold),
                    box_on_gold=False,
                )
                row["by_round"][n] = {
                    "early": bool(answer.found and answer.spans and answer.confidence >= accept),
                    "correct": judged["correct"],
                    "lines": sum(len(r) for r in rows_read.values()),
                }
            rows.append(row)
    pipeline.close()
    shutil.rmtree(work, ignore_errors=True)

    def rate(values: list[bool]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    out: dict[str, Any] = {"split": args.split, "questions": len(rows), "rounds": {}}
    for n in sorted(set(args.rounds)):
        got = [r["by_round"][n] for r in rows]
        out["rounds"][n] = {
            "early": rate([g["early"] for g in got]),
            "early_correct": rate([g["correct"] for g in got if g["early"]]),
            "lines_read": round(sum(g["lines"] for g in got) / max(len(got), 1), 1),
        }
    full = max(args.rounds)
    first = FIRST_ROUND_LINES
    if first in args.rounds:
        final = [r["by_round"][first] if r["by_round"][first]["early"] else r["by_round"][full]
                 for r in rows]  # fmt: skip
        out["policy"] = {
            "first_round": first,
            "then": full,
            "early": rate([g["early"] for g in final]),
            "early_correct": rate([g["correct"] for g in final if g["early"]]),
        }
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"summary": out, "questions": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
