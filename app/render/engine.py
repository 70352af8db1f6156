"""``render(text, config)``: the renderer's entry point, tying fonts, typesetting and raster
together and recording where every character went (the ``LayoutMap``).

Deterministic by construction: no randomness, no dependence on cache state or thread timing —
the same text and config give byte-identical pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageColor

from app.datamodel import LayoutMap, Page, RenderConfig, RenderedDoc, TokenStats
from app.errors import ConfigError
from app.render import chars, png
from app.render.fonts import build_chain
from app.render.glyphs import GlyphSet, glyph_set, phases_for
from app.render.raster import Draws, compose, coverage, ink_extent, page_mode
from app.render.tokens import estimate_text_tokens, visual_tokens
from app.render.typeset import Geometry, Placement, expand_tabs, place
from app.text import detect_language

log = logging.getLogger(__name__)

DECOR_COLOR = "#707070"  # header / footer
MARK_COLOR = "#B4B4B4"  # position marks: light enough not to be read as text
MARK_EVERY = 5
MAX_FONT_PX = 512  # glyphs are cached per size: keep one glyph's bitmap reasonable
MAX_PAGE_PIXELS = 64_000_000
LAYER_TEXT, LAYER_MARKER, LAYER_DECOR, LAYER_MARK = range(4)


def _rgb(value: str, key: str) -> tuple[int, int, int]:
    try:
        rgb = ImageColor.getrgb(value)
    except (ValueError, AttributeError):
        raise ConfigError(
            f"Render config: {key} {value!r} is not a colour (use '#RRGGBB' or a CSS name).",
            f"渲染配置：{key} 的值 {value!r} 不是颜色（请使用 '#RRGGBB' 或 CSS 颜色名）。",
        ) from None
    return rgb[0], rgb[1], rgb[2]


FRAME_PADDING_PT = 6.0  # reportlab Frame default padding


def _frame_padding(config: RenderConfig) -> float:
    """Inset of the text frame inside the margins, in points: the extra key ``frame-padding``
    (default 6, reportlab's and therefore Glyph's)."""
    value = (config.model_extra or {}).get("frame-padding", FRAME_PADDING_PT)
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        raise ConfigError(
            f"Render config: frame-padding {value!r} is not a number.",
            f"渲染配置：frame-padding 的值 {value!r} 不是数字。",
        ) from None


@dataclass
class _Setup:
    glyphs: GlyphSet
    marks: GlyphSet | None
    geo: Geometry
    style: chars.NewlineStyle
    colors: list[tuple[int, int, int]]
    background: tuple[int, int, int]
    para_bg: tuple[int, int, int] | None
    border: tuple[int, int, int] | None
    mode: str  # "L" | "P" | "RGB"
    color_layer: int | None
    header_top: float | None
    footer_top: float | None


class RenderPage(Page):
    """A rendered ``Page`` whose PNG is written by ``app.render.png`` (unfiltered rows + zlib:
    several times faster than Pillow's adaptive filtering on text, same pixels)."""

    def png_bytes(self) -> bytes:
        if self._png is None:
            self._png = png.encode(self.image) if png.supports(self.image) else super().png_bytes()
        return self._png


def _setup(config: RenderConfig, text: str) -> _Setup:
    language = config.language if config.language != "auto" else detect_language(text)
    chain = build_chain(config.font_path, tuple(config.fallback_fonts), language)
    scale = config.dpi / 72.0
    size_px = config.font_size * scale
    glyphs = glyph_set(chain, round(size_px, 4), phases_for(size_px))
    page_w, page_h = config.page_pixels
    if size_px > MAX_FONT_PX or page_w * page_h > MAX_PAGE_PIXELS:
        raise ConfigError(
            f"Render config too large: {size_px:.0f} px text on {page_w}x{page_h} px pages "
            f"(limits {MAX_FONT_PX} px text, {MAX_PAGE_PIXELS // 1_000_000} megapixel pages); "
            "lower dpi, font-size or page-size.",
            f"渲染配置过大：文字 {size_px:.0f} 像素、页面 {page_w}x{page_h} 像素"
            f"（上限为文字 {MAX_FONT_PX} 像素、页面 {MAX_PAGE_PIXELS // 1_000_000} 百万像素）；"
            "请降低 dpi、font-size 或 page-size。",
        )
    line_h = config.line_height * scale
    mx, my = config.margin_x * scale, config.margin_y * scale

    style = chars.parse_newline_markup(config.newline_markup, config.remove_line_breaks)
    text_rgb = _rgb(config.font_color, "font-color")
    background = _rgb(config.page_bg_color, "page-bg-color")
    para_bg = _rgb(config.para_bg_color, "para-bg-color")
    marker = _rgb(style.color, "newline-markup colour") if style.color else text_rgb
    colors = [text_rgb, marker, _rgb(DECOR_COLOR, "header"), _rgb(MARK_COLOR, "marks")]
    border_ref = (config.model_extra or {}).get("para-border-color")
    border = None
    if config.border_width > 0 and isinstance(border_ref, str):
        border = _rgb(border_ref, "para-border-color")
        if border == background:
            border = None

    marks, gutter = None, 0.0
    if config.position_marks:
        mark_px = max(size_px * 0.7, 5.0)
        marks = glyph_set(chain, round(mark_px, 4), phases_for(mark_px))
        marks.lookup(chars.codepoints("0123456789"))
        digit = float(marks.advances.max()) if len(marks.advances) else mark_px * 0.6
        per_page = max(1, int((page_h - 2 * my) / line_h))
        gutter = digit * len(str(per_page)) + size_px * 0.5

    # reportlab's SimpleDocTemplate frame pads the margins by 6 pt on every side; Glyph's pages
    # (and the model trained on them) have that inset, so it is the default here too
    pad = _frame_padding(config) * scale
    top, bottom = my + pad, page_h - my - pad
    header_top = footer_top = None
    if config.header and bottom - top >= 3 * line_h:
        header_top, top = top, top + line_h
    if config.footer and bottom - top >= 2 * line_h:
        bottom -= line_h
        footer_top = bottom
    left = mx + pad + config.left_indent * scale + gutter
    width = page_w - 2 * (mx + pad) - (config.left_indent + config.right_indent) * scale - gutter
    if width <= size_px:
        raise ConfigError(
            "Render config: margins, indents and position marks leave no room for text.",
            "渲染配置：页边距、缩进和位置标记之后没有剩余的排版宽度。",
        )
    ascent = glyphs.ascent * size_px
    geo = Geometry(
        page_w=page_w,
        page_h=page_h,
        left=left,
        width=width,
        first_indent=config.first_line_indent * scale,
        top=top,
        bottom=bottom,
        line_h=line_h,
        space_before=config.space_before * scale,
        space_after=config.space_after * scale,
        alignment=config.alignment,
        tab_width=config.tab_size * float(glyphs.advances[glyphs.space_gid]),
        baseline=ascent,  # reportlab: first baseline one ascent below the frame top
        # character boxes: one line high, centred on the font's ink band so they cover the
        # glyphs (CJK faces sit lower under reportlab's ascent-based baseline)
        box_offset=ascent + glyphs.ink_center * size_px - line_h / 2,
    )
    in_use = [colors[LAYER_TEXT]]
    in_use.append(colors[LAYER_MARKER] if style.kind == "marker" else colors[LAYER_TEXT])
    in_use += [colors[LAYER_DECOR], colors[LAYER_MARK]]
    fills = para_bg != background or border is not None
    if fills:
        in_use.append(para_bg)
    if border:
        in_use.append(border)
    mode, color_layer = page_mode(in_use, background, fills)
    return _Setup(
        glyphs=glyphs,
        marks=marks,
        geo=geo,
        style=style,
        colors=colors,
        background=background,
        para_bg=para_bg if para_bg != background else None,
        border=border,
        mode=mode,
        color_layer=color_layer,
        header_top=header_top,
        footer_top=footer_top,
    )


def _run(gs: GlyphSet, text: str, x: float, baseline: float, layer: int) -> Draws:
    """Draws for a short decoration string starting at pen position (``x``, ``baseline``)."""
    cps = chars.codepoints(text)
    gids = gs.lookup(cps)
    adv = gs.advances[gids]
    pen = x + np.concatenate(([0.0], np.cumsum(adv)[:-1]))
    xq = np.floor(pen * gs.phases + 0.5).astype(np.int64)
    return Draws(
        glyphs=gs,
        ent=gids.astype(np.int64) * gs.phases + xq % gs.phases,
        x=xq // gs.phases,
        y=np.full(len(cps), int(np.floor(baseline + 0.5)), np.int64),
        layer=np.full(len(cps), layer, np.uint8),
    )


def _width(gs: GlyphSet, text: str) -> float:
    gids = gs.lookup(chars.codepoints(text))  # may grow gs.advances: look up first
    return float(gs.advances[gids].sum())


def _fit(gs: GlyphSet, text: str, width: float) -> str:
    if _width(gs, text) <= width:
        return text
    while text and _width(gs, text + "…") > width:
        text = text[:-1]
    return text + "…" if text else ""


def _decorations(
    setup: _Setup, config: RenderConfig, placement: Placement, page: int, name: str
) -> list[Draws]:
    geo, gs = setup.geo, setup.glyphs
    out: list[Draws] = []
    if setup.header_top is not None and name:
        label = _fit(gs, name, geo.width)
        out.append(_run(gs, label, geo.left, setup.header_top + geo.baseline, LAYER_DECOR))
    if setup.footer_top is not None:
        label = f"{page + 1} / {placement.n_pages}"
        x = geo.left + (geo.width - _width(gs, label)) / 2
        out.append(_run(gs, label, x, setup.footer_top + geo.baseline, LAYER_DECOR))
    if setup.marks is not None:
        tops = placement.line_top[placement.line_page == page]
        for i, top in enumerate(tops.tolist(), start=1):
            if i == 1 or i % MARK_EVERY == 0:
                label = str(i)
                x = geo.left - _width(setup.marks, label) - gs.size_px * 0.35
                out.append(_run(setup.marks, label, x, top + geo.baseline, LAYER_MARK))
    return out


def _layout(
    text_len: int, items: chars.Items, placement: Placement, line_h: float, box_offset: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per source character: page, box and line, from the items' placement."""
    line = placement.line
    placed = line >= 0
    x0 = placement.x
    x1 = placement.x + placement.w
    if items.identity:
        one = np.flatnonzero(placed)
        parts = [(one, x0[one], x1[one], line[one])]
    else:
        assert items.first is not None and items.count is not None
        single = np.flatnonzero(items.count == 1)
        one = items.first[single]
        keep = placed[one]
        single, one = single[keep], one[keep]
        parts = [(single, x0[one], x1[one], line[one])]
        multi = np.flatnonzero(items.count > 1)
        if len(multi):
            parts.append(
                _multi_item_boxes(items, placement, items.first[multi], items.count[multi])
            )
    page = np.full(text_len, -1, np.int32)
    boxes = np.zeros((text_len, 4), np.float32)
    lines = np.full(text_len, -1, np.int64)
    for char_idx, bx0, bx1, bline in parts:  # each part is in text order
        page[char_idx] = placement.line_page[bline]
        top = placement.line_top[bline] + box_offset
        boxes[char_idx, 0] = bx0
        boxes[char_idx, 1] = top
        boxes[char_idx, 2] = bx1
        boxes[char_idx, 3] = top + line_h
        lines[char_idx] = bline
    # undrawn characters take the line number of the last drawn one (keeps lines monotonic)
    lines = np.maximum.accumulate(lines) if text_len else lines
    return page, boxes, np.maximum(lines, 0)


def _multi_item_boxes(
    items: chars.Items, placement: Placement, starts: np.ndarray, lens: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Boxes of characters drawn as several items (a newline marker such as `` \\n ``). The
    marker may wrap; the box covers its items on the line of its first visible item."""
    big = np.iinfo(np.int64).max
    total = int(lens.sum())
    group_first = np.cumsum(lens) - lens
    idx = np.arange(total, dtype=np.int64) - np.repeat(group_first - starts, lens)
    line = placement.line[idx]
    placed = line >= 0
    visible = placed & (items.cls[idx] != chars.SPACE)
    anchor = np.minimum.reduceat(np.where(visible, idx, big), group_first)
    fallback = np.minimum.reduceat(np.where(placed, idx, big), group_first)
    anchor = np.where(anchor == big, fallback, anchor)
    ok = anchor != big
    anchor_line = np.where(ok, placement.line[np.where(ok, anchor, 0)], -2)
    keep = placed & (line == np.repeat(anchor_line, lens))
    x0 = np.minimum.reduceat(np.where(keep, placement.x[idx], np.inf), group_first)
    x1 = np.maximum.reduceat(
        np.where(keep, placement.x[idx] + placement.w[idx], -np.inf), group_first
    )
    src = items.src[starts]
    return src[ok], x0[ok], x1[ok], anchor_line[ok]


def _fills(
    setup: _Setup, config: RenderConfig, placement: Placement, page: int
) -> list[tuple[tuple[int, int, int, int], tuple[int, int, int]]]:
    """Rectangles behind the text of ``page``: paragraph background and border (Glyph's
    ``para-bg-color``, ``border-width``, ``border-padding``, ``para-border-color``)."""
    geo = setup.geo
    on_page = placement.line_page == page
    if not (setup.para_bg or setup.border) or not on_page.any():
        return []
    tops = placement.line_top[on_page]
    x0, y0 = int(geo.left), int(tops.min())
    x1, y1 = int(np.ceil(geo.left + geo.width)), int(np.ceil(tops.max() + geo.line_h))
    fills = []
    if setup.border:
        scale = config.dpi / 72
        pad = round(config.border_padding * scale)
        bw = max(1, round(config.border_width * scale))
        outer = (x0 - pad - bw, y0 - pad - bw, x1 + pad + bw, y1 + pad + bw)
        fills.append((outer, setup.border))
        fills.append(((x0 - pad, y0 - pad, x1 + pad, y1 + pad), setup.para_bg or setup.background))
    if setup.para_bg:
        fills.append(((x0, y0, x1, y1), setup.para_bg))
    return fills


def render(text: str, config: RenderConfig, *, name: str = "") -> RenderedDoc:
    """Typeset ``text`` into page images at ``config``, with the layout of every character."""
    setup = _setup(config, text)
    geo, gs = setup.geo, setup.glyphs
    items = chars.build_items(text, setup.style)
    cls = items.cls
    special = (cls == chars.NEWLINE) | (cls == chars.TAB)
    cps = np.where(special, np.uint32(0x20), items.cp) if special.any() else items.cp
    gids = gs.lookup(cps).astype(np.int64)
    adv = gs.advances[gids]
    if special.any():
        adv = np.where(cls == chars.NEWLINE, 0.0, adv)
        adv = expand_tabs(adv, cls, geo.tab_width)
    placement = place(adv, cls, geo)

    # glyph draws: every placed item with possible ink
    phases = gs.phases
    drawable = (placement.line >= 0) & ~special & (cls != chars.SPACE)
    d_idx = np.flatnonzero(drawable)
    xq = np.floor(placement.x[d_idx] * phases + 0.5).astype(np.int64)
    d_line = placement.line[d_idx]
    d_page = placement.line_page[d_line]
    d_y = np.floor(placement.line_top[d_line] + geo.baseline + 0.5).astype(np.int64)
    d_ent = gids[d_idx] * phases + xq % phases
    d_x = xq // phases
    d_layer = items.layer[d_idx]
    bounds = np.searchsorted(d_page, np.arange(placement.n_pages + 1))
    marks = _mark_rows(items.cp[d_idx], placement.line_top[d_line], geo)

    pages: list[Page] = []
    scale_x: list[float] = []
    sizes: list[tuple[int, int]] = []
    h, w = geo.page_h, geo.page_w
    for p in range(placement.n_pages):
        a, b = int(bounds[p]), int(bounds[p + 1])
        draws = _mark_draws(Draws(gs, d_ent[a:b], d_x[a:b], d_y[a:b], d_layer[a:b]), marks[a:b])
        draws += _decorations(setup, config, placement, p, name)
        inks = coverage(h, w, draws, 4)
        fills = _fills(setup, config, placement, p)
        image = compose(
            h, w, inks, setup.colors, setup.background, setup.mode, setup.color_layer, fills
        )
        image, sx = _finish(image, inks, config, last=p == placement.n_pages - 1)
        pages.append(RenderPage(index=p, image=image))
        scale_x.append(sx)
        sizes.append(image.size)

    page, boxes, lines = _layout(len(text), items, placement, geo.line_h, geo.box_offset)
    if len(text):
        # scale x (horizontal-scale) and clip to the cropped page; row -1 serves undrawn chars
        sx = np.asarray([*scale_x, 0.0], np.float32)[page]
        size = np.asarray([*sizes, (0, 0)], np.float32)[page]
        boxes[:, 0] *= sx
        boxes[:, 2] *= sx
        np.clip(boxes[:, 0], 0, size[:, 0], out=boxes[:, 0])
        np.clip(boxes[:, 2], 0, size[:, 0], out=boxes[:, 2])
        np.clip(boxes[:, 1], 0, size[:, 1], out=boxes[:, 1])
        np.clip(boxes[:, 3], 0, size[:, 1], out=boxes[:, 3])
    layout = LayoutMap(page, boxes, lines)
    stats = TokenStats(
        text_tokens=estimate_text_tokens(text),
        visual_tokens=sum(visual_tokens(*size) for size in sizes),
    )
    return RenderedDoc(text=text, config=config, pages=pages, layout=layout, name=name, stats=stats)


def _mark_rows(cps: np.ndarray, line_top: np.ndarray, geo: Geometry) -> np.ndarray:
    """Per drawn item: the rows ``[y0, y1)`` of its line's box when it is a combining mark (a
    stack of accents stays on its line instead of reaching into the one above), else (-1, -1)."""
    rows = np.full((len(cps), 2), -1, np.int64)
    marks = chars.is_mark(cps)
    if marks.any():
        top = line_top[marks] + geo.box_offset
        rows[marks, 0] = np.floor(top + 0.5)
        rows[marks, 1] = np.floor(top + geo.line_h + 0.5)
    return rows


def _mark_draws(draws: Draws, rows: np.ndarray) -> list[Draws]:
    """``draws`` split into the unclipped glyphs and the combining marks clipped to ``rows``."""
    marks = rows[:, 0] >= 0
    if not marks.any():
        return [draws]
    rest = ~marks
    gs, ent, x, y, layer = draws.glyphs, draws.ent, draws.x, draws.y, draws.layer
    return [
        Draws(gs, ent[rest], x[rest], y[rest], layer[rest]),
        Draws(gs, ent[marks], x[marks], y[marks], layer[marks], clip=rows[marks]),
    ]


def _finish(
    image: Image.Image, inks: list, config: RenderConfig, *, last: bool
) -> tuple[Image.Image, float]:
    """Horizontal scale and Glyph's auto-crop (crop margins are Glyph's raw margin values in
    pixels, as its renderer does), returning the image and its x scale factor."""
    w, h = image.size
    sx = 1.0
    crop_w = config.auto_crop_width
    crop_h = config.auto_crop_last_page and last
    if config.horizontal_scale != 1.0:
        new_w = max(1, int(w * config.horizontal_scale))
        if image.mode == "P":
            image = image.convert("RGB")
        image = image.resize((new_w, h), Image.Resampling.BICUBIC)
        sx = new_w / w
        if crop_w or crop_h:
            grey = np.asarray(image.convert("L"), np.int16)
            bg = int(np.median(grey[:2, :2]))
            mask = np.abs(grey - bg) > 5
            cols, rows = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
            extent = (int(cols[-1]) + 1, int(rows[-1])) if len(cols) else None
        else:
            extent = None
    else:
        extent = ink_extent(inks, h, w) if (crop_w or crop_h) else None
    if extent is not None:
        right, last_row = extent
        width, height = image.size
        if crop_w:
            width = min(width, right + int(config.margin_x))
        if crop_h:
            height = min(height, last_row + int(config.margin_y))
        if (width, height) != image.size:
            image = image.crop((0, 0, width, height))
    return image, sx
