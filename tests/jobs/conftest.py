"""Fixtures for the job queue: isolated settings, worker processes, a real redis-server."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.jobs.jobs_helpers import ROOT, free_port, ping, wait_for, worker_env

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture(scope="session")
def ocr_cache(tmp_path_factory) -> Path:
    """One OCR cache for the session: the same tiny page is read once across tests/processes."""
    return tmp_path_factory.mktemp("ocr-cache")


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory, ocr_cache):
    """One pipeline (one loaded OCR reader) shared by the in-process workers of the tests."""
    from app.pipeline import Pipeline
    from app.settings import Settings

    data = tmp_path_factory.mktemp("pipeline-data")
    p = Pipeline(Settings(_env_file=None, data_dir=data, reader="ocr", cache_dir=ocr_cache))
    yield p
    p.close()


@pytest.fixture
def run_worker(pipeline):
    """Start an in-process worker for a queue (its settings decide SQLite or Redis)."""
    from app.jobs.worker import Worker

    workers = []

    def start(queue, threads: int = 1):
        w = Worker(queue.settings, workers=threads, pipeline=pipeline, queue=queue).start()
        workers.append(w)
        return w

    yield start
    for w in workers:
        w.stop()


@pytest.fixture
def job_settings(settings, ocr_cache):
    """Settings with data under tmp_path, a short lease and the built-in OCR reader."""
    return settings.model_copy(update={"job_lease_s": 5.0, "reader": "ocr", "cache_dir": ocr_cache})


@pytest.fixture
def spawn_worker(tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``python -m app worker`` processes; every one is stopped after the test."""
    procs: list[subprocess.Popen] = []

    def spawn(settings, workers: int = 1, name: str = "worker") -> subprocess.Popen:
        log = (tmp_path / f"{name}-{len(procs)}.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--workers", str(workers)],
            cwd=ROOT,
            env=worker_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log_path = log.name  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A real redis-server (Debian package) on a free port, with persistence in a temp dir."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    pytest.importorskip("redis")
    import redis

    port = free_port()
    data = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        wait_for(lambda: ping(client), 20, "redis-server to answer")
    except TimeoutError:
        proc.kill()
        pytest.skip("redis-server did not start")
    try:
        yield url
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def redis_db(redis_url) -> Iterator[str]:
    """The session's redis-server, emptied before each test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    yield redis_url
