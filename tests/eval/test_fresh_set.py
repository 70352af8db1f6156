"""The checks outside the QA set (``bench/qa_fresh.py``): well formed, and kept apart from the
QA set's documents and from each other.

- ``fresh.jsonl`` (2026-12-04) and ``fresh2.jsonl`` (2026-12-06): for measuring only;
- ``probe.jsonl`` and ``probe2.jsonl`` (2026-12-06): questions on four more documents each whose
  misses were read to find classes of failure (like the dev half); probe2's documents are
  LibreOffice's help pages (``GLYPH_EVAL_PROBES=1 scripts/setup.sh --dev`` installs them);
- ``probe3.jsonl`` (2026-12-06, read the same way): two thirds Chinese, on six more documents
  (Debian Reference's system tips and appendix, LibreOffice's help on start parameters, keyboard
  use and CSV filter options, Debian Policy's chapter on the operating system);
- ``probe4.jsonl`` (2026-12-06, read the same way): two thirds Chinese, on seven more documents
  (the Chinese Debian FAQ chapters on getting Debian and on compatibility, GnuPG's Chinese help
  text, LibreOffice's help on digital signatures and on collaboration in Chinese, Debian
  Policy's chapter on relationships between packages, the LGPL 2.1);
- ``probe5.jsonl`` (2026-12-06, read the same way): two thirds Chinese, on seven more documents
  (the Chinese Debian FAQ chapter on choosing a release, LibreOffice's help on Calc's error codes,
  finding records, stock charts and paste special in Chinese, Debian Policy's chapters on the
  archive and on shared libraries).
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.qa_real import score
from eval.qa_real.build import load_documents

HERE = Path(__file__).resolve().parents[2] / "eval" / "qa_real"
# file: (questions, English, Chinese, unanswerable)
SETS = {
    "fresh.jsonl": (56, 28, 28, 6),
    "fresh2.jsonl": (48, 24, 24, 8),
    "probe.jsonl": (48, 24, 24, 8),
    "probe2.jsonl": (48, 24, 24, 8),
    "probe3.jsonl": (48, 16, 32, 8),
    "probe4.jsonl": (48, 16, 32, 8),
    "probe5.jsonl": (48, 16, 32, 8),
    "probe6.jsonl": (40, 0, 40, 6),
    "fresh3.jsonl": (40, 0, 40, 6),
}


def _rows(name: str):
    path = HERE / name
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", sorted(SETS))
def test_the_questions_are_well_formed(name):
    rows = _rows(name)
    total, english, chinese, unanswerable = SETS[name]
    assert len({r["id"] for r in rows}) == len(rows) == total
    assert Counter(r["language"] for r in rows) == Counter({"en": english, "zh": chinese})
    assert sum(not r["answerable"] for r in rows) == unanswerable
    for r in rows:
        if r["answerable"]:
            # every gold answer is inside its gold passage (white space aside)
            passage = score.squash(r["passage"])[0]
            assert r["answers"] and all(score.squash(a)[0] in passage for a in r["answers"]), r
            assert len(r["passage"]) <= 300, r
        else:
            assert not r["answers"] and not r["passage"], r


@pytest.mark.parametrize("name", sorted(SETS))
def test_the_documents_are_not_in_the_set(name):
    used = {d.source_path for d in load_documents()}
    assert not {Path(r["path"]) for r in _rows(name)} & {Path(p) for p in used}


def test_the_checks_share_no_document():
    docs = {name: {r["path"] for r in _rows(name)} for name in SETS}
    names = sorted(docs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not docs[a] & docs[b], (a, b)
