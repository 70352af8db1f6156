"""界面推理.sh, the image's entrypoint, run in a clean environment (``env -i``) as Docker runs it.

One test starts the real UI with the project's Python (``GLYPH_PYTHON``, as the image sets it) on a
free port and waits for HTTP 200; the others replace the Python with a stub that records how it was
called, to check the script's decisions (reader line, data-dir warning, arguments) in milliseconds.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from deploy_files import ENTRYPOINT

START_TIMEOUT_S = 90  # ~5-10 s here; generous for a loaded 2-core CI machine
HAS_MODEL_DIR = Path("/root/models/Glyph/config.json").is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), **extra}


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def test_entrypoint_serves_the_ui_in_a_clean_environment(tmp_path):
    port = _free_port()
    env = _clean_env(
        tmp_path,
        GLYPH_PYTHON=sys.executable,
        GLYPH_PORT=str(port),
        GLYPH_DATA_DIR=str(tmp_path / "data"),
    )
    log = tmp_path / "entrypoint.log"
    with log.open("wb") as out:
        # env -i: nothing of the test's environment leaks in, like a container's start
        proc = subprocess.Popen(
            ["env", "-i", *[f"{k}={v}" for k, v in env.items()], str(ENTRYPOINT)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            start_new_session=True,  # its own process group, stopped as a whole below
        )
        try:
            status, deadline = None, time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                        status = resp.status
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.5)
            text = log.read_text(encoding="utf-8", errors="replace")
            assert status == 200, f"no HTTP 200 on port {port} within {START_TIMEOUT_S} s:\n{text}"
        finally:
            _stop(proc)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert f"open http://localhost:{port} in your browser" in text
    assert "GPU:" in text
    if not HAS_MODEL_DIR:  # the script picks /root/models/Glyph by itself when it exists
        assert "built-in OCR reader" in text
    assert (tmp_path / "data").is_dir(), "the server creates its data directory"
    assert "Traceback" not in text


# --- the script's decisions, with a stub Python ---------------------------------------------------

STUB = """#!/bin/sh
# Stub of the project's Python: answers the CUDA probe, records the final exec's arguments.
if [ "$1" = "-" ]; then cat >/dev/null; echo "no"; exit 0; fi
echo "STUB-ARGS: $*"
echo "STUB-ENV: GLYPH_HOST=$GLYPH_HOST GLYPH_PORT=$GLYPH_PORT GLYPH_MODEL=${GLYPH_MODEL:-}"
"""


def _run_stub(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    stub = tmp_path / "python-stub"
    stub.write_text(STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    full = _clean_env(tmp_path, GLYPH_PYTHON=str(stub), **env)
    return subprocess.run(
        ["env", "-i", *[f"{k}={v}" for k, v in full.items()], str(ENTRYPOINT), *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        check=False,
    )


def test_defaults_and_arguments_reach_the_server(tmp_path):
    result = _run_stub(tmp_path, "--port", "9999")
    assert result.returncode == 0, result.stderr
    assert "STUB-ARGS: -m app serve --port 9999" in result.stdout
    assert "GLYPH_HOST=0.0.0.0 GLYPH_PORT=7860" in result.stdout
    assert "GPU: none detected" in result.stdout
    assert "open http://localhost:7860 in your browser" in result.stdout


@pytest.mark.skipif(HAS_MODEL_DIR, reason="/root/models/Glyph exists here and is picked up")
def test_reader_line_follows_the_settings(tmp_path):
    plain = _run_stub(tmp_path)
    assert "model: none configured — using the built-in OCR reader (CPU)" in plain.stdout

    vllm = _run_stub(tmp_path, GLYPH_READER="openai", GLYPH_OPENAI_BASE_URL="http://vllm:8000/v1")
    assert "reader: OpenAI-compatible server http://vllm:8000/v1" in vllm.stdout
    assert "built-in OCR reader" not in vllm.stdout

    auto_server = _run_stub(tmp_path, GLYPH_OPENAI_BASE_URL="http://vllm:8000/v1")
    assert "OpenAI-compatible server" in auto_server.stdout  # auto: no model, so the server

    model = _run_stub(tmp_path, GLYPH_MODEL=str(tmp_path))
    assert f"model: {tmp_path}" in model.stdout
    assert f"GLYPH_MODEL={tmp_path}" in model.stdout

    forced = _run_stub(tmp_path, GLYPH_READER="ocr", GLYPH_MODEL=str(tmp_path))
    assert "built-in OCR reader (CPU), as GLYPH_READER=ocr asks" in forced.stdout


def test_host_shown_as_given(tmp_path):
    result = _run_stub(tmp_path, GLYPH_HOST="127.0.0.1", GLYPH_PORT="8123")
    assert "open http://127.0.0.1:8123 in your browser" in result.stdout


def test_no_data_dir_warning_when_data_dir_is_set(tmp_path):
    result = _run_stub(tmp_path, GLYPH_DATA_DIR=str(tmp_path / "data"))
    assert "not writable" not in result.stderr
