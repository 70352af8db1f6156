"""Check the real-document QA set: counts and shape (JSONL only) and passages (ingested text).

    .venv/bin/python -m eval.qa_real.validate            # counts + every passage in the text
    .venv/bin/python -m eval.qa_real.validate --counts   # counts only (no documents needed)

The split is by document and was fixed before anything ran: per language, the sorted document
ids are shuffled with ``random.Random(SPLIT_SEED)`` (Chinese first, then English, one generator)
and the first ``DEV_ZH`` Chinese and ``DEV_EN`` English ids are dev, the rest held-out.
``check_counts`` recomputes that and fails when ``documents.jsonl`` disagrees.

Documents added later (``"round": 2`` and on) are dev by construction: they widen the half the
reader is tuned on, and the held-out half stays the seven documents the rule drew.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from typing import Any

from eval.qa_real.build import DocSpec, load_documents, load_questions, materialise_all
from eval.qa_real.score import find_passage, gold_passages, normalize

SPLIT_SEED = 17
DEV_ZH = 4
DEV_EN = 3
TYPES = (
    "what",
    "which",
    "who",
    "when",
    "where",
    "how_many",
    "how_much",
    "meaning",
    "option",
    "why",
    "yes_no",
)
MIN_DOCS = 12
MIN_QUESTIONS = 150
MIN_ZH_SHARE = 0.40
MIN_UNANSWERABLE = 0.15
MIN_PER_TYPE = 5
FORMATS_NEEDED = ({"pdf"}, {"pdf-scan"}, {"docx"}, {"html"}, {"txt", "markdown"})


def seeded_split(doc_ids_by_lang: dict[str, list[str]]) -> dict[str, str]:
    """doc id → 'dev' / 'heldout' by the recorded rule (see the module docstring)."""
    rng = random.Random(SPLIT_SEED)
    split: dict[str, str] = {}
    for lang, n_dev in (("zh", DEV_ZH), ("en", DEV_EN)):
        ids = sorted(doc_ids_by_lang.get(lang, []))
        rng.shuffle(ids)
        for i, doc_id in enumerate(ids):
            split[doc_id] = "dev" if i < n_dev else "heldout"
    return split


def first_round(doc: DocSpec) -> bool:
    """Whether the document was in the set when the split was drawn (round 1)."""
    return int(doc.extra.get("round", 1)) == 1


def stats(docs: list[DocSpec], questions: list[dict[str, Any]]) -> dict[str, Any]:
    by_doc = {d.id: d for d in docs}
    return {
        "documents": len(docs),
        "documents_by_language": dict(Counter(d.language for d in docs)),
        "documents_by_format": dict(Counter(d.format for d in docs)),
        "documents_by_split": dict(Counter(d.split for d in docs)),
        "questions": len(questions),
        "questions_by_language": dict(Counter(q["language"] for q in questions)),
        "questions_by_split": dict(Counter(by_doc[q["doc"]].split for q in questions)),
        "questions_by_type": dict(Counter(q["type"] for q in questions)),
        "unanswerable": sum(not q["answerable"] for q in questions),
    }


def check_counts(docs: list[DocSpec], questions: list[dict[str, Any]]) -> list[str]:
    """Problems with the set's shape and counts (empty list: all requirements met)."""
    problems: list[str] = []
    by_doc = {d.id: d for d in docs}
    if len(by_doc) != len(docs):
        problems.append("duplicate document ids")
    if len(docs) < MIN_DOCS:
        problems.append(f"{len(docs)} documents, need ≥ {MIN_DOCS}")
    zh_docs = sum(d.language == "zh" for d in docs)
    if zh_docs < MIN_ZH_SHARE * len(docs):
        problems.append(f"{zh_docs}/{len(docs)} Chinese documents, need ≥ 40%")
    formats = {d.format for d in docs}
    for need in FORMATS_NEEDED:
        if not need & formats:
            problems.append(f"no document of format {sorted(need)}")
    for d in docs:
        if d.language not in ("zh", "en"):
            problems.append(f"{d.id}: language {d.language!r}")
        if d.split not in ("dev", "heldout"):
            problems.append(f"{d.id}: split {d.split!r}")
        if not d.source.get("package") or not d.source.get("path"):
            problems.append(f"{d.id}: source needs a package and a path")
        if not d.licence:
            problems.append(f"{d.id}: no licence note")
        if d.kind not in ("none", "gunzip", "docx", "scan"):
            problems.append(f"{d.id}: derivation {d.kind!r}")
    first = [d for d in docs if first_round(d)]
    expected = seeded_split(
        {lang: [d.id for d in first if d.language == lang] for lang in ("zh", "en")}
    )
    for d in docs:
        if not first_round(d):
            if d.split != "dev":
                problems.append(f"{d.id}: added in round {d.extra.get('round')}, must be dev")
        elif expected.get(d.id) != d.split:
            problems.append(
                f"{d.id}: split {d.split} but the seeded rule gives {expected.get(d.id)}"
            )
    for split in ("dev", "heldout"):
        langs = {d.language for d in docs if d.split == split}
        if langs != {"zh", "en"}:
            problems.append(f"{split} split has languages {sorted(langs)}, need both")

    ids = [q["id"] for q in questions]
    if len(set(ids)) != len(ids):
        problems.append("duplicate question ids")
    if len(questions) < MIN_QUESTIONS:
        problems.append(f"{len(questions)} questions, need ≥ {MIN_QUESTIONS}")
    zh_q = sum(q["language"] == "zh" for q in questions)
    if zh_q < MIN_ZH_SHARE * len(questions):
        problems.append(f"{zh_q}/{len(questions)} Chinese questions, need ≥ 40%")
    unanswerable = sum(not q["answerable"] for q in questions)
    if unanswerable < MIN_UNANSWERABLE * len(questions):
        problems.append(f"{unanswerable}/{len(questions)} unanswerable, need ≥ 15%")
    types = Counter(q["type"] for q in questions)
    for t in TYPES:
        if types[t] < MIN_PER_TYPE:
            problems.append(f"type {t}: {types[t]} questions, need ≥ {MIN_PER_TYPE}")
    for q in questions:
        qid = q.get("id", "?")
        doc = by_doc.get(q.get("doc"))
        if doc is None:
            problems.append(f"{qid}: unknown document {q.get('doc')!r}")
            continue
        if q.get("language") != doc.language:
            problems.append(f"{qid}: language {q.get('language')} ≠ document's {doc.language}")
        if q.get("type") not in TYPES:
            problems.append(f"{qid}: type {q.get('type')!r}")
        if not str(q.get("question", "")).strip():
            problems.append(f"{qid}: empty question")
        if q.get("answerable"):
            if not q.get("answers") or not all(normalize(a) for a in q["answers"]):
                problems.append(f"{qid}: answerable needs non-empty gold answers")
            if not q.get("passage"):
                problems.append(f"{qid}: answerable needs a passage")
            if not q.get("free_form"):
                problems.append(f"{qid}: answerable needs a free_form reference answer")
            alt = q.get("alt_passages", [])
            if not isinstance(alt, list) or not all(isinstance(a, str) and a for a in alt):
                problems.append(f"{qid}: alt_passages must be a list of quotes")
        elif q.get("answers") or q.get("passage") or q.get("alt_passages"):
            problems.append(f"{qid}: unanswerable must have no answers and no passage")
    drawn = [q for q in questions if q["doc"] in by_doc and first_round(by_doc[q["doc"]])]
    for split in ("dev", "heldout"):  # the seeded rule's halves: about half each
        n = sum(by_doc[q["doc"]].split == split for q in drawn)
        if not 0.35 * len(drawn) <= n <= 0.65 * len(drawn):
            problems.append(f"{split}: {n}/{len(drawn)} first-round questions, not about half")
    return problems


