"""Text basics shared by every stage: CJK characters, language, tokens and BM25.

One place for what ingest, render, the readers and evidence all need to agree on:

* **CJK characters**: ``CJK_RANGES`` (Han, kana, bopomofo, hangul, radicals; letters only) and
  ``CJK_PUNCT`` (CJK symbols and punctuation, full-width forms); ``is_cjk(ch)`` is true for both
  (the test for "no space between these two characters"), ``has_cjk`` / ``cjk_ratio`` count
  letters only.
* **Language** of a text: ``detect_language`` is the one rule every stage uses: ``'zh'`` when CJK
  characters make up at least ``ZH_SHARE`` of the letters in a bounded sample (the first and last
  ``SAMPLE // 2`` characters), else ``'en'``. Counting characters (not words) favours CJK, where
  one character carries about as much as an English word (~5 letters): 15% of the letters is
  about 45% of the words. ``question_language`` is for a *question* (a short string the user
  typed): any two CJK characters make it Chinese, because a Chinese question about an English
  document ("GPU 显存是多少？") is still asked in Chinese and should be answered in Chinese.
* **Tokens**: ``tokenize`` (lower-cased words minus ``STOP_WORDS``/``QUESTION_WORDS``, CJK
  characters and/or bigrams, optionally character trigrams of longer words) and ``BM25``
  (Okapi BM25 over tokenised documents, numpy only) with ``bm25_scores`` for one query.

Nothing here imports another ``app`` module: this is the bottom layer.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

if TYPE_CHECKING:
    import jieba

Lang = Literal["en", "zh"]

# ----------------------------------------------------------------------------------------------
# CJK characters
# ----------------------------------------------------------------------------------------------

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"  # ideographs only
CJK_RANGES = (
    "\u2e80-\u2fdf"  # radicals
    "\u3040-\u30ff"  # kana
    "\u3100-\u312f\u31a0-\u31bf"  # bopomofo
    "\uac00-\ud7af\u1100-\u11ff"  # hangul
    f"{HAN}"  # Han, compatibility ideographs, extensions A-H
)
CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"  # CJK symbols and punctuation, full-width forms
CJK_RE = re.compile(f"[{CJK_RANGES}]")  # one CJK letter
CJK_CHAR_RE = re.compile(f"[{CJK_RANGES}{CJK_PUNCT}]")  # one CJK letter or punctuation mark
CJK_RUN_RE = re.compile(f"[{CJK_RANGES}]+")  # a run of CJK letters
_LETTER_RE = re.compile(r"[^\W\d_]")  # a letter of any script (CJK characters included)


def unspaced(text: str) -> str:
    """``text`` in NFKC without white space: how two readings of the same words are compared
    (OCR reads "：" for ":" and spaces CJK characters apart)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def is_cjk(ch: str) -> bool:
    """True for a CJK letter or CJK/full-width punctuation mark (no spaces around these)."""
    # Everything below U+1100 is not CJK: a cheap test first, it runs once per PDF character.
    return ch >= "\u1100" and bool(CJK_CHAR_RE.match(ch))


def has_cjk(text: str, min_chars: int = 1) -> bool:
    """True when ``text`` holds at least ``min_chars`` CJK letters."""
    return any(found >= min_chars for found, _ in enumerate(CJK_RE.finditer(text), 1))


# ----------------------------------------------------------------------------------------------
# language
# ----------------------------------------------------------------------------------------------

ZH_SHARE = 0.15  # CJK letters / all letters from which a text is Chinese
SAMPLE = 200_000  # characters looked at: the first and the last half of this


def _sample(text: str) -> str:
    half = SAMPLE // 2
    return text if len(text) <= SAMPLE else text[:half] + text[-half:]


