"""What every OCR engine shares: the line type, the engine interface and the pixel-level
post-processing.

An engine reads a page image into text lines with boxes, per-character x positions and
confidences (``read(image, language, pause) -> list[OcrLine]``; ``pause``, when given, is called
between the engine's steps, so that a background read gives way to a question). Both engines
remove Glyph's red newline markers from the pixels before reading (a recogniser reads them as
stray "\\n"/"n" and glues the neighbouring words) and put a real "\\n" back where each marker
was seen, so line structure survives; rows split by the detector are merged back left to right.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
from PIL import Image

from app.datamodel import Box
from app.text import is_cjk

log = logging.getLogger(__name__)

# bump when the post-processing (markers, spaces, row merging) changes: cached pages then differ
POSTPROCESS = 4
# a newline marker's ink spans at most this share of a row's height (" \\n " is drawn about 0.9
# em wide, a row is about 1.6 em high); the next marker's ink starts about 1.4 em further on
MARKER_WIDTH = 0.75


@dataclass
class OcrLine:
    """One line as read: text, box on the page, confidence, and per-character x and confidence."""

    text: str
    box: Box
    confidence: float
    char_x: list[float] = field(default_factory=list)
    char_conf: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["box"] = list(self.box)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OcrLine:
        line = cls(
            text=str(data["text"]),
            box=tuple(float(v) for v in data["box"]),  # type: ignore[arg-type]
            confidence=float(data["confidence"]),
            char_x=[float(v) for v in data["char_x"]],
            char_conf=[float(v) for v in data["char_conf"]],
        )
        if len(line.char_x) != len(line.text) or len(line.char_conf) != len(line.text):
            raise ValueError("per-character arrays do not match the text")
        return line

    @property
    def y_centre(self) -> float:
        return (self.box[1] + self.box[3]) / 2


class OcrEngine(Protocol):
    name: str
    version: str

    def read(
        self,
        image: Image.Image,
        language: str = "auto",
        pause: Callable[[], None] | None = None,
    ) -> list[OcrLine]: ...


# ----------------------------------------------------------------------------------------------
# pixels
# ----------------------------------------------------------------------------------------------


def split_markers(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """(RGB array with red newline markers painted white, boolean marker mask)."""
    rgb = np.asarray(image.convert("RGB"))
    arr = rgb.astype(np.int16)
    # strongly red and not dark: the marker colour (#FF0000) and its anti-aliased edges
    mask = (arr[..., 0] - np.maximum(arr[..., 1], arr[..., 2]) > 60) & (arr[..., 0] > 120)
    if mask.any():
        rgb = rgb.copy()
        rgb[mask] = 255
    return rgb, mask


def marker_runs(mask: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> list[float]:
    """x centres of the newline markers inside a line's band."""
    # only the central rows: the band of a crop also holds the edges of the lines around it
    trim = max(1, round(0.3 * (y1 - y0)))
    band = mask[max(0, y0 + trim) : y1 - trim, max(0, x0) : x1]
    if not band.any():
        return []
    cols = np.flatnonzero(band.any(axis=0))
    runs, start = [], cols[0]
    for prev, cur in itertools.pairwise(cols):
        if cur - prev > 2:
            runs.append((start, prev))
            start = cur
    runs.append((start, cols[-1]))
    # one marker is two glyphs ("\\" and "n"), which the band can show apart: runs that fit in
    # one marker's width are one marker (the next marker starts at least a blank further on)
    reach = MARKER_WIDTH * (y1 - y0)
    markers: list[tuple[int, int]] = []
    for a, b in runs:
        if markers and b - markers[-1][0] <= reach:
            markers[-1] = (markers[-1][0], b)
        else:
            markers.append((a, b))
    return [max(0, x0) + (a + b) / 2 for a, b in markers]


def insert_markers(line: OcrLine, markers: list[float]) -> OcrLine:
    """Put a "\\n" into the text at each marker's x position."""
    if not markers:
        return line
    text, xs, confs = list(line.text), list(line.char_x), list(line.char_conf)
    for mx in sorted(markers, reverse=True):
        pos = int(np.searchsorted(np.asarray(xs), mx)) if xs else 0
        text.insert(pos, "\n")
        xs.insert(pos, mx)
        confs.insert(pos, 1.0)
    # spaces the recogniser put next to a marker are noise around a line break
    out_t, out_x, out_c = [], [], []
    for i, ch in enumerate(text):
        near_nl = (i > 0 and text[i - 1] == "\n") or (i + 1 < len(text) and text[i + 1] == "\n")
        if ch == " " and near_nl:
            continue
        out_t.append(ch)
        out_x.append(xs[i])
        out_c.append(confs[i])
    return OcrLine("".join(out_t), line.box, line.confidence, out_x, out_c)


# glyphs whose side bearings alone leave a word-sized blank at small sizes: "ll" of "shell"
_NARROW = frozenset("lIij1")


def _latin_pair(a: str, b: str) -> bool:
    """Two Latin letters or digits between which a drawn blank is a dropped space: not two
    digits (a narrow "1" in a wide digit cell looks like a gap) nor two narrow glyphs."""
    return (
        a.isascii()
        and b.isascii()
        and a.isalnum()
        and b.isalnum()
        and not (a.isdigit() and b.isdigit())
        and not (a in _NARROW and b in _NARROW)
    )


