"""Extractive summary: TextRank over OCR sentences (power iteration in numpy).

Sentences are nodes, edges are cosine similarities of their BM25 token vectors (words and
character n-grams, so Chinese works too); the highest-ranked sentences are returned in reading
order within a length budget.
"""

from __future__ import annotations

import re

import numpy as np

from app.readers.ocr.retrieve import tokens

DEFAULT_SENTENCES = 5
MAX_SENTENCES = 30
_COUNT = re.compile(r"(\d{1,2})\s*(?:sentences?|points?|bullets?|句|条|点)", re.I)


def requested_length(question: str, default: int = DEFAULT_SENTENCES) -> int:
    """Sentences asked for in the request ("in 3 sentences", "3句话"), else ``default``."""
    m = _COUNT.search(question or "")
    if m:
        return max(1, min(MAX_SENTENCES, int(m.group(1))))
    return default


def textrank(texts: list[str], damping: float = 0.85, iterations: int = 50) -> np.ndarray:
    """Scores (sum 1) of each text by TextRank over token-vector cosine similarity."""
    n = len(texts)
    if n == 0:
        return np.zeros(0)
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        counts: dict[int, int] = {}
        for tok in tokens(text):
            tid = vocab.setdefault(tok, len(vocab))
            counts[tid] = counts.get(tid, 0) + 1
        for tid, c in counts.items():
            rows.append(i)
            cols.append(tid)
            vals.append(1.0 + np.log(c))
    mat = np.zeros((n, max(1, len(vocab))), np.float32)
    if rows:
        mat[rows, cols] = vals
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    mat = mat / np.maximum(norms, 1e-9)
    sim = mat @ mat.T
    np.fill_diagonal(sim, 0.0)
    out_w = sim.sum(axis=1, keepdims=True)
    trans = np.where(out_w > 0, sim / np.maximum(out_w, 1e-9), 1.0 / n)
    score = np.full(n, 1.0 / n)
    for _ in range(iterations):
        new = (1 - damping) / n + damping * trans.T @ score
        if np.abs(new - score).sum() < 1e-6:
            score = new
            break
        score = new
    return score / score.sum()


_MARKUP = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|&[a-z]+;|\{\{|\}\}")
_SIGNATURE = re.compile(
    r"\b[A-Za-z_][\w:]*\s*\([^()]*\)\s*[;{]|^\s*(?:int|void|char|const|static|def|class)\s"
)
# a running header or footer: "Debian 参考手册86/223", "Page 4", "第 4 页"
_FURNITURE = re.compile(r"(?<![\d/])\d+\s*/\s*\d+(?![\d/]).{0,3}$|^\s*(?:page|第)\s*\d+", re.I)
_COMMAND = re.compile(r"^\s*[$#>%]\s|(?:\s--?[A-Za-z][\w-]*){2,}")
_CODE_CHARS = set("{}[]()<>=;|\\/_$#*`~^")


def furniture(text: str) -> bool:
    """A running header or footer (a page number "86/223", "Page 4")."""
    return bool(_FURNITURE.search(text.strip()))


def prose(text: str) -> bool:
    """A sentence a person would put in a summary: no markup, code, function signatures,
    command lines or page furniture (running headers, "85/223")."""
    t = text.strip()
    if len(t) < 12 or any(p.search(t) for p in (_MARKUP, _SIGNATURE, _FURNITURE, _COMMAND)):
        return False
    symbols = sum(ch in _CODE_CHARS for ch in t)
    letters = sum(ch.isalpha() for ch in t)
    return symbols <= 0.05 * len(t) and letters >= 0.5 * len(t)


def summarize(texts: list[str], n_sentences: int, max_chars: int | None = None) -> list[int]:
    """Indices (in reading order) of the sentences forming the summary: prose only."""
    useful = [i for i, t in enumerate(texts) if prose(t)]
    if not useful:
        return []
    if len(useful) > 2000:  # dense similarity is O(n^2): rank the first and the evenly spread
        step = len(useful) / 2000
        useful = [useful[int(k * step)] for k in range(2000)]
    scores = textrank([texts[i] for i in useful])
    # favour informative lengths: a 3-word heading should not outrank a full sentence
    lengths = np.array([len(texts[i]) for i in useful], np.float32)
    scores = scores * np.clip(lengths / 60.0, 0.3, 1.0)
    chosen: list[int] = []
    used = 0
    for k in np.argsort(-scores, kind="stable"):
        i = useful[int(k)]
        if max_chars is not None and chosen and used + len(texts[i]) > max_chars:
            continue
        chosen.append(i)
        used += len(texts[i])
        if len(chosen) >= n_sentences:
            break
    return sorted(chosen)
