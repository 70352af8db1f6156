"""Line breaking and page assignment, vectorised around a short loop over lines.

Widths come from cumulative advances ``C`` (``C[i]`` = pen position before item ``i``), so the
width of items ``s:e`` is ``C[e] - C[s]``. Break opportunities are computed for the whole text at
once from item classes:

* after a run of spaces (Latin words wrap at spaces; trailing spaces hang in the margin);
* before and after CJK characters — but never before closing punctuation (。，、）」 …, ``.,;:!?)``)
  nor after opening punctuation (（「《 …), so no line starts with 。 or ，;
* at every newline (in line-break mode), which ends the paragraph.

Each line then costs two binary searches: the farthest opportunity whose visible width still fits,
or, when a word is longer than the line, a hard break at the last item that fits. Leading spaces
of a paragraph are kept (code indentation); tabs advance to the next multiple of ``tab-size``
spaces from the paragraph start.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from app.render.chars import (
    CJK,
    NARROW_CLOSE,
    NARROW_OPEN,
    NEWLINE,
    SPACE,
    TAB,
    WIDE_CLOSE,
    WIDE_OPEN,
)

_EPS = 1e-6


@dataclass(frozen=True)
class Geometry:
    """Where lines go, in pixels of the full (uncropped) page."""

    page_w: int
    page_h: int
    left: float  # x of the text column
    width: float  # width of the text column
    first_indent: float  # extra indent of a paragraph's first line (may be negative)
    top: float  # y of the first line's top on every page
    bottom: float  # lines must end above this y
    line_h: float
    space_before: float
    space_after: float
    alignment: str  # LEFT | CENTER | RIGHT | JUSTIFY
    tab_width: float
    baseline: float  # baseline offset from a line's top
    box_offset: float = 0.0  # top of a line's character boxes relative to the line's top


@dataclass
class Placement:
    """Where every item went. Items that are not drawn (newlines) have ``line == -1``."""

    x: np.ndarray  # float64 per item: left of its box
    w: np.ndarray  # float64 per item: box width
    line: np.ndarray  # int64 per item: line index or -1
    line_page: np.ndarray  # int64 per line
    line_top: np.ndarray  # float64 per line
    line_start: np.ndarray  # int64 per line: first item
    line_end: np.ndarray  # int64 per line: one past the last item
    n_pages: int

    @property
    def page(self) -> np.ndarray:
        """Page of every item (-1 when not placed)."""
        page = np.full(len(self.line), -1, np.int64)
        placed = self.line >= 0
        page[placed] = self.line_page[self.line[placed]]
        return page


def expand_tabs(adv: np.ndarray, cls: np.ndarray, tab_width: float) -> np.ndarray:
    """Advances with every tab stretched to the next tab stop of its paragraph."""
    tabs = np.flatnonzero(cls == TAB)
    if not len(tabs) or tab_width <= 0:
        return adv
    adv = adv.copy()
    adv[tabs] = 0.0
    cum = np.concatenate(([0.0], np.cumsum(adv)))
    newlines = np.flatnonzero(cls == NEWLINE)
    if len(newlines):
        at = np.searchsorted(newlines, tabs) - 1
        para_start = np.where(at >= 0, newlines[np.maximum(at, 0)] + 1, 0)
    else:
        para_start = np.zeros(len(tabs), np.int64)
    added, current = 0.0, -1
    for tab, start in zip(tabs.tolist(), para_start.tolist(), strict=True):
        if start != current:
            added, current = 0.0, start
        x = cum[tab] - cum[start] + added
        step = tab_width - (x % tab_width)
        if step < _EPS:
            step = tab_width
        adv[tab] = step
        added += step
    return adv


def break_opportunities(cls: np.ndarray) -> np.ndarray:
    """Sorted item indices where a line may start (excluding forced breaks)."""
    if len(cls) < 2:
        return np.zeros(0, np.int64)
    space = (cls == SPACE) | (cls == TAB)
    a, b = cls[:-1], cls[1:]
    after_space = space[:-1] & ~space[1:]
    cjk = (a == CJK) | (a == WIDE_CLOSE) | (b == CJK) | (b == WIDE_OPEN)
    forbid = (
        (b == WIDE_CLOSE)
        | (b == NARROW_CLOSE)
        | (a == WIDE_OPEN)
        | (a == NARROW_OPEN)
        | space[1:]
        | (a == NEWLINE)
        | (b == NEWLINE)
    )
    return np.flatnonzero((after_space | cjk) & ~forbid).astype(np.int64) + 1


def place(adv: np.ndarray, cls: np.ndarray, geo: Geometry) -> Placement:
    """Break items into lines and lines into pages."""
    n = len(adv)
    cum = np.concatenate(([0.0], np.cumsum(adv)))
    space = (cls == SPACE) | (cls == TAB)
    # visible end of items 0:p (trailing spaces excluded): vis_end[p]
    last_ink = np.maximum.accumulate(np.where(space, -1, np.arange(n))) if n else np.zeros(0)
    vis_end = np.concatenate(([0], last_ink + 1)).astype(np.int64)
    newlines = np.flatnonzero(cls == NEWLINE).astype(np.int64)
    para_ends = np.concatenate((newlines, [n])).astype(np.int64)
    mask = np.zeros(n + 1, bool)
    mask[break_opportunities(cls)] = True
    mask[para_ends] = True
    cand = np.flatnonzero(mask)
    starts, stops, firsts, lasts = _break_lines(n, cum, vis_end, cand, para_ends, geo)
    line_start = np.asarray(starts, np.int64)
    line_end = np.asarray(stops, np.int64)
    line_first = np.asarray(firsts, bool)
    line_last = np.asarray(lasts, bool)
    n_lines = len(line_start)
    line_page, line_top = _paginate(firsts, geo)
    x_all, w_all, line_all = _horizontal(
        adv, space, cum, vis_end, line_start, line_end, line_first, line_last, geo
    )
    return Placement(
        x=x_all,
        w=w_all,
        line=line_all,
        line_page=line_page,
        line_top=line_top,
        line_start=line_start,
        line_end=line_end,
        n_pages=int(line_page[-1]) + 1 if n_lines else 1,
    )


def _break_lines(
    n: int,
    cum: np.ndarray,
    vis_end: np.ndarray,
    cand: np.ndarray,
    para_ends: np.ndarray,
    geo: Geometry,
) -> tuple[list[int], list[int], list[bool], list[bool]]:
    """(starts, stops, paragraph-first flags, paragraph-last flags) of the lines: greedy
    breaking at the break opportunities ``cand``, hard breaks inside over-long words."""
    # the loop below runs once per line: plain Python lists and bisect beat numpy scalars there
    cand_l = cand.tolist()
    cand_width = cum[vis_end[cand]].tolist()
    ends_l = para_ends.tolist()
    end_width = cum[vis_end[para_ends]].tolist()

    starts, stops, firsts, lasts = [], [], [], []
    s, k, first = 0, 0, True
    width, first_indent = geo.width, geo.first_indent
    while True:
        f = ends_l[k]
        limit = float(cum[s]) + width - (first_indent if first else 0.0) + _EPS
        if end_width[k] <= limit:
            e = f
        else:
            j = bisect.bisect_right(cand_width, limit) - 1
            e = cand_l[j] if j >= 0 else s
            if e <= s or e > f:
                # nothing fits before an opportunity: hard break inside the word
                e = int(np.searchsorted(cum, limit, side="right")) - 1
                e = min(max(e, s + 1), f)
        starts.append(s)
        stops.append(e)
        firsts.append(first)
        lasts.append(e == f)
        if e == f:
            if f >= n:
                break
            s, k, first = f + 1, k + 1, True
        else:
            s, first = e, False

    return starts, stops, firsts, lasts


def _paginate(firsts: list[bool], geo: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """(page, top) of every line; paragraphs are spaced by ``space_before + space_after``."""
    n_lines = len(firsts)
    line_page = np.zeros(n_lines, np.int64)
    line_top = np.zeros(n_lines, np.float64)
    y, page, fresh = geo.top, 0, True
    gap = geo.space_after + geo.space_before
    for i, para_first in enumerate(firsts):
        if para_first and not fresh and gap:
            y += gap
        if not fresh and y + geo.line_h > geo.bottom + _EPS:
            page, y, fresh = page + 1, geo.top, True
        line_page[i] = page
        line_top[i] = y
        y += geo.line_h
        fresh = False
    return line_page, line_top


def _horizontal(
    adv: np.ndarray,
    space: np.ndarray,
    cum: np.ndarray,
    vis_end: np.ndarray,
    line_start: np.ndarray,
    line_end: np.ndarray,
    line_first: np.ndarray,
    line_last: np.ndarray,
    geo: Geometry,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, width, line) of every item: indentation, alignment and justification."""
    n = len(adv)
    n_lines = len(line_start)
    ve = np.maximum(vis_end[line_end], line_start)
    used = cum[ve] - cum[line_start]
    indent = np.where(line_first, geo.first_indent, 0.0)
    slack = np.maximum(geo.width - indent - used, 0.0)
    shift = np.zeros(n_lines)
    extra = np.zeros(n_lines)
    by_char = np.zeros(n_lines, bool)
    # first non-space item of each line: justification leaves leading indentation alone
    next_ink = np.minimum.accumulate(np.where(space, n, np.arange(n))[::-1])[::-1] if n else space
    next_ink = np.concatenate((next_ink, [n])).astype(np.int64)
    space_cum = np.concatenate(([0], np.cumsum(space))).astype(np.int64)
    lead = np.minimum(next_ink[line_start], ve)
    if geo.alignment == "RIGHT":
        shift = slack
    elif geo.alignment == "CENTER":
        shift = slack / 2
    elif geo.alignment == "JUSTIFY":
        stretch = ~line_last & (slack > 0)
        gaps = space_cum[ve] - space_cum[lead]
        by_space = stretch & (gaps > 0)
        extra[by_space] = slack[by_space] / gaps[by_space]
        chars = ve - lead - 1
        by_char = stretch & (gaps == 0) & (chars > 0)
        extra[by_char] = slack[by_char] / chars[by_char]

    lens = line_end - line_start
    total = int(lens.sum())
    item_line = np.repeat(np.arange(n_lines, dtype=np.int64), lens)
    item = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lens) - lens - line_start, lens)
    ls = line_start[item_line]
    origin = geo.left + indent[item_line] + shift[item_line]
    hanging = item >= ve[item_line]
    pos = np.where(hanging, ve[item_line], item)
    if geo.alignment == "JUSTIFY":
        before = np.where(
            by_char[item_line],
            np.maximum(pos - lead[item_line], 0),
            np.maximum(space_cum[pos] - space_cum[lead[item_line]], 0),
        )
        own = np.where(by_char[item_line], pos < ve[item_line] - 1, space[item])
        x = origin + cum[pos] - cum[ls] + extra[item_line] * before
        w = adv[item] + extra[item_line] * own
    else:
        x = origin + cum[pos] - cum[ls]
        w = adv[item].astype(np.float64)
    w = np.where(hanging, 0.0, w)

    x_all = np.zeros(n, np.float64)
    w_all = np.zeros(n, np.float64)
    line_all = np.full(n, -1, np.int64)
    x_all[item] = x
    w_all[item] = w
    line_all[item] = item_line
    return x_all, w_all, line_all
