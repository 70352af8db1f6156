"""Coarse-to-fine reading: the fine view of selected coarse pages, the reader wrapper, the
pipeline option, and a needle read through the pixels with fewer visual tokens than a fine
render of the whole document."""

from collections.abc import Iterator

import numpy as np
import pytest

from app.datamodel import Answer, AnswerChunk, Mode, RenderedDoc
from app.pipeline import Pipeline
from app.readers import ReaderChoice
from app.readers.base import Reader, ReaderCapabilities
from app.readers.coarse_to_fine import CoarseToFineReader, FineView, build_view, fine_config
from app.render import render, resolve_config
from bench.needle_data import box_on_needle_line, make_haystack
from tests.helpers.reading import ask


@pytest.fixture(scope="module")
def haystack():
    return make_haystack("en", 60_000, (0.62,), seed=3)


@pytest.fixture(scope="module")
def coarse(haystack):
    return render(haystack.text, resolve_config("coarse", text=haystack.text))


@pytest.fixture(scope="module")
def needle_page(coarse, haystack):
    return int(coarse.layout.page[haystack.needles[0].offset])


class Recorder(Reader):
    """Answers with a fixed text and no spans; remembers what it was shown."""

    name = "recorder"

    def __init__(self, text: str) -> None:
        self.text = text
        self.seen: list[RenderedDoc] = []

    @property
    def capabilities(self) -> ReaderCapabilities:
        return ReaderCapabilities(description="recorder")

    def answer(self, rendered, question, mode=Mode.QA, *, stream=True) -> Iterator[AnswerChunk]:
        self.seen.append(rendered)
        yield AnswerChunk(kind="status", text="looking")
        pages = list(range(len(rendered.pages)))
        answer = Answer(text=self.text, mode=mode, reader=self.name, pages_read=pages)
        answer.stats = rendered.stats.model_copy()
        yield AnswerChunk(kind="final", answer=answer)


def test_view_redraws_only_the_selected_pages_at_the_fine_preset(coarse):
    assert len(coarse.pages) >= 4
    view = build_view(coarse, [2, 1])
    assert isinstance(view, FineView) and view.text == coarse.text
    assert view.coarse_pages == [1, 2] and len(view.segments) == 1  # consecutive: one run
    start, end = view.segments[0]
    assert (start, end) == (coarse.layout.span_of_page(1)[0], coarse.layout.span_of_page(2)[1])
    drawn = view.layout.page >= 0
    assert not drawn[:start].any() and not drawn[end:].any()
    # every character drawn on the coarse pages 1-2 is drawn in the view, nothing else is
    on_coarse = np.isin(coarse.layout.page, [1, 2])
    assert np.array_equal(drawn, on_coarse)
    assert view.config.dpi == resolve_config("fine").dpi > coarse.config.dpi
    assert view.config.newline_markup == coarse.config.newline_markup
    assert [sorted(set(s)) for s in view.page_sources] == view.page_sources
    assert {c for s in view.page_sources for c in s} == {1, 2}
    for p in range(len(view.pages)):
        assert view.pages[p].index == p
        text = view.page_text(p)
        assert text and text in coarse.text[start:end]


def test_view_keys_separate_selections_and_configs(coarse):
    a, b, c = build_view(coarse, [0]), build_view(coarse, [3]), build_view(coarse, [0, 3])
    assert len({a.key, b.key, c.key, coarse.key}) == 4
    assert build_view(coarse, [0]).key == a.key  # deterministic
    assert len(c.segments) == 2 and c.coarse_pages == [0, 3]
    assert c.coarse_pages_of(range(len(c.pages))) == [0, 3]
    # pages of the second run come after those of the first, lines keep increasing
    drawn = c.layout.page >= 0
    assert np.all(np.diff(c.layout.line[drawn]) >= 0)
    assert np.all(np.diff(c.layout.page[drawn]) >= 0)


