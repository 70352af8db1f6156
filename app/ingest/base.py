"""The loader interface, input limits, typed errors and the text helpers every loader shares.

A loader turns the bytes of one format into a ``Document``. It declares what it reads as
classmethods (``supported_suffixes``, ``sniff``) so that ``app.ingest.sniff`` can choose one by
content, and it never touches the file system: ``app.ingest.load`` reads the file, checks the
byte limit, picks the loader and finishes the document (hash, language, empty check).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from app.datamodel import BLOCK_SEPARATOR, BlockKind, DocFormat, Document, Note, TextBlock
from app.errors import IngestError, LimitError
from app.settings import MB, Settings

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


class PasswordRequiredError(IngestError):
    """The PDF is encrypted: ask the user for its password (``wrong`` when one was given)."""

    code = "password"

    def __init__(self, name: str, *, wrong: bool) -> None:
        if wrong:
            super().__init__(
                f"The password for '{name}' is not correct. Please enter it again.",
                f"“{name}”的密码不正确，请重新输入。",
            )
        else:
            super().__init__(
                f"'{name}' is protected by a password. Enter the password to open it.",
                f"“{name}”受密码保护，请输入密码后打开。",
            )
        self.wrong = wrong


def _fmt_int(value: float) -> str:
    return f"{int(value):,}"


def _limit_error(en: str, zh: str, *, setting: str, limit: float, actual: float) -> LimitError:
    err = LimitError(en, zh, detail=f"{setting}: {actual} > {limit}")
    # Callers (UI, jobs) can show or log the numbers without parsing the message.
    err.setting, err.limit, err.actual = setting, limit, actual  # type: ignore[attr-defined]
    return err


def too_many_bytes(name: str, size: int, limit: int) -> LimitError:
    mb, limit_mb = size / MB, limit / MB  # decimal MB, as GLYPH_MAX_UPLOAD_MB counts them
    return _limit_error(
        f"'{name}' is {mb:.1f} MB ({size:,} bytes); the upload limit is {limit_mb:g} MB "
        f"({limit:,} bytes; setting GLYPH_MAX_UPLOAD_MB).",
        f"“{name}”大小为 {mb:.1f} MB（{size:,} 字节），超过上传上限 {limit_mb:g} MB"
        f"（{limit:,} 字节；可通过设置 GLYPH_MAX_UPLOAD_MB 调整）。",
        setting="GLYPH_MAX_UPLOAD_MB",
        limit=limit,
        actual=size,
    )


def too_many_pages(name: str, pages: int, limit: int) -> LimitError:
    return _limit_error(
        f"'{name}' has {_fmt_int(pages)} pages; at most {_fmt_int(limit)} pages are read "
        "(setting GLYPH_MAX_PAGES).",
        f"“{name}”共 {_fmt_int(pages)} 页，超过页数上限 {_fmt_int(limit)} 页（可通过设置 GLYPH_MAX_PAGES 调整）。",
        setting="GLYPH_MAX_PAGES",
        limit=limit,
        actual=pages,
    )


def too_many_chars(name: str, chars: int, limit: int, *, at_least: bool = False) -> LimitError:
    more = "more than " if at_least else ""
    more_zh = "超过 " if at_least else ""
    return _limit_error(
        f"The text of '{name}' has {more}{_fmt_int(chars)} characters; the limit is "
        f"{_fmt_int(limit)} characters (setting GLYPH_MAX_CHARS).",
        f"“{name}”的文字有{more_zh} {_fmt_int(chars)} 个字符，超过字符上限 {_fmt_int(limit)}（可通过设置 GLYPH_MAX_CHARS 调整）。",
        setting="GLYPH_MAX_CHARS",
        limit=limit,
        actual=chars,
    )


def too_long_paste(chars: int, limit: int) -> LimitError:
    return _limit_error(
        f"The pasted text has {_fmt_int(chars)} characters; the limit is {_fmt_int(limit)} "
        "characters (setting GLYPH_MAX_PASTE_CHARS). Upload it as a file instead.",
        f"粘贴的文字有 {_fmt_int(chars)} 个字符，超过上限 {_fmt_int(limit)}（可通过设置 GLYPH_MAX_PASTE_CHARS 调整），请改为上传文件。",
        setting="GLYPH_MAX_PASTE_CHARS",
        limit=limit,
        actual=chars,
    )


def unreadable(name: str, what: str, what_zh: str, *, detail: str | None = None) -> IngestError:
    """The file is damaged or not what it claims to be."""
    return IngestError(
        f"'{name}' cannot be read: {what}.",
        f"无法读取“{name}”：{what_zh}。",
        detail=detail,
    )


# ----------------------------------------------------------------------------------------------
# Limits
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What a loader may accept; built from ``Settings`` (see ``GLYPH_MAX_*``)."""

    max_bytes: int = 50 * MB
    max_pages: int = 500
    max_chars: int = 2_000_000
    ocr_scanned_pages: int = 0  # scanned PDF pages read by OCR at load (0: none)
    ocr_engine: str = "rapidocr"

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_bytes=settings.max_upload_bytes,
            max_pages=settings.max_pages,
            max_chars=settings.max_chars,
            ocr_scanned_pages=settings.ocr_scanned_pages,
            ocr_engine=settings.ocr_engine,
        )


