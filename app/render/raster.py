"""Page composition: scatter cached glyph ink onto a page, colour it, crop it.

All glyphs of a page are composed at once: the sparse ink pixels of every glyph occurrence are
gathered from the glyph store and accumulated with one ``np.bincount`` per colour layer, so the
cost is a handful of numpy passes over the ink pixels, independent of how many characters a page
holds. Overlapping ink (kerned neighbours, descenders reaching into the next line) adds up like
coverage does, clipped at full ink.

Colours are blended over the background per layer (text, newline marker, header/footer, position
marks). A page is greyscale ("L") unless a colour in use is not grey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from app.render.glyphs import GlyphSet

RGB = tuple[int, int, int]


@dataclass
class Draws:
    """Glyph occurrences from one glyph set: cache entries, pen x, baseline y and colour layer."""

    glyphs: GlyphSet
    ent: np.ndarray
    x: np.ndarray
    y: np.ndarray
    layer: np.ndarray


def _scatter(height: int, width: int, draws: Draws, select: np.ndarray | None) -> np.ndarray:
    gs = draws.glyphs
    ent, xs, ys = draws.ent, draws.x, draws.y
    if select is not None:
        ent, xs, ys = ent[select], xs[select], ys[select]
    gs.ensure(ent)
    lens = gs.ent_len[ent]
    keep = lens > 0
    if not keep.all():
        ent, xs, ys, lens = ent[keep], xs[keep], ys[keep], lens[keep]
    if not len(ent):
        return np.zeros(height * width, np.float64)
    dy, dx, val = gs.flat()
    box = gs.ent_box[ent]
    total = int(lens.sum())
    idx = np.arange(total, dtype=np.int64) - np.repeat(
        np.cumsum(lens) - lens - gs.ent_start[ent], lens
    )
    inside = (
        (ys + box[:, 0] >= 0).all()
        and (ys + box[:, 1] < height).all()
        and (xs + box[:, 2] >= 0).all()
        and (xs + box[:, 3] < width).all()
    )
    if inside:
        flat = np.repeat(ys * width + xs, lens) + gs.offsets(width)[idx]
        return np.bincount(flat, weights=val[idx], minlength=height * width)
    yy = np.repeat(ys, lens) + dy[idx]
    xx = np.repeat(xs, lens) + dx[idx]
    ok = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
    return np.bincount(yy[ok] * width + xx[ok], weights=val[idx][ok], minlength=height * width)


def coverage(height: int, width: int, draws: list[Draws], n_layers: int) -> list[np.ndarray | None]:
    """Ink coverage (0-255, uint8, flat) of every colour layer; None for empty layers."""
    layers: list[np.ndarray | None] = [None] * n_layers
    for d in draws:
        if not len(d.ent):
            continue
        present = np.unique(d.layer).tolist()
        for layer in present:
            select = None if len(present) == 1 else d.layer == layer
            acc = _scatter(height, width, d, select)
            layers[layer] = acc if layers[layer] is None else layers[layer] + acc
    out: list[np.ndarray | None] = []
    for acc in layers:
        if acc is None:
            out.append(None)
        else:
            np.minimum(acc, 255.0, out=acc)
            out.append((acc + 0.5).astype(np.uint8))
    return out


def compose(
    height: int,
    width: int,
    covers: list[np.ndarray | None],
    colors: list[RGB],
    background: RGB,
    grey: bool,
    fills: list[tuple[tuple[int, int, int, int], RGB]] = (),  # type: ignore[assignment]
) -> np.ndarray:
    """Blend the layers over the background (plus rectangles ``fills``) → HxW or HxWx3 uint8."""
    channels = 1 if grey else 3
    bg = np.array(background[:channels], np.uint8)
    first = covers[0] if covers else None
    plain = not fills and first is not None and channels == 1 and bg[0] == 255
    if plain and colors[0][0] == 0:
        # the common case, black on white: one subtraction
        out = (255 - first).reshape(height * width, 1)
        start = 1
    else:
        out = np.empty((height * width, channels), np.uint8)
        out[:] = bg
        if fills:
            view = out.reshape(height, width, channels)
            for (x0, y0, x1, y1), fill in fills:
                view[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = fill[:channels]
        start = 0
    for layer in range(start, len(covers)):
        cov = covers[layer]
        if cov is None:
            continue
        nz = np.flatnonzero(cov)
        if not len(nz):
            continue
        a = cov[nz].astype(np.int32)[:, None]
        base = out[nz].astype(np.int32)
        target = np.array(colors[layer][:channels], np.int32)[None, :]
        delta = (target - base) * a
        out[nz] = (base + np.sign(delta) * ((np.abs(delta) + 127) // 255)).astype(np.uint8)
    return out.reshape(height, width) if grey else out.reshape(height, width, 3)


def ink_extent(covers: list[np.ndarray | None], height: int, width: int) -> tuple[int, int] | None:
    """(last ink column + 1, last ink row) where coverage exceeds Glyph's tolerance of 5."""
    total: np.ndarray | None = None
    for cov in covers:
        if cov is None:
            continue
        mask = (cov > 5).reshape(height, width)
        total = mask if total is None else (total | mask)
    if total is None:
        return None
    cols = np.flatnonzero(total.any(axis=0))
    if not len(cols):
        return None
    rows = np.flatnonzero(total.any(axis=1))
    return int(cols[-1]) + 1, int(rows[-1])


def to_image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(pixels))  # 2-D → "L", HxWx3 → "RGB"
