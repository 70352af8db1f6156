"""Shared fixtures. Fixtures are made by code here, not committed as binary blobs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Tests never reach a model hub: weights are built locally (see docs/ARCHITECTURE.md, "Testing").
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tesseract: one thread per process


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.get_closest_marker("gpu") for item in items) and not _cuda_available():
        skip = pytest.mark.skip(reason="needs CUDA (torch.cuda.is_available() is false)")
        for item in items:
            if item.get_closest_marker("gpu"):
                item.add_marker(skip)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings isolated from the user's environment, with data under tmp_path."""
    from app.settings import Settings

    for key in list(os.environ):
        if key.startswith("GLYPH_"):
            monkeypatch.delenv(key, raising=False)
    return Settings(_env_file=None, data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory):
    """A tiny random-weight GLM-4.1V checkpoint directory (model, tokenizer, processor).

    Built once per session by ``tests.helpers.tiny_vlm.build_tiny_glm4v`` and loaded by the code
    under test exactly like a real checkpoint directory.
    """
    from tests.helpers.tiny_vlm import build_tiny_glm4v

    return build_tiny_glm4v(tmp_path_factory.mktemp("tiny-glm4v"))


# One Playwright instance per test run: the sync API refuses a second one while the first is open,
# so the chromium fixtures live here and every folder (ui, security, reliability) shares them.
@pytest.fixture(scope="session")
def browser():
    from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed (scripts/setup.sh --dev installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page_factory(browser):
    pages = []

    def make(locale: str = "en-US"):
        context = browser.new_context(viewport={"width": 1600, "height": 1100}, locale=locale)
        page = context.new_page()
        page.set_default_timeout(60_000)
        pages.append(context)
        return page

    yield make
    for context in pages:
        context.close()
