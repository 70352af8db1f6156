"""Content-addressed store of original PDFs, so page images can be rendered later on demand.

Keeping the bytes on the ``Document`` would copy up to 50 MB through every cache, job and
JSON dump, and keeping only the uploaded path breaks as soon as the web framework deletes its
temporary file. So ``app.ingest.load`` writes each PDF once to
``DATA_DIR/originals/<sha[:2]>/<sha256>.pdf`` (same bytes ⇒ same file, written atomically) and
records that path in ``Document.metadata['original_path']``; ``find_original`` finds it again
from the path or from ``Document.source_sha256`` on another process or machine that shares
DATA_DIR. Encrypted PDFs are stored as uploaded (still encrypted): the password is never
written anywhere, so rendering their pages needs it again.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from app.datamodel import Document
from app.files import atomic_write_bytes
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)


def originals_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "originals"


def _path_for(sha256: str, suffix: str, settings: Settings | None) -> Path:
    return originals_dir(settings) / sha256[:2] / f"{sha256}{suffix}"


def save_original(
    data: bytes, sha256: str, suffix: str = ".pdf", settings: Settings | None = None
) -> Path | None:
    """Write ``data`` under its hash (once); None when the data directory is not writable."""
    path = _path_for(sha256, suffix, settings)
    try:
        if path.is_file() and path.stat().st_size == len(data):
            os.utime(path)  # mark as recently used for ``prune_originals``
            return path
        # atomic: readers never see half a file; same bytes again if lost, so no fsync
        atomic_write_bytes(path, data, durable=False, mode=0o600)
    except OSError as err:
        log.warning("cannot store the original under %s: %s", path.parent, err)
        return None
    return path


def find_original(doc: Document, settings: Settings | None = None) -> Path | None:
    """The stored original of ``doc`` (by recorded path, then by hash), or None."""
    for key in ("original_path", "source_path"):
        recorded = doc.metadata.get(key)
        if recorded and Path(recorded).is_file():
            return Path(recorded)
    return find_original_file(None, doc.source_sha256, settings)


def find_original_file(
    recorded: str | None, sha256: str | None, settings: Settings | None = None
) -> Path | None:
    """The stored original PDF at ``recorded``, else under ``sha256``; None when neither is."""
    if recorded and Path(recorded).is_file():
        return Path(recorded)
    if sha256:
        candidate = _path_for(sha256, ".pdf", settings)
        if candidate.is_file():
            return candidate
    return None


def prune_originals(max_age_days: float, settings: Settings | None = None) -> int:
    """Delete originals not used for ``max_age_days``; returns how many were removed."""
    cutoff = time.time() - max_age_days * 86400
    removed = 0
    root = originals_dir(settings)
    if not root.is_dir():
        return 0
    for path in root.glob("*/*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError as err:
            log.info("prune: cannot remove %s: %s", path, err)
    return removed
