"""The fresh check (``eval/qa_real/fresh.jsonl``, ``bench/qa_fresh.py``): well formed, and kept
apart from the QA set's documents."""

import json
from collections import Counter
from pathlib import Path

from eval.qa_real import score
from eval.qa_real.build import load_documents

FRESH = Path(__file__).resolve().parents[2] / "eval" / "qa_real" / "fresh.jsonl"


def _rows():
    return [json.loads(line) for line in FRESH.read_text("utf-8").splitlines() if line.strip()]


def test_the_fresh_questions_are_well_formed():
    rows = _rows()
    assert len({r["id"] for r in rows}) == len(rows) == 56
    assert Counter(r["language"] for r in rows) == {"en": 28, "zh": 28}
    assert sum(not r["answerable"] for r in rows) == 6
    for r in rows:
        if r["answerable"]:
            # every gold answer is inside its gold passage (white space aside)
            passage = score.squash(r["passage"])[0]
            assert r["answers"] and all(score.squash(a)[0] in passage for a in r["answers"]), r
        else:
            assert not r["answers"] and not r["passage"], r


def test_the_fresh_documents_are_not_in_the_set():
    used = {d.source_path for d in load_documents()}
    assert not {Path(r["path"]) for r in _rows()} & {Path(p) for p in used}
