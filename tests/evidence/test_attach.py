import numpy as np
from PIL import Image

from app.datamodel import Answer, Document, Mode, SourcePage, Span, TextBlock, Word
from app.evidence import annotate_pages, attach, draw_boxes, save_annotated
from app.evidence.draw import AMBER, BLUE, RED, box_color
from tests.helpers.fake_render import CH, CW, fake_render

DOC = "\n".join(
    [
        "Quarterly report of the ACME company.",
        "Revenue grew by 12% to 4.5 million dollars.",
        "The auditor was Jane Smith from Berlin.",
    ]
    * 20
    + ["The magic number of the green project is 77315."]
)


def test_answer_text_becomes_boxes_on_the_needle_line():
    rendered = fake_render(DOC, cols=60, rows=20)
    answer = attach(rendered, Answer(text="77315", confidence=0.9), question="magic number green?")
    (ev,) = answer.evidence
    start = DOC.index("77315")
    assert answer.spans[0].start == start and not answer.needs_review
    assert ev.page == rendered.layout.char_box(start)[0] == 3
    (box,) = ev.boxes
    # the box covers exactly the five characters of the number on the last line
    col = DOC.rindex("\n", 0, start) + 1
    x0 = (start - col) * CW
    assert box == (x0, box[1], x0 + 5 * CW, box[1] + CH)


def test_reader_spans_are_used_and_clamped():
    rendered = fake_render(DOC)
    given = Span(start=len(DOC) - 6, end=len(DOC) + 50, text="junk", score=0.9)
    answer = attach(rendered, Answer(text="whatever", spans=[given]))
    assert answer.spans[0].end == len(DOC) and answer.spans[0].text == DOC[-6:]


def test_unsupported_or_low_confidence_answers_need_review():
    rendered = fake_render(DOC)
    assert attach(rendered, Answer(text="purple elephants"), question="colour?").needs_review
    low = attach(rendered, Answer(text="77315", confidence=0.3), review_threshold=0.6)
    assert low.needs_review and low.evidence[0].needs_review
    none = attach(rendered, Answer(text="Not found in the document.", found=False))
    assert none.evidence == [] and none.needs_review  # a person should look


def test_the_places_of_an_answer_that_needs_no_review_are_not_marked_for_review():
    """ "⚠ needs review" means one thing: a sure value's sentence that holds few of the question's
    words keeps its lower support figure, but no amber box or ⚠ beside an unflagged answer; the
    places of a flagged answer keep their own marks."""
    rendered = fake_render(DOC)
    value_at = DOC.index("77315")
    sentence_at = DOC.index("The magic number")
    spans = [
        Span(start=value_at, end=value_at + 5, text="77315", score=0.99),
        Span(start=sentence_at, end=len(DOC), text=DOC[sentence_at:], score=0.5),
    ]
    sure = attach(
        rendered, Answer(text="77315", confidence=0.95, spans=spans), review_threshold=0.85
    )
    assert not sure.needs_review and len(sure.evidence) == 2
    assert [round(ev.confidence, 2) for ev in sure.evidence] == [0.94, 0.47]
    assert not any(ev.needs_review for ev in sure.evidence)
    assert {box_color(ev) for ev in sure.evidence} == {RED}
    unsure = attach(
        rendered, Answer(text="77315", confidence=0.8, spans=spans), review_threshold=0.85
    )
    assert unsure.needs_review and all(ev.needs_review for ev in unsure.evidence)
    assert not any("supports the answer only in part" in n.en for n in unsure.notes)
    # sure, but its only place supports it weakly: flagged, saying why
    (weak_place,) = spans[1:]
    weak = attach(
        rendered, Answer(text="77315", confidence=0.95, spans=[weak_place]), review_threshold=0.85
    )
    assert weak.needs_review and all(ev.needs_review for ev in weak.evidence)
    (why,) = [n for n in weak.notes if "supports the answer only in part" in n.en]
    assert "(48% at best)" in why.en and "最高 48%" in why.zh  # 0.95 x 0.5, as its place shows
    flagged = attach(
        rendered,
        Answer(text="77315", confidence=0.95, spans=spans, needs_review=True),
        review_threshold=0.85,
    )
    assert [ev.needs_review for ev in flagged.evidence] == [False, True]


