"""Real-document QA set (issue 17): score a reader on real documents, questions and gold passages.

    .venv/bin/python bench/qa_real.py --split dev [--limit N] [--docs ID ...] [--reader ocr]
                                      [--out results.json] [--summary-out summary.json]
                                      [--judgements eval/qa_real/extract_judgement_old.jsonl]

The set lives in ``eval/qa_real`` (documents from Debian packages that ``scripts/setup.sh --dev``
installs; the files the pipeline opens are derived into ``$GLYPH_EVAL_CACHE``). For every
document of the split: open it and render it through ``app.pipeline.Pipeline`` (settings from
the environment, ``--reader`` forced, default ``ocr``: the built-in reader), ask each question in
QA mode and judge the answer (``eval/qa_real/score.py``):

* **correct** — answerable question, answer ≤ 300 characters containing a gold alias
  (normalised: case, white space, full/half width, punctuation), and an evidence span on the gold
  passage (the passage located in the rendered text, white space ignored); unanswerable question
  — the answer says not found;
* **evidence on gold** — an evidence span (with boxes) overlaps the gold passage; **box on gold**
  — an evidence box intersects a box of the gold passage's characters on the same rendered page;
* **unflagged correct** — among answers not flagged for review (answerable or not), the share
  that is correct;
* **unanswerable handled** — "not found" or flagged for review;
* **free-form boxed on gold** — the question's ``free_form`` reference answer (phrased as a model
  would) goes through ``app.evidence.attach`` like a VLM / OpenAI-compatible reader's answer; its
  box must land on the gold passage.

Key-information extraction (``--extract``, on by default) runs once per document; its items are
written to the results and printed for a person to judge; ``--judgements`` reads such judgements
(JSONL: doc, type, item, real_and_correct_type) and reports the precision of the judged items.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.qa_real import score  # noqa: E402
from eval.qa_real.build import (  # noqa: E402
    DocSpec,
    default_cache,
    load_documents,
    load_questions,
    materialise,
)

EXTRACT_QUESTION = "Extract the key information."


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def select(
    docs: list[DocSpec],
    questions: list[dict[str, Any]],
    split: str,
    only_docs: list[str] | None = None,
    limit: int | None = None,
) -> tuple[list[DocSpec], list[dict[str, Any]]]:
    """Documents and questions of ``split`` ('dev', 'heldout' or 'all'), in file order."""
    chosen = [d for d in docs if split == "all" or d.split == split]
    if only_docs:
        chosen = [d for d in chosen if d.id in only_docs]
    ids = {d.id for d in chosen}
    qs = [q for q in questions if q["doc"] in ids]
    if limit is not None:
        qs = qs[:limit]
        ids = {q["doc"] for q in qs}
        chosen = [d for d in chosen if d.id in ids]
    return chosen, qs


def _evidence(answer: Any) -> tuple[list[tuple[int, int]], list[tuple[int, tuple]]]:
    spans, boxes = [], []
    for ev in answer.evidence:
        if not ev.boxes:
            continue
        spans.append((ev.span.start, ev.span.end))
        boxes.extend((ev.page, tuple(box)) for box in ev.boxes)
    return spans, boxes


def _gold(rendered: Any, question: dict[str, Any], squashed: Any) -> tuple[list, list]:
    """Ranges of the gold passage (and its alternatives) in the rendered text, and their boxes."""
    ranges = score.find_gold(rendered.text, question, squashed)
    boxes = []
    for a, b in ranges:
        boxes.extend(rendered.layout.boxes_for_span(a, b))
    return ranges, boxes


def free_form_box(rendered: Any, question: dict[str, Any], gold_boxes: list, threshold: float):
    """Box of the reference free-form answer (through the evidence step) on the gold passage."""
    from app.datamodel import Answer, Mode
    from app.evidence import attach

    ref = Answer(text=question["free_form"], mode=Mode.QA, reader="reference", confidence=1.0)
    attached = attach(rendered, ref, question=question["question"], review_threshold=threshold)
    _, boxes = _evidence(attached)
    return score.boxes_intersect(boxes, gold_boxes)


def run(
    split: str = "dev",
    *,
    reader: str = "ocr",
    limit: int | None = None,
    only_docs: list[str] | None = None,
    extract: bool = True,
    free_form: bool = True,
    cache: Path | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Run the set; returns {'records', 'extract', 'documents', 'summary', ...}."""
    from app.pipeline import Pipeline
    from app.settings import Settings

    settings = Settings(reader=reader)
    pipeline = Pipeline(settings)
    docs, questions = select(load_documents(), load_questions(), split, only_docs, limit)
    cache = cache or default_cache()
    records: list[dict[str, Any]] = []
    extracted: list[dict[str, Any]] = []
    doc_info: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        for doc in docs:
            doc_q = [q for q in questions if q["doc"] == doc.id]
            t0 = time.perf_counter()
            path = materialise(doc, cache)
            document = pipeline.open_document(path)
            t1 = time.perf_counter()
            rendered = pipeline.render(document)
            t2 = time.perf_counter()
            squashed = score.squash(rendered.text)
            info = {
                "doc": doc.id,
                "language": doc.language,
                "format": doc.format,
                "split": doc.split,
                "chars": len(rendered.text),
                "rendered_pages": len(rendered.pages),
                "open_s": round(t1 - t0, 2),
                "render_s": round(t2 - t1, 2),
                "passages_located": 0,
            }
            log(
                f"== {doc.id} ({doc.language}, {doc.format}, {doc.split}): "
                f"{len(rendered.text):,} chars, {len(rendered.pages)} pages, "
                f"open {t1 - t0:.1f}s render {t2 - t1:.1f}s, {len(doc_q)} questions"
            )
            for q in doc_q:
                rec: dict[str, Any] = {
                    k: q[k] for k in ("id", "doc", "language", "type", "answerable", "question")
                }
                rec["split"] = doc.split
                gold_ranges: list[tuple[int, int]] = []
                gold_boxes: list = []
                if q["answerable"]:
                    gold_ranges, gold_boxes = _gold(rendered, q, squashed)
                    info["passages_located"] += bool(gold_ranges)
                rec["passage_located"] = bool(gold_ranges) if q["answerable"] else None
                t = time.perf_counter()
                try:
                    answer = pipeline.ask_once(rendered, q["question"], "qa")
                except Exception as err:  # a crash is a wrong answer, and is reported
                    rec.update(error=f"{type(err).__name__}: {err}")
                    answer = None
                rec["seconds"] = round(time.perf_counter() - t, 3)
                if answer is None:
                    text, needs_review, spans, boxes, conf = "", True, [], [], 0.0
                else:
                    text, needs_review, conf = answer.text, answer.needs_review, answer.confidence
                    spans, boxes = _evidence(answer)
                rec.update(
                    answer=text[:600],
                    confidence=round(float(conf), 4),
                    needs_review=bool(needs_review),
                    evidence_spans=spans[:8],
                )
                rec.update(
                    score.judge(
                        q,
                        answer_text=text,
                        needs_review=bool(needs_review),
                        evidence_on_gold=score.overlaps(spans, gold_ranges),
                        box_on_gold=score.boxes_intersect(boxes, gold_boxes),
                        closest_on_gold=answer is not None
                        and score.overlaps([(c.start, c.end) for c in answer.closest], gold_ranges),
                    )
                )
                if free_form and q["answerable"]:
                    try:
                        rec["free_form_box_on_gold"] = free_form_box(
                            rendered, q, gold_boxes, settings.review_threshold
                        )
                    except Exception as err:
                        rec["free_form_box_on_gold"] = False
                        rec["free_form_error"] = f"{type(err).__name__}: {err}"
                records.append(rec)
                mark = "✓" if rec["correct"] else "✗"
                flag = " [review]" if rec["needs_review"] else ""
                shown = " ".join(text.split())[:90]
                log(
                    f"  {mark} {q['id']} {rec['seconds']:.1f}s{flag} {q['question'][:50]!r} → {shown!r}"
                )
            if extract:
                t = time.perf_counter()
                try:
                    ans = pipeline.ask_once(rendered, EXTRACT_QUESTION, "extract")
                    shown = shown_values(ans.text, len(ans.spans))
                    items = [
                        {
                            "doc": doc.id,
                            "language": doc.language,
                            "type": span.label,
                            "item": span.text,
                            "start": span.start,
                            **({"shown": shown[i]} if shown else {}),
                        }
                        for i, span in enumerate(ans.spans)
                    ]
                except Exception as err:
                    items = []
                    info["extract_error"] = f"{type(err).__name__}: {err}"
                info["extract_s"] = round(time.perf_counter() - t, 2)
                info["extract_items"] = len(items)
                extracted.extend(items)
                log(f"  key information: {len(items)} items ({info['extract_s']}s)")
                for it in items:
                    log(f"    - {it['type']}: {' '.join(str(it['item']).split())[:80]}")
            doc_info.append(info)
    finally:
        pipeline.close()
    return {
        "meta": {
            "split": split,
            "reader": reader,
            "limit": limit,
            "docs": [d.id for d in docs],
            "commit": os.environ.get("GLYPH_EVAL_COMMIT") or _git_commit(),
            "app": str(Path(sys.modules["app"].__file__).parent),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
            "ocr_engine": settings.ocr_engine,
            "render_preset": settings.render_preset,
            "review_threshold": settings.review_threshold,
            "total_s": round(time.perf_counter() - started, 1),
        },
        "documents": doc_info,
        "records": records,
        "extract": extracted,
    }


