"""Files of the job queue under the data dir: atomic writes and inputs copied in at submission.

Layout (``DATA_DIR/jobs``)::

    jobs.db                  the job table (SQLite; Redis when GLYPH_REDIS_URL is set)
    queue.db                 huey's queue (SQLite only)
    uploads/<job id>/        the job's inputs, copied here when it is submitted
    results/<job id>/        result.json, answer.json, result.md and evidence-page*.png (ask);
                             results.jsonl and evidence/ (batch, unless --out says elsewhere)

Every result file is written atomically and durably (``app.files``: a temporary name in the same
folder, flushed to disk and renamed over its final name), so a reader sees the old file or the
new one, never half of one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from PIL import Image

from app.datamodel import Document
from app.errors import GlyphError
from app.files import atomic_copy, atomic_open, atomic_write_text
from app.jobs.models import DocumentRef
from app.settings import Settings

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def jobs_root(settings: Settings) -> Path:
    return settings.data_dir / "jobs"


def upload_dir(settings: Settings, job_id: str) -> Path:
    return jobs_root(settings) / "uploads" / job_id


def result_dir(settings: Settings, job_id: str) -> Path:
    return jobs_root(settings) / "results" / job_id


def safe_name(name: str, default: str = "document") -> str:
    """A file name without folders or odd characters (CJK letters are kept)."""
    base = _UNSAFE.sub("_", Path(name).name).strip("._")
    return base[:120] or default


def resolve(settings: Settings, path: str) -> Path:
    """A path stored in a job (relative to the data dir, or absolute) as a real path."""
    p = Path(path)
    return p if p.is_absolute() else settings.data_dir / p


def relative(settings: Settings, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(settings.data_dir.resolve()))
    except ValueError:
        return str(path.resolve())


def atomic_save_png(path: Path, image: Image.Image) -> Path:
    with atomic_open(path) as fh:
        image.save(fh, format="PNG")
    return path


def read_json(path: Path) -> Any | None:
    """The JSON in ``path``, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stage_file(
    settings: Settings, job_id: str, src: Path, name: str | None = None, sub: str = ""
) -> DocumentRef:
    """Copy an input file into the job's upload folder; the job refers to the copy only."""
    src = Path(src)
    display = name or src.name
    dest = upload_dir(settings, job_id) / sub / safe_name(display)
    atomic_copy(src, dest)
    return DocumentRef(kind="file", path=relative(settings, dest), name=display)


def stage_text(
    settings: Settings, job_id: str, text: str, name: str = "pasted.txt", sub: str = ""
) -> DocumentRef:
    dest = upload_dir(settings, job_id) / sub / safe_name(name, "pasted.txt")
    atomic_write_text(dest, text)
    return DocumentRef(kind="text", path=relative(settings, dest), name=name)


def stage_document(settings: Settings, job_id: str, document: Document) -> DocumentRef:
    """An extracted document as JSON (an unlocked encrypted PDF: no password is kept)."""
    dest = upload_dir(settings, job_id) / (safe_name(document.name) + ".document.json")
    atomic_write_text(dest, document.model_dump_json())
    return DocumentRef(kind="document", path=relative(settings, dest), name=document.name)


def open_collection(pipeline, folder: Path, name: str) -> Document:
    """The documents under ``folder`` as one collection; a file that cannot be opened is left out
    with a note on the collection (an error when none can be)."""
    from app.ingest import documents_in
    from app.ingest.collection import left_out, merge_documents

    docs, notes = [], []
    for path in documents_in(folder):
        shown = path.relative_to(folder).as_posix()
        try:
            docs.append(pipeline.open_document(path, name=shown))
        except GlyphError as err:
            notes.append(left_out(shown, err))
    if not docs:
        raise GlyphError(
            f"None of the documents of {name} could be opened.", f"{name} 中的文档都无法打开。"
        )
    merged = merge_documents(docs, name=name)
    return merged.model_copy(update={"notes": [*merged.notes, *notes]})


def open_ref(pipeline, settings: Settings, ref: DocumentRef) -> Document:
    """The ``Document`` a job refers to, read through the pipeline's loaders and limits."""
    path = resolve(settings, ref.path)
    if ref.kind == "collection" and path.is_dir():
        return open_collection(pipeline, path, ref.name)
    if not path.is_file():
        raise GlyphError(
            f"The input of this job ({ref.name}) is no longer in the data dir ({path}).",
            f"此任务的输入（{ref.name}）已不在数据目录中（{path}）。",
        )
    if ref.kind == "text":
        return pipeline.open_text(path.read_text(encoding="utf-8"), name=ref.name)
    if ref.kind == "document":
        return Document.model_validate_json(path.read_text(encoding="utf-8"))
    return pipeline.open_document(path, name=ref.name)
