"""Plain text, Markdown and source code: charset detection, BOMs, newlines, control characters.

Decoding order: a byte-order mark decides; else strict UTF-8; else UTF-8 with a few bad bytes
replaced when the rest is clearly UTF-8 (a truncated download, one corrupt byte); else UTF-16
without a BOM when every other byte is NUL; else charset-normalizer. Whatever comes out must
look like text (few control or unassigned characters), otherwise the file is binary and rejected.
The text is kept exactly (tabs included) apart from newlines, control characters and trailing
blank space at the end of the file, so offsets in ``Document.text`` match the file line by line.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from pathlib import PurePath

from app.datamodel import BlockKind, DocFormat, Document
from app.errors import IngestError
from app.ingest.base import (
    DocumentBuilder,
    Limits,
    Loader,
    clean_text,
    paragraph_blocks,
    too_many_chars,
)

log = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".rmd")
CODE_SUFFIXES = (
    ".py", ".pyi", ".ipynb", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".kt",
    ".kts", ".scala", ".groovy", ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".cs",
    ".go", ".rs", ".rb", ".php", ".swift", ".m", ".mm", ".r", ".jl", ".lua", ".pl", ".pm",
    ".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".cmd", ".sql", ".css", ".scss", ".less",
    ".vue", ".svelte", ".dart", ".hs", ".ex", ".exs", ".erl", ".clj", ".el", ".lisp", ".scm",
    ".f90", ".f", ".v", ".sv", ".vhd", ".asm", ".s", ".cu", ".proto", ".graphql", ".tf",
    ".json", ".jsonl", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".xml", ".gradle",
    ".cmake", ".mk", ".dockerfile",
)  # fmt: skip
PLAIN_SUFFIXES = (".txt", ".text", ".log", ".csv", ".tsv", ".rst", ".tex", ".adoc", ".org")
CODE_FILENAMES = ("makefile", "dockerfile", "cmakelists.txt", "jenkinsfile", "vagrantfile")

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Characters that never occur in real text files: controls other than whitespace, unassigned
# and private-use code points, and the replacement character.
_JUNK_RE = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")
_MAX_JUNK = 0.05
_MAX_BAD_UTF8 = 0.01  # share of bytes that may be replaced in an otherwise valid UTF-8 file


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    replaced: int = 0  # invalid bytes replaced by U+FFFD


class NotTextError(IngestError):
    """The bytes are not text in any encoding we can recognise (binary data)."""


def _not_text(name: str) -> NotTextError:
    return NotTextError(
        f"'{name}' is not a text file (it contains binary data) and is not a supported "
        "document format (PDF, DOCX, HTML, TXT, Markdown, code).",
        f"“{name}”不是文本文件（包含二进制数据），也不是支持的文档格式（PDF、DOCX、HTML、TXT、Markdown、代码）。",
    )


def _too_junky(text: str) -> bool:
    """Binary data decoded by accident: many control, private-use or replacement characters.

    A handful is tolerated in any file (a stray NUL or BEL in a log); binary data decoded as
    text has 10-20% of them.
    """
    sample = text[:100_000]
    junk = len(_JUNK_RE.findall(sample))
    return junk > 4 and junk > _MAX_JUNK * len(sample)


def _looks_utf16(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the sample is mostly ASCII in UTF-16 without a BOM."""
    sample = data[:8192]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, name: str = "document") -> Decoded:
    """Bytes to str with the encoding detected from content; ``NotTextError`` for binary data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(encoding, errors="replace")
            return Decoded(text, encoding + "-bom", text.count("\ufffd"))

    nul = b"\x00" in data[:65536]
    if nul and (utf16 := _looks_utf16(data)):
        text = data.decode(utf16, errors="replace")
        return Decoded(text, utf16, text.count("\ufffd"))

    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if nul:  # NUL bytes and not UTF-8 / UTF-16: binary data
        raise _not_text(name)

    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    multibyte = len(text) < len(data) - 2 * bad  # some valid non-ASCII sequences
    if multibyte and bad <= _MAX_BAD_UTF8 * len(data):
        return Decoded(text, "utf-8", bad)

    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise _not_text(name)
    return Decoded(str(best), best.encoding)


def text_format(name: str, text: str = "") -> DocFormat:
    """'markdown', 'code' or 'txt' from the file name; a shebang line marks code."""
    path = PurePath(name.lower())
    if path.suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if path.suffix in CODE_SUFFIXES or path.name in CODE_FILENAMES:
        return "code"
    if not path.suffix and text.startswith("#!"):
        return "code"
    return "txt"


_MD_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+\S")
_MD_LIST_RE = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+\S")
_MD_FENCE_RE = re.compile(r"^[ \t]{0,3}(```|~~~)")


def markdown_blocks(text: str) -> list[tuple[str, BlockKind, int | None]]:
    """Markdown kept verbatim, labelled heading / list_item / code / paragraph.

    The markup stays in the text (the renderer draws what the author wrote); labels let later
    stages treat headings and list items specially without re-parsing. Headings and list items
    are one block per line; consecutive paragraph lines, blank lines and fenced code lines are
    grouped, so blocks join back (with ``\n``) to exactly the text.
    """
    lines: list[tuple[str, BlockKind, int | None, str]] = []  # (line, kind, level, group)
    in_fence = False
    for line in text.split("\n"):
        if _MD_FENCE_RE.match(line):
            in_fence = not in_fence
            lines.append((line, "code", None, "code"))
        elif in_fence:
            lines.append((line, "code", None, "code"))
        elif not line.strip():
            lines.append((line, "paragraph", None, "blank"))
        elif m := _MD_HEADING_RE.match(line):
            lines.append((line, "heading", len(m.group(1)), ""))
        elif m := _MD_LIST_RE.match(line):
            depth = len(m.group(1).expandtabs(4)) // 2 + 1
            lines.append((line, "list_item", depth, ""))
        else:
            lines.append((line, "paragraph", None, "para"))
    out: list[tuple[str, BlockKind, int | None]] = []
    group = ""
    for line, kind, level, grp in lines:
        if grp and grp == group:
            prev, prev_kind, prev_level = out[-1]
            out[-1] = (prev + "\n" + line, prev_kind, prev_level)
        else:
            out.append((line, kind, level))
        group = grp
    return out


def build_text_document(
    text: str, name: str, fmt: DocFormat, limits: Limits, builder: DocumentBuilder | None = None
) -> Document:
    """Cleaned text into blocks that join back to exactly that text."""
    text = clean_text(text).rstrip()
    if len(text) > limits.max_chars:
        raise too_many_chars(name, len(text), limits.max_chars)
    builder = builder or DocumentBuilder(name, fmt, limits)
    if fmt == "markdown":
        for line, kind, level in markdown_blocks(text):
            builder.add(line, kind, level=level, keep_blank=True)
    else:
        kind: BlockKind = "code" if fmt == "code" else "paragraph"
        for block, block_kind in paragraph_blocks(text, kind):
            builder.add(block, block_kind, keep_blank=True)
    return builder.build(format=fmt)


class TextLoader(Loader):
    """TXT, Markdown and source code (the format follows the file name)."""

    format = "txt"
    suffixes = PLAIN_SUFFIXES + MARKDOWN_SUFFIXES + CODE_SUFFIXES
    label = "text"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        if not head:
            return False
        if any(head.startswith(bom) for bom, _ in _BOMS):
            return True
        if b"\x00" in head and _looks_utf16(head) is not None:
            return True
        return not _too_junky(head.decode("utf-8", errors="ignore"))

    @classmethod
    def load(
        cls, data: bytes, name: str, password: str | None = None, limits: Limits | None = None
    ) -> Document:
        limits = limits or Limits()
        # Every encoding we accept needs at most 4 bytes per character, so this rejects a huge
        # file without decoding it; the exact count is checked after decoding.
        if len(data) > 4 * limits.max_chars:
            raise too_many_chars(name, len(data) // 4, limits.max_chars, at_least=True)
        decoded = decode_bytes(data, name)
        if _too_junky(decoded.text):
            raise _not_text(name)
        fmt = text_format(name, decoded.text)
        builder = DocumentBuilder(name, fmt, limits)
        builder.metadata["encoding"] = decoded.encoding
        if decoded.replaced:
            builder.note(
                f"{decoded.replaced} invalid byte(s) could not be decoded as {decoded.encoding} "
                "and were replaced by �.",
                f"有 {decoded.replaced} 个字节无法按 {decoded.encoding} 解码，已替换为 �。",
            )
        return build_text_document(decoded.text, name, fmt, limits, builder)
