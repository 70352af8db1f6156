"""render(): pages, determinism, layout boxes against pixels, modes, stats, page furniture."""

import hashlib
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from render_helpers import (
    CODE,
    EN_PARAGRAPH,
    ZH_PARAGRAPH,
    box_slice,
    ink_mask,
    inked_chars,
)

from app.datamodel import RenderConfig, RenderedDoc
from app.render import render, resolve_config
from app.render.tokens import visual_tokens

MIXED = "\n".join([EN_PARAGRAPH, ZH_PARAGRAPH, CODE, "Symbols: ∑ ∫ √ ≤ ≥ → ★ ☺ © ® € £ ¥ §"])


def _sha(doc: RenderedDoc) -> list[str]:
    return [hashlib.sha256(p.png_bytes()).hexdigest() for p in doc.pages]


@pytest.mark.parametrize("preset", ["en", "zh", "medium"])
def test_same_text_and_config_give_byte_identical_pngs(preset):
    config = resolve_config(preset)
    first = render(MIXED * 3, config)
    second = render(MIXED * 3, config)
    assert _sha(first) == _sha(second)
    assert np.array_equal(first.layout.boxes, second.layout.boxes)


def test_identical_in_a_fresh_process_with_a_cold_glyph_cache():
    code = (
        "import hashlib, sys\n"
        "from app.render import render, resolve_config\n"
        "doc = render(sys.stdin.read(), resolve_config('en'))\n"
        "print(','.join(hashlib.sha256(p.png_bytes()).hexdigest() for p in doc.pages))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=MIXED, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ",".join(_sha(render(MIXED, resolve_config("en"))))


@pytest.mark.parametrize("preset", ["en", "zh"])
def test_every_drawn_character_box_covers_its_ink(preset):
    doc = render(MIXED, resolve_config(preset, auto_crop_width=False))
    assert len(doc.layout) == len(doc.text) and len(doc.pages) == 1
    offsets = inked_chars(doc)
    assert len(offsets) > 0.8 * len(doc.text.replace(" ", "").replace("\n", ""))
    ink = ink_mask(doc, 0)
    for offset in offsets:
        _page, box = doc.layout.char_box(int(offset))
        rows, cols = box_slice(box)
        assert ink[rows, cols].any(), f"no ink inside the box of {doc.text[offset]!r} at {offset}"
    covered = np.zeros_like(ink)
    for box in doc.layout.boxes[doc.layout.page == 0]:  # all drawn characters, markers included
        covered[box_slice(box)] = True
    outside = ink & ~covered
    # descenders may reach a pixel below a line box; anything more would be misplaced boxes
    assert outside.sum() <= 0.005 * ink.sum()


def test_boxes_of_a_line_tile_left_to_right_inside_the_page():
    doc = render(EN_PARAGRAPH * 4, resolve_config("en"))
    drawn = doc.layout.page >= 0
    boxes, lines = doc.layout.boxes[drawn], doc.layout.line[drawn]
    width, height = doc.pages[0].size
    assert boxes[:, 0].min() >= 0 and boxes[:, 2].max() <= width
    assert boxes[:, 1].min() >= 0 and boxes[:, 3].max() <= height
    same_line = lines[1:] == lines[:-1]
    assert np.all(boxes[1:, 0][same_line] >= boxes[:-1, 0][same_line] - 1e-3)


def test_empty_text_gives_one_blank_page():
    doc = render("", resolve_config("en"))
    assert len(doc.pages) == 1 and len(doc.layout) == 0
    assert doc.stats.text_tokens == 0
    assert not ink_mask(doc, 0).any()


def test_page_modes_follow_the_colours():
    plain = render("black on white", resolve_config("en", newline_markup=None))
    assert plain.pages[0].image.mode == "L"
    marked = render("first\nsecond", resolve_config("en"))
    image = marked.pages[0].image
    assert image.mode == "P"
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    reddish = (rgb[:, 0] > 200) & (rgb[:, 1] < 120) & (rgb[:, 2] < 120)
    assert reddish.sum() > 5, "the red newline marker is drawn in red"
    tinted = render("text", resolve_config("en", newline_markup=None, para_bg_color="#FFEEDD"))
    assert tinted.pages[0].image.mode == "RGB"
    grey_bg = render(
        "text",
        resolve_config("en", newline_markup=None, page_bg_color="#202020", font_color="#E0E0E0"),
    )
    assert grey_bg.pages[0].image.mode == "L"
    assert np.asarray(grey_bg.pages[0].image)[0, 0] == 0x20


def test_png_bytes_decode_to_the_same_pixels():
    for config in (resolve_config("en"), resolve_config("en", newline_markup=None)):
        page = render(MIXED, config).pages[0]
        decoded = Image.open(io.BytesIO(page.png_bytes()))
        assert decoded.size == page.size
        assert np.array_equal(
            np.asarray(decoded.convert("RGB")), np.asarray(page.image.convert("RGB"))
        )


def test_stats_count_visual_tokens_per_page_and_estimate_text_tokens():
    doc = render(EN_PARAGRAPH * 40, resolve_config("en"))
    assert len(doc.pages) >= 2
    assert doc.stats.visual_tokens == sum(visual_tokens(*p.size) for p in doc.pages)
    assert doc.stats.text_tokens > 0
    assert doc.stats.compression_ratio > 1.5  # dense 72 dpi pages compress, as Glyph reports


def test_pages_fill_in_order_and_auto_crop_trims_width_and_last_page():
    text = "\n".join(f"line {i} " + "word " * 8 for i in range(300))
    full = render(
        text,
        resolve_config("en", newline_markup=None, auto_crop_width=False, auto_crop_last_page=False),
    )
    cropped = render(text, resolve_config("en", newline_markup=None))
    assert len(full.pages) == len(cropped.pages) >= 3
    assert all(p.size == (595, 842) for p in full.pages)
    assert all(p.size[0] < 595 for p in cropped.pages)
    assert cropped.pages[-1].size[1] < 842 and cropped.pages[0].size[1] == 842
    pages = full.layout.page[full.layout.page >= 0]
    assert np.all(np.diff(pages) >= 0) and pages.max() == len(full.pages) - 1
    assert full.page_text(1).startswith("line ")


def test_horizontal_scale_squeezes_pages_and_boxes():
    base = render(EN_PARAGRAPH, resolve_config("en", auto_crop_width=False))
    half = render(EN_PARAGRAPH, resolve_config("en", auto_crop_width=False, horizontal_scale=0.5))
    assert half.pages[0].size[0] == base.pages[0].size[0] // 2
    drawn = base.layout.page >= 0
    assert np.allclose(
        half.layout.boxes[drawn][:, 0], base.layout.boxes[drawn][:, 0] * 0.5, atol=0.6
    )


def test_header_footer_and_position_marks_add_ink_outside_the_text_column():
    text = EN_PARAGRAPH * 30
    plain = render(text, resolve_config("en", auto_crop_width=False))
    furnished = render(
        text,
        resolve_config("en", auto_crop_width=False, header=True, footer=True, position_marks=True),
        name="report.txt",
    )
    assert len(furnished.pages) >= 2
    ink = ink_mask(furnished, 0)
    first = furnished.layout.boxes[furnished.layout.page == 0]
    top, left = int(first[:, 1].min()), int(first[:, 0].min())
    assert ink[:top].any(), "header drawn above the first line"
    bottom = int(np.ceil(first[:, 3].max()))
    assert ink[bottom + 2 :].any(), "footer drawn below the last line"
    assert ink[:, : left - 1].any(), "line numbers drawn left of the text"
    assert not ink_mask(plain, 0)[
        :, : int(plain.layout.boxes[plain.layout.page == 0][:, 0].min()) - 1
    ].any()


@pytest.mark.parametrize("alignment", ["RIGHT", "CENTER", "JUSTIFY"])
def test_alignment(alignment):
    config = resolve_config("en", alignment=alignment, newline_markup=None, auto_crop_width=False)
    doc = render(EN_PARAGRAPH * 3 + "\nshort last line", config)
    from app.datamodel import iter_lines

    rights, lefts = [], []
    for _line, start, end in iter_lines(doc.layout):
        seg = doc.text[start:end].rstrip()
        visible = doc.layout.boxes[start : start + len(seg)]
        lefts.append(visible[:, 0].min())
        rights.append(visible[:, 2].max())
    rights, lefts = np.array(rights), np.array(lefts)
    if alignment == "RIGHT":
        assert np.ptp(rights) < 1.0 and np.ptp(lefts) > 5
    elif alignment == "CENTER":
        centres = (rights + lefts) / 2
        assert np.ptp(centres) < 1.0 and np.ptp(lefts) > 5
    else:
        assert np.ptp(rights[:-2]) < 1.0  # every line but a paragraph's last is flush right
        assert rights[-1] < rights[0] - 50


def test_config_from_glyph_json_keys_renders(tmp_path):
    config = RenderConfig.model_validate(
        {
            "page-size": "300,200",
            "dpi": 96,
            "margin-x": 5,
            "margin-y": 5,
            "font-size": 12,
            "line-height": 14,
            "alignment": "LEFT",
            "auto-crop-width": False,
        }
    )
    doc = render(EN_PARAGRAPH * 3, config)
    assert doc.pages[0].size == (400, 267)
    assert len(doc.pages) >= 2


def test_absurd_sizes_are_refused_with_a_config_error():
    from app.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        render("x", resolve_config("en", font_size=200, dpi=600))
    assert "dpi" in info.value.en and "dpi" in info.value.zh