# ----------------------------------------------------------------------------------------------
# Text helpers
# ----------------------------------------------------------------------------------------------

# C0/C1 controls except \t and \n, DEL, and non-characters. \r, \v, \f and the Unicode line and
# paragraph separators become \n first (see ``clean_text``).
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_NEWLINES_RE = re.compile("\r\n?|[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def clean_text(text: str) -> str:
    """Newlines to ``\\n`` and control characters removed; ``\\t`` is kept."""
    text = _NEWLINES_RE.sub("\n", text)
    return _CONTROL_RE.sub("", text)


def page_list(pages: Iterable[int]) -> str:
    """1-based, compact: [0, 1, 2, 5] -> '1–3, 6'."""
    nums = sorted({p + 1 for p in pages})
    parts: list[str] = []
    start = prev = None
    for n in [*nums, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(f"{start}" if start == prev else f"{start}–{prev}")
        start = prev = n
    return ", ".join(parts)


# ----------------------------------------------------------------------------------------------
# Building documents
# ----------------------------------------------------------------------------------------------


class DocumentBuilder:
    """Collects blocks, enforces the character limit as they arrive, and bilingual notes."""

    def __init__(self, name: str, fmt: DocFormat, limits: Limits) -> None:
        self.name, self.format, self.limits = name, fmt, limits
        self.blocks: list[TextBlock] = []
        self.notes: list[Note] = []
        self.metadata: dict[str, Any] = {}
        self._chars = 0

    @property
    def chars(self) -> int:
        return self._chars

    def count(self, n: int) -> None:
        """Account for ``n`` more characters; raise ``LimitError`` past ``max_chars``."""
        self._chars += n
        if self._chars > self.limits.max_chars:
            raise too_many_chars(self.name, self._chars, self.limits.max_chars, at_least=True)

    def add(self, text: str, kind: BlockKind = "paragraph", **fields: Any) -> TextBlock | None:
        """Append a block (skipped when blank unless ``keep_blank``)."""
        keep_blank = fields.pop("keep_blank", False)
        if not keep_blank and not text.strip():
            return None
        self.count(len(text) + len(BLOCK_SEPARATOR))
        block = TextBlock(text=text, kind=kind, **fields)
        self.blocks.append(block)
        return block

    def add_block(self, block: TextBlock) -> None:
        self.count(len(block.text) + len(BLOCK_SEPARATOR))
        self.blocks.append(block)

    def note(self, en: str, zh: str) -> None:
        self.notes.append(Note(en=en, zh=zh))

    def build(self, **fields: Any) -> Document:
        return Document(
            name=self.name,
            format=fields.pop("format", self.format),
            blocks=self.blocks,
            notes=list(self.notes),
            metadata=dict(self.metadata),
            **fields,
        )


def paragraph_blocks(text: str, kind: BlockKind = "paragraph") -> list[tuple[str, BlockKind]]:
    """Split text into runs of non-blank lines and runs of blank lines, one block per run.

    Joining the blocks with ``\n`` gives back ``text`` exactly, so offsets stay true to the
    file, while a long file does not turn into one block object (~600 bytes) per line.
    """
    out: list[tuple[str, BlockKind]] = []
    run: list[str] = []
    blank = False
    for line in text.split("\n"):
        is_blank = not line.strip()
        if run and is_blank != blank:
            out.append(("\n".join(run), kind))
            run = []
        run.append(line)
        blank = is_blank
    if run:
        out.append(("\n".join(run), kind))
    return out


def normalize_name(name: str) -> str:
    """A display name without path parts or control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base or "document"


# ----------------------------------------------------------------------------------------------
# The loader interface
# ----------------------------------------------------------------------------------------------


class Loader(ABC):
    """One input format. Subclasses set ``format`` and ``suffixes`` and implement ``load``."""

    format: ClassVar[DocFormat]
    suffixes: ClassVar[tuple[str, ...]] = ()
    label: ClassVar[str] = ""  # human name, e.g. "PDF"

    @classmethod
    def supported_suffixes(cls) -> list[str]:
        return list(cls.suffixes)

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes) -> bool:
        """True when the first bytes (at least 4 KiB when the file has them) look like this format."""

    @classmethod
    @abstractmethod
    def load(
        cls, data: bytes, name: str, password: str | None = None, limits: Limits | None = None
    ) -> Document:
        """Parse ``data``; raise ``IngestError`` (or a subclass) for anything the user must fix."""