def test_fine_config_keeps_the_text_settings_of_the_overview():
    overview = resolve_config("coarse", language="zh", font_path="DejaVuSerif.ttf")
    fine = fine_config(overview)
    assert (fine.dpi, fine.font_size) == (120, 9)
    assert (fine.language, fine.font_path) == ("zh", "DejaVuSerif.ttf")
    assert fine_config(overview, resolve_config("medium")).dpi == 96


def test_reader_wrapper_reads_the_matching_page_and_locates_the_answer(
    coarse, haystack, needle_page
):
    needle = haystack.needles[0]
    inner = Recorder(needle.value)
    reader = CoarseToFineReader(inner, max_pages=1)
    chunks = list(reader.answer(coarse, needle.question))
    assert chunks[0].kind == "status" and "Coarse-to-fine" in chunks[0].text
    answer = chunks[-1].answer
    view = inner.seen[-1]
    assert isinstance(view, FineView) and view.coarse_pages == [needle_page]
    assert answer.fine_pages == [needle_page] and answer.pages_read == [needle_page]
    # the inner reader gave no span: it is found in the pages read, at the needle
    assert [(s.start, s.end) for s in answer.spans] == [
        (needle.offset, needle.offset + len(needle.value))
    ]
    assert answer.stats.visual_tokens == view.stats.visual_tokens
    assert "Coarse-to-fine" in answer.notes[-1].en and "由粗到细" in answer.notes[-1].zh
    # a follow-up about the same pages reuses the view
    list(reader.answer(coarse, needle.question))
    assert inner.seen[-1] is view


def test_summaries_read_the_overview_unchanged(coarse):
    inner = Recorder("summary")
    answer = ask(CoarseToFineReader(inner, max_pages=1), coarse, "Summarize", Mode.SUMMARY)
    assert inner.seen == [coarse] and answer.fine_pages == []


def test_pipeline_option_and_evidence_on_the_coarse_pages(settings, coarse, haystack, needle_page):
    needle = haystack.needles[0]
    pipe = Pipeline(settings.model_copy(update={"coarse_to_fine_pages": 1}))
    inner = Recorder(needle.value)
    pipe._readers["recorder"] = ReaderChoice(inner, "recorder")
    plain = pipe.ask_once(coarse, needle.question, reader="recorder")
    assert inner.seen[-1] is coarse and plain.fine_pages == []
    answer = pipe.ask_once(coarse, needle.question, reader="recorder", coarse_to_fine=True)
    assert isinstance(inner.seen[-1], FineView) and answer.fine_pages == [needle_page]
    assert {ev.page for ev in answer.evidence} == {needle_page}
    end = needle.offset + len(needle.value)
    assert box_on_needle_line(coarse, answer.evidence, needle.offset, end)
    on = Pipeline(settings.model_copy(update={"coarse_to_fine": True}))
    on._readers["recorder"] = ReaderChoice(inner, "recorder")
    assert on.ask_once(coarse, needle.question, reader="recorder").fine_pages


def test_needle_through_the_pixels_with_fewer_visual_tokens(settings, coarse, haystack):
    """The OCR reader reads only the needle's page re-rendered fine: right answer, red box on
    the needle's line, and fewer visual tokens than rendering the whole document fine."""
    pytest.importorskip("rapidocr")
    needle = haystack.needles[0]
    fine_all = render(haystack.text, resolve_config("fine", text=haystack.text))
    pipe = Pipeline(settings.model_copy(update={"coarse_to_fine_pages": 1}))
    try:
        answer = pipe.ask_once(coarse, needle.question, reader="ocr", coarse_to_fine=True)
    finally:
        pipe.close()
    assert answer.text.strip() == needle.value
    assert answer.fine_pages == [int(coarse.layout.page[needle.offset])]
    end = needle.offset + len(needle.value)
    assert box_on_needle_line(coarse, answer.evidence, needle.offset, end)
    fed = answer.stats.visual_tokens
    assert 0 < fed < fine_all.stats.visual_tokens / 2, (fed, fine_all.stats.visual_tokens)
    assert len(coarse.pages) >= 4 and len(fine_all.pages) >= 4


