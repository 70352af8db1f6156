"""A reader that crashes or runs out of memory mid-answer: the error is shown, the partial text
is not passed off as an answer, the session keeps its document, the server stays up and the
next question is answered."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.datamodel import AnswerChunk, Mode, RenderedDoc
from app.errors import GlyphError, ReaderError
from app.pipeline import Pipeline
from app.readers import ReaderChoice
from app.readers.base import Reader, ReaderCapabilities
from app.settings import Settings
from app.ui.manager import UIManager
from app.ui.session import Session
from tests.ui.conftest import free_port

NOTE = "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 to Anna Berg."
WEIGHT = "How much does the parcel weigh?"


class FlakyReader(Reader):
    """The built-in reader, except that questions containing CRASH or OOM fail half-way."""

    name = "flaky"

    def __init__(self, inner: Reader) -> None:
        self.inner = inner
        self.failures = 0

    @property
    def capabilities(self) -> ReaderCapabilities:
        return self.inner.capabilities

    def answer(
        self, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA, *, stream: bool = True
    ) -> Iterator[AnswerChunk]:
        if "CRASH" in question or "OOM" in question:
            yield AnswerChunk(kind="status", text="reading page 1/1")
            yield AnswerChunk(kind="answer", text="The parcel weighs ")  # then it dies
            self.failures += 1
            if "OOM" in question:
                from app.readers.vlm.reader import oom_error

                raise oom_error(1, 1200, "int4-vision", RuntimeError("CUDA out of memory"))
            raise RuntimeError("reader process state corrupted")
        yield from self.inner.answer(rendered, question, mode, stream=stream)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def flaky_pipeline(tmp_path, monkeypatch):
    from app.readers import resolve_reader

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", reader="ocr")
    real = resolve_reader(settings, "ocr").reader
    flaky = FlakyReader(real)
    monkeypatch.setattr("app.pipeline.resolve_reader", lambda s, key: ReaderChoice(flaky, key))
    pipeline = Pipeline(settings)
    yield pipeline, flaky
    pipeline.close()


@pytest.mark.parametrize(
    ("question", "error", "message"),
    [("CRASH now", RuntimeError, "corrupted"), ("OOM now", ReaderError, "out of memory")],
)
def test_manager_survives_a_reader_failing_mid_answer(flaky_pipeline, question, error, message):
    pipeline, flaky = flaky_pipeline
    manager, s = UIManager(pipeline), Session()
    manager.open_text(s, NOTE)
    updates = []
    with pytest.raises(error, match=message):
        for update in manager.ask(s, question, "qa"):
            updates.append(update)
    assert any(u.answer == "The parcel weighs " for u in updates)  # it failed mid-answer
    assert flaky.failures == 1 and s.answers == [] and s.rendered is not None
    lock = pipeline.reader_lock
    assert lock.acquire(blocking=False)  # released on the way out
    lock.release()
    final = [u for u in manager.ask(s, WEIGHT, "qa") if u.final is not None][-1]
    assert "12" in final.answer and len(s.answers) == 1


@pytest.fixture
def flaky_server(flaky_pipeline, tmp_path):
    """The real UI, in this process, over a pipeline with the flaky reader."""
    from app.jobs.queue import JobQueue
    from app.ui import create_app

    pipeline, flaky = flaky_pipeline
    demo = create_app(pipeline.settings, pipeline, JobQueue(pipeline.settings))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}", flaky
    demo.close()


def test_server_shows_the_error_and_answers_the_next_question(flaky_server):
    from gradio_client import Client

    url, flaky = flaky_server
    client = Client(url, verbose=False)
    assert client.predict(NOTE, api_name="/paste")[3] == ""

    answer, _thinking, status, *_rest, message = client.predict("CRASH it", "qa", api_name="/ask")
    assert answer == "" and status == ""  # the partial text was cleared
    assert message.startswith("⚠") and "Something went wrong (RuntimeError)" in message
    assert "document and earlier answers are kept" in message

    answer, _thinking, status, *_rest, message = client.predict("OOM now", "qa", api_name="/ask")
    assert answer == "" and "ran out of memory" in message and "ask again" in message
    assert flaky.failures == 2

    assert httpx.get(url, timeout=30).status_code == 200  # still serving
    answer, *_rest, message = client.predict(WEIGHT, "qa", api_name="/ask")
    assert "12" in answer and message == ""
    # a second session was never affected
    other = Client(url, verbose=False)
    other.predict(NOTE, api_name="/paste")
    assert "12" in other.predict(WEIGHT, "qa", api_name="/ask")[0]
    for c in (client, other):
        c.close()


def test_tiny_vlm_out_of_memory_while_decoding_through_the_ui(tiny_vlm_dir, tmp_path):
    """The real VLM reader (tiny random GLM-4.1V on CPU) behind the real UI: CUDA OOM raised
    inside generate()'s thread surfaces as the reader's message; the next question works."""
    import torch
    from gradio_client import Client

    from app.jobs.queue import JobQueue
    from app.ui import create_app

    settings = Settings(
        _env_file=None,
        model=str(tiny_vlm_dir),
        reader="vlm",
        device="cpu",
        max_new_tokens=8,
        data_dir=tmp_path / "data",
        render_preset="coarse",
    )
    pipeline = Pipeline(settings)
    demo = create_app(settings, pipeline, JobQueue(settings))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    calls = {"n": 0}

    def oom_on_the_third_call(*_args, **_kwargs):
        calls["n"] += 1
        if calls["n"] >= 3:  # prefill done, decoding under way
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    try:
        client = Client(f"http://127.0.0.1:{port}", verbose=False)
        assert client.predict(NOTE, api_name="/paste")[3] == ""
        model = pipeline.reader().reader.engine.model
        hook = model.model.language_model.register_forward_pre_hook(oom_on_the_third_call)
        try:
            *_rest, message = client.predict(WEIGHT, "qa", api_name="/ask")
        finally:
            hook.remove()
        assert calls["n"] >= 3 and "ran out of memory" in message
        _answer, _thinking, status, *_rest, message = client.predict(WEIGHT, "qa", api_name="/ask")
        assert message == "" and status.startswith("Done")  # random weights: any text will do
        client.close()
    finally:
        demo.close()
        pipeline.close()


def test_unknown_errors_never_show_a_traceback(flaky_pipeline):
    from app.ui.view import _error_text

    text = _error_text(RuntimeError("secret path /srv/x.py line 3"), "en")
    assert "secret path" not in text and "RuntimeError" in text
    assert isinstance(ReaderError("x"), GlyphError)
