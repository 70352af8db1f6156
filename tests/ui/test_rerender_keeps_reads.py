"""Re-rendering keeps what the built-in reader already read: the text is unchanged, so the next
question is answered from it at once (no OCR on the question's thread), with evidence on the new
pages, while the new pages are read in the background and used once they are."""

from __future__ import annotations

import threading

import pytest

from app.pipeline import Pipeline
from app.ui.manager import UIManager
from app.ui.session import Session
from app.ui.view import EXAMPLES_DIR

pytest.importorskip("rapidocr")

FEE = "What is the annual subscription fee?"


@pytest.fixture
def manager(tmp_path):
    from app.settings import Settings

    pipeline = Pipeline(Settings(_env_file=None, data_dir=tmp_path / "data", reader="ocr"))
    yield UIManager(pipeline)
    pipeline.close()


def _final(manager: UIManager, s: Session, question: str = FEE):
    updates = list(manager.ask(s, question, "qa"))
    return updates[-1].final


@pytest.mark.slow
def test_ask_rerender_ask_does_not_read_the_text_again(manager, monkeypatch):
    reader = manager.pipeline.reader("ocr").reader
    real_read = reader.engine.read
    asked: list[int] = []  # engine calls made while a question was answered
    background = threading.Event()  # let the background reads go on
    background.set()

    def counted(*args, **kwargs):
        if threading.current_thread() is threading.main_thread():
            asked.append(1)
        else:
            assert background.wait(120)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(reader.engine, "read", counted)
    s = Session()
    manager.open_file(s, EXAMPLES_DIR / "service_agreement.md")
    first = _final(manager, s)
    for thread in list(reader._threads):
        thread.join(timeout=120)
    assert first.text == "EUR 186,400"

    background.clear()  # the new pages' background read waits: the question comes first
    asked.clear()
    manager.higher_resolution(s)
    assert s.rendered.config.dpi == 96
    second = _final(manager, s)
    assert asked == []  # nothing OCR'd again for the question
    assert second.text == "EUR 186,400"
    assert any("Answered from the text already read" in n.en for n in second.notes)
    start = s.rendered.text.index("EUR 186,400")
    ev = second.evidence[0]
    (page, box), *_ = s.rendered.layout.boxes_for_span(start, start + 11)
    assert ev.page == page and abs(ev.boxes[0][1] - box[1]) < 3  # on the 96 dpi page

    # other render settings (a larger font) keep it too
    s.options.font_size = 11
    manager.rerender(s)
    assert _final(manager, s).text == "EUR 186,400" and asked == []

    # once the background read of the new pages is done, answers come from them (a question
    # on pages not read yet starts their read when no other one runs)
    background.set()
    for _ in range(2):
        for thread in list(reader._threads):
            thread.join(timeout=120)
        third = _final(manager, s)
    assert third.text == "EUR 186,400" and asked == []
    assert not any("Answered from the text already read" in n.en for n in third.notes)


def test_other_text_is_read_anew(manager):
    s = Session()
    manager.open_text(s, "The parcel weighs 12 kg and ships to Anna Berg in Uppsala.")
    answer = _final(manager, s, "How much does the parcel weigh?")
    manager.open_text(s, "The parcel weighs 14 kg and ships to Anna Berg in Uppsala.")
    again = _final(manager, s, "How much does the parcel weigh?")
    assert "12 kg" in answer.text and "14 kg" in again.text
    assert not any("already read" in n.en for n in again.notes)
