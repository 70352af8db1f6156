import json

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from app.datamodel import (
    Answer,
    AnswerChunk,
    Document,
    LayoutMap,
    Page,
    RenderConfig,
    RenderedDoc,
    Span,
    TextBlock,
    TokenStats,
    Word,
    iter_lines,
    merge_boxes,
)

GLYPH_EN = {
    "page-size": "595,842",
    "dpi": 72,
    "margin-x": 10,
    "margin-y": 10,
    "font-path": "../config/Verdana.ttf",
    "font-size": 9,
    "line-height": 10,
    "font-color": "#000000",
    "alignment": "LEFT",
    "horizontal-scale": 1.0,
    "first-line-indent": 0,
    "left-indent": 0,
    "right-indent": 0,
    "space-after": 0,
    "space-before": 0,
    "border-width": 0,
    "border-padding": 0,
    "page-bg-color": "#FFFFFF",
    "para-bg-color": "#FFFFFF",
    "auto-crop-width": True,
    "auto-crop-last-page": True,
    "newline-markup": '<font color="#FF0000"> \\n </font>',
}


# --- Document ------------------------------------------------------------------------------------


def test_document_text_joins_blocks_and_locates_offsets():
    doc = Document(
        name="a.txt",
        format="txt",
        blocks=[TextBlock(text="Hello"), TextBlock(text=""), TextBlock(text="世界!")],
    )
    assert doc.text == "Hello\n\n世界!"
    assert doc.block_offsets() == [0, 6, 7]
    for offset, ch in enumerate(doc.text):
        block, inner = doc.locate(offset)
        if ch != "\n":
            assert doc.blocks[block].text[inner] == ch
    with pytest.raises(IndexError):
        doc.locate(len(doc.text))


def test_document_id_is_stable_and_content_sensitive():
    a = Document.from_text("one\ntwo", name="x")
    b = Document.from_text("one\ntwo", name="x")
    c = Document.from_text("one\ntwo!", name="x")
    assert a.doc_id == b.doc_id != c.doc_id
    assert a.text == "one\ntwo"


def test_word_offsets_must_match_block_text():
    TextBlock(text="total 42", words=[Word(text="42", bbox=(1, 2, 3, 4), start=6)])
    with pytest.raises(ValidationError):
        TextBlock(text="total 42", words=[Word(text="42", bbox=(1, 2, 3, 4), start=5)])


# --- RenderConfig --------------------------------------------------------------------------------


def test_render_config_loads_glyph_keys_unchanged():
    cfg = RenderConfig.model_validate(GLYPH_EN)
    assert cfg.page_size == (595.0, 842.0)
    assert cfg.margin_x == 10 and cfg.font_size == 9 and cfg.line_height == 10
    assert cfg.auto_crop_width and cfg.auto_crop_last_page
    assert cfg.newline_markup == '<font color="#FF0000"> \\n </font>'
    assert cfg.page_pixels == (595, 842)
    # round trip through Glyph's key style
    again = RenderConfig.model_validate(json.loads(json.dumps(cfg.to_glyph_dict())))
    assert again == cfg
    assert cfg.to_glyph_dict()["page-size"] == "595,842"


def test_render_config_keeps_unknown_glyph_keys_and_accepts_python_names():
    cfg = RenderConfig.model_validate({**GLYPH_EN, "some-future-key": 3})
    assert cfg.to_glyph_dict()["some-future-key"] == 3
    assert RenderConfig(font_size=12, alignment="justify").alignment == "JUSTIFY"


def test_render_config_pixels_scale_with_dpi():
    assert RenderConfig(dpi=144).page_pixels == (1190, 1684)


def test_render_config_rejects_impossible_layouts():
    with pytest.raises(ValidationError):
        RenderConfig(page_size=(100, 100), margin_x=60)
    with pytest.raises(ValidationError):
        RenderConfig(page_size="100")
    with pytest.raises(ValidationError):
        RenderConfig(font_size=0)


def test_fingerprint_changes_with_every_field():
    base = RenderConfig()
    assert base.fingerprint() == RenderConfig().fingerprint()
    assert base.fingerprint() != RenderConfig(dpi=96).fingerprint()
    assert base.fingerprint() != RenderConfig(newline_markup="<br>").fingerprint()


def test_render_config_from_json_file(tmp_path):
    path = tmp_path / "en.json"
    path.write_text(json.dumps(GLYPH_EN))
    assert RenderConfig.from_json(str(path)).font_path == "../config/Verdana.ttf"


# --- LayoutMap -----------------------------------------------------------------------------------


def _layout_two_lines():
    # "ab\ncd" : a,b on line 0 page 0; newline undrawn; c,d on line 1 page 1
    page = [0, 0, -1, 1, 1]
    boxes = [(0, 0, 5, 10), (5, 0, 10, 10), (0, 0, 0, 0), (0, 20, 6, 30), (6, 20, 12, 30)]
    line = [0, 0, 0, 1, 1]
    return LayoutMap(np.array(page), np.array(boxes), np.array(line))


