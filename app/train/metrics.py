"""Answer metrics of ``scripts/eval_inference.py``: exact match, token F1, ROUGE-L.

One tokenization serves English and Chinese: every CJK character is a token (character-level
scores for Chinese, as is usual for Chinese reading comprehension), runs of other letters/digits
are word tokens, and a number keeps its inner punctuation (``4.5``, ``2024-0173``, ``1,200``)
so that SQuAD-style punctuation removal does not turn ``4.5`` into ``45``. Text is NFKC-folded
(full-width digits and letters become ASCII) and lower-cased; English articles are dropped as in
SQuAD. ROUGE-L is the LCS F-measure with β = 1 over the same tokens, computed here (no library).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from app.text import CJK_RANGES

_TOKEN = re.compile(
    rf"[{CJK_RANGES}]"  # one CJK character
    r"|\d+(?:[.,:/\-]\d+)*"  # a number with inner punctuation
    rf"|(?:(?![{CJK_RANGES}])[^\W_])+"  # a word (letters/digits of any other script)
)
_ARTICLES = frozenset({"a", "an", "the"})


def tokenize(text: str) -> list[str]:
    """Normalized tokens of ``text`` (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return [t for t in _TOKEN.findall(folded) if t not in _ARTICLES]


def exact_match(prediction: str, reference: str) -> float:
    return float(tokenize(prediction) == tokenize(reference))


def f1(prediction: str, reference: str) -> float:
    """Token-overlap F1 (bag of tokens); 1.0 when both are empty after normalization."""
    pred, ref = tokenize(prediction), tokenize(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (O(len(a)·len(b)) time, O(len(b)) memory)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (β = 1): LCS-based precision and recall over normalized tokens."""
    pred, ref = tokenize(prediction), tokenize(reference)
    if not pred or not ref:
        return float(pred == ref)
    lcs = lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class Scores:
    exact_match: float
    f1: float
    rouge_l: float

    def as_dict(self) -> dict[str, float]:
        return {"exact_match": self.exact_match, "f1": self.f1, "rouge_l": self.rouge_l}


def score(prediction: str, references: str | Sequence[str]) -> Scores:
    """Each metric's best value over the references (several acceptable answers)."""
    refs = [references] if isinstance(references, str) else list(references)
    if not refs:
        raise ValueError("no reference answer")
    return Scores(
        exact_match=max(exact_match(prediction, r) for r in refs),
        f1=max(f1(prediction, r) for r in refs),
        rouge_l=max(rouge_l(prediction, r) for r in refs),
    )


def mean_scores(rows: Sequence[Scores]) -> dict[str, float]:
    """Corpus scores: the mean of each metric over rows, in percent (0-100)."""
    if not rows:
        return {"exact_match": 0.0, "f1": 0.0, "rouge_l": 0.0}
    n = len(rows)
    return {
        "exact_match": 100 * sum(r.exact_match for r in rows) / n,
        "f1": 100 * sum(r.f1 for r in rows) / n,
        "rouge_l": 100 * sum(r.rouge_l for r in rows) / n,
    }