def cjk_ratio(text: str) -> float | None:
    """Share of CJK characters among the letters of (a bounded sample of) ``text``; None when
    it has no letters at all."""
    sample = _sample(text or "")
    if not sample:
        return None
    # vectorised (this runs on whole documents, once per render): ASCII letters counted in
    # numpy, every other distinct character classified once
    cps = np.frombuffer(sample.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    folded = cps | 0x20
    letters = int(np.count_nonzero((folded >= 0x61) & (folded <= 0x7A)))
    cjk = 0
    chars, counts = np.unique(cps[cps >= 0x80], return_counts=True)
    for cp, count in zip(chars.tolist(), counts.tolist(), strict=True):
        ch = chr(cp)
        if _LETTER_RE.match(ch):
            letters += count
            if CJK_RE.match(ch):
                cjk += count
    return cjk / letters if letters else None


@overload
def detect_language(*texts: str | None) -> Lang: ...
@overload
def detect_language(*texts: str | None, default: Lang) -> Lang: ...
@overload
def detect_language(*texts: str | None, default: None) -> Lang | None: ...
def detect_language(*texts: str | None, default: Lang | None = "en") -> Lang | None:
    """'zh' when CJK characters make up at least ``ZH_SHARE`` of the letters, else 'en'.

    The first of ``texts`` that has letters decides (e.g. ``detect_language(question, document)``:
    the question, or the document when the question is empty or all digits); ``default`` when
    none has any.
    """
    for text in texts:
        ratio = cjk_ratio(text) if text else None
        if ratio is not None:
            return "zh" if ratio >= ZH_SHARE else "en"
    return default


def question_language(question: str) -> Lang:
    """The language of a question: 'zh' as soon as it holds two CJK characters.

    Unlike ``detect_language`` (a share of the letters, for documents), a short question that
    mixes in English terms ("GPU 显存是多少？") is still a Chinese question.
    """
    return "zh" if has_cjk(question or "", 2) else "en"


# ----------------------------------------------------------------------------------------------
# tokens
# ----------------------------------------------------------------------------------------------

WORD_RE = re.compile(r"[a-z0-9]+(?:[.,'-][a-z0-9]+)*")  # a word of lower-cased text
# function words: never content, in a question or a document
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
        "does",
        "do",
        "did",
        # pronouns, auxiliaries and connectives a question is phrased with ("Am I allowed to …",
        # "What happens if …", "… for someone else?"); a document rarely uses them, so as keys
        # they would weigh as rare and hide the sentence that answers
        "am",
        "being",
        "doing",
        "having",
        "if",
        "so",
        "us",
        "him",
        "hers",
        "ours",
        "yours",
        "theirs",
        "myself",
        "yourself",
        "himself",
        "herself",
        "itself",
        "ourselves",
        "themselves",
        "someone",
        "somebody",
        "something",
        "anyone",
        "anybody",
        "anything",
        "any",
        "some",
        "such",
        "also",
        "just",
        "very",
        "too",
        "i'm",
        "i've",
        "i'd",
        "it's",
        "you're",
        "what's",
        "where's",
        "who's",
        "how's",
        "that's",
        "there's",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "can't",
        "won't",
    ]
)
# words that ask rather than describe ("what is …", "please tell me about the document")
QUESTION_WORDS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "please",
        "tell",
        "give",
        "find",
        "document",
        "text",
    ]
)
STOP_AND_QUESTION_WORDS = STOP_WORDS | QUESTION_WORDS
# the same for Chinese: "是多少" asks, it does not describe
CJK_QUESTION_RE = re.compile(
    r"是多少|为多少|有多少|是什么|是谁|是哪|多少|什么|哪些|哪个|哪里|何时|几|吗|呢|请问"
)

CjkTokens = Literal["chars", "bigrams", "both"]


@functools.cache
def _segmenter() -> jieba.Tokenizer:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its default logger prints the dictionary's loading
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def cjk_words(text: str) -> list[str]:
    """The words of a Chinese text (jieba's segmentation, with the dictionary its wheel ships:
    no download): "比较流行的客户端" → 比较 / 流行 / 的 / 客户端."""
    return [w for w in _segmenter().lcut(text) if w.strip()]


@functools.cache
def _tagger() -> Any:
    from jieba import posseg

    return posseg.POSTokenizer(_segmenter())


def _tagged_words(text: str) -> list[Any]:
    """jieba's words of ``text`` with their classes, white space left out."""
    return [w for w in _tagger().lcut(text) if w.word.strip()]


# jieba's word classes that no name has: verbs, adjectives, adverbs, pronouns, prepositions,
# conjunctions, particles, numerals
_NOT_NAME_CLASSES = ("v", "a", "d", "r", "p", "c", "u", "m")