def test_boxes_for_span_merges_per_line_and_skips_undrawn():
    layout = _layout_two_lines()
    assert layout.boxes_for_span(0, 5) == [(0, (0, 0, 10, 10)), (1, (0, 20, 12, 30))]
    assert layout.boxes_for_span(1, 4) == [(0, (5, 0, 10, 10)), (1, (0, 20, 6, 30))]
    assert layout.boxes_for_span(2, 3) == []
    assert layout.boxes_for_span(3, 3) == []
    assert layout.boxes_for_span(-5, 100)[0][0] == 0  # clamped


def test_span_at_finds_the_character_under_a_pixel():
    layout = _layout_two_lines()
    assert layout.span_at(0, 6, 5) == (1, 2)
    assert layout.span_at(1, 1, 25) == (3, 4)
    assert layout.span_at(1, 100, 25) is None
    assert layout.span_at(7, 0, 0) is None


def test_layout_queries_and_roundtrip():
    layout = _layout_two_lines()
    assert layout.pages_of_span(0, 5) == [0, 1]
    assert layout.span_of_page(1) == (3, 5)
    assert layout.char_box(2) is None
    assert layout.char_box(0) == (0, (0.0, 0.0, 5.0, 10.0))
    assert list(iter_lines(layout)) == [(0, 0, 2), (1, 3, 5)]
    back = LayoutMap.from_npz(layout.to_npz())
    assert np.array_equal(back.boxes, layout.boxes) and np.array_equal(back.page, layout.page)


def test_layout_validation():
    with pytest.raises(ValueError):
        LayoutMap(np.zeros(2), np.zeros((3, 4)), np.zeros(2))
    with pytest.raises(ValueError):  # x1 < x0
        LayoutMap(np.zeros(1), np.array([(5, 0, 1, 1)]), np.zeros(1))
    with pytest.raises(ValueError):  # lines going backwards
        LayoutMap(np.zeros(2), np.zeros((2, 4)), np.array([1, 0]))
    assert len(LayoutMap.empty()) == 0


# --- Page / RenderedDoc --------------------------------------------------------------------------


def test_page_png_is_lazy_and_hash_is_pixel_based():
    img = Image.new("L", (20, 10), 255)
    page = Page(0, img)
    assert page._png is None
    png = page.png_bytes()
    assert png.startswith(b"\x89PNG") and page.png_bytes() is png
    assert page.sha256 == Page(1, img.copy()).sha256
    img2 = img.copy()
    img2.putpixel((0, 0), 0)
    assert Page(0, img2).sha256 != page.sha256


def test_rendered_doc_checks_layout_against_text_and_pages():
    layout = _layout_two_lines()
    pages = [Page(0, Image.new("L", (20, 40), 255)), Page(1, Image.new("L", (20, 40), 255))]
    doc = RenderedDoc(text="ab\ncd", config=RenderConfig(), pages=pages, layout=layout)
    assert doc.page_text(1) == "cd"
    assert doc.key == RenderedDoc("ab\ncd", RenderConfig(), pages, layout).key
    with pytest.raises(ValueError):
        RenderedDoc(text="abc", config=RenderConfig(), pages=pages, layout=layout)
    with pytest.raises(ValueError):
        RenderedDoc(text="ab\ncd", config=RenderConfig(), pages=pages[:1], layout=layout)


# --- Answers ---------------------------------------------------------------------------------------


def test_answer_chunk_final_carries_exactly_the_answer():
    AnswerChunk(kind="final", answer=Answer(text="42"))
    AnswerChunk(kind="answer", text="4")
    with pytest.raises(ValidationError):
        AnswerChunk(kind="final")
    with pytest.raises(ValidationError):
        AnswerChunk(kind="answer", answer=Answer(text="42"))


def test_span_and_stats_invariants():
    with pytest.raises(ValidationError):
        Span(start=5, end=3)
    with pytest.raises(ValidationError):
        Answer(text="x", confidence=1.5)
    assert TokenStats(text_tokens=300, visual_tokens=100).compression_ratio == 3.0
    assert TokenStats().compression_ratio == 0.0
    assert merge_boxes([(1, 2, 3, 4), (0, 5, 2, 9)]) == (0, 2, 3, 9)


def test_notes_are_bilingual_and_old_records_load():
    from app.datamodel import Note

    note = Note(en="Page 2 is a scan.", zh="第 2 页是扫描件。")
    assert note.text("zh-CN") == note.zh and note.text("en") == str(note) == note.en
    assert Note(en="only English").text("zh") == "only English"  # no Chinese: English shown
    old = Answer.model_validate({"text": "42", "notes": ["written before notes had zh"]})
    assert old.notes == [Note(en="written before notes had zh")]
    again = Answer.model_validate_json(Answer(text="42", notes=[note]).model_dump_json())
    assert again.notes == [note]
