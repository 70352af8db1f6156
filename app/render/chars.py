"""Characters → the stream of items the typesetter places.

Every source character becomes zero, one or several *items*: removed format/control characters
(soft hyphen, zero-width space, bidi marks, variation selectors — Glyph drops the first two too)
become none, and so do combining marks beyond the ``MAX_MARKS``-th on one base character (a
"Zalgo" stack of 30 accents is drawn with its first three); a newline becomes a forced break (plain ``<br/>`` markup), nothing
(``remove-line-breaks``), or the visible marker of Glyph's ``newline-markup`` (e.g. a red
`` \\n ``); everything else is one item. Items keep the offset of their source character, which
is how the layout map points back into the text.

Classification is vectorised through a dense per-code-point table filled lazily, so a 1M-character
document costs a few numpy passes, not a Python loop per character.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

# Item classes (uint8). Line breaks are decided from the classes of neighbouring items.
OTHER = 1  # letters, digits, symbols: no break inside a run
SPACE = 2  # breakable white space: a line may break after a run of it
TAB = 3
NEWLINE = 4
CR = 5  # carriage return: dropped before '\n', a newline on its own
REMOVED = 6  # format and control characters: no ink, no advance
CJK = 7  # ideographs, kana, hangul, full-width forms: a break is allowed before and after
WIDE_CLOSE = 8  # 。，、）」 …: never start a line
WIDE_OPEN = 9  # （「『【《 …: never end a line
NARROW_CLOSE = 10  # . , ; : ! ? ) ] } %: never start a line
NARROW_OPEN = 11  # ( [ {: never end a line

_WIDE_CLOSE = set(
    "。，、；：？！）」』】》〉〕〗〙〛｝］｠．・ー～…‥〜〃々〻〞〟"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ"
    "｡､｣･"
)
_WIDE_OPEN = set("（「『【《〈〔〖〘〚｛［｟〝")
_NARROW_CLOSE = set(".,;:!?)]}%’”»›‰′″")
_NARROW_OPEN = set("([{‘“«‹")
_NEWLINES = {0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029}
_SPACES = {0x20, 0x1680, 0x205F, 0x3000, *range(0x2000, 0x200B)} - {0x2007}
_REMOVED_RANGES = (
    (0xFE00, 0xFE0F),
    (0xE0000, 0xE0FFF),
    (0x1F3FB, 0x1F3FF),
)  # selectors, tags, skin tones
_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # radicals
    (0x2FF0, 0x2FFF),
    (0x3001, 0x303F),  # CJK symbols and punctuation (spaces handled above)
    (0x3040, 0x30FF),  # kana
    (0x3100, 0x31FF),
    (0x3200, 0x4DBF),  # enclosed, compatibility, extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xA960, 0xA97F),
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),  # vertical forms
    (0xFF01, 0xFF60),  # full-width forms
    (0xFFE0, 0xFFE6),
    (0x20000, 0x3FFFF),  # extensions B-H
)


def _class_of(cp: int) -> int:
    if cp in _NEWLINES:
        return NEWLINE
    if cp == 0x0D:
        return CR
    if cp == 0x09:
        return TAB
    if cp in _SPACES:
        return SPACE
    for lo, hi in _REMOVED_RANGES:
        if lo <= cp <= hi:
            return REMOVED
    if 0xD800 <= cp <= 0xDFFF:
        return OTHER  # lone surrogate: drawn as the replacement character
    char = chr(cp)
    if char in _WIDE_CLOSE:
        return WIDE_CLOSE
    if char in _WIDE_OPEN:
        return WIDE_OPEN
    if char in _NARROW_CLOSE:
        return NARROW_CLOSE
    if char in _NARROW_OPEN:
        return NARROW_OPEN
    category = unicodedata.category(char)
    if category in ("Cc", "Cf"):
        return REMOVED
    for lo, hi in _CJK_RANGES:
        if lo <= cp <= hi:
            return CJK
    return OTHER


_TABLE = np.zeros(0x110000, dtype=np.uint8)  # 0 = not classified yet
_MARKS = np.zeros(0x110000, dtype=np.uint8)  # 0 = not looked up yet, 1 = no, 2 = combining mark
MAX_MARKS = 3  # combining marks drawn per base character; more are dropped like format chars


def classify(cps: np.ndarray) -> np.ndarray:
    """Class of every code point (uint8 array of the same length)."""
    classes = _TABLE[cps]
    unknown = classes == 0
    if unknown.any():
        for cp in np.unique(cps[unknown]).tolist():
            _TABLE[cp] = _class_of(cp)
        classes = _TABLE[cps]
    return classes


def is_mark(cps: np.ndarray) -> np.ndarray:
    """Whether each code point is a non-spacing or enclosing combining mark (Mn, Me): drawn
    over the previous character, with no advance of its own."""
    flags = _MARKS[cps]
    unknown = flags == 0
    if unknown.any():
        for cp in np.unique(cps[unknown]).tolist():
            plain = 0xD800 <= cp <= 0xDFFF or unicodedata.category(chr(cp)) not in ("Mn", "Me")
            _MARKS[cp] = 1 if plain else 2
        flags = _MARKS[cps]
    return flags == 2


def excess_marks(cps: np.ndarray) -> np.ndarray:
    """The combining marks after the ``MAX_MARKS``-th in a row (on one base character)."""
    marks = is_mark(cps)
    if not marks.any():
        return marks
    idx = np.arange(len(cps), dtype=np.int64)
    base = np.maximum.accumulate(np.where(marks, -1, idx))  # the last non-mark at or before
    return marks & (idx - base > MAX_MARKS)


def codepoints(text: str) -> np.ndarray:
    """The code points of ``text`` (lone surrogates kept) as a uint32 array."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(
        np.uint32, copy=False
    )


