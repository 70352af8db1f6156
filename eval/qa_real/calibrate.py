"""Fit the built-in reader's answer confidence on the DEV half of the real-document set.

    .venv/bin/python -m eval.qa_real.calibrate [--split dev] [--fit] [--rows-out FILE]

Each dev question is asked the way the product asks it (``Pipeline.ask_once``: the lines that
match the question first, more pages only when the answer is not sure enough; pages come from
the OCR cache after the first run), the features of the decision behind the answer it gave are
kept, and the answer is judged like ``bench/qa_real.py`` does. ``--whole`` reads every document
whole first and answers from all of it instead (the features of a fully read document). Printed: every dev question with its outcome
and the decision's features, then (``--fit``) logistic-regression weights for
``app/readers/ocr/answer_policy.py`` (FEATURES, WEIGHTS, BIAS) fitted on these answers, and the
reliability of the fitted confidence on them. Never run this on the held-out split to fit.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from eval.qa_real import score  # noqa: E402
from eval.qa_real.build import default_cache, load_documents, load_questions, materialise  # noqa: E402


def collect(
    split: str = "dev", only: list[str] | None = None, *, whole: bool = False
) -> list[dict[str, Any]]:
    from app.evidence import attach
    from app.pipeline import Pipeline
    from app.readers.ocr.answer_policy import FEATURES
    from app.readers.ocr.reader import OcrReader, _Doc
    from app.settings import Settings
    from app.text import question_language

    settings = Settings(reader="ocr")
    pipeline = Pipeline(settings)
    reader = OcrReader(settings)
    docs = [d for d in load_documents() if d.split == split and (not only or d.id in only)]
    questions = load_questions()
    rows: list[dict[str, Any]] = []
    for doc in docs:
        rendered = pipeline.render(pipeline.open_document(materialise(doc, default_cache())))
        read = (
            next(item for item in reader._document(rendered) if isinstance(item, _Doc))
            if whole
            else None
        )
        squashed = score.squash(rendered.text)
        for q in (q for q in questions if q["doc"] == doc.id):
            if read is None:  # as the product asks: the decision behind the answer it gave
                asked = pipeline.reader("ocr").reader
                asked.last_decision = None
                answer = pipeline.ask_once(rendered, q["question"], "qa")
                decision = asked.last_decision if answer.found else None
            else:
                lang = question_language(q["question"])
                answer = reader._qa(read, rendered, q["question"], lang)
                decision = reader.last_decision
                answer = attach(
                    rendered,
                    answer,
                    question=q["question"],
                    review_threshold=settings.review_threshold,
                )
            spans = [(ev.span.start, ev.span.end) for ev in answer.evidence if ev.boxes]
            gold = score.find_gold(rendered.text, q, squashed) if q["answerable"] else []
            judged = score.judge(
                q,
                answer_text=answer.text,
                needs_review=answer.needs_review,
                evidence_on_gold=score.overlaps(spans, gold),
                box_on_gold=False,
            )
            row = {
                "id": q["id"],
                "type": q["type"],
                "language": q["language"],
                "answerable": q["answerable"],
                "answer": answer.text,
                "kind": decision.kind if decision else "not-found",
                "features": [decision.features[f] for f in FEATURES] if decision else None,
                "all_features": dict(decision.features) if decision else None,
                "confidence": answer.confidence,
                **judged,
            }
            rows.append(row)
            mark = "✓" if row["correct"] else "✗"
            gold_text = "|".join(q["answers"][:2]) or "(unanswerable)"
            print(
                f"{mark} {q['id']:<24} {row['kind']:<9} c={answer.confidence:.2f} "
                f"f={[round(v, 2) for v in row['features'] or []]} "
                f"on_gold={judged['evidence_on_gold']!s:<5} {q['question'][:40]!r} → "
                f"{' '.join(answer.text.split())[:70]!r} [gold {gold_text[:40]}]",
                flush=True,
            )
    reader.close()
    pipeline.close()
    return rows


def fit(
    rows: list[dict[str, Any]], l2: float = 0.002, steps: int = 20000
) -> tuple[list[float], float]:
    """Logistic regression (plain gradient descent) of 'correct' on the features."""
    import numpy as np

    data = [(r["features"], 1.0 if r["correct"] else 0.0) for r in rows if r["features"]]
    x = np.array([f for f, _ in data], dtype=np.float64)
    y = np.array([t for _, t in data], dtype=np.float64)
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        grad_w = x.T @ (p - y) / len(y) + l2 * w
        grad_b = float(np.mean(p - y))
        w -= 0.5 * grad_w
        b -= 0.5 * grad_b
    return [round(float(v), 3) for v in w], round(b, 3)


def reliability(pairs: list[tuple[float, bool]], bins: int = 5) -> tuple[float, list[str]]:
    """ECE and a row per confidence bin: (range, n, mean confidence, accuracy)."""
    lines, ece, n = [], 0.0, len(pairs)
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        sel = [(c, ok) for c, ok in pairs if lo <= c < hi or (i == bins - 1 and c == 1.0)]
        if not sel:
            continue
        conf = sum(c for c, _ in sel) / len(sel)
        acc = sum(ok for _, ok in sel) / len(sel)
        ece += len(sel) / n * abs(conf - acc)
        lines.append(f"{lo:.1f}–{hi:.1f}: n={len(sel):3d} confidence {conf:.2f} accuracy {acc:.2f}")
    return ece, lines


def _confidence(weights: list[float], bias: float, features: list[float]) -> float:
    z = bias + sum(w * f for w, f in zip(weights, features, strict=True))
    return 1 / (1 + math.exp(-z))


def leave_one_document_out(rows: list[dict[str, Any]]) -> list[tuple[float, bool]]:
    """(confidence, correct) of every answer, each from a model fitted without its document: how
    the fit does on documents it has not seen, from dev alone."""
    pairs = []
    for doc in sorted({r["id"].rsplit("-", 1)[0] for r in rows}):
        train = [r for r in rows if not r["id"].startswith(doc + "-")]
        weights, bias = fit(train)
        for r in rows:
            if r["id"].startswith(doc + "-") and r["features"]:
                pairs.append((_confidence(weights, bias, r["features"]), bool(r["correct"])))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--split", default="dev", choices=["dev"], help="only dev: never fit on held-out"
    )
    parser.add_argument("--docs", nargs="*", default=None)
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--whole", action="store_true", help="answer from whole documents")
    parser.add_argument("--rows-out", type=Path, help="write every answer's row here (JSON)")
    args = parser.parse_args(argv)
    rows = collect(args.split, args.docs, whole=args.whole)
    if args.rows_out:
        args.rows_out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    answerable = [r for r in rows if r["answerable"]]
    print(
        f"\ncorrect {sum(r['correct'] for r in answerable)}/{len(answerable)} answerable, "
        f"evidence on gold {sum(r['evidence_on_gold'] for r in answerable)}, "
        f"unanswerable not found {sum(r['not_found'] for r in rows if not r['answerable'])}/"
        f"{sum(not r['answerable'] for r in rows)}"
    )
    if args.fit:
        from app.readers.ocr.answer_policy import FEATURES

        weights, bias = fit(rows)
        print(f"FEATURES = {FEATURES}\nWEIGHTS = {tuple(weights)}\nBIAS = {bias}")
        pairs = [
            (_confidence(weights, bias, r["features"]), bool(r["correct"]))
            for r in rows
            if r["features"]
        ]
        threshold = get_threshold()
        for name, got in (
            ("in-sample", pairs),
            ("leave-one-document-out", leave_one_document_out(rows)),
        ):
            ece, lines = reliability(got)
            above = [ok for c, ok in got if c >= threshold]
            share = sum(above) / len(above) if above else float("nan")
            print(
                f"{name} ECE {ece:.3f}; at >= {threshold}: {len(above)} answers, {share:.1%} correct"
            )
            print("\n".join(lines))
    return 0


def get_threshold() -> float:
    from app.settings import Settings

    return Settings(_env_file=None).review_threshold


if __name__ == "__main__":
    raise SystemExit(main())
