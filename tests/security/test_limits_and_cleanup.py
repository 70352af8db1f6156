"""Limits with clear messages, and what happens to uploaded files (against a real server with
small limits: 0.2 MB, 3 pages, 20,000 characters, 5,000 pasted, 1 job per session)."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.helpers.documents import report_pdf


def _client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


def _upload(client, path) -> str:
    from gradio_client import handle_file

    return client.predict(handle_file(str(path)), api_name="/upload")[3]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_upload_size_limit(limits_server, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 60_000, encoding="utf-8")  # 300 KB > 0.2 MB
    resp = httpx.post(
        f"{limits_server.url}/gradio_api/upload",
        files={"files": ("big.txt", big.read_bytes())},
        timeout=30,
    )
    assert resp.status_code == 413 and "maximum allowed size" in resp.text
    with pytest.raises(ValueError, match="exceeds the maximum file size"):
        _upload(_client(limits_server), big)


@pytest.mark.browser
def test_upload_size_limit_in_the_browser(limits_server, page_factory, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 60_000, encoding="utf-8")
    page = page_factory("en-US")
    page.goto(limits_server.url)
    page.locator("#upload input[type=file]").set_input_files(str(big))
    # gradio words its own browser-side refusal in binary units (200,000 bytes = 195.3 KiB)
    page.get_by_text(re.compile(r"exceed the maximum allowed size of 195\.3 ?Kb")).wait_for()
    assert page.locator("#gallery img").count() == 0


def test_page_char_and_paste_limits_have_clear_messages(limits_server, tmp_path):
    client = _client(limits_server)
    message = _upload(client, report_pdf(tmp_path / "long.pdf", pages=5))
    assert "5 pages" in message and "at most 3" in message and "GLYPH_MAX_PAGES" in message

    wordy = tmp_path / "wordy.txt"
    wordy.write_text("The quick brown fox jumps. " * 1000, encoding="utf-8")  # 27,000 chars
    message = _upload(client, wordy)
    assert "20,000 characters" in message and "GLYPH_MAX_CHARS" in message

    message = client.predict("x" * 6000, api_name="/paste")[3]
    assert "5,000" in message and "GLYPH_MAX_PASTE_CHARS" in message
    # after three refusals the session still works
    note = "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 to Anna Berg."
    assert client.predict(note, api_name="/paste")[3] == ""
    assert "12" in client.predict("How much does the parcel weigh?", "qa", api_name="/ask")[0]
    client.close()


def test_concurrent_jobs_per_session(limits_server):
    first, second = _client(limits_server), _client(limits_server)
    for client in (first, second):
        client.predict("A parcel of 12 kg ships on Monday.", api_name="/paste")
    status, message = (lambda o: (o[2], o[8]))(
        first.predict("How heavy?", "qa", "queue", api_name="/ask")
    )
    assert "queued" in status and message == ""
    # no worker runs on this server, so the first job stays unfinished
    message = first.predict("When does it ship?", "qa", "queue", api_name="/ask")[8]
    assert "1 unfinished jobs" in message and "GLYPH_MAX_JOBS_PER_SESSION" in message
    # the limit is per session: another session may still queue one
    assert "queued" in second.predict("How heavy?", "qa", "queue", api_name="/ask")[2]
    for client in (first, second):
        client.close()


def test_uploads_live_in_the_session_dir_and_go_with_the_session(limits_server, tmp_path):
    server = limits_server
    before = set(server.sessions.iterdir()) if server.sessions.exists() else set()
    client = _client(server)
    first = tmp_path / "first-notes.txt"
    first.write_text("First memo: the budget is 4,100 EUR.\n", encoding="utf-8")
    assert _upload(client, first) == ""
    (session_dir,) = set(server.sessions.iterdir()) - before
    assert session_dir.stat().st_mode & 0o077 == 0  # private to the server's user
    assert server.private_root.stat().st_mode & 0o777 == 0o700
    copies = list(session_dir.glob("uploads/*/*"))
    assert [p.name for p in copies] == ["first-notes.txt"]
    gradio_copies = list(server.gradio_tmp.glob("*/first-notes.txt"))
    assert gradio_copies  # Gradio's own copy of the upload (kept for GLYPH_TEMP_RETENTION_S)

    # a new document replaces the copy; a failed upload adds nothing and keeps the document
    second = tmp_path / "second-notes.txt"
    second.write_text("Second memo: the budget is 5,200 EUR.\n", encoding="utf-8")
    assert _upload(client, second) == ""
    assert [p.name for p in session_dir.glob("uploads/*/*")] == ["second-notes.txt"]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 this is not really a PDF \x00\xff" * 20)
    assert "PDF" in _upload(client, broken)
    assert [p.name for p in session_dir.glob("uploads/*/*")] == ["second-notes.txt"]
    answer, *_rest, message = client.predict("What is the budget?", "qa", api_name="/ask")
    assert "5,200" in answer and message == ""
    assert list(session_dir.glob("answer-*.json"))  # the downloads are written here too

    # Gradio's copies expire after GLYPH_TEMP_RETENTION_S (8 s here) ...
    _wait(
        lambda: not any(p.exists() for p in gradio_copies),
        60,
        "Gradio's temp copy outlived GLYPH_TEMP_RETENTION_S",
    )
    # ... and the session's directory goes when the session ends (tab closed / client closed)
    client.close()
    _wait(lambda: not session_dir.exists(), 60, "the session dir outlived the session")
