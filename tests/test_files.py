"""app.files: atomic writes and copies (unique temporary names, nothing left after a failure)."""

import errno
import json
import os
import threading

import pytest

from app.files import (
    atomic_copy,
    atomic_open,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)


def test_writes_replace_the_file_and_leave_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "out.json"
    atomic_write_json(target, {"a": "中"})
    assert target.read_text("utf-8") == '{\n  "a": "中"\n}'
    atomic_write_json(target, {"a": 2}, durable=False, indent=None, separators=(",", ":"))
    assert target.read_text("utf-8") == '{"a":2}'
    atomic_write_text(tmp_path / "t.txt", "a\r\nb")
    assert (tmp_path / "t.txt").read_bytes() == b"a\r\nb"  # line ends as given
    atomic_write_bytes(tmp_path / "b.bin", b"\0\1", mode=0o600)
    assert (tmp_path / "b.bin").stat().st_mode & 0o077 == 0
    atomic_copy(tmp_path / "b.bin", tmp_path / "copy" / "c.bin")
    assert (tmp_path / "copy" / "c.bin").read_bytes() == b"\0\1"
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_failure_midway_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    target = tmp_path / "state.json"
    atomic_write_json(target, {"old": True})

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError), atomic_open(target, text=True) as fh:
        fh.write('{"new": ')
        full()
    with pytest.raises(TypeError):
        atomic_write_json(target, {"bad": object()})
    assert json.loads(target.read_text("utf-8")) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_two_writers_of_one_path_never_share_a_temporary_file(tmp_path):
    target = tmp_path / "page.png"
    errors: list[BaseException] = []

    def write(byte: bytes) -> None:
        try:
            for _ in range(50):
                atomic_write_bytes(target, byte * 10_000, durable=False)
        except BaseException as err:  # pragma: no cover - the failure being tested for
            errors.append(err)

    threads = [threading.Thread(target=write, args=(b,)) for b in (b"a", b"b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    data = target.read_bytes()
    assert data in (b"a" * 10_000, b"b" * 10_000)
    assert os.listdir(tmp_path) == ["page.png"]
