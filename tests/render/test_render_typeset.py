"""Line breaking: CJK punctuation rules, Latin word wrap, hard breaks, code, newlines, indents."""

import numpy as np
import pytest
from render_helpers import EN_PARAGRAPH, ZH_PARAGRAPH, line_texts

from app.datamodel import iter_lines
from app.render import render, resolve_config
from app.render.chars import NARROW_CLOSE, WIDE_CLOSE, classify, codepoints
from app.render.glyphs import glyph_set
from app.render.typeset import break_opportunities

NO_LINE_START = "。，、；：？！）」』】》〉.,;:!?)]}"


def _narrow(preset: str = "en", **kw):
    # a narrow page makes many lines out of little text
    return resolve_config(preset, page_size=(160, 842), newline_markup=None, **kw)


def test_cjk_lines_never_start_with_closing_punctuation():
    text = (ZH_PARAGRAPH + "他说：「好。」我们走吧！（完）") * 6
    for width in (120, 133, 150, 171, 200):
        doc = render(text, resolve_config("zh", page_size=(width, 842), newline_markup=None))
        lines = [line for line in line_texts(doc) if line]
        assert len(lines) > 10
        bad = [line for line in lines[1:] if line[0] in NO_LINE_START]
        assert not bad, f"width {width}: lines start with closing punctuation: {bad[:3]}"
        assert not [line for line in lines if line[-1] in "（「『【《"], (
            "opening bracket at line end"
        )


def test_break_opportunities_follow_the_rules():
    text = "中文，英文 word（括号）end."
    cls = classify(codepoints(text))
    starts = {text[i] for i in break_opportunities(cls)}
    assert "，" not in starts and "）" not in starts and "." not in starts
    assert "文" in starts  # between two ideographs
    assert "w" in starts  # after a space
    assert "（" in starts  # before an opening bracket
    assert "括" not in starts  # never after an opening bracket
    assert set(classify(codepoints("。，")).tolist()) == {WIDE_CLOSE}
    assert classify(codepoints("."))[0] == NARROW_CLOSE


def test_latin_wraps_at_spaces_and_keeps_words_whole():
    doc = render(" ".join([EN_PARAGRAPH] * 2), _narrow())
    words = set(EN_PARAGRAPH.split())
    lines = [line.strip() for line in line_texts(doc)]
    assert len(lines) > 10
    for line in lines:
        for word in line.split():
            assert word in words, f"{word!r} was split across lines"
    assert all(not line.startswith(" ") for line in line_texts(doc)[1:])


def test_overlong_words_are_hard_broken_within_the_column():
    word = "x" * 400
    doc = render(f"start {word} end", _narrow())
    layout = doc.layout
    lines = list(iter_lines(layout))
    assert len(lines) >= 4
    width = doc.pages[0].size[0]
    assert layout.boxes[:, 2].max() <= width
    assert "".join(line_texts(doc)).replace(" ", "") == f"start{word}end"


def test_code_keeps_leading_spaces_and_expands_tabs():
    config = resolve_config("en", newline_markup=None, auto_crop_width=False)
    doc = render("x\n    y\n\tz\n  \tw", config)
    gs = glyph_set(*_chain_size(config))
    space = float(gs.advances[gs.space_gid])
    left = doc.layout.boxes[0, 0]
    x_of = {ch: doc.layout.boxes[doc.text.index(ch), 0] for ch in "yzw"}
    assert x_of["y"] - left == pytest.approx(4 * space, abs=0.05)
    assert x_of["z"] - left == pytest.approx(4 * space, abs=0.05)  # tab to the first stop
    assert x_of["w"] - left == pytest.approx(4 * space, abs=0.05)  # 2 spaces then tab: same stop
    eight = render("\t\tq", config)
    assert eight.layout.boxes[2, 0] - left == pytest.approx(8 * space, abs=0.05)


def _chain_size(config):
    from app.render.engine import _setup

    gs = _setup(config, "").glyphs
    return gs.chain, gs.size_px, gs.phases


def test_newline_markup_variants():
    text = "alpha\nbeta"
    marked = render(text, resolve_config("en"))
    assert marked.layout.page[5] == 0  # the newline is drawn as the red marker
    box = marked.layout.boxes[5]
    assert box[2] - box[0] > 3  # the marker has width
    assert marked.layout.line[0] == marked.layout.line[6]  # one flowing line

    broken = render(text, resolve_config("en", newline_markup="<br/>"))
    assert broken.layout.page[5] == -1
    assert broken.layout.line[6] == broken.layout.line[0] + 1

    joined = render(text, resolve_config("en", remove_line_breaks=True, newline_markup=None))
    assert joined.layout.page[5] == -1
    assert joined.layout.line[0] == joined.layout.line[6]
    assert joined.layout.boxes[6, 0] == pytest.approx(joined.layout.boxes[4, 2], abs=1e-3)


def test_marker_that_wraps_keeps_its_box_on_one_line():
    config = resolve_config("en", page_size=(120, 842))
    text = "\n".join(["wordy words here"] * 30)
    doc = render(text, config)
    for offset in [i for i, ch in enumerate(text) if ch == "\n"]:
        box = doc.layout.boxes[offset]
        assert box[3] - box[1] == pytest.approx(10, abs=0.01)  # one line high
        assert box[2] > box[0]


def test_indents_and_paragraph_spacing():
    base = resolve_config("en", newline_markup=None, auto_crop_width=False)
    text = (EN_PARAGRAPH + "\n") * 2
    plain = render(text, base)
    shaped = render(
        text,
        resolve_config(base, first_line_indent=20, left_indent=10, space_before=6, space_after=4),
    )
    p0 = plain.layout.boxes
    s0 = shaped.layout.boxes
    assert s0[0, 0] - p0[0, 0] == pytest.approx(30, abs=0.01)  # first line: left + first indent
    second_line = np.flatnonzero(shaped.layout.line == shaped.layout.line[0] + 1)[0]
    assert s0[second_line, 0] - p0[0, 0] == pytest.approx(10, abs=0.5)
    para2 = len(EN_PARAGRAPH) + 1
    gap_plain = p0[para2, 1] - p0[para2 - 2, 1]
    gap_shaped = s0[para2, 1] - s0[para2 - 2, 1]
    assert gap_shaped - gap_plain == pytest.approx(10, abs=0.01)  # space after + before


def test_removed_and_undrawable_characters():
    text = "soft\xadhyphen zero\u200bwidth bidi\u202emark tofu\U000f0000 emoji\U0001f600"
    doc = render(text, resolve_config("en"))
    for ch in "\xad\u200b\u202e":
        assert doc.layout.page[text.index(ch)] == -1
    # characters no installed font has are drawn as the replacement glyph, deterministically
    for ch in "\U000f0000\U0001f600":
        offset = text.index(ch)
        assert doc.layout.page[offset] == 0
        assert doc.layout.boxes[offset, 2] > doc.layout.boxes[offset, 0]