def summarise(results: dict[str, Any], judgements: list[dict[str, Any]] | None = None):
    records = results["records"]
    summary = {
        "meta": results["meta"],
        "overall": score.summarize(records),
        "by_language": score.breakdown(records, "language"),
        "by_split": score.breakdown(records, "split"),
        "by_type": score.breakdown(records, "type"),
        "by_doc": score.breakdown(records, "doc"),
        "documents": results["documents"],
    }
    if judgements is not None:
        summary["key_info"] = judged_key_info(results["extract"], judgements)
    return summary


def _item_key(doc: str, kind: str | None, item: str) -> tuple[str, str, str]:
    return doc, str(kind), " ".join(str(item).split())


def shown_values(answer_text: str, count: int) -> list[str] | None:
    """The values of a key-information answer's lines ("- E-mail: a@b.org"), one per cited
    span, in order; None when the lines and the spans do not pair up (a model's own list)."""
    values = [
        line.split(": ", 1)[1]
        for line in answer_text.splitlines()
        if line.startswith("- ") and ": " in line
    ]
    return values if len(values) == count else None


def judged_key_info(extracted: list[dict[str, Any]], judgements: list[dict[str, Any]]):
    """Precision over the items this run extracted that a person has judged; items nobody
    judged yet are counted (and listed) so that a new reader's output gets judged too.

    A person judges the text at the item's place in the document; an item whose value as shown
    in the answer reads otherwise (a misread: "debian-I10n-…" listed where the page shows
    "l10n") is wrong whatever that judgement says, and counted in ``shown_misread``."""
    verdict = {
        _item_key(j["doc"], j["type"], j["item"]): j.get("real_and_correct_type")
        for j in judgements
    }
    matched, unjudged, misread = [], [], 0
    for it in extracted:
        key = _item_key(it["doc"], it["type"], it["item"])
        if "shown" in it and score.squash(it["shown"])[0] != score.squash(it["item"])[0]:
            misread += 1
            matched.append({**it, "real_and_correct_type": False})
        elif verdict.get(key) is None:
            unjudged.append({k: it[k] for k in ("doc", "language", "type", "item")})
        else:
            matched.append({**it, "real_and_correct_type": verdict[key]})
    result = score.key_info_precision(matched)
    result["extracted"] = len(extracted)
    result["shown_misread"] = misread
    result["unjudged"] = len(unjudged)
    result["unjudged_items"] = unjudged[:200]
    return result


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def table(summary: dict[str, Any]) -> str:
    cols = [
        ("correct", "correct"),
        ("contains_gold", "has gold"),
        ("evidence_on_gold", "evid. on gold"),
        ("box_on_gold", "box on gold"),
        ("unflagged_correct", "unflagged correct"),
        ("unanswerable_handled", "unans. handled"),
        ("free_form_box_on_gold", "free-form box"),
        ("not_found_pointed", "not found, points at gold"),
    ]
    head = "| group | n | " + " | ".join(c[1] for c in cols) + " | s/question |"
    lines = [head, "|" + "---|" * (len(cols) + 3)]

    def row(name: str, s: dict[str, Any]) -> str:
        vals = " | ".join(_pct(s[c[0]]) for c in cols)
        return f"| {name} | {s['questions']} | {vals} | {s['seconds_mean']} |"

    lines.append(row("all", summary["overall"]))
    for key in ("by_split", "by_language", "by_type"):
        for name, s in summary[key].items():
            lines.append(row(name, s))
    return "\n".join(lines)


