"""Where the web UI keeps files, and for how long.

* ``private_root()``: ``$TMPDIR/glyph-<uid>`` (mode 0700) — not the shared ``/tmp/gradio`` that
  every Gradio app and user of the machine can list.
* Gradio's own cache (uploads as they arrive, page images and downloads it serves) goes to
  ``<root>/gradio`` (``GRADIO_TEMP_DIR``, set by ``launch`` unless the operator set it). Gradio
  serves files from there only, under a directory named by a salted SHA-256 of their content,
  and deletes them ``GLYPH_TEMP_RETENTION_S`` after they were made (``delete_cache``) and when
  the server stops. Images it caches are written once, atomically (``atomic_image_cache``).
* Each browser session has its own directory under ``<root>/sessions`` (``Session.workdir``):
  the open document's upload is copied there and opened from there; answers exported for
  download are written there. Gradio never serves that directory (it is outside its cache and
  not in ``allowed_paths``); the whole directory is deleted when the session ends.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from app.errors import GlyphError

log = logging.getLogger(__name__)

UPLOADS = "uploads"
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class StorageError(GlyphError):
    """The server could not write a file (disk full, permissions)."""

    code = "storage"


def storage_error(err: OSError, what_en: str, what_zh: str) -> StorageError:
    """A clear message for ``err``; the OS detail goes to the log only."""
    if err.errno in _DISK_FULL:
        return StorageError(
            f"The server's disk is full: {what_en} could not be saved. Please tell the "
            "administrator (free space in the temp/data directory).",
            f"服务器磁盘已满：无法保存{what_zh}。请联系管理员（清理临时/数据目录的空间）。",
            detail=str(err),
        )
    return StorageError(
        f"The server could not save {what_en} ({err.strerror or type(err).__name__}).",
        f"服务器无法保存{what_zh}（{err.strerror or type(err).__name__}）。",
        detail=str(err),
    )


def _uid() -> str:
    getuid = getattr(os, "getuid", None)
    return str(getuid()) if getuid else "user"


def private_root() -> Path:
    """``$TMPDIR/glyph-<uid>`` with mode 0700, owned by this user (else a fresh private dir)."""
    root = Path(tempfile.gettempdir()) / f"glyph-{_uid()}"
    try:
        root.mkdir(mode=0o700, exist_ok=True)
        st = root.lstat()
        owned = not hasattr(os, "getuid") or st.st_uid == os.getuid()
        if root.is_symlink() or not root.is_dir() or not owned:
            raise PermissionError(f"{root} is not a private directory of this user")
        os.chmod(root, 0o700)
    except OSError as err:  # someone else made it first: never share it
        log.warning("temp root %s unusable (%s); using a fresh private one", root, err)
        root = Path(tempfile.mkdtemp(prefix="glyph-"))
    return root


def sessions_root(root: Path | None = None) -> Path:
    path = (root or private_root()) / "sessions"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def configure_gradio_temp(root: Path | None = None) -> Path:
    """Point Gradio's cache at ``<root>/gradio`` unless ``GRADIO_TEMP_DIR`` is set already.

    Must run before the Blocks are built: Gradio reads the variable when it creates components
    and the server app.
    """
    current = os.environ.get("GRADIO_TEMP_DIR")
    if current:
        return Path(current)
    path = (root or private_root()) / "gradio"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(path)
    return path


def atomic_image_cache() -> None:
    """Make Gradio write the images it serves (page previews, evidence) atomically, once.

    Gradio's ``save_pil_to_cache`` names a cached image by the hash of its bytes and rewrites the
    file in place every time: when two sessions show the same page at once (two people open the
    same report), one request truncates the file while the other's download of it is streaming,
    and that download breaks ("peer closed connection", a blank preview tile). Here an image that
    is already cached is only touched (``delete_cache`` ages files by ctime), and a new one is
    written under a temporary name and renamed into place. Idempotent.
    """
    from gradio import processing_utils as pu

    from app.files import atomic_write_bytes

    if getattr(pu.save_pil_to_cache, "_glyph_atomic", False):
        return

    def save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
        data = pu.encode_pil_to_bytes(img, format)
        path = (Path(cache_dir) / pu.hash_bytes(data) / f"{name}.{format}").resolve()
        try:
            os.utime(path)  # same bytes already there: keep that file
        except FileNotFoundError:
            atomic_write_bytes(path, data, durable=False)  # a cache: no fsync on the hot path
        return str(path)

    save_pil_to_cache._glyph_atomic = True  # type: ignore[attr-defined]
    pu.save_pil_to_cache = save_pil_to_cache


def delete_cache(retention_s: float) -> tuple[int, int]:
    """Gradio's ``delete_cache=(every, age)``: check at most every 10 min, or more often for a
    short retention, so no file outlives ``retention_s`` by much."""
    age = max(1, int(retention_s))
    return max(1, min(600, age // 2)), age


def copy_upload(workdir: Path, source: str | Path) -> Path:
    """Copy an upload into ``workdir/uploads/<random>/<name>``; returns the copy."""
    src = Path(source)
    dest_dir = workdir / UPLOADS / uuid.uuid4().hex[:10]
    dest = dest_dir / (src.name or "document")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    except OSError as err:
        shutil.rmtree(dest_dir, ignore_errors=True)
        if isinstance(err, FileNotFoundError) and not src.exists():
            raise StorageError(
                "The upload is no longer on the server; please upload the file again.",
                "服务器上已没有该上传文件，请重新上传。",
            ) from None
        raise storage_error(err, "the upload", "上传的文件") from None
    return dest


def prune_uploads(workdir: Path, keep: set[Path | None]) -> None:
    """Delete this session's upload copies except those in ``keep``."""
    base = workdir / UPLOADS
    if not base.is_dir():
        return
    keep_dirs = set()
    for path in keep:
        if path is not None and path.is_relative_to(base) and path != base:
            keep_dirs.add(base / path.relative_to(base).parts[0])  # a ZIP's member: its upload
    for child in base.iterdir():
        if child not in keep_dirs:
            shutil.rmtree(child, ignore_errors=True)
