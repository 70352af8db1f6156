"""Helpers shared by the job-queue tests (imported; fixtures are in conftest.py)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_env(settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")}
    env.update(
        GLYPH_DATA_DIR=str(settings.data_dir),
        GLYPH_CACHE_DIR=str(settings.resolved_cache_dir),
        GLYPH_JOB_LEASE_S=str(settings.job_lease_s),
        GLYPH_JOB_MAX_ATTEMPTS=str(settings.job_max_attempts),
        GLYPH_READER=settings.reader,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        OMP_THREAD_LIMIT="1",
    )
    if settings.redis_url:
        env["GLYPH_REDIS_URL"] = settings.redis_url
    env.update(extra)
    return env


def wait_for(predicate: Callable[[], object], timeout: float, what: str, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def ping(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def needle_text(tag: str, pages: int = 3) -> str:
    """A few pages of filler (unique per ``tag``, so no OCR cache hit) with a needle at the end."""
    filler = [
        f"Section {tag}-{n}: the harbour office logged {n * 37 % 91} crates of {tag} cargo today."
        for n in range(75 * pages)
    ]
    return "\n".join([*filler, f"The vault code for {tag} is {sum(map(ord, tag)) * 7}."])