def add_gap_spaces(line: OcrLine, gray: np.ndarray, pitch: float, zh: bool = False) -> OcrLine:
    """Insert a space where two read characters are separated by a word-sized blank.

    The recogniser drops most spaces in CJK text and some around punctuation; the pixels still
    show them, e.g. "38.62 亿元" is drawn with a gap between the number and its unit. On a
    Chinese page (``zh``) or a line holding CJK it also drops many spaces between Latin words,
    which the CJK font draws narrow ("BrucePerens", "Linux2.6.30", "GNUGPL-1"); the same blank
    puts those back too. In English pages Latin spacing is read well and is left alone.
    """
    if len(line.text) < 2:
        return line
    yc = line.y_centre
    band = gray[max(0, round(yc - 0.4 * pitch)) : round(yc + 0.4 * pitch)]
    if not band.size:
        return line
    blank = ~(band < 170).any(axis=0)
    min_gap = max(2.0, 0.3 * pitch)
    latin = zh or any(is_cjk(ch) for ch in line.text)
    text, xs, confs = [line.text[0]], [line.char_x[0]], [line.char_conf[0]]
    for i in range(1, len(line.text)):
        a, b = line.text[i - 1], line.text[i]
        # next to CJK, CJK OCR drops spaces that are plainly drawn ("38.62 亿元"); between Latin
        # letters only in Chinese text (dev set: 142 merged words split apart, 9 new misreads)
        cjk_pair = (is_cjk(a) or is_cjk(b)) and not (_is_cjk_punct(a) or _is_cjk_punct(b))
        if (cjk_pair or (latin and _latin_pair(a, b))) and not (a.isspace() or b.isspace()):
            lo, hi = int(np.ceil(line.char_x[i - 1])), int(line.char_x[i])
            seg = blank[max(0, lo) : max(0, hi)]
            if len(seg) >= min_gap and _longest_run(seg) >= min_gap:
                text.append(" ")
                xs.append((line.char_x[i - 1] + line.char_x[i]) / 2)
                confs.append(1.0)
        text.append(b)
        xs.append(line.char_x[i])
        confs.append(line.char_conf[i])
    if len(text) == len(line.text):
        return line
    return OcrLine("".join(text), line.box, line.confidence, xs, confs)


def _longest_run(mask: np.ndarray) -> int:
    best = cur = 0
    for v in mask:
        cur = cur + 1 if v else 0
        best = max(best, cur)
    return best


def _join(left: str, right: str) -> str:
    """Separator between two pieces of one visual row (none next to CJK or a line break)."""
    if not left or not right or left[-1] in " \n" or right[0] in " \n":
        return ""
    return "" if is_cjk(left[-1]) or is_cjk(right[0]) else " "


def merge_rows(lines: list[OcrLine]) -> list[OcrLine]:
    """Boxes on the same visual row merged left to right into one line, rows top to bottom.

    The detector often splits a dense row into several boxes (at the newline markers); boxes may
    overlap by a character, which is then read twice — such repeats are dropped by x position.
    """
    if not lines:
        return []
    heights = sorted(ln.box[3] - ln.box[1] for ln in lines)
    tol = heights[len(heights) // 2] * 0.3
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: ln.y_centre):
        if rows and abs(rows[-1][0].y_centre - line.y_centre) <= tol:
            rows[-1].append(line)
        else:
            rows.append([line])
    merged = []
    for row in rows:
        row.sort(key=lambda ln: ln.box[0])
        text, xs, confs = list(row[0].text), list(row[0].char_x), list(row[0].char_conf)
        for piece in row[1:]:
            keep = [i for i, x in enumerate(piece.char_x) if not xs or x > xs[-1] + 1.0]
            if not keep:
                continue
            sep = _join("".join(text), piece.text[keep[0] :])
            if sep:
                text.append(sep)
                xs.append((xs[-1] + piece.char_x[keep[0]]) / 2)
                confs.append(1.0)
            for i in keep:
                text.append(piece.text[i])
                xs.append(piece.char_x[i])
                confs.append(piece.char_conf[i])
        box = (
            min(ln.box[0] for ln in row),
            min(ln.box[1] for ln in row),
            max(ln.box[2] for ln in row),
            max(ln.box[3] for ln in row),
        )
        weights = [max(1, len(ln.text)) for ln in row]
        conf = float(np.average([ln.confidence for ln in row], weights=weights))
        merged.append(OcrLine("".join(text), box, conf, xs, confs))
    return merged


def with_markers(rows: list[OcrLine], mask: np.ndarray) -> list[OcrLine]:
    """Newline markers put back into each row; searched across the full page width because the
    detector splits rows at the (whitened) markers, leaving them between boxes."""
    if not mask.any():
        return rows
    width = mask.shape[1]
    # a band of the typical row height around each row's centre: a row box that grew over two
    # printed lines (tesseract does that on touching lines) must not collect both lines' markers
    height = float(np.median([row.box[3] - row.box[1] for row in rows]))
    out = []
    for row in rows:
        yc = row.y_centre
        y0, y1 = round(yc - height / 2), round(yc + height / 2)
        out.append(insert_markers(row, marker_runs(mask, y0, y1, 0, width)))
    return out


def _is_cjk_punct(ch: str) -> bool:
    # full-width punctuation carries its own blank half: a gap there is not a space
    return "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uff65"
