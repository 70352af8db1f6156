"""Glyph cache: every distinct (face, size, character, sub-pixel phase) is rasterised once.

A ``GlyphSet`` belongs to one font chain at one pixel size. It maps code points to glyph ids
(``gid``: the first face of the chain that has the character, or the replacement character when
none has), keeps advances in pixels, and stores each rasterised glyph as a sparse list of ink
pixels ``(dy, dx, coverage)`` relative to its pen position (integer x, baseline y). Pages are
then composed by one vectorised scatter-add per page (see ``raster.py``) instead of one draw call
per character.

Horizontal positions are kept to ``1/phases`` of a pixel: each glyph is rasterised at the
sub-pixel phases it is actually used at, so spacing stays true to the font's advances.
"""

from __future__ import annotations

import functools
import logging
import threading

import numpy as np
from PIL import Image, ImageDraw

from app.render.fonts import FontFace, FontSpec, load_face

log = logging.getLogger(__name__)

REPLACEMENT = 0xFFFD
_MAX_CP = 0x110000


class GlyphSet:
    """Code points → glyph ids, advances and sparse ink bitmaps for one chain and size."""

    def __init__(self, chain: tuple[FontSpec, ...], size_px: float, phases: int) -> None:
        self.chain = chain
        self.faces: tuple[FontFace, ...] = tuple(load_face(spec) for spec in chain)
        self.size_px = float(size_px)
        self.phases = int(phases)
        self._lock = threading.Lock()
        self._cp_gid = np.full(_MAX_CP, -1, dtype=np.int32)
        self.gid_cp: list[int] = []
        self.gid_face: list[int] = []
        self._adv: list[float] = []
        self.advances = np.zeros(0, np.float64)
        # ink store: per entry (gid * phases + phase) a slice of the flat arrays
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._chunk_total = 0
        self.ent_start = np.full(0, -1, np.int64)
        self.ent_len = np.zeros(0, np.int64)
        self.ent_box = np.zeros((0, 4), np.int32)  # min dy, max dy, min dx, max dx
        self.dy = np.zeros(0, np.int32)
        self.dx = np.zeros(0, np.int32)
        self.val = np.zeros(0, np.float64)
        self._offsets: dict[int, np.ndarray] = {}
        self._flat_dirty = False
        self.replacement_gid = self._new_gid_for(REPLACEMENT, fallback="?")
        self.space_gid = self._new_gid_for(0x20, fallback=" ")
        self.ascent = self.faces[0].ascent if self.faces else 0.8
        self.descent = self.faces[0].descent if self.faces else 0.2

    # --- code points → glyph ids ----------------------------------------------------------------
    def _face_for(self, cp: int) -> int:
        for i, face in enumerate(self.faces):
            if face.has(cp):
                return i
        return -1

    def _add_gid(self, cp: int, face: int) -> int:
        gid = len(self.gid_cp)
        self.gid_cp.append(cp)
        self.gid_face.append(face)
        self._adv.append(self.faces[face].advance_em(cp) * self.size_px if face >= 0 else 0.0)
        return gid

    def _new_gid_for(self, cp: int, fallback: str) -> int:
        face = self._face_for(cp)
        if face < 0:
            cp, face = ord(fallback), self._face_for(ord(fallback))
        gid = self._add_gid(cp, face)
        self._cp_gid[cp] = gid
        return gid

    def lookup(self, cps: np.ndarray) -> np.ndarray:
        """Glyph id of every code point; characters no face has map to the replacement glyph."""
        gids = self._cp_gid[cps]
        missing = gids < 0
        if missing.any():
            with self._lock:
                for cp in np.unique(cps[missing]).tolist():
                    if self._cp_gid[cp] >= 0:
                        continue
                    face = self._face_for(cp)
                    self._cp_gid[cp] = (
                        self._add_gid(cp, face) if face >= 0 else self.replacement_gid
                    )
                self.advances = np.asarray(self._adv, dtype=np.float64)
            gids = self._cp_gid[cps]
        elif len(self.advances) != len(self._adv):
            self.advances = np.asarray(self._adv, dtype=np.float64)
        return gids

    # --- rasterising ------------------------------------------------------------------------------
    def _rasterise(self, gid: int, phase: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        face = self.gid_face[gid]
        if face < 0:
            empty = np.zeros(0, np.int32)
            return empty, empty, np.zeros(0, np.float64)
        font = self.faces[face].pil(self.size_px)
        char = chr(self.gid_cp[gid])
        left, top, right, bottom = font.getbbox(char, anchor="ls")
        pad = 2
        width, height = int(right - left) + 2 * pad + 1, int(bottom - top) + 2 * pad
        if width <= 2 * pad + 1 or height <= 2 * pad:
            empty = np.zeros(0, np.int32)
            return empty, empty, np.zeros(0, np.float64)
        canvas = Image.new("L", (width, height), 0)
        origin_x, origin_y = pad - int(left), pad - int(top)
        ImageDraw.Draw(canvas).text(
            (origin_x + phase / self.phases, origin_y), char, font=font, fill=255, anchor="ls"
        )
        ink = np.asarray(canvas)
        ys, xs = np.nonzero(ink)
        return (
            (ys - origin_y).astype(np.int32),
            (xs - origin_x).astype(np.int32),
            ink[ys, xs].astype(np.float64),
        )

    def ensure(self, ents: np.ndarray) -> None:
        """Rasterise the entries (``gid * phases + phase``) not cached yet."""
        size = len(self.gid_cp) * self.phases
        if len(self.ent_start) < size:
            with self._lock:
                grow = size - len(self.ent_start)
                if grow > 0:
                    self.ent_start = np.concatenate([self.ent_start, np.full(grow, -1, np.int64)])
                    self.ent_len = np.concatenate([self.ent_len, np.zeros(grow, np.int64)])
                    self.ent_box = np.concatenate([self.ent_box, np.zeros((grow, 4), np.int32)])
        todo = ents[self.ent_start[ents] < 0]
        if not len(todo):
            return
        with self._lock:
            for ent in np.unique(todo).tolist():
                if self.ent_start[ent] >= 0:
                    continue
                dy, dx, val = self._rasterise(ent // self.phases, ent % self.phases)
                self.ent_start[ent] = self._chunk_total
                self.ent_len[ent] = len(val)
                if len(val):
                    self.ent_box[ent] = (dy.min(), dy.max(), dx.min(), dx.max())
                self._chunks.append((dy, dx, val))
                self._chunk_total += len(val)
            self._flat_dirty = True

    def flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ink store as flat (dy, dx, coverage) arrays."""
        if self._flat_dirty:
            with self._lock:
                self.dy = np.concatenate([c[0] for c in self._chunks])
                self.dx = np.concatenate([c[1] for c in self._chunks])
                self.val = np.concatenate([c[2] for c in self._chunks])
                self._offsets.clear()
                self._flat_dirty = False
        return self.dy, self.dx, self.val

    def offsets(self, width: int) -> np.ndarray:
        """Flat pixel offsets ``dy * width + dx`` of the ink store for pages ``width`` wide."""
        dy, dx, _ = self.flat()
        cached = self._offsets.get(width)
        if cached is None or len(cached) != len(dy):
            cached = dy.astype(np.int64) * width + dx
            self._offsets[width] = cached
        return cached


@functools.lru_cache(maxsize=16)
def glyph_set(chain: tuple[FontSpec, ...], size_px: float, phases: int) -> GlyphSet:
    """Process-wide cache: renders with the same fonts and size share rasterised glyphs."""
    return GlyphSet(chain, size_px, phases)


def phases_for(size_px: float) -> int:
    """Sub-pixel positions per pixel: 4 for small text, fewer once a pixel is a small error."""
    if size_px < 20:
        return 4
    if size_px < 40:
        return 2
    return 1
