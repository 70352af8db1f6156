"""Fonts: finding font files, the fallback chain, and per-face metrics.

A render uses a *chain* of faces: the configured ``font-path`` (when it can be found), the
configured ``fallback-fonts``, then the system defaults for the document's language (DejaVu Sans
for Latin and symbols, Noto Sans CJK SC for Chinese, DejaVu Math, then Symbola for emoji). Each
character is drawn with the first face whose cmap has it, so mixed zh/en text never shows tofu
boxes for characters some installed font can draw; a character no installed face has (emoji newer
than Unicode 9, private-use code points) is drawn as the replacement character �, a visible
placeholder that keeps its place in the layout map.

Glyph's published configs name fonts such as ``../config/Verdana.ttf`` that are not shipped
here: a missing font is never an error, it is replaced by the default chain with one logged
warning per path.

Advances come from the font's ``hmtx`` table (unhinted, like reportlab's), so line widths match
Glyph's typesetting; outlines are drawn by FreeType through Pillow (see ``glyphs.py``).
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from app.errors import RenderError

log = logging.getLogger(__name__)

FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)

DEJAVU_SANS = "DejaVuSans.ttf"
DEJAVU_MONO = "DejaVuSansMono.ttf"
DEJAVU_MATH = "DejaVuMathTeXGyre.ttf"
NOTO_CJK = "NotoSansCJK-Regular.ttc"
# Monochrome outlines of the Unicode 9 emoji and many symbols (Debian: fonts-symbola). Colour
# emoji fonts (CBDT bitmaps) only draw at fixed sizes, so they are not used.
SYMBOLA = ("Symbola_hint.ttf", "Symbola.ttf")
NOTO_CJK_SC_INDEX = 2  # faces in the TTC: JP, KR, SC, TC, HK; index 2 is Simplified Chinese

_warned: set[str] = set()


@dataclass(frozen=True, order=True)
class FontSpec:
    """One face: a font file and the face index inside it (TTC collections hold several)."""

    path: str
    index: int = 0

    def __str__(self) -> str:
        return f"{self.path}#{self.index}" if self.index else self.path


def parse_font_ref(ref: str) -> tuple[str, int | None]:
    """'file.ttc#2' → ('file.ttc', 2); 'file.ttf' → ('file.ttf', None)."""
    path, sep, index = ref.rpartition("#")
    if sep and index.isdigit():
        return path, int(index)
    return ref, None


@functools.lru_cache(maxsize=1)
def _system_fonts() -> dict[str, str]:
    """Lower-cased basename → full path of every font file under the usual font directories."""
    found: dict[str, str] = {}
    for root in FONT_DIRS:
        root_path = Path(os.path.expanduser(root))
        if not root_path.is_dir():
            continue
        for dirpath, _dirs, files in sorted(os.walk(root_path)):
            for name in sorted(files):
                if name.lower().endswith((".ttf", ".otf", ".ttc")):
                    found.setdefault(name.lower(), os.path.join(dirpath, name))
    return found


def _default_index(path: str) -> int:
    # Noto/Source Han collections: pick the Simplified Chinese face, the one Glyph's zh config uses.
    name = os.path.basename(path)
    if name.startswith(("NotoSansCJK", "NotoSerifCJK", "SourceHan")) and name.endswith(".ttc"):
        return NOTO_CJK_SC_INDEX
    return 0


def find_font(ref: str, base_dir: str | Path | None = None) -> FontSpec | None:
    """Resolve a font reference: a path (absolute, relative to ``base_dir`` or the working
    directory) or a bare file name looked up in the system font directories."""
    path, index = parse_font_ref(ref.strip())
    if not path:
        return None
    candidates = [Path(os.path.expanduser(path))]
    if base_dir is not None and not os.path.isabs(path):
        candidates.insert(0, Path(base_dir) / path)
    for candidate in candidates:
        if candidate.is_file():
            resolved = str(candidate.resolve())
            return FontSpec(resolved, _default_index(resolved) if index is None else index)
    system = _system_fonts().get(os.path.basename(path).lower())
    if system:
        return FontSpec(system, _default_index(system) if index is None else index)
    return None


def default_chain(language: str) -> tuple[FontSpec, ...]:
    """The installed default faces, Chinese first for 'zh', Latin first otherwise."""
    latin = find_font(DEJAVU_SANS)
    cjk = find_font(f"{NOTO_CJK}#{NOTO_CJK_SC_INDEX}")
    math = find_font(DEJAVU_MATH)
    symbols = next((spec for name in SYMBOLA if (spec := find_font(name))), None)
    order = [cjk, latin, math] if language == "zh" else [latin, cjk, math]
    return tuple(spec for spec in [*order, symbols] if spec is not None)


def _warn_once(key: str, message: str, *args: object) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message, *args)


def build_chain(
    font_path: str | None,
    fallback_fonts: tuple[str, ...] = (),
    language: str = "en",
    base_dir: str | Path | None = None,
) -> tuple[FontSpec, ...]:
    """Configured font, configured fallbacks, then the defaults; missing ones are skipped with a
    warning (never an error). Raises ``RenderError`` only when no font at all is installed."""
    chain: list[FontSpec] = []
    for ref in (font_path, *fallback_fonts):
        if not ref:
            continue
        spec = find_font(ref, base_dir)
        if spec is None:
            _warn_once(
                f"missing:{ref}",
                "font %r not found; using the default fonts (DejaVu Sans / Noto Sans CJK SC)",
                ref,
            )
            continue
        try:
            load_face(spec)
        except Exception as err:  # a broken or unsupported file is a config problem, not fatal
            _warn_once(f"broken:{ref}", "font %r cannot be read (%s); skipping it", ref, err)
            continue
        chain.append(spec)
    for spec in default_chain(language):
        if spec not in chain:
            chain.append(spec)
    if not chain:
        raise RenderError(
            "No usable font is installed. Install fonts-dejavu-core and fonts-noto-cjk "
            "(apt-get install fonts-dejavu-core fonts-noto-cjk).",
            "没有可用的字体。请安装 fonts-dejavu-core 和 fonts-noto-cjk"
            "（apt-get install fonts-dejavu-core fonts-noto-cjk）。",
        )
    return tuple(chain)


class FontFace:
    """Metrics of one face (cmap, advances, vertical metrics) read with fontTools, plus Pillow
    FreeType fonts per pixel size for rasterising."""

    def __init__(self, spec: FontSpec) -> None:
        from fontTools.ttLib import TTFont

        self.spec = spec
        font = TTFont(spec.path, fontNumber=spec.index, lazy=True)
        self.cmap: dict[int, str] = dict(font.getBestCmap() or {})
        self.units_per_em = int(font["head"].unitsPerEm)
        self._hmtx = font["hmtx"]
        hhea = font["hhea"]
        self.ascent = hhea.ascent / self.units_per_em
        self.descent = -hhea.descent / self.units_per_em  # positive, below the baseline
        os2 = font.get("OS/2")
        typo_ascent = os2.sTypoAscender / self.units_per_em if os2 else self.ascent
        typo_descent = -os2.sTypoDescender / self.units_per_em if os2 else self.descent
        # middle of the design's ink band relative to the baseline (negative = above), in em
        self.ink_center = (typo_descent - typo_ascent) / 2
        self._font = font  # keeps the lazily read tables alive
        self._pil: dict[float, ImageFont.FreeTypeFont] = {}

    def has(self, cp: int) -> bool:
        return cp in self.cmap

    def advance_em(self, cp: int) -> float:
        """Advance width of ``cp`` in em (0 when the face lacks it)."""
        name = self.cmap.get(cp)
        if name is None:
            return 0.0
        return self._hmtx[name][0] / self.units_per_em

    def pil(self, size_px: float) -> ImageFont.FreeTypeFont:
        font = self._pil.get(size_px)
        if font is None:
            font = ImageFont.truetype(
                self.spec.path,
                size=size_px,
                index=self.spec.index,
                layout_engine=ImageFont.Layout.BASIC,
            )
            self._pil[size_px] = font
        return font


@functools.lru_cache(maxsize=32)
def load_face(spec: FontSpec) -> FontFace:
    """One ``FontFace`` per file and index for the whole process."""
    return FontFace(spec)