def ingest_texts(docs: list[DocSpec], pipeline: Any = None) -> dict[str, str]:
    """Extracted text of every document, as the pipeline ingests it (scans are OCR'd)."""
    if pipeline is None:
        from app.pipeline import Pipeline

        pipeline = Pipeline()
    paths = materialise_all(docs)
    return {doc_id: pipeline.open_document(path).text for doc_id, path in paths.items()}


def check_passages(questions: list[dict[str, Any]], texts: dict[str, str]) -> list[str]:
    problems = []
    for q in questions:
        if not q["answerable"]:
            continue
        text = texts.get(q["doc"])
        if text is None:
            problems.append(f"{q['id']}: no text for {q['doc']}")
        else:
            for passage in gold_passages(q):
                if not find_passage(text, passage):
                    problems.append(
                        f"{q['id']}: passage not in the ingested text: {passage[:60]!r}"
                    )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", action="store_true", help="JSONL checks only")
    args = parser.parse_args(argv)
    docs, questions = load_documents(), load_questions()
    for key, value in stats(docs, questions).items():
        print(f"{key:24s} {value}")
    problems = check_counts(docs, questions)
    if not args.counts:
        problems += check_passages(questions, ingest_texts(docs))
    for problem in problems:
        print("PROBLEM:", problem)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