def test_not_found_says_where_a_person_should_look():
    """ "Not found — please check page 4": the reader's nearest passage (or the sentence holding
    most of the question's rare words) is named with its page, never cited as evidence."""
    rendered = fake_render(DOC, cols=60, rows=20)
    question = "What magic number does the green project use?"
    none = attach(
        rendered, Answer(text="Not found in the document.", found=False), question=question
    )
    assert none.evidence == [] and none.needs_review and not none.found
    (closest,) = none.closest
    assert closest.text == DOC[DOC.index("The magic number") :]
    assert "page 4" in none.notes[-1].en and "第 4 页" in none.notes[-1].zh
    assert "The magic number of the green project" in none.notes[-1].en
    # the reader's own nearest passage comes first
    given = Span(start=0, end=DOC.index("\n"), score=0.4)
    told = attach(
        rendered, Answer(text="未找到。", found=False, closest=[given]), question=question
    )
    assert told.closest[0].text == "Quarterly report of the ACME company."
    assert "page 1" in told.notes[-1].en
    # nothing near: no pointer
    far = attach(rendered, Answer(text="Not found.", found=False), question="Who won the cup?")
    assert far.closest == [] and far.notes == [] and far.closest_evidence == []
    assert far.shown_evidence == []
    # the reader checked that the document never mentions what is asked: no pointer either
    nowhere = attach(
        rendered, Answer(text="Not found.", found=False, nowhere=True), question=question
    )
    assert nowhere.closest == [] and nowhere.closest_evidence == [] and nowhere.notes == []


def test_not_found_outlines_the_closest_passage_in_blue_never_as_evidence():
    """The page a "not found" note names gets a box a person can see, in blue, with no
    confidence: it says where to look and supports nothing."""
    rendered = fake_render(DOC, cols=60, rows=20)
    none = attach(
        rendered,
        Answer(text="Not found in the document.", found=False),
        question="What magic number does the green project use?",
    )
    assert none.evidence == [] and none.spans == [] and none.needs_review
    (place,) = none.closest_evidence
    assert place.closest and place.confidence == 0.0 and place.needs_review
    assert place.span == none.closest[0] and place.page == 3 and place.boxes
    assert none.shown_evidence == none.closest_evidence
    assert "outlined in blue" in none.notes[-1].en and "蓝框" in none.notes[-1].zh
    (page,) = annotate_pages(rendered, none.shown_evidence).values()
    colours = {colour for _, colour in page.getcolors(1 << 20)}
    assert BLUE in colours and not colours & {RED, AMBER}
    # an answer with evidence keeps its red boxes and gets no blue ones
    found = attach(rendered, Answer(text="77315", confidence=0.9), question="magic number?")
    assert found.closest_evidence == [] and found.shown_evidence == found.evidence
    assert box_color(found.evidence[0]) == RED


def test_span_across_a_page_break_gives_evidence_on_both_pages():
    text = "\n".join(f"line {i:02d} alpha beta" for i in range(30))
    rendered = fake_render(text, cols=40, rows=10)
    start, end = text.index("line 08"), text.index("line 11")
    answer = attach(rendered, Answer(text="x", spans=[Span(start=start, end=end)]))
    assert [ev.page for ev in answer.evidence] == [0, 1]
    assert len(answer.evidence[0].boxes) == 2 and len(answer.evidence[1].boxes) == 1


def test_summary_and_extract_map_each_piece():
    rendered = fake_render(DOC)
    summary = attach(
        rendered,
        Answer(
            text="Revenue grew by 12% to 4.5 million dollars. The auditor was Jane Smith.",
            mode=Mode.SUMMARY,
        ),
    )
    assert len(summary.spans) == 2
    extract = attach(
        rendered,
        Answer(text="- Auditor: Jane Smith\n- Growth: 12%\n- Code: 77315", mode=Mode.EXTRACT),
    )
    found = {s.text for s in extract.spans}
    assert {"Jane Smith", "12%", "77315"} <= found


def test_pdf_words_give_boxes_on_the_original_page():
    block = TextBlock(
        text="Total amount due: 420 EUR",
        source_page=2,
        bbox=(50, 100, 300, 112),
        words=[
            Word(text="Total", bbox=(50, 100, 80, 112), start=0),
            Word(text="amount", bbox=(82, 100, 120, 112), start=6),
            Word(text="due:", bbox=(122, 100, 145, 112), start=13),
            Word(text="420", bbox=(147, 100, 165, 112), start=18),
            Word(text="EUR", bbox=(167, 100, 190, 112), start=22),
        ],
    )
    doc = Document(
        name="inv.pdf",
        format="pdf",
        blocks=[TextBlock(text="Invoice", source_page=0), block],
        pages=[SourcePage(index=i, width=595, height=842) for i in range(3)],
    )
    rendered = fake_render(doc)
    (ev,) = attach(rendered, Answer(text="420 EUR")).evidence
    assert ev.source_page == 2 and ev.source_boxes == [(147, 100, 190, 112)]


