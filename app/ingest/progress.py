"""Progress of a long ingest step, for whoever waits on it (the UI's progress bar).

Reading a scanned PDF runs OCR on every scanned page and can take minutes; the loaders report
each page through ``report_scanned`` to the callback that the caller set with
``scanned_progress`` (a context variable: the loader interface stays as it is, and a callback
set in one thread or request never reaches another).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

ScanProgress = Callable[[int, int], None]
"""``(pages done, pages to read)``: called before each scanned page and once after the last."""

_CALLBACK: ContextVar[ScanProgress | None] = ContextVar("glyph_scan_progress", default=None)


@contextmanager
def scanned_progress(callback: ScanProgress | None) -> Iterator[None]:
    """Report the OCR of scanned pages to ``callback`` while the block runs."""
    token = _CALLBACK.set(callback)
    try:
        yield
    finally:
        _CALLBACK.reset(token)


def report_scanned(done: int, total: int) -> None:
    """``done`` of ``total`` scanned pages are read (a failing callback never stops the read)."""
    callback = _CALLBACK.get()
    if callback is None or total <= 0:
        return
    try:
        callback(done, total)
    except Exception:  # a closed browser tab, say: the document is still read
        import logging

        logging.getLogger(__name__).debug("scan progress callback failed", exc_info=True)
