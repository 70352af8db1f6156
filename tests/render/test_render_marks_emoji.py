"""#21: emoji are drawn with a font that has them (Symbola), not as replacement boxes; a stack
of combining marks stays on its line and keeps the layout map consistent."""

from __future__ import annotations

import numpy as np
import pytest
from render_helpers import ink_mask

from app.render import chars, render, resolve_config
from app.render.fonts import SYMBOLA, default_chain, find_font
from app.render.glyphs import glyph_set

ABOVE = "".join(chr(c) for c in [*range(0x300, 0x315), *range(0x33D, 0x346)])  # 30 marks above
BELOW = "".join(chr(c) for c in range(0x316, 0x334))  # 30 marks below
EMOJI = "👍🎉🚀🔥💡✅"  # not in DejaVu Sans nor Noto Sans CJK


def _config(preset: str, text: str):
    return resolve_config(preset, text=text, newline_markup="<br/>")


def _glyph_ink(text: str, preset: str = "en") -> np.ndarray:
    doc = render(text, _config(preset, text))
    box = doc.layout.boxes[len(text) - 1]
    ink = ink_mask(doc, 0, threshold=10)
    return ink[int(box[1]) : int(np.ceil(box[3])), int(box[0]) : int(np.ceil(box[2]))]


def test_symbola_is_installed_and_in_the_default_chain():
    spec = next((find_font(name) for name in SYMBOLA if find_font(name)), None)
    assert spec is not None, "install fonts-symbola (scripts/setup.sh does)"
    assert spec in default_chain("en") and spec in default_chain("zh")


@pytest.mark.parametrize("preset", ["en", "zh"])
def test_emoji_are_drawn_not_replacement_boxes(preset):
    cfg = _config(preset, EMOJI)
    from app.render.fonts import build_chain

    gs = glyph_set(build_chain(cfg.font_path, tuple(cfg.fallback_fonts), cfg.language), 12.0, 4)
    gids = gs.lookup(chars.codepoints(EMOJI))
    assert gs.replacement_gid not in gids.tolist()
    tofu = _glyph_ink("x\U000f0000", preset)  # a private-use code point: the replacement glyph
    for emoji in EMOJI:
        ink = _glyph_ink("x" + emoji, preset)
        assert ink.any()
        same_shape = ink.shape == tofu.shape and np.array_equal(ink, tofu)
        assert not same_shape, f"{emoji!r} drawn as the replacement glyph"


@pytest.mark.parametrize("marks", [ABOVE, BELOW, "\u0489" * 30, "\u20dd" * 30])
@pytest.mark.parametrize("preset", ["en", "zh", "fine"])
def test_stacked_combining_marks_stay_on_their_line(preset, marks):
    lines = "Hello world, the first line\nA{}bc second line\nthe third line here"
    text, plain = lines.format(marks), lines.format("")
    doc, ref = render(text, _config(preset, text)), render(plain, _config(preset, plain))
    a, b = ink_mask(doc, 0, threshold=10), ink_mask(ref, 0, threshold=10)
    assert a.shape == b.shape
    rows = np.flatnonzero((a & ~b).any(axis=1))  # ink of the marks alone
    base = text.index("A")
    top, bottom = doc.layout.boxes[base, 1], doc.layout.boxes[base, 3]
    assert len(rows) and rows.min() >= np.floor(top) and rows.max() < np.ceil(bottom)
    # the layout map: one entry per character, the first marks on the base's line, the rest
    # kept as undrawn characters (like format characters); everything after is unchanged
    lay = doc.layout
    assert len(lay) == len(text)
    run = slice(base + 1, base + 1 + len(marks))
    kept = chars.MAX_MARKS
    assert (lay.page[run][:kept] == 0).all() and (lay.page[run][kept:] == -1).all()
    assert (lay.line[run] == lay.line[base]).all()
    after = base + 1 + len(marks)
    rest, ref_rest = lay.boxes[after:], ref.layout.boxes[base + 1 :]
    assert np.array_equal(rest[:, [1, 3]], ref_rest[:, [1, 3]])  # same lines (a mark with an
    shift = rest[0, 0] - ref_rest[0, 0]  # advance, U+0489 in DejaVu, moves its line on)
    same_line = (ref.layout.line[base + 1 :] == ref.layout.line[base]) & (ref_rest[:, 2] > 0)
    assert np.allclose(rest[same_line, 0] - ref_rest[same_line, 0], shift, atol=0.01)
    assert np.array_equal(rest[~same_line], ref_rest[~same_line])
    assert np.array_equal(lay.page[after:], ref.layout.page[base + 1 :])
    assert [p for p, _ in lay.boxes_for_span(base, after)] == [0]


def test_marks_on_separate_bases_are_all_drawn():
    text = "e\u0301e\u0301e\u0301e\u0301 a\u0300\u0301\u0302"  # at most three per base: all kept
    assert not chars.excess_marks(chars.codepoints(text)).any()
    doc = render(text, _config("en", text))
    drawn = doc.layout.page >= 0
    assert drawn[[i for i, ch in enumerate(text) if ch != " "]].all()
