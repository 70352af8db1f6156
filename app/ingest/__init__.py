"""Ingest: files (PDF, DOCX, HTML, TXT, Markdown, code) and pasted text into a ``Document``.

``load`` reads a path or bytes, enforces the byte limit, picks a loader by content
(``app.ingest.sniff``; the extension is only a hint), and finishes the document: hash of the
original bytes, language by script, an error when nothing readable is left. PDFs are also
written to the originals store (``app.ingest.store``) so that ``app.ingest.pdf.page_image`` can
render their pages later. Every failure the user can act on is an ``IngestError`` (``LimitError``
for limits, ``PasswordRequiredError`` for encrypted PDFs) with an English and a Chinese message.

Notes on the document (``Document.notes``) are ``Note``s, in English and Chinese.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path, PurePath

from app.datamodel import Document, Note
from app.errors import IngestError
from app.ingest.base import (
    Limits,
    Loader,
    PasswordRequiredError,
    normalize_name,
    too_long_paste,
    too_many_bytes,
    too_many_chars,
)
from app.ingest.text import build_text_document
from app.settings import Settings, get_settings
from app.text import detect_language

__all__ = [
    "IngestError",
    "Limits",
    "Loader",
    "PasswordRequiredError",
    "load",
    "load_text",
    "supported_suffixes",
]

log = logging.getLogger(__name__)

_KIND_EN = {"pdf": "PDF", "docx": "Word document", "html": "HTML page", "txt": "plain text"}
_KIND_ZH = {"pdf": "PDF", "docx": "Word 文档", "html": "HTML 网页", "txt": "纯文本"}


def supported_suffixes() -> list[str]:
    """File suffixes the upload widget offers (content decides the format, not the suffix)."""
    from app.ingest.sniff import LOADERS

    return sorted({s for loader in LOADERS for s in loader.supported_suffixes()})


def documents_in(folder: Path) -> list[Path]:
    """The documents under ``folder`` (recursively, sorted): files with a supported suffix, hidden
    files left out. Empty when there are none."""
    suffixes = set(supported_suffixes())
    return sorted(
        p
        for p in Path(folder).rglob("*")
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")
    )


def _read_source(
    source: str | Path | bytes, name: str | None, limits: Limits
) -> tuple[bytes, str, Path | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        display = normalize_name(name or "document")
        if len(data) > limits.max_bytes:
            raise too_many_bytes(display, len(data), limits.max_bytes)
        return data, display, None
    path = Path(source)
    display = normalize_name(name or path.name)
    try:
        if not path.exists():
            raise IngestError(f"The file '{path}' does not exist.", f"文件“{path}”不存在。")
        if not path.is_file():
            raise IngestError(f"'{path}' is not a file.", f"“{path}”不是文件。")
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise too_many_bytes(display, size, limits.max_bytes)
        with path.open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)  # a file growing while we read stays bounded
    except OSError as err:
        raise IngestError(
            f"The file '{display}' cannot be opened: {err.strerror or err}.",
            f"无法打开文件“{display}”：{err.strerror or err}。",
            detail=str(err),
        ) from None
    if len(data) > limits.max_bytes:
        raise too_many_bytes(display, len(data), limits.max_bytes)
    return data, display, path


def _note(doc: Document, en: str, zh: str) -> None:
    doc.notes.append(Note(en=en, zh=zh))


def load(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    password: str | None = None,
    settings: Settings | None = None,
) -> Document:
    """Read a file into a ``Document``; the loader is chosen by content, not by extension.

    ``source`` is a path (``str`` or ``Path``) or the file's bytes; ``name`` is what the user
    sees (default: the file name, or "document" for bytes) and its suffix is a hint only.
    ``password`` opens encrypted PDFs. Raises ``IngestError`` and its subclasses.
    """
    from app.ingest.sniff import detect_loader, loader_for_suffix

    settings = settings or get_settings()
    limits = Limits.from_settings(settings)
    data, display, path = _read_source(source, name, limits)
    if not data:
        raise IngestError(f"'{display}' is empty (0 bytes).", f"“{display}”是空文件（0 字节）。")

    loader = detect_loader(data, display)
    try:
        doc = loader.load(data, display, password, limits)
    except IngestError:
        raise
    except (MemoryError, RecursionError) as err:
        raise IngestError(
            f"'{display}' is too complex to read with the available memory.",
            f"“{display}”结构过于复杂，可用内存不足以读取。",
            detail=type(err).__name__,
        ) from None
    except Exception as err:  # a parser bug or an input no test foresaw: never a traceback
        log.exception("unexpected error while reading %s with %s", display, loader.__name__)
        raise IngestError(
            f"'{display}' could not be read as {loader.label or loader.format}.",
            f"无法将“{display}”作为 {loader.label or loader.format} 读取。",
            detail=f"{type(err).__name__}: {err}",
        ) from None

    doc.source_sha256 = hashlib.sha256(data).hexdigest()
    hinted = loader_for_suffix(display)
    if hinted is not None and hinted is not loader:
        suffix = PurePath(display.lower()).suffix
        kind = "txt" if loader.format == "txt" else loader.format
        _note(
            doc,
            f"The file is named '{suffix}' but its content is {_KIND_EN.get(kind, kind)}; "
            "it was read by its content.",
            f"文件扩展名为“{suffix}”，但内容是{_KIND_ZH.get(kind, kind)}，已按实际内容读取。",
        )
    return _finish(doc, data, path, settings)


def _finish(doc: Document, data: bytes, path: Path | None, settings: Settings) -> Document:
    text = doc.text
    if len(text) > settings.max_chars:
        raise too_many_chars(doc.name, len(text), settings.max_chars)
    scanned = any(page.scanned for page in doc.pages)
    if not text.strip() and not scanned:
        raise IngestError(
            f"'{doc.name}' contains no readable text.",
            f"“{doc.name}”中没有可读取的文字。",
        )
    if doc.language is None:
        doc.language = detect_language(text, default=None)
    if doc.format == "pdf":
        from app.ingest.store import save_original

        stored = save_original(data, doc.source_sha256 or "", ".pdf", settings)
        if stored is not None:
            doc.metadata["original_path"] = str(stored)
        if path is not None:
            doc.metadata["source_path"] = str(path.resolve())
    return doc


def load_text(text: str, *, name: str = "pasted.txt", settings: Settings | None = None) -> Document:
    """Pasted text into a ``Document`` (format 'paste'), up to ``settings.max_paste_chars``."""
    settings = settings or get_settings()
    if len(text) > settings.max_paste_chars:
        raise too_long_paste(len(text), settings.max_paste_chars)
    display = normalize_name(name)
    limits = Limits.from_settings(settings)
    # Pasted text is already bounded by max_paste_chars; max_chars must not reject it first.
    limits = Limits(limits.max_bytes, limits.max_pages, max(limits.max_chars, len(text) + 1))
    doc = build_text_document(text, display, "paste", limits)
    if not doc.text.strip():
        raise IngestError("The pasted text is empty.", "粘贴的文字为空。")
    doc.source_sha256 = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    doc.language = detect_language(doc.text, default=None)
    return doc
