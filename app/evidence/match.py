"""Find where an answer is supported in the document text.

Three steps, most precise first: exact occurrence of the answer (normalised for case and
white space; when it occurs several times, the occurrence whose sentence best matches the
question wins), fuzzy alignment with rapidfuzz over candidate sentences, and the sentence that
holds most of the answer's rare words (BM25 over the document's sentences, the answer's words
counting more than the question's). A model rephrases ("The README is dated 2022-09-28", "输入
dd 可以删除光标所在的整行"): a fuzzy alignment that is not close is kept only when its sentence
also holds the answer's rare words (its values, names, commands) about as well as the best one.
Each result carries a score in [0, 1] saying how sure the match is, which feeds the needs-review
flag.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from app.datamodel import Span
from app.text import BM25, CJK_RUN_RE, is_cjk, tokenize

# Sentence ends: Latin .!? followed by space, CJK 。！？；, or a line break — but not the dot of
# a title or abbreviation ("Dr. Amelia Hart", "Bluefin Ltd. and", "e.g. this", "J. Smith").
_ABBREV = (
    "Dr",
    "Mr",
    "Ms",
    "Mrs",
    "Prof",
    "St",
    "No",
    "vs",
    "e.g",
    "i.e",
    "etc",
    "Ltd",
    "Inc",
    "Co",
    "Corp",
)
_SENTENCE_END = re.compile(
    r"(?<!\b[A-Z]\.)"
    + "".join(rf"(?<!\b{re.escape(a)}\.)" for a in _ABBREV)
    + r"(?<=[.!?])\s+(?![a-z])"
    # a sentence that ends inside its quote or bracket ("… with C compilers.\" Package …")
    + r"|(?<=[.!?][\"”’')\]])\s+(?![a-z])|(?<=[。！？；])|\n+"
)

EXACT_SCORE = 1.0
FUZZY_MIN = 0.72  # below this a fuzzy alignment is not evidence
MAX_CLAUSES = 4  # places cited for one answer's clauses
_CLAUSE = re.compile(r"(?<=[.!?;。！？；，])\s*|,\s+(?:and|but|while|whereas)\s+|;\s+")
SUPPORT_MIN = 0.2  # minimum term overlap for a best-supporting sentence
FUZZY_SURE = 0.9  # an alignment this close is the answer's place, whatever else matches
QUESTION_SHARE = 0.3  # the question's words beside the answer's, in the rare-word score
RARE_MIN = 0.3  # share of the answer's rare words a sentence must hold to be cited alone
RARE_NEAR = 0.7  # a weaker alignment stands when its sentence scores this share of the best
VALUE_SHARE = 1.0  # a sentence holding all the answer's values gains the best score once more


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def split_sentences(text: str, max_len: int = 400) -> list[Sentence]:
    """Sentences with their offsets; very long runs are cut into ``max_len`` pieces."""
    out: list[Sentence] = []
    pos = 0
    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.start() if match else len(text)
        nxt = match.end() if match else len(text)
        seg_start = pos
        while seg_start < end:
            seg_end = min(end, seg_start + max_len)
            piece = text[seg_start:seg_end]
            stripped = piece.strip()
            if stripped:
                lead = len(piece) - len(piece.lstrip())
                out.append(Sentence(seg_start + lead, seg_start + lead + len(stripped), stripped))
            seg_start = seg_end
        pos = nxt
    return out


_HARD_END = set(".!?:;。！？；：")
# a line starting a block of its own: a list item, heading, quote, table row, or markup / code
# (an XML or HTML tag, a comment, a shell prompt) — the sentence before it ends at the newline
_BLOCK_START = re.compile(
    r"[#*•>|-]|\d{1,3}[.、)]|[一二三四五六七八九十]+、|[（(]|<[/?!A-Za-z]|\$\s"
)
# a line ending in a tag is markup: what follows it starts anew
_TAG_END = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>$|-->$")


def soften_newlines(text: str, min_line: int = 40) -> str:
    """``text`` with hard-wrap newlines (inside a sentence) turned into spaces, same length.

    Source files are often wrapped at a fixed width, and the renderer draws every one of those
    newlines as a marker; a sentence must not end there. A newline stays a break after sentence
    punctuation, before a list item, heading or a line of markup, after a line of markup, around
    blank lines and after a short line.
    """
    chars = list(text)
    line_start = 0
    for i, ch in enumerate(text):
        if ch != "\n":
            continue
        prev_line = text[line_start:i].strip()
        line_start = i + 1
        nxt = text[i + 1 : i + 6]
        if (
            not prev_line
            or len(prev_line) < min_line
            or prev_line[-1] in _HARD_END
            or _TAG_END.search(prev_line)
            or nxt[:1] in ("\n", "")
            or (i > 0 and text[i - 1] == "\n")
            or _BLOCK_START.match(nxt.lstrip())
        ):
            continue
        chars[i] = " "
    return "".join(chars)


def document_sentences(text: str) -> list[Sentence]:
    """The sentences of a document's text: hard-wrapped lines joined (``soften_newlines``), so
    that a sentence of a text wrapped at 72 columns is one sentence, not three line pieces."""
    return split_sentences(soften_newlines(text))


def terms(text: str) -> set[str]:
    """Content words (Latin, lower-cased, no stop or question words) and single CJK characters."""
    return set(tokenize(text, cjk="chars"))


def _overlap(query: set[str], sentence: str) -> float:
    if not query:
        return 0.0
    return len(query & terms(sentence)) / len(query)


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-case, collapse white space; returns the string and a map to original offsets."""
    chars: list[str] = []
    index: list[int] = []
    prev_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if prev_space or not chars:
                continue
            chars.append(" ")
            prev_space = True
        else:
            chars.append(ch.lower())
            prev_space = False
        index.append(i)
    return "".join(chars), index


