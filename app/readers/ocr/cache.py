"""On-disk cache of OCR results, keyed by the page image hash and the engine version.

A rendered page is deterministic, so the same text and config give the same pixels and the same
key: follow-up questions, re-opened documents and other users asking about the same file read
no pixels twice. Entries are small JSON files written atomically; an unreadable entry is logged
and recomputed, never fatal.
"""

from __future__ import annotations

import errno
import json
import logging
import time
from pathlib import Path

from app.files import atomic_write_json
from app.ocr import OcrLine

log = logging.getLogger(__name__)

FORMAT = 1
FULL_RETRY_S = 60.0  # after ENOSPC, writes pause this long before trying the disk again


class OcrCache:
    """``get``/``put`` OCR lines of one page under ``root/<engine>/<aa>/<sha256>.json``."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0
        self._full_until = 0.0  # monotonic time until which the disk is taken to be full

    def _path(self, engine: str, version: str, page_sha: str) -> Path | None:
        if self.root is None:
            return None
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{engine}-{version}")
        return self.root / safe / page_sha[:2] / f"{page_sha}.json"

    def get(self, engine: str, version: str, page_sha: str) -> list[OcrLine] | None:
        path = self._path(engine, version, page_sha)
        if path is None or not path.is_file():
            self.misses += 1
            return None
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("format") != FORMAT or data.get("sha256") != page_sha:
                raise ValueError("stale or foreign entry")
            lines = [OcrLine.from_dict(item) for item in data["lines"]]
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("OCR cache entry %s is unreadable (%s); reading the page again", path, err)
            self.misses += 1
            return None
        self.hits += 1
        return lines

    def put(self, engine: str, version: str, page_sha: str, lines: list[OcrLine]) -> None:
        path = self._path(engine, version, page_sha)
        if path is None:
            return
        if self._full_until and time.monotonic() < self._full_until:
            return  # the disk was full a moment ago: do not rewrite into it for every page
        payload = {
            "format": FORMAT,
            "sha256": page_sha,
            "engine": engine,
            "version": version,
            "lines": [line.to_dict() for line in lines],
        }
        try:
            # atomic: a reader never sees half a file, and a full disk leaves no temporary file
            atomic_write_json(
                path, payload, durable=False, mode=0o600, indent=None, separators=(",", ":")
            )
        except OSError as err:  # a read-only or full disk costs speed, not the answer
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                if not self._full_until:
                    log.warning(
                        "OCR cache disk is full (%s): pages are read without caching; free "
                        "space under %s (GLYPH_CACHE_DIR) to make follow-up questions fast again",
                        err,
                        self.root,
                    )
                self._full_until = time.monotonic() + FULL_RETRY_S
                return
            log.warning("cannot write OCR cache entry %s: %s", path, err)
        else:
            self._full_until = 0.0
