"""#21: GLYPH_MAX_UPLOAD_MB is stated in MB and enforced in the same MB (10⁶ bytes): a 50.3 MB
file passed the 50 MB limit when it was counted in MiB."""

from __future__ import annotations

import pytest

from app.errors import LimitError
from app.ingest import load
from app.settings import MB, Settings


def _sparse(path, size):
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def test_default_limit_is_fifty_million_bytes(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    assert MB == 1_000_000 and settings.max_upload_bytes == 50_000_000
    with pytest.raises(LimitError) as info:
        load(_sparse(tmp_path / "big.txt", 50_300_000), settings=settings)  # 50.3 MB
    assert info.value.setting == "GLYPH_MAX_UPLOAD_MB"
    assert "50.3 MB" in info.value.en and "limit is 50 MB" in info.value.en
    assert "50.3 MB" in info.value.zh and "50 MB" in info.value.zh


def test_limit_boundary_in_bytes(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", max_upload_mb=0.001)
    assert settings.max_upload_bytes == 1000
    (tmp_path / "ok.txt").write_bytes(b"a" * 1000)
    assert load(tmp_path / "ok.txt", settings=settings).text == "a" * 1000
    (tmp_path / "over.txt").write_bytes(b"a" * 1001)
    with pytest.raises(LimitError) as info:
        load(tmp_path / "over.txt", settings=settings)
    assert info.value.actual == 1001 and "1,001 bytes" in info.value.en
    with pytest.raises(LimitError):
        load(b"a" * 1001, name="over.txt", settings=settings)
    assert load(b"a" * 1000, name="ok.txt", settings=settings).text == "a" * 1000


def test_job_queue_counts_the_same_megabytes(tmp_path):
    pytest.importorskip("huey")
    from app.jobs.queue import JobError, JobQueue

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", max_upload_mb=0.001)
    queue = JobQueue(settings)
    (tmp_path / "over.txt").write_bytes(b"a" * 1001)
    with pytest.raises(JobError, match="GLYPH_MAX_UPLOAD_MB"):
        queue.submit_ask("q?", file=tmp_path / "over.txt")
    queue.close()