def _sentence_around(sentences: list[Sentence], offset: int) -> Sentence | None:
    lo, hi = 0, len(sentences)
    while lo < hi:
        mid = (lo + hi) // 2
        if sentences[mid].end <= offset:
            lo = mid + 1
        else:
            hi = mid
    return sentences[lo] if lo < len(sentences) and sentences[lo].start <= offset else None


def exact_spans(text: str, needle: str, question: str = "", limit: int = 3) -> list[Span]:
    """Occurrences of ``needle`` (case/space-insensitive), best-supported by the question first."""
    needle_n = " ".join(needle.lower().split())
    if len(needle_n) < 1:
        return []
    hay, index = _normalise(text)
    hits: list[tuple[int, int]] = []
    start = hay.find(needle_n)
    while start >= 0 and len(hits) < 200:
        end = start + len(needle_n)
        # a short value ("42") must not match inside a longer token ("1420")
        if len(needle_n) > 4 or (
            (start == 0 or not hay[start - 1].isalnum())
            and (end == len(hay) or not hay[end].isalnum())
        ):
            hits.append((index[start], index[end - 1] + 1))
        start = hay.find(needle_n, start + 1)
    if not hits:
        return []
    sentences = _sentences_of(text)
    query = terms(question)
    scored = []
    for s, e in hits:
        sent = _sentence_around(sentences, s)
        scored.append((_overlap(query, sent.text) if sent else 0.0, -s, s, e))
    scored.sort(reverse=True)
    return [
        Span(start=s, end=e, text=text[s:e], score=EXACT_SCORE) for _, _, s, e in scored[:limit]
    ]


