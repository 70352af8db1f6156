"""Real servers (`python -m app serve`) for the security and reliability tests.

Each server gets its own data dir and its own TMPDIR, so the test can look at the private temp
root (``$TMPDIR/glyph-<uid>``: Gradio's cache and the per-session directories) of that server
only. ``GRADIO_IS_E2E_TEST`` makes Gradio drop a closed session's state after 1 s (not 1 h).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.ui.conftest import ROOT, free_port, wait_http

PASSWORDS = {"alice": "wonderland", "bob": "builder"}


@dataclass
class Server:
    url: str
    data: Path
    tmp: Path
    log: Path

    @property
    def private_root(self) -> Path:
        return self.tmp / f"glyph-{os.getuid()}"

    @property
    def gradio_tmp(self) -> Path:
        return self.private_root / "gradio"

    @property
    def sessions(self) -> Path:
        return self.private_root / "sessions"

    def raw_get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """GET ``path`` exactly as written (no client-side normalisation of ``..`` or %xx)."""
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serve(base: Path, **env_overrides: str) -> Iterator[Server]:
    """Start `python -m app serve` on a free port; stop it afterwards."""
    port = free_port()
    data, tmp = base / "data", base / "tmp"
    data.mkdir(parents=True)
    tmp.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLYPH_", "GRADIO_TEMP_DIR"))}
    env.update(
        GLYPH_DATA_DIR=str(data),
        GLYPH_HOST="127.0.0.1",
        GLYPH_PORT=str(port),
        GLYPH_READER="ocr",
        GRADIO_ANALYTICS_ENABLED="False",
        GRADIO_IS_E2E_TEST="1",
        HF_HUB_OFFLINE="1",
        TMPDIR=str(tmp),
    )
    env.update(env_overrides)
    log_path = base / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http(url, 120, proc)
            yield Server(url, data, tmp, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory) -> Iterator[Server]:
    """Login required: alice and bob from a password file of scrypt hashes."""
    from app.auth import password_line

    base = tmp_path_factory.mktemp("auth-server")
    passwd = base / "passwd"
    passwd.write_text(
        "\n".join(password_line(u, p) for u, p in PASSWORDS.items()) + "\n", encoding="utf-8"
    )
    with serve(base, GLYPH_AUTH=str(passwd)) as server:
        yield server


@pytest.fixture(scope="session")
def limits_server(tmp_path_factory) -> Iterator[Server]:
    """No login, small limits, no job worker (queued jobs stay queued), short temp retention."""
    base = tmp_path_factory.mktemp("limits-server")
    with serve(
        base,
        GLYPH_MAX_UPLOAD_MB="0.2",
        GLYPH_MAX_PAGES="3",
        GLYPH_MAX_CHARS="20000",
        GLYPH_MAX_PASTE_CHARS="5000",
        GLYPH_MAX_JOBS_PER_SESSION="1",
        GLYPH_INPROCESS_WORKER="false",
        GLYPH_TEMP_RETENTION_S="8",
    ) as server:
        yield server
