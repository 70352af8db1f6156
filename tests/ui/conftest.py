"""A real server on 127.0.0.1 and Debian's chromium driven by Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.server import app_server, free_port, wait_http  # noqa: F401 (re-exported)

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "_output" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory):
    """`python -m app serve` with the built-in reader and a private data dir."""
    data = tmp_path_factory.mktemp("ui-data")
    with app_server(data, data / "server.log", {"GLYPH_READER": "auto"}) as (url, _):
        yield url


@pytest.fixture(scope="session")
def shots() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
