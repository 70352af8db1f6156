"""A full disk (ENOSPC) under the OCR cache, the session directories or the job data dir: the
answer still comes (without caching) or the user reads a clear message; nothing half-written is
left behind. A real full filesystem (a tiny tmpfs, where mounting works: root) and, everywhere,
the same error injected into the write."""

from __future__ import annotations

import errno
import logging
import shutil
import uuid
from pathlib import Path

import pytest

from app.pipeline import Pipeline
from app.settings import Settings
from app.ui import storage
from app.ui.manager import UIManager
from app.ui.session import Session
from tests.helpers.full_disk import full_tmpfs
from tests.ui.conftest import free_port

NOTE = "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 to Anna Berg."
WEIGHT = "How much does the parcel weigh?"


def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def full_dir(tmp_path):
    """A directory on a 256 KiB tmpfs filled to the last byte (skipped where mount fails)."""
    with full_tmpfs(tmp_path, ("sessions", "cache")) as mount:
        yield mount


def _settings(tmp_path, **kw) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", reader="ocr", **kw)


def _ask(manager: UIManager, s: Session, question: str = WEIGHT):
    return [u for u in manager.ask(s, question, "qa") if u.final is not None][-1].final


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name != "ballast"]


# --- the OCR cache ---------------------------------------------------------------------------


def test_ocr_cache_on_a_full_disk_answers_without_caching(full_dir, tmp_path, caplog):
    pipeline = Pipeline(_settings(tmp_path, cache_dir=full_dir / "cache"))
    manager, s = UIManager(pipeline), Session()
    manager.open_text(s, NOTE)
    with caplog.at_level(logging.WARNING, logger="app.readers.ocr.cache"):
        assert "12" in _ask(manager, s).text
        assert "12" in _ask(manager, s).text
    warnings = [r.getMessage() for r in caplog.records if "disk is full" in r.getMessage()]
    assert len(warnings) == 1 and "GLYPH_CACHE_DIR" in warnings[0]  # said once, clearly
    assert _leftovers(full_dir) == []  # no half-written entries or temp files
    pipeline.close()


def test_ocr_cache_write_failing_midway_leaves_no_temp_file(tmp_path, monkeypatch, caplog):
    import app.readers.ocr.cache as cache_mod

    def half_then_full(obj, fh, **kwargs):
        fh.write('{"format": 1, "lin')
        fh.flush()
        _enospc()

    monkeypatch.setattr(cache_mod.json, "dump", half_then_full)
    monkeypatch.setattr(cache_mod, "FULL_RETRY_S", 0.0)  # try the disk again at once
    settings = _settings(tmp_path)
    pipeline = Pipeline(settings)
    manager, s = UIManager(pipeline), Session()
    manager.open_text(s, NOTE)
    with caplog.at_level(logging.WARNING, logger="app.readers.ocr.cache"):
        assert "12" in _ask(manager, s).text
    ocr_cache = settings.resolved_cache_dir / "ocr"
    assert not [p for p in ocr_cache.rglob("*") if p.is_file()]
    assert any("disk is full" in r.getMessage() for r in caplog.records)
    # space again: the next page read is cached
    monkeypatch.undo()
    s2 = Session()
    manager.open_text(s2, NOTE + " Second copy.")
    assert "12" in _ask(manager, s2).text
    assert [p for p in ocr_cache.rglob("*.json")]
    pipeline.close()


# --- per-session files (uploads, downloads) --------------------------------------------------


def test_upload_into_a_full_session_dir_is_a_clear_error(full_dir, tmp_path):
    manager = UIManager(Pipeline(_settings(tmp_path)))
    s = Session(root=full_dir / "sessions")
    manager.open_text(s, NOTE)  # an open document, kept through the failure
    upload = tmp_path / "memo.txt"
    upload.write_text("Memo: the budget is 4,100 EUR. " * 500, encoding="utf-8")  # 16 KB
    s.workdir()  # exists already: the copy itself must fail
    with pytest.raises(storage.StorageError) as info:
        manager.open_upload(s, upload)
    assert "disk is full" in info.value.en and "磁盘已满" in info.value.zh
    assert s.document is not None and s.document.name == "pasted.txt"
    assert not list((full_dir / "sessions").rglob("memo.txt"))
    # the downloads of an answer cannot be written either: the answer is still shown
    _ask(manager, s)
    json_path, md_path, note = manager.downloads(s)
    assert json_path is None and md_path is None
    assert "answer is shown" in note and "disk is full" in note


def test_upload_copy_failing_is_a_clear_error(tmp_path, monkeypatch):
    manager = UIManager(Pipeline(_settings(tmp_path)))
    s = Session(root=tmp_path / "sessions")
    upload = tmp_path / "memo.txt"
    upload.write_text(NOTE, encoding="utf-8")
    monkeypatch.setattr(storage.shutil, "copyfile", _enospc)
    with pytest.raises(storage.StorageError, match="disk is full"):
        manager.open_upload(s, upload)
    assert s.document is None and not list(s.workdir().rglob("memo.txt"))
    monkeypatch.undo()
    manager.open_upload(s, upload)
    assert s.document is not None and "12" in _ask(manager, s).text
    monkeypatch.setattr(Path, "write_text", _enospc)
    assert manager.downloads(s)[2].startswith("The answer is shown")


def test_queueing_on_a_full_data_dir_is_a_clear_error(tmp_path, monkeypatch):
    from app.jobs import JobQueue
    from app.ui.jobs_view import JobsManager

    settings = _settings(tmp_path)
    manager, jobs = UIManager(Pipeline(settings)), JobsManager(JobQueue(settings))
    s = Session(root=tmp_path / "sessions")
    upload = tmp_path / "memo.txt"
    upload.write_text(NOTE, encoding="utf-8")
    manager.open_upload(s, upload)
    monkeypatch.setattr(shutil, "copyfile", _enospc)
    with pytest.raises(storage.StorageError, match="disk is full") as info:
        jobs.submit(s, WEIGHT, "qa")
    assert "任务的输入" in info.value.zh


@pytest.mark.slow
def test_the_ui_on_a_full_temp_disk(full_dir, tmp_path, monkeypatch):
    """The whole UI with session directories on the full tmpfs: uploads are refused with the
    message, pasted text is answered, the downloads' absence is explained."""
    from gradio_client import Client, handle_file

    from app.jobs.queue import JobQueue
    from app.ui import create_app

    monkeypatch.setattr(storage, "sessions_root", lambda root=None: full_dir / "sessions")
    settings = _settings(tmp_path)
    pipeline = Pipeline(settings)
    demo = create_app(settings, pipeline, JobQueue(settings))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}", verbose=False)
        upload = tmp_path / f"memo-{uuid.uuid4().hex[:6]}.txt"
        upload.write_text("Memo: the budget is 4,100 EUR. " * 500, encoding="utf-8")
        assert "disk is full" in client.predict(handle_file(str(upload)), api_name="/upload")[3]
        assert client.predict(NOTE, api_name="/paste")[3] == ""
        answer, *_rest, message = client.predict(WEIGHT, "qa", api_name="/ask")
        assert "12" in answer and "disk is full" in message
        client.close()
    finally:
        demo.close()
        pipeline.close()
