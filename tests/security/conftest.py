"""Real servers (`python -m app serve`) for the security and reliability tests.

Each server gets its own data dir and its own TMPDIR, so the test can look at the private temp
root (``$TMPDIR/glyph-<uid>``: Gradio's cache and the per-session directories) of that server
only. ``GRADIO_IS_E2E_TEST`` makes Gradio drop a closed session's state after 1 s (not 1 h).
"""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers.server import app_server

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
    data, tmp = base / "data", base / "tmp"
    data.mkdir(parents=True)
    tmp.mkdir(parents=True)
    # no reading ahead: these servers live through the whole suite, and reading the big uploads of
    # the limits tests ahead would take a core from every test after them
    env = dict(
        GLYPH_READER="ocr", GLYPH_PREFETCH_PAGES="0", GRADIO_IS_E2E_TEST="1", TMPDIR=str(tmp)
    )
    env.update(env_overrides)
    log_path = base / "server.log"
    with app_server(data, log_path, env, drop=("GLYPH_", "GRADIO_TEMP_DIR")) as (url, _):
        yield Server(url, data, tmp, log_path)


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