def cjk_common_word(text: str) -> bool:
    """Whether jieba reads ``text`` as one common word that no name is ("维护", "负责"), not a
    name ("林雨晨") or a word it does not know."""
    words = _tagged_words(text)
    return len(words) == 1 and words[0].flag.startswith(_NOT_NAME_CLASSES)


# … and the words a question is phrased with rather than what it is about: by jieba's class,
# adverbs, pronouns, prepositions, conjunctions, particles, numerals, idioms, words of place or
# time ("直接", "万一", "弄坏了", "以后"); verbs and adjectives are what many questions ask about
# ("由谁开发", "免费"), so only those few that are how people talk ("好像", "听说", "具体")
_PHRASING_CLASSES = ("d", "ad", "r", "p", "c", "u", "m", "i", "y", "f", "t")
_PHRASING_WORDS = frozenset(
    ["好像", "似乎", "听说", "据说", "觉得", "不用", "不想", "比如", "例如", "发生", "具体"]
)


def cjk_phrasing(text: str) -> bool:
    """Whether ``text`` is only words a question is phrased with ("听说", "好像", "直接"), not
    a noun, a name or a verb it asks about ("鼠标", "安全模式", "开发")."""
    words = _tagged_words(text)
    return bool(words) and all(
        w.word in _PHRASING_WORDS
        # a superlative ("最早", "最多") is what is asked, whatever its class
        or (w.flag.startswith(_PHRASING_CLASSES) and not w.word.startswith("最"))
        for w in words
    )


def tokenize(
    text: str,
    *,
    stop: Collection[str] = STOP_AND_QUESTION_WORDS,
    cjk: CjkTokens = "bigrams",
    trigrams: bool = False,
    question: bool = False,
) -> list[str]:
    """Search tokens of ``text``, in order.

    * words: lower-cased Latin letters and digits (``4.5``, ``nw-bf-2025``), minus ``stop``;
    * ``trigrams``: also the character trigrams of words longer than 3 (``#li``, ``lic``, …),
      which forgive OCR slips ("1icence" still shares most of "licence");
    * CJK runs (no word segmenter needed): ``'chars'`` every character, ``'bigrams'`` every
      character bigram (a lone character stays a unigram), ``'both'`` characters and bigrams;
    * ``question``: Chinese question words (``CJK_QUESTION_RE``) are dropped first.
    """
    low = text.lower()
    if question:
        low = CJK_QUESTION_RE.sub(" ", low)
    out: list[str] = []
    for word in WORD_RE.findall(low):
        if word in stop:
            continue
        out.append(word)
        if trigrams and len(word) > 3:
            padded = f"#{word}#"
            out.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    for run in CJK_RUN_RE.findall(low):
        if cjk != "bigrams" or len(run) == 1:
            out.extend(run)
        if cjk != "chars":
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


# ----------------------------------------------------------------------------------------------
# BM25
# ----------------------------------------------------------------------------------------------


class BM25:
    """Okapi BM25 over pre-tokenised documents (sparse postings, numpy only)."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
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

    def containing(self, token: str) -> np.ndarray:
        """Indices of the documents that hold ``token``."""
        tid = self.vocab.get(token)
        if tid is None:
            return np.zeros(0, np.int64)
        return self._docs[self._starts[tid] : self._starts[tid + 1]]

    def scores(self, query: Sequence[str]) -> np.ndarray:
        """Score of every document for the query tokens (each distinct token counted once)."""
        out = np.zeros(self.n, np.float32)
        for tok in set(query):
            tid = self.vocab.get(tok)
            if tid is None:
                continue
            a, b = self._starts[tid], self._starts[tid + 1]
            np.add.at(out, self._docs[a:b], self._weights[a:b] * self.idf[tid])
        return out


def bm25_scores(query: str, docs: Sequence[str]) -> list[float]:
    """BM25 score of every doc for ``query`` over ``tokenize`` tokens (0: no term shared)."""
    if not docs:
        return []
    index = BM25([tokenize(d) for d in docs])
    return [float(s) for s in index.scores(tokenize(query))]