def test_a_passage_across_an_original_page_break_keeps_boxes_on_both_pages():
    """It fits on one rendered page, but its two halves are on pages 3 and 4 of the PDF."""
    end_of_3 = TextBlock(
        text="The notice period is",
        source_page=2,
        bbox=(50, 800, 200, 812),
        words=[
            Word(text=w, bbox=(50 + 40 * i, 800, 85 + 40 * i, 812), start=o)
            for i, (w, o) in enumerate([("The", 0), ("notice", 4), ("period", 11), ("is", 18)])
        ],
    )
    top_of_4 = TextBlock(
        text="three months.",
        source_page=3,
        bbox=(50, 40, 150, 52),
        words=[
            Word(text="three", bbox=(50, 40, 90, 52), start=0),
            Word(text="months.", bbox=(92, 40, 150, 52), start=6),
        ],
    )
    doc = Document(
        name="contract.pdf",
        format="pdf",
        blocks=[TextBlock(text="Contract", source_page=0), end_of_3, top_of_4],
        pages=[SourcePage(index=i, width=595, height=842) for i in range(4)],
    )
    rendered = fake_render(doc)
    start = doc.text.index("The notice")
    span = Span(start=start, end=len(doc.text))
    evidence = attach(rendered, Answer(text="three months", spans=[span])).evidence
    assert {ev.page for ev in evidence} == {0}  # one rendered page
    by_source = {ev.source_page: ev.source_boxes for ev in evidence}
    assert set(by_source) == {2, 3}
    assert by_source[2] == [(50, 800, 205, 812)] and by_source[3] == [(50, 40, 150, 52)]


def test_drawing_red_boxes_on_a_copy(tmp_path):
    rendered = fake_render(DOC, rows=20)
    answer = attach(rendered, Answer(text="77315", confidence=0.95))
    original = np.asarray(rendered.pages[3].image).copy()
    paths = save_annotated(rendered, answer.evidence, tmp_path)
    assert np.array_equal(np.asarray(rendered.pages[3].image), original)  # untouched
    img = np.asarray(Image.open(paths[3]))
    red = (img[..., 0] > 200) & (img[..., 1] < 60) & (img[..., 2] < 60)
    x0, y0, x1, y1 = (int(v) for v in answer.evidence[0].boxes[0])
    ys, xs = np.nonzero(red)
    assert red.sum() > 0 and xs.min() >= x0 - 4 and xs.max() <= x1 + 4
    assert ys.min() >= y0 - 4 and ys.max() <= y1 + 4
    assert answer.evidence[0].image_path == str(paths[3])
    assert draw_boxes(Image.new("L", (10, 10), 255), []).mode == "RGB"


def test_boxes_snap_to_whole_words_and_numbers():
    from app.evidence import snap_to_words

    text = "The default priority value is 50, and the maximum is 100. 价格为 4.5 万元。"
    cut = text.index("fault"), text.index("is 100") + 4  # "fault … is 1"
    a, b = snap_to_words(text, *cut)
    assert text[a:b] == "default priority value is 50, and the maximum is 100"
    start = text.index("4.5")
    assert text[slice(*snap_to_words(text, start, start + 1))] == "4.5"
    inside = text.index("价格"), text.index("价格") + 1  # CJK: nothing to snap to
    assert snap_to_words(text, *inside) == inside
    # ISO 8601's "T" ends the date: "2022-09-28" of a timestamp, not "2022-09-28T06"
    stamp = "Last modified 2022-09-28T06:49+00:00 by the robot"
    date = stamp.index("2022"), stamp.index("T06")
    assert stamp[slice(*snap_to_words(stamp, date[0], date[1] - 1))] == "2022-09-28"
    word = "the ABCT1 code"  # a letter T in a word is a letter
    assert word[slice(*snap_to_words(word, 4, 7))] == "ABCT1"
    rendered = fake_render(text)
    answer = attach(rendered, Answer(text="x", spans=[Span(start=cut[0], end=cut[1])]))
    assert answer.spans[0].text.startswith("default") and answer.spans[0].text.endswith("100")
