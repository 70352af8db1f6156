"""Page composition: scatter cached glyph ink onto a page, colour it, crop it.

All glyphs of a page are composed at once: the sparse ink pixels of every glyph occurrence are
gathered from the glyph store and accumulated with one ``np.add.at`` per colour layer, so the
cost is a handful of numpy passes over the ink pixels, not a draw call per character.
Overlapping ink (a descender reaching into the next line, a combining mark) adds up like coverage
does, clipped at full ink.

Image modes: "L" when every colour in use is grey; "P" when exactly one colour is not grey and
the background is (Glyph's red newline marker on black-on-white text): a 256-entry palette of 192
grey levels plus 64 levels of that colour, which keeps pages one byte per pixel; "RGB" otherwise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

from app.render.glyphs import GlyphSet

RGB = tuple[int, int, int]
Fill = tuple[tuple[int, int, int, int], RGB]

GREY_LEVELS = 192  # palette entries 0..191: greys; 192..255: the one colour's ramp
COLOR_LEVELS = 256 - GREY_LEVELS


@dataclass
class Draws:
    """Glyph occurrences from one glyph set: cache entries, pen x, baseline y and colour layer;
    ``clip`` (optional, n x 2) keeps each occurrence's ink within rows ``[y0, y1)`` (combining
    marks stay on their line)."""

    glyphs: GlyphSet
    ent: np.ndarray
    x: np.ndarray
    y: np.ndarray
    layer: np.ndarray
    clip: np.ndarray | None = None


@dataclass
class Ink:
    """Coverage of one colour layer: dense (flat HxW, uint16 sums that may exceed 255 where ink
    overlaps: read it through ``_clip16`` or a 65536-entry table) or sparse (positions, 0-255)."""

    dense: np.ndarray | None = None
    idx: np.ndarray | None = None
    val: np.ndarray | None = None

    def sparse(self) -> tuple[np.ndarray, np.ndarray]:
        if self.dense is not None:
            idx = np.flatnonzero(self.dense)
            return idx, _CLIP16[self.dense[idx]]
        assert self.idx is not None and self.val is not None
        return self.idx, self.val


def _gather(height: int, width: int, draws: Draws, select: np.ndarray | None):
    """Flat pixel positions and coverage values of the ink of ``draws`` (clipped to the page)."""
    gs = draws.glyphs
    ent, xs, ys, clip = draws.ent, draws.x, draws.y, draws.clip
    if select is not None:
        ent, xs, ys = ent[select], xs[select], ys[select]
        clip = clip[select] if clip is not None else None
    gs.ensure(ent)
    lens = gs.ent_len[ent]
    keep = lens > 0
    if not keep.all():
        ent, xs, ys, lens = ent[keep], xs[keep], ys[keep], lens[keep]
        clip = clip[keep] if clip is not None else None
    if not len(ent):
        return np.zeros(0, np.int64), np.zeros(0, np.uint16)
    dy, dx, val = gs.flat()
    box = gs.ent_box[ent]
    total = int(lens.sum())
    first = np.cumsum(lens) - lens
    idx = np.arange(total, dtype=np.int64) - np.repeat(first - gs.ent_start[ent], lens)
    inside = (
        int((ys + box[:, 0]).min()) >= 0
        and int((ys + box[:, 1]).max()) < height
        and int((xs + box[:, 2]).min()) >= 0
        and int((xs + box[:, 3]).max()) < width
    )
    if inside and clip is None:
        return np.repeat(ys * width + xs, lens) + gs.offsets(width)[idx], val[idx]
    yy = np.repeat(ys, lens) + dy[idx]
    xx = np.repeat(xs, lens) + dx[idx]
    ok = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
    if clip is not None:
        ok &= (yy >= np.repeat(clip[:, 0], lens)) & (yy < np.repeat(clip[:, 1], lens))
    return yy[ok] * width + xx[ok], val[idx][ok]


def coverage(height: int, width: int, draws: list[Draws], n_layers: int) -> list[Ink | None]:
    """Ink of every colour layer; layer 0 (body text) dense, the others sparse."""
    parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(n_layers)]
    for d in draws:
        if not len(d.ent):
            continue
        present = np.flatnonzero(np.bincount(d.layer, minlength=n_layers)).tolist()
        for layer in present:
            select = None if len(present) == 1 else d.layer == layer
            parts[layer].append(_gather(height, width, d, select))
    out: list[Ink | None] = []
    for layer, chunks in enumerate(parts):
        chunks = [c for c in chunks if len(c[0])]
        if not chunks:
            out.append(None)
            continue
        flat = np.concatenate([c[0] for c in chunks])
        val = np.concatenate([c[1] for c in chunks])
        acc = np.zeros(height * width, np.uint16)
        np.add.at(acc, flat, val)
        if layer == 0:
            out.append(Ink(dense=acc))  # clipped later, through the colour table
        else:
            # sparse layers keep duplicate positions: each carries the summed value, and writing
            # the same value twice is harmless (no sort needed)
            out.append(Ink(idx=flat, val=_CLIP16[acc[flat]]))
    return out


def _blend_lut(base: int, target: int) -> np.ndarray:
    """value after blending ``target`` over ``base`` at coverage 0..255 (rounded)."""
    k = np.arange(256, dtype=np.int32)
    delta = (target - base) * k
    return (base + np.sign(delta) * ((np.abs(delta) + 127) // 255)).astype(np.uint8)


def _blend(base: np.ndarray, target: np.ndarray, cov: np.ndarray) -> np.ndarray:
    a = cov.astype(np.int32)
    if base.ndim == 2:
        a = a[:, None]
    b = base.astype(np.int32)
    delta = (target.astype(np.int32) - b) * a
    return (b + np.sign(delta) * ((np.abs(delta) + 127) // 255)).astype(np.uint8)


def page_mode(colors: list[RGB], background: RGB, fills: bool) -> tuple[str, int | None]:
    """("L" | "P" | "RGB", index of the non-grey layer for "P")."""
    grey = [r == g == b for r, g, b in colors]
    bg_grey = background[0] == background[1] == background[2]
    if all(grey) and bg_grey:
        return "L", None
    if bg_grey and not fills and grey.count(False) == 1:
        return "P", grey.index(False)
    return "RGB", None


@functools.lru_cache(maxsize=64)
def palette(background: RGB, color: RGB) -> list[int]:
    greys = np.round(np.arange(GREY_LEVELS) * 255 / (GREY_LEVELS - 1)).astype(int)
    out: list[int] = []
    for g in greys.tolist():
        out += [g, g, g]
    for k in range(COLOR_LEVELS):
        a = k / (COLOR_LEVELS - 1)
        out += [round(background[i] + (color[i] - background[i]) * a) for i in range(3)]
    return out


_GREY_INDEX = np.round(np.arange(256) * (GREY_LEVELS - 1) / 255).astype(np.uint8)
_IDENTITY = np.arange(256, dtype=np.uint8)
_CLIP16 = np.minimum(np.arange(65536), 255).astype(np.uint8)


@functools.lru_cache(maxsize=32)
def _dense_table(background: int, color: int, palette_index: bool) -> np.ndarray:
    """Output value (grey, or palette index) for every uint16 coverage sum: clipping, blending
    and indexing in one table lookup per pixel."""
    grey = _blend_lut(background, color)[_CLIP16]
    return _GREY_INDEX[grey] if palette_index else grey


_INDEX_GREY = np.round(np.arange(GREY_LEVELS) * 255 / (GREY_LEVELS - 1)).astype(np.uint8)
_COLOR_INDEX = (GREY_LEVELS + np.round(np.arange(256) * (COLOR_LEVELS - 1) / 255)).astype(np.uint8)


def compose(
    height: int,
    width: int,
    inks: list[Ink | None],
    colors: list[RGB],
    background: RGB,
    mode: str,
    color_layer: int | None = None,
    fills: list[Fill] | tuple[Fill, ...] = (),
) -> Image.Image:
    """Blend the layers over the background (plus rectangles ``fills``) into a page image."""
    if mode == "RGB":
        out = np.empty((height * width, 3), np.uint8)
        out[:] = background
        if fills:
            view = out.reshape(height, width, 3)
            for (x0, y0, x1, y1), fill in fills:
                view[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = fill
        for ink, color in zip(inks, colors, strict=False):
            if ink is None:
                continue
            idx, val = ink.sparse()
            out[idx] = _blend(out[idx], np.array(color, np.uint8)[None, :], val)
        return Image.fromarray(out.reshape(height, width, 3))

    bg = background[0]
    to_index = _GREY_INDEX if mode == "P" else _IDENTITY
    plane: np.ndarray | None = None  # grey values ("L") or palette indices ("P")
    for layer, (ink, color) in enumerate(zip(inks, colors, strict=False)):
        if ink is None or layer == color_layer:
            continue
        if plane is None and ink.dense is not None and not fills:
            plane = _dense_table(bg, color[0], mode == "P")[ink.dense]
            continue
        if plane is None:
            grey = np.full(height * width, bg, np.uint8)
            view = grey.reshape(height, width)
            for (x0, y0, x1, y1), fill in fills:
                view[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = fill[0]
            plane = to_index[grey]
        idx, val = ink.sparse()
        under = _INDEX_GREY[plane[idx]] if mode == "P" else plane[idx]
        plane[idx] = to_index[_blend(under, np.uint8(color[0]), val)]
    if plane is None:
        plane = np.full(height * width, to_index[bg], np.uint8)
    if mode == "L":
        return Image.fromarray(plane.reshape(height, width))

    # "P": the one colour through its own ramp where it dominates
    ink = inks[color_layer] if color_layer is not None else None
    if ink is not None:
        idx, val = ink.sparse()
        wins = (val >= 128) | (plane[idx] == to_index[bg])
        plane[idx[wins]] = _COLOR_INDEX[val[wins]]
    image = Image.frombuffer("P", (width, height), plane, "raw", "P", 0, 1)
    image.putpalette(palette(tuple(background), tuple(colors[color_layer or 0])))
    return image


def ink_extent(inks: list[Ink | None], height: int, width: int) -> tuple[int, int] | None:
    """(last ink column + 1, last ink row) where coverage exceeds Glyph's tolerance of 5."""
    right, bottom = -1, -1
    for ink in inks:
        if ink is None:
            continue
        if ink.dense is not None:
            mask = (ink.dense > 5).reshape(height, width)
            cols = np.flatnonzero(mask.any(axis=0))
            rows = np.flatnonzero(mask.any(axis=1))
            if len(cols):
                right, bottom = max(right, int(cols[-1])), max(bottom, int(rows[-1]))
        else:
            idx, val = ink.sparse()
            idx = idx[val > 5]
            if len(idx):
                right = max(right, int((idx % width).max()))
                bottom = max(bottom, int((idx // width).max()))
    if right < 0:
        return None
    return right + 1, bottom