def is_cjk(cps: np.ndarray) -> np.ndarray:
    classes = classify(cps)
    return (classes == CJK) | (classes == WIDE_CLOSE) | (classes == WIDE_OPEN)


# ---------------------------------------------------------------------------------------------
# newline markup
# ---------------------------------------------------------------------------------------------

_FONT_TAG = re.compile(r"<font\b([^>]*)>(.*?)</font\s*>", re.I | re.S)
_COLOR_ATTR = re.compile(r"""color\s*=\s*["']?([^"'\s>]+)""", re.I)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class NewlineStyle:
    """How a newline is drawn: 'break' (a line break), 'marker' (inline text) or 'remove'."""

    kind: str
    text: str = ""
    color: str | None = None  # marker colour; None = the font colour


def parse_newline_markup(markup: str | None, remove_line_breaks: bool = False) -> NewlineStyle:
    """Interpret Glyph's ``newline-markup`` (reportlab paragraph markup) the way reportlab draws
    it: ``<br/>`` breaks the line; ``<font color="#FF0000"> \\n </font>`` draws `` \\n `` in red
    inline and the text flows on."""
    if remove_line_breaks:
        return NewlineStyle("remove")
    if markup is None or re.search(r"<br\s*/?>", markup, re.I):
        return NewlineStyle("break")
    color = None
    match = _FONT_TAG.search(markup)
    if match:
        attr = _COLOR_ATTR.search(match.group(1))
        color = attr.group(1) if attr else None
    text = html.unescape(_TAG.sub("", markup))
    # reportlab collapses the markup's own line breaks into spaces
    text = re.sub(r"[\r\n\t]", " ", text)
    if not text:
        return NewlineStyle("remove")
    return NewlineStyle("marker", text=text, color=color)


# ---------------------------------------------------------------------------------------------
# items
# ---------------------------------------------------------------------------------------------


@dataclass
class Items:
    """The item stream: parallel arrays, one entry per item, in reading order."""

    src: np.ndarray  # int64: offset of the source character
    cp: np.ndarray  # uint32: code point drawn (tabs and newlines keep their own)
    cls: np.ndarray  # uint8: class, see the constants above
    layer: np.ndarray  # uint8: 0 = text colour, 1 = newline-marker colour
    identity: bool  # True when items and source characters correspond one to one
    first: np.ndarray | None = None  # int64 per character: its first item (not identity)
    count: np.ndarray | None = None  # int64 per character: its number of items (not identity)

    def __len__(self) -> int:
        return len(self.src)


def build_items(text: str, style: NewlineStyle) -> Items:
    """Expand the text into items for ``style`` (see the module docstring)."""
    cps = codepoints(text)
    n = len(cps)
    cls = classify(cps) if n else np.zeros(0, np.uint8)
    cr = np.flatnonzero(cls == CR)
    if len(cr):
        cls = cls.copy()
        before_lf = cr[(cr + 1 < n)]
        before_lf = before_lf[cps[before_lf + 1] == 0x0A]
        cls[cr] = NEWLINE
        cls[before_lf] = REMOVED
    counts = np.ones(n, dtype=np.int64)
    counts[cls == REMOVED] = 0
    counts[excess_marks(cps)] = 0
    newline = cls == NEWLINE
    marker = codepoints(style.text) if style.kind == "marker" else np.zeros(0, np.uint32)
    if style.kind == "remove":
        counts[newline] = 0
    elif style.kind == "marker":
        counts[newline] = len(marker)
    if bool((counts == 1).all()):
        return Items(
            src=np.arange(n, dtype=np.int64),
            cp=cps,
            cls=cls,
            layer=np.zeros(n, np.uint8),
            identity=True,
        )
    src = np.repeat(np.arange(n, dtype=np.int64), counts)
    item_cp = cps[src]
    item_cls = cls[src]
    layer = np.zeros(len(src), np.uint8)
    starts = np.cumsum(counts) - counts
    if style.kind == "marker" and newline.any():
        in_marker = newline[src]
        pos = np.arange(len(src), dtype=np.int64) - starts[src]
        item_cp[in_marker] = marker[pos[in_marker]]
        item_cls[in_marker] = classify(marker)[pos[in_marker]]
        layer[in_marker] = 1
    return Items(
        src=src,
        cp=item_cp,
        cls=item_cls,
        layer=layer,
        identity=False,
        first=starts,
        count=counts,
    )