def fuzzy_span(text: str, needle: str, sentences: list[Sentence] | None = None) -> Span | None:
    """Best fuzzy alignment of ``needle`` against the document's sentences (and neighbours)."""
    needle = " ".join(needle.split())
    if len(needle) < 4:
        return None
    sentences = sentences if sentences is not None else document_sentences(text)
    if not sentences:
        return None
    needle = needle.lower()
    choices = [" ".join(s.text.lower().split()) for s in sentences]  # wrapped lines' indents
    candidates = process.extract(
        needle, choices, scorer=fuzz.partial_ratio, limit=5, score_cutoff=FUZZY_MIN * 100
    )
    best: Span | None = None
    for _, _, idx in candidates:
        # the answer may straddle a sentence boundary: align against the sentence and its neighbours
        lo, hi = max(0, idx - 1), min(len(sentences), idx + 2)
        win_start, win_end = sentences[lo].start, sentences[hi - 1].end
        window, index = _normalise(text[win_start:win_end])
        align = fuzz.partial_ratio_alignment(needle, window)
        if align is None or align.score < FUZZY_MIN * 100 or align.dest_end <= align.dest_start:
            continue
        s = win_start + index[align.dest_start]
        e = win_start + index[align.dest_end - 1] + 1
        # most of a sentence restated: the evidence is that sentence, not a piece cut mid-word
        for sent in sentences[lo:hi]:
            inside = min(e, sent.end) - max(s, sent.start)
            if inside >= 0.5 * (sent.end - sent.start):
                s, e = min(s, sent.start), max(e, sent.end)
        # a sliver of a neighbouring sentence ("…个软件包。\n您也") is not part of the place
        for sent in sentences[lo:hi]:
            inside = min(e, sent.end) - max(s, sent.start)
            if not 0 < inside < 0.5 * (sent.end - sent.start):
                continue
            if s < sent.start < e <= sent.end:
                e = sent.start
            elif sent.start <= s < sent.end < e:
                s = sent.end
        # trim white space the alignment may have swallowed
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and (best is None or align.score / 100 > best.score):
            best = Span(start=s, end=e, text=text[s:e], score=round(align.score / 100, 4))
    return best


def supporting_sentences(
    text: str, query: str, limit: int = 1, sentences: list[Sentence] | None = None
) -> list[Span]:
    """Sentences sharing the most content terms with ``query`` (question + answer)."""
    q = terms(query)
    if not q:
        return []
    sentences = sentences if sentences is not None else document_sentences(text)
    scored = sorted(
        ((_overlap(q, s.text), -i, s) for i, s in enumerate(sentences)),
        key=lambda item: (item[0], item[1]),
        reverse=True,
    )
    return [
        Span(start=s.start, end=s.end, text=s.text, score=round(min(score, 1.0), 4))
        for score, _, s in scored[:limit]
        if score >= SUPPORT_MIN
    ]


def locate_answer(text: str, answer: str, question: str = "") -> list[Span]:
    """Spans supporting ``answer``: exact, else fuzzy or the sentence holding the answer's rare
    words, else the best-supporting sentence."""
    answer = answer.strip()
    if not answer or not text:
        return []
    exact = exact_spans(text, answer, question, limit=1)
    if exact:
        return exact
    sentences = _sentences_of(text)
    # an answer joining facts from places apart (two documents of a collection): each clause
    # found on its own is cited
    parts = _clause_spans(text, answer, sentences)
    if len(parts) > 1:
        return parts
    fuzzy = fuzzy_span(text, answer, sentences)
    rare, scores = _rare_word_sentence(text, answer, question)
    if fuzzy is not None and (
        rare is None
        or fuzzy.score >= FUZZY_SURE
        or _best_score_in(scores, sentences, fuzzy) >= RARE_NEAR * float(scores.max())
    ):
        return [fuzzy]
    if rare is not None and (fuzzy is not None or rare.score >= RARE_MIN):
        return [rare]
    return supporting_sentences(text, f"{question} {answer}", limit=1, sentences=sentences)


@functools.lru_cache(maxsize=4)
def _sentences_of(text: str) -> list[Sentence]:
    """``document_sentences`` kept for the next call on the same text: an answer's clauses, a
    summary's or key-information list's pieces are each located in one text (not modified)."""
    return document_sentences(text)


@functools.lru_cache(maxsize=4)
def _sentence_index(text: str) -> tuple[list[Sentence], list[list[str]], BM25]:
    """The document's sentences, their words and a BM25 index over them (kept for the next
    answer piece, like the sentences)."""
    sentences = _sentences_of(text)
    words = [tokenize(s.text, cjk="both") for s in sentences]
    return sentences, words, BM25(words)


CLOSEST_MIN = 0.5  # share of the question's rare-word weight the closest passage must hold