def test_ui_option_renders_coarse_and_says_which_pages_were_read_finely(
    settings, haystack, needle_page
):
    from app.ui.manager import UIManager
    from app.ui.session import GRANULARITIES, RenderOptions, Session

    assert "coarse-to-fine" in GRANULARITIES
    opts = RenderOptions(granularity="coarse-to-fine")
    assert opts.spec() == "coarse" and opts.coarse_to_fine
    assert not RenderOptions(granularity="coarse").coarse_to_fine
    needle = haystack.needles[0]
    pipe = Pipeline(settings.model_copy(update={"coarse_to_fine_pages": 1}))
    inner = Recorder(needle.value)
    pipe._readers[settings.reader] = ReaderChoice(inner, settings.reader)
    manager = UIManager(pipe)
    session = Session(options=opts)
    manager.open_text(session, haystack.text)
    assert session.rendered.config.name == "coarse"
    assert "coarse-to-fine" in manager.preview(session)[1]
    final = [u for u in manager.ask(session, needle.question, "qa") if u.final][-1]
    assert final.final.fine_pages == [needle_page] and final.evidence_pages == [needle_page]
    line = manager.confidence_line(final.final, "en")
    assert f"Page images read finely (re-rendered at high resolution): {needle_page + 1}" in line
    assert f"精读页面图像（以高分辨率重新渲染）：{needle_page + 1}" in manager.confidence_line(
        final.final, "zh"
    )
    # the standard options read the render as it is
    session.options = RenderOptions()
    manager.rerender(session)
    plain = [u for u in manager.ask(session, needle.question, "qa") if u.final][-1].final
    assert plain.fine_pages == [] and "Page images read:" in manager.confidence_line(plain, "en")


def test_vlm_reader_reads_the_fine_view_and_evaluates_search_configs(tiny_vlm_dir, tmp_path):
    """Plumbing with the tiny random GLM-4.1V: the VLM reads only the re-rendered pages, and the
    search's VLM evaluator runs end to end (answers are noise: a random-weight model)."""
    pytest.importorskip("transformers")
    from app.readers.vlm import VlmReader
    from app.search import make_evaluator
    from app.search.dataset import ValidationItem
    from app.settings import Settings

    settings = Settings(
        _env_file=None,
        model=str(tiny_vlm_dir),
        device="cpu",
        max_new_tokens=6,
        data_dir=tmp_path / "data",
    )
    small = {"page_size": (300, 160), "margin_x": 6, "margin_y": 6}
    text = "\n".join(
        f"Section {i}: the parcel for {city} weighs {i + 3} kilograms."
        for i, city in enumerate(["Oslo", "Lima", "Kyoto", "Accra", "Perth", "Quito"] * 8)
    )
    coarse = render(text, resolve_config("coarse", **small))
    assert len(coarse.pages) >= 3
    reader = VlmReader(settings)
    try:
        wrapped = CoarseToFineReader(reader, fine=resolve_config("fine", **small), max_pages=1)
        answer = ask(wrapped, coarse, "How much does the parcel for Kyoto weigh?")
        assert len(answer.fine_pages) == 1 and answer.pages_read == answer.fine_pages
        fine_all = render(text, resolve_config("fine", **small))
        assert 0 < answer.stats.visual_tokens < fine_all.stats.visual_tokens
        evaluator = make_evaluator("vlm", settings)
        assert evaluator.id.startswith(f"vlm:{tiny_vlm_dir}")
        item = ValidationItem(text[:200], "What weighs 3 kilograms?", ("Oslo",))
        result = evaluator.evaluate(resolve_config("en", **small), [item])
        assert result.questions == 1 and result.error is None and len(result.answers) == 1
        assert result.visual_tokens > 0 and result.compression > 0
        evaluator.close()
    finally:
        reader.close()
