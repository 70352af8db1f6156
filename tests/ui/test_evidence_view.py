"""Evidence in the Ask pane without a browser: every cited place, on the original PDF page (the
document's own page number) or as a highlighted passage, value checks in the confidence line,
the Thinking panel only for readers that think, and a new question clearing the old answer."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest

from app.datamodel import Answer, Evidence, Span, ValueCheck
from app.pipeline import Pipeline
from app.ui import evidence_view as ev_view
from app.ui.ask_pane import AskEvents, AskPane
from app.ui.manager import UIManager, final_view
from app.ui.session import Session
from app.ui.view import _error_text
from tests.helpers.documents import report_pdf

MAGIC = "What is the magic number of the orange project?"


@pytest.fixture(scope="module")
def manager(tmp_path_factory):
    from app.settings import Settings

    data = tmp_path_factory.mktemp("data")
    return UIManager(Pipeline(Settings(_env_file=None, data_dir=data, reader="ocr")))


def _red(image) -> int:
    a = np.asarray(image.convert("RGB")).astype(int)
    return int(((a[..., 0] > 180) & (a[..., 1] < 80) & (a[..., 2] < 80)).sum())


def _asked(manager, s: Session, question: str) -> Answer:
    final = list(manager.ask(s, question, "qa"))[-1].final
    assert final is not None
    s.shown = final
    return final


def test_a_pdf_answer_is_shown_on_its_original_page(manager, tmp_path):
    s = Session(root=tmp_path)
    manager.open_file(s, report_pdf(tmp_path / "report.pdf", pages=3))
    final = _asked(manager, s, MAGIC)
    assert "58213" in final.text
    choices = manager.evidence_choices(final, "en")
    assert choices and all("page 3 · “" in label for label, _ in choices)
    for _label, value in choices:  # every cited place, each on the PDF's own page 3
        shown = manager.evidence_place(s, value)
        assert shown.caption.startswith("**Page 3** of 3 · report.pdf")
        assert "rendered page 1 of 1" in shown.caption and shown.passage == ""
        original = shown.original
        # legible: the text column at 150 dpi (a 468-pt column is ~1000 px), not a strip
        assert original.width >= 700 and original.height >= 250 and _red(original) > 50
        assert shown.rendered is not None and _red(shown.rendered) > 20
        assert shown.preview_page == 0
    assert manager.evidence_place(s, "other-answer:9") is None
    assert manager.evidence_place(s, None) is None

    s.lang = "zh"  # the caption follows the language
    assert manager.evidence_place(s, choices[0][1]).caption.startswith("**第 3 页**（共 3 页）")


def _blue(image) -> int:
    a = np.asarray(image.convert("RGB")).astype(int)
    return int(((a[..., 0] < 60) & (a[..., 1] > 70) & (a[..., 1] < 140) & (a[..., 2] > 180)).sum())


def test_not_found_shows_the_closest_passage_in_blue_as_no_answer(manager, tmp_path):
    """ "Not found, please check page 3": the page is listed and shown with the passage in a blue
    box, labelled as no answer and with no confidence of its own."""
    s = Session(root=tmp_path)
    manager.open_file(s, report_pdf(tmp_path / "report.pdf", pages=3))
    final = _asked(manager, s, "What is the phone number of the orange project?")
    assert not final.found and final.evidence == [] and final.closest_evidence
    view = final_view(final, "en")
    assert "closest passage is outlined in blue" in view.confidence
    assert "未定位到证据。下方蓝框" in final_view(final, "zh").confidence
    ((label, value),) = view.evidence_choices
    assert label.startswith("🔍 page 3 · closest passage, not an answer · “The magic number")
    assert "%" not in label and view.first_page == final.closest_evidence[0].page
    shown = manager.evidence_place(s, value)
    assert shown.caption.startswith("**Page 3** of 3") and "not an answer" in shown.caption
    assert "the blue box marks the closest passage" in shown.caption
    assert "red boxes" not in shown.caption
    assert _blue(shown.original) > 50 and _red(shown.original) == 0
    assert _blue(shown.rendered) > 20  # (the dense page's red "\n" marks are the render's)
    zh = final_view(final, "zh").evidence_choices[0][0]
    assert zh.startswith("🔍 第 3 页 · 最接近的段落，并非答案")


def test_an_original_that_cannot_be_drawn_shows_the_passage(manager, tmp_path):
    s = Session(root=tmp_path)
    manager.open_file(s, report_pdf(tmp_path / "gone.pdf", pages=2))
    s.document.metadata.clear()  # no stored original, no upload: nothing to draw
    s.document = s.document.model_copy(update={"source_sha256": None})
    s.rendered.document = s.document
    final = _asked(manager, s, MAGIC)
    shown = manager.evidence_place(s, manager.evidence_choices(final, "en")[0][1])
    assert shown.original is None and "<mark" in shown.passage and "58213" in shown.passage
    assert "**Page 2** of 2" in shown.caption and "cannot be shown" in shown.caption


def test_another_documents_answer_shows_only_its_cited_text(manager, tmp_path):
    s = Session(root=tmp_path)
    manager.open_text(s, "The parcel weighs 12 kg and ships on 3 May.")
    span = Span(start=0, end=14, text="Invoice total.")
    s.shown = Answer(text="x", evidence=[Evidence(page=0, boxes=[(1, 2, 3, 4)], span=span)])
    shown = manager.evidence_place(s, manager.evidence_choices(s.shown, "en")[0][1])
    assert shown.passage.count("<mark") == 1 and "Invoice total." in shown.passage
    assert "no longer open" in shown.caption and shown.preview_page is None


def test_a_passage_is_outlined_in_the_colour_its_page_box_has(manager, tmp_path):
    """A "not found" answer says its closest passage is "outlined in blue below"; on a document
    shown as its text (HTML, TXT) that passage was outlined in red like evidence, so the screen
    read as an answer found. The passage now has its page box's colour: blue for the closest
    passage, amber for evidence to check, red for evidence."""
    s = Session(root=tmp_path)
    manager.open_text(s, "The parcel weighs 12 kg and ships on 3 May.")
    span = Span(start=0, end=23, text="The parcel weighs 12 kg")
    for answer, outline in (
        (
            Answer(
                text="",
                found=False,
                closest_evidence=[Evidence(page=0, boxes=[], span=span, closest=True)],
            ),
            "rgb(0,100,220)",
        ),
        (
            Answer(
                text="12 kg", evidence=[Evidence(page=0, boxes=[], span=span, needs_review=True)]
            ),
            "rgb(255,150,0)",
        ),
        (Answer(text="12 kg", evidence=[Evidence(page=0, boxes=[], span=span)]), "rgb(230,0,0)"),
    ):
        s.shown = answer
        shown = manager.evidence_place(s, manager.evidence_choices(answer, "en")[0][1])
        assert (
            shown.passage.count("<mark") == 1 and "The parcel weighs 12 kg</mark>" in shown.passage
        )
        assert f"0 0 0 2px {outline}" in shown.passage, shown.passage


def test_passages_escape_document_text_and_keep_their_paragraph():
    text = "Intro line.\nA <script>alert(1)</script> fee of 5 & more is due.\nNext paragraph."
    start = text.index("5 & more")
    html = ev_view.passage_html(text, start, start + len("5 & more"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<mark" in html and "5 &amp; more</mark>" in html
    assert "Intro line." in html and "Next paragraph." in html  # short neighbours kept
    long = "word " * 2000 + "NEEDLE" + " word" * 2000
    html = ev_view.passage_html(long, 10000, 10006)
    assert "NEEDLE</mark>" in html and len(html) < 2500 and html.count("…") == 2


def test_places_group_a_span_per_original_page():
    span, other = Span(start=0, end=5, text="12 kg"), Span(start=9, end=12, text="abc")
    answer = Answer(
        text="12 kg",
        evidence=[
            Evidence(page=0, boxes=[(0, 0, 1, 1)], span=span, source_page=4, confidence=0.9),
            Evidence(page=1, boxes=[(0, 0, 1, 1)], span=span, source_page=4, confidence=0.7),
            Evidence(page=1, boxes=[(0, 0, 1, 1)], span=span, source_page=5, needs_review=True),
            Evidence(page=2, boxes=[(0, 0, 1, 1)], span=other),
        ],
    )
    places = ev_view.places(answer)
    assert [(p.source_page, p.items) for p in places] == [(4, (0, 1)), (5, (2,)), (None, (3,))]
    labels = [label for label, _ in UIManager.evidence_choices(answer, "en")]
    # the place's figure is named for what it is, apart from the answer's "Confidence"
    assert labels == [
        "page 5 · “12 kg” · support 70%",
        "⚠ page 6 · “12 kg” · support 100%",
        "passage 3 · “abc” · support 100%",
    ]
    zh = [label for label, _ in UIManager.evidence_choices(answer, "zh")]
    assert zh[0] == "第 5 页 · “12 kg” · 支持度 70%", zh


def test_value_checks_in_the_confidence_line():
    checks = [
        ValueCheck(value="500", status="near", document_value="50", page_number=3),
        ValueCheck(value="9,999", status="absent"),
        ValueCheck(value="12 kg", status="exact", document_value="12 kg"),
    ]
    answer = Answer(text="500 and 9,999", confidence=0.5, needs_review=True, checks=checks)
    en, zh = final_view(answer, "en").confidence, final_view(answer, "zh").confidence
    assert "⚠ 500: the document says 50 (page 3)" in en and "⚠ 9,999: not in the document" in en
    assert "⚠ 500：文档中为 50（第 3 页）" in zh and "⚠ 9,999：文档中未找到" in zh
    assert "12 kg" not in en and "needs review" in en
    assert "the document says" not in final_view(Answer(text="a"), "en").confidence


def test_the_thinking_panel_only_for_readers_that_think(manager, tmp_path):
    assert manager.reader_thinks() is False  # the built-in OCR reader does not think
    with gr.Blocks():
        pane = AskPane.build(gr.Markdown(), queue=False)
    events = AskEvents(manager, gr.State(), pane, None, _error_text)
    s = Session(root=tmp_path)
    manager.open_file(s, report_pdf(tmp_path / "r.pdf", pages=2))
    final = _asked(manager, s, MAGIC)
    out = events.on_place(s, final_view(final, "en").first_choice)
    assert set(out) <= set(pane.place_outputs)
    assert out[pane.thinking_acc]["visible"] is False
    assert out[pane.evidence_original]["visible"] is True
    assert pane.evidence_tabs in out  # a new answer opens on the "Original" tab
    again = events.on_place(s, final_view(final, "en").evidence_choices[-1][1])
    assert pane.evidence_tabs not in again  # another place of it: the tab the user chose stays
    s.shown = final.model_copy(update={"thinking": "let me see"})
    out = events.on_place(s, final_view(s.shown, "en").first_choice)
    assert out[pane.thinking_acc]["visible"] is True  # an answer that did think shows it


def test_a_new_question_clears_the_old_answer(manager, tmp_path):
    with gr.Blocks():
        pane = AskPane.build(gr.Markdown(), queue=True)
    events = AskEvents(manager, gr.State(), pane, None, _error_text)
    s = Session(root=tmp_path)
    manager.open_file(s, report_pdf(tmp_path / "r.pdf", pages=2))
    s.shown_place = "x:0"
    s.shown = _asked(manager, s, MAGIC)
    assert events.on_clear(s, "   ", "qa") == {} and s.shown is not None  # refused: it stays
    cleared = events.on_clear(s, "Who is the CFO?", "qa")
    assert set(cleared) == set(pane.outputs) and s.shown is None and s.shown_place is None
    assert cleared[pane.answer] == "" and cleared[pane.confidence] == ""
    assert cleared[pane.evidence_pages]["value"] is None and cleared[pane.evidence_img] is None
    assert cleared[pane.dl_json]["visible"] is False
    gone = events.on_place(s, None)  # the emptied list empties the evidence views
    assert gone[pane.evidence_where] == "" and gone[pane.evidence_passage] == ""
    assert gone[pane.evidence_original]["value"] is None
    # an API client (no clearing step): the stream's first update clears the answer shown
    _asked(manager, s, MAGIC)
    first = next(events.on_ask(s, "Who is the chief financial officer?", "qa"))
    assert first[pane.answer] == "" and first[pane.evidence_pages]["value"] is None