def closest_passage(text: str, question: str) -> Span | None:
    """The sentence holding most of the question's rare words, for a "not found" answer to say
    where a person should look; None when no sentence holds ``CLOSEST_MIN`` of their weight."""
    if not question.strip():
        return None
    sentences, words, index = _sentence_index(text)
    asked = set(tokenize(question, cjk="both", question=True))
    scores = index.scores(list(asked))
    if not len(scores) or float(scores.max()) <= 0:
        return None
    best = int(np.argmax(scores))
    total = sum(index.idf_of(t) for t in asked)
    present = set(words[best])
    share = sum(index.idf_of(t) for t in asked if t in present) / total if total else 0.0
    if share < CLOSEST_MIN:
        return None
    sent = sentences[best]
    return Span(start=sent.start, end=sent.end, text=sent.text, score=round(share, 4))


def _rare_word_sentence(text: str, answer: str, question: str) -> tuple[Span | None, np.ndarray]:
    """The sentence scoring best on the answer's words (and, less, the question's) and holding
    its values, with the share of the answer's rare-word weight (or of its values' weight) it
    holds as its score; and every sentence's score."""
    sentences, words, index = _sentence_index(text)
    asked = tokenize(answer, cjk="both")
    in_question = tokenize(question, cjk="both", question=True)
    scores = index.scores(asked) + QUESTION_SHARE * index.scores(in_question)
    if not len(scores) or float(scores.max()) <= 0:
        return None, scores
    # the answer's values — a number, a name in Latin letters inside Chinese, a command — that
    # the question does not hold: the sentence with them is the place, however many of the
    # answer's common words another sentence shares
    values = _values(answer, asked, set(in_question))
    held = np.zeros(len(scores), np.float32)  # share of the values' weight each sentence holds
    if values:
        weight = {v: index.idf_of(v) for v in values}
        for value, w in weight.items():
            held[index.containing(value)] += w / sum(weight.values())
        scores = scores + VALUE_SHARE * float(scores.max()) * held
    best = int(np.argmax(scores))
    unique = set(asked)
    total = sum(index.idf_of(t) for t in unique)
    present = set(words[best])
    share = sum(index.idf_of(t) for t in unique if t in present) / total if total else 0.0
    share = max(share, float(held[best]))  # holding all the answer's values is sure too
    sent = sentences[best]
    return Span(
        start=sent.start, end=sent.end, text=sent.text, score=round(min(share, 1.0), 4)
    ), scores


def _values(answer: str, words: list[str], asked: set[str]) -> list[str]:
    """Words of the answer that are values: with a digit, or Latin words in a Chinese answer
    (a package, a command, a name); none the question holds."""
    cjk = any(is_cjk(ch) for ch in answer)
    out = [
        w
        for w in dict.fromkeys(words)
        if w not in asked
        and not CJK_RUN_RE.fullmatch(w)
        and (any(ch.isdigit() for ch in w) or (cjk and len(w) > 1))
    ]
    return out


def _best_score_in(scores: np.ndarray, sentences: list[Sentence], span: Span) -> float:
    """The best sentence score among the sentences ``span`` touches."""
    starts = [s.start for s in sentences]
    first = max(0, bisect.bisect_right(starts, span.start) - 1)
    last = max(first, bisect.bisect_right(starts, max(span.start, span.end - 1)) - 1)
    return float(scores[first : last + 1].max())


def _clause_spans(text: str, answer: str, sentences: list[Sentence]) -> list[Span]:
    """The places of the answer's clauses (sentences, or parts joined by "，", "; ", ", and")
    when they lie apart (not in the same or neighbouring sentences): each clause found exactly
    or aligned (as well as a whole answer must be), in the answer's order. [] when the answer
    has one clause, a clause is not found, or they are found in one place (one passage, cited as
    a whole)."""
    clauses = [c.strip(" ,，、") for c in _CLAUSE.split(answer)]
    clauses = [c for c in clauses if len(c) >= (6 if any(is_cjk(ch) for ch in c) else 12)]
    if len(clauses) < 2:
        return []
    starts = [sent.start for sent in sentences]
    found: list[tuple[int, Span]] = []  # (sentence index, place)
    for clause in clauses[:MAX_CLAUSES]:
        span = next(iter(exact_spans(text, clause, limit=1)), None) or fuzzy_span(
            text, clause, sentences
        )
        if span is None:
            return []  # a clause not found: not two places for sure
        at = bisect.bisect_right(starts, span.start) - 1
        if any(abs(at - other) <= 1 for other, _ in found):
            return []
        found.append((at, span))
    return [span for _, span in found]
