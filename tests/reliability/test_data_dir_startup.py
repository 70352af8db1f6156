"""#21: the server and workers started on a full or unwritable data directory exit with one
message naming the directory (English or Chinese), not a huey/SQLite traceback."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.errors import GlyphError
from app.settings import Settings, get_settings
from tests.helpers.full_disk import full_tmpfs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(180)  # before the fix, `serve` on a full disk started serving


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")}
    return {**env, "GLYPH_DATA_DIR": str(data_dir), "GLYPH_READER": "ocr", **extra}


@pytest.fixture
def cli(monkeypatch):
    for key in [k for k in os.environ if k.startswith("GLYPH_")]:
        monkeypatch.delenv(key)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [["serve", "--port", "7989"], ["worker"]])
def test_data_dir_under_a_file_is_named(tmp_path, command):
    """A path that cannot be a directory (its parent is a file): as root, chmod stops nothing."""
    (tmp_path / "plain-file").write_text("x")
    data = tmp_path / "plain-file" / "data"
    proc = subprocess.run(
        [sys.executable, "-m", "app", *command],
        capture_output=True,
        text=True,
        env=_env(data),
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert f"The directory {data} cannot be used" in proc.stderr and "GLYPH_DATA_DIR" in proc.stderr


def test_full_disk_is_named_in_both_languages(cli, tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9, 4096))
    monkeypatch.setenv("GLYPH_DATA_DIR", str(tmp_path / "data"))
    result = cli.invoke(app, ["serve", "--port", "7988"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"The disk of {tmp_path / 'data'} is full: 0.0 MB free" in result.stderr
    monkeypatch.setenv("GLYPH_LANGUAGE", "zh")
    get_settings.cache_clear()
    result = cli.invoke(app, ["worker"])
    assert result.exit_code == 2 and "所在磁盘已满" in result.stderr


def test_enospc_on_the_probe_is_named(tmp_path, monkeypatch):
    real_open = Path.open

    def full(self, *args, **kwargs):
        if self.name.startswith(".glyph-write-test"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", full)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    with pytest.raises(GlyphError, match="No space left on device") as info:
        settings.check_dirs()
    assert str(tmp_path / "data") in info.value.en and "GLYPH_DATA_DIR" in info.value.zh


@pytest.mark.parametrize("broken", ["queue.db", "jobs.db"])
def test_queue_database_that_cannot_open_is_named(cli, tmp_path, monkeypatch, broken):
    """SQLite's 'unable to open database file' / 'file is not a database' at queue start."""
    pytest.importorskip("huey")
    jobs = tmp_path / "data" / "jobs"
    jobs.mkdir(parents=True)
    if broken == "queue.db":
        (jobs / broken).mkdir()  # a directory where huey's database file should be
    else:
        (jobs / broken).write_bytes(b"this is not a SQLite database" * 100)
    monkeypatch.setenv("GLYPH_DATA_DIR", str(tmp_path / "data"))
    result = cli.invoke(app, ["worker"])
    assert result.exit_code == 2, result.output
    assert f"The job queue cannot open its database in {jobs}" in result.stderr
    assert "Traceback" not in result.output


def test_a_real_full_filesystem(tmp_path):
    """A 256 KiB tmpfs filled to the last byte (skipped where mounting is not allowed)."""
    with full_tmpfs(tmp_path, ("data/jobs",)) as mount:
        proc = subprocess.run(
            [sys.executable, "-m", "app", "worker"],
            capture_output=True,
            text=True,
            env=_env(mount / "data"),
            cwd=ROOT,
            timeout=120,
        )
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        assert str(mount / "data") in proc.stderr
