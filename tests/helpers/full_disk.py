"""A real full filesystem for tests: a 256 KiB tmpfs filled to the last byte (root only)."""

from __future__ import annotations

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def full_tmpfs(where: Path, dirs: tuple[str, ...] = ()) -> Iterator[Path]:
    """Mount a tiny tmpfs at ``where/full``, make ``dirs`` in it, fill it, yield it, unmount.
    Skips the test where mounting is not allowed."""
    mount = where / "full"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
    try:
        for name in dirs:
            (mount / name).mkdir(parents=True)
        with (mount / "ballast").open("wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError as err:
                assert err.errno == errno.ENOSPC
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
