"""A real `python -m app serve` in a subprocess, for tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextmanager
def app_server(
    data_dir: Path,
    log_path: Path,
    env: dict[str, str],
    *,
    keep: tuple[str, ...] = (),
    drop: tuple[str, ...] = ("GLYPH_",),
    start_timeout: float = 120,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """(url, process) of `python -m app serve` on a free port of 127.0.0.1 with ``data_dir``;
    the environment is this one without the variables starting with ``drop`` (but those in
    ``keep``), plus ``env``. Stopped (terminate, then kill) on the way out."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith(drop) or k in keep}
    full.update(GLYPH_DATA_DIR=str(data_dir), GLYPH_HOST="127.0.0.1", GLYPH_PORT=str(port),
                GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")  # fmt: skip
    full.update(env)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], cwd=ROOT, env=full, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http(url, start_timeout, proc)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
