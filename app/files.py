"""Atomic file writes: a reader of a path sees the old file or the new one, never half of one.

Everything is written under a unique temporary name in the destination's folder
(``.<name>.<random>.tmp``: two writers of the same path never share a temporary file) and renamed
over the final name with ``os.replace``. ``durable=True`` (results, job inputs) also syncs the file
and its folder to disk before and after the rename, so a power cut leaves the old file or the new
one; caches that can be recomputed pass ``durable=False`` and skip the syncs. On any failure
(a full disk midway, an exception while serialising) the temporary file is removed and the error
raised: nothing half-written is left behind.

``mode`` is the new file's permission bits (before the umask): ``0o600`` keeps a file private to
the server's user.

Nothing here imports another ``app`` module: this is the bottom layer.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


def fsync_dir(folder: Path) -> None:
    """Sync a folder's entries (a rename in it) to disk; silently skipped where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_open(
    path: Path, *, text: bool = False, durable: bool = True, mode: int = 0o666
) -> Iterator[IO[Any]]:
    """A file opened for writing (binary, or UTF-8 text with ``text``) that replaces ``path``
    when the block ends without an error; the parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        fh = os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    try:
        with fh:
            yield fh
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # gone after the rename; removed after a failure
    if durable:
        fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True, mode: int = 0o666) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    with atomic_open(path, durable=durable, mode=mode) as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: Path, text: str, *, durable: bool = True, mode: int = 0o666) -> Path:
    """Write ``text`` (UTF-8, line ends as given) to ``path`` atomically."""
    with atomic_open(path, text=True, durable=durable, mode=mode) as fh:
        fh.write(text)
    return Path(path)


def atomic_write_json(
    path: Path, data: Any, *, durable: bool = True, mode: int = 0o666, **dump: Any
) -> Path:
    """Write ``data`` as JSON (UTF-8, ``ensure_ascii=False``, ``indent=2`` unless ``dump`` says
    otherwise) to ``path`` atomically; serialised straight into the temporary file."""
    options = {"ensure_ascii": False, "indent": 2, **dump}
    with atomic_open(path, text=True, durable=durable, mode=mode) as fh:
        json.dump(data, fh, **options)
    return Path(path)


def atomic_copy(src: Path, dest: Path, *, durable: bool = True) -> Path:
    """Copy the file ``src`` to ``dest`` atomically (contents only, like ``shutil.copyfile``)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(dest)
    try:
        shutil.copyfile(src, tmp)
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        fsync_dir(dest.parent)
    return dest