def compact(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-question flags for a small summary file (no evidence dumps)."""
    keep = (
        "id",
        "correct",
        "contains_gold",
        "evidence_on_gold",
        "box_on_gold",
        "not_found",
        "needs_review",
        "confidence",
        "free_form_box_on_gold",
        "not_found_pointed",
        "seconds",
    )
    out = []
    for r in results["records"]:
        row = {k: r.get(k) for k in keep}
        row["answer"] = " ".join(r.get("answer", "").split())[:80]
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="dev")
    parser.add_argument("--limit", type=int, default=None, help="first N questions of the split")
    parser.add_argument("--docs", nargs="+", default=None, help="only these document ids")
    parser.add_argument("--reader", default="ocr", help="ocr (default), auto, vlm, openai")
    parser.add_argument("--no-extract", action="store_true", help="skip key-information mode")
    parser.add_argument("--no-free-form", action="store_true", help="skip free-form scoring")
    parser.add_argument("--cache", type=Path, default=None, help="document cache dir")
    parser.add_argument("--out", type=Path, default=None, help="full results JSON")
    parser.add_argument("--summary-out", type=Path, default=None, help="small summary JSON")
    parser.add_argument("--judgements", type=Path, default=None, help="key-info judgements")
    args = parser.parse_args(argv)

    results = run(
        args.split,
        reader=args.reader,
        limit=args.limit,
        only_docs=args.docs,
        extract=not args.no_extract,
        free_form=not args.no_free_form,
        cache=args.cache,
        log=lambda msg: print(msg, flush=True),
    )
    judgements = None
    if args.judgements and args.judgements.is_file():
        judgements = [
            json.loads(line) for line in args.judgements.read_text("utf-8").splitlines() if line
        ]
    summary = summarise(results, judgements)
    print()
    print(table(summary))
    if "key_info" in summary:
        ki = {k: v for k, v in summary["key_info"].items() if k != "unjudged_items"}
        print("key-information precision (judged items):", ki)
    print(f"total {results['meta']['total_s']} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        full = {**results, "summary": summary}
        args.out.write_text(json.dumps(full, ensure_ascii=False, indent=1), "utf-8")
    if args.summary_out:
        args.summary_out.parent.mkdir(parents=True, exist_ok=True)
        small = {**summary, "questions": compact(results)}
        args.summary_out.write_text(json.dumps(small, ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
