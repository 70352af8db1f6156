"""A ZIP of documents (issue 20): each member is one upload, under the same rules as a file.

``is_archive`` tells a plain ZIP of files from the ZIP packages that are documents themselves
(DOCX, XLSX, EPUB …). ``unpack`` writes the members that may be documents into a folder and
says, for every member left out, why: folders, hidden files and macOS resource forks quietly;
a ZIP inside the ZIP, an encrypted member, a member over the upload limit, a type that is not a
document, and a ZIP that would unpack to more than ``MAX_TOTAL_FACTOR`` uploads' worth or more
than ``MAX_MEMBERS`` files, with a message. Member names keep only their last part (never a path
outside the folder); names a Windows ZIP tool wrote in GBK are read as Chinese.
"""

from __future__ import annotations

import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.errors import IngestError, LimitError
from app.ingest.base import Limits, normalize_name

MAX_MEMBERS = 200  # documents taken from one ZIP
MAX_TOTAL_FACTOR = 10  # a ZIP unpacks to at most this many uploads' worth of bytes
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """One member of the ZIP: where it was written, or why it was left out."""

    name: str
    path: Path | None = None
    error: IngestError | None = None


def is_archive(path: Path) -> bool:
    """A ZIP archive of files, not a document packaged as ZIP (DOCX, XLSX, ODT, EPUB …)."""
    from app.ingest.sniff import _ZIP_KINDS

    try:
        with open(path, "rb") as fh:
            if not fh.read(4).startswith((b"PK\x03\x04", b"PK\x05\x06")):
                return False
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile, ValueError, NotImplementedError):
        return False
    packaged = {"word/document.xml", "[Content_Types].xml", *(k for k, _, _ in _ZIP_KINDS)}
    return not names & packaged


def _name(info: zipfile.ZipInfo) -> str:
    """The member's file name as its author wrote it (UTF-8, or GBK from Windows tools)."""
    raw = info.filename
    if not info.flag_bits & 0x800:  # no UTF-8 flag: zipfile decoded the bytes as cp437
        try:
            data = raw.encode("cp437")
            for codec in ("utf-8", "gbk"):
                try:
                    raw = data.decode(codec)
                    break
                except UnicodeDecodeError:
                    continue
        except UnicodeEncodeError:
            pass
    return normalize_name(PurePosixPath(raw.replace("\\", "/")).name)


def _skipped(info: zipfile.ZipInfo) -> bool:
    parts = [
        p for p in PurePosixPath(info.filename.replace("\\", "/")).parts if p not in (".", "..")
    ]
    return info.is_dir() or any(p.startswith(".") or p == "__MACOSX" for p in parts)


def unpack(archive: Path, dest: Path, limits: Limits, suffixes: set[str]) -> list[Member]:
    """The members of ``archive`` that may be documents, written under ``dest``; ``IngestError``
    when the archive cannot be read at all or holds no document."""
    shown = normalize_name(archive.name)
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile, ValueError, NotImplementedError):
        raise IngestError(
            f"'{shown}' is a damaged ZIP archive and cannot be opened.",
            f"“{shown}”是损坏的 ZIP 压缩包，无法打开。",
        ) from None
    members: list[Member] = []
    budget = limits.max_bytes * MAX_TOTAL_FACTOR
    with zf:
        infos = [i for i in zf.infolist() if not _skipped(i)]
        for n, info in enumerate(infos):
            name = _name(info)
            if n >= MAX_MEMBERS:
                members.append(Member(name, error=_too_many(shown)))
                continue
            error = _member_error(info, name, limits, suffixes)
            if error is None and info.file_size > budget:
                error = _too_big_in_total(shown, limits.max_bytes * MAX_TOTAL_FACTOR)
            if error is not None:
                members.append(Member(name, error=error))
                continue
            target = dest / f"{n:03d}" / name
            try:
                written = _extract(zf, info, target, limits.max_bytes)
            except IngestError as err:
                members.append(Member(name, error=err))
                continue
            budget -= written
            members.append(Member(name, path=target))
    if not any(m.path for m in members) and not any(m.error for m in members):
        raise IngestError(
            f"The ZIP archive '{shown}' holds no documents.",
            f"ZIP 压缩包“{shown}”中没有文档。",
        )
    return members


def _member_error(
    info: zipfile.ZipInfo, name: str, limits: Limits, suffixes: set[str]
) -> IngestError | None:
    suffix = PurePosixPath(name.lower()).suffix
    if suffix == ".zip":
        return IngestError(
            f"'{name}' is a ZIP inside the ZIP; please unpack it first.",
            f"“{name}”是压缩包中的压缩包，请先解压。",
        )
    if info.flag_bits & 0x1:
        return IngestError(
            f"'{name}' is encrypted inside the ZIP and cannot be read.",
            f"“{name}”在压缩包中已加密，无法读取。",
        )
    if suffix not in suffixes:
        return IngestError(
            f"'{name}' is not a document type the app reads (PDF, DOCX, HTML, TXT, Markdown, "
            "source code).",
            f"“{name}”不是本程序可读取的文档类型（PDF、DOCX、HTML、TXT、Markdown、源代码）。",
        )
    if info.file_size > limits.max_bytes:
        return _over_limit(name, limits.max_bytes)
    return None


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, max_bytes: int) -> int:
    """Write one member, stopping at ``max_bytes`` whatever its header claims."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with zf.open(info) as src, open(target, "wb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise _over_limit(target.name, max_bytes)
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error) as err:
        shutil.rmtree(target.parent, ignore_errors=True)
        if isinstance(err, OSError) and not isinstance(err, zipfile.BadZipFile):
            raise
        raise IngestError(
            f"'{target.name}' is damaged inside the ZIP and cannot be read.",
            f"“{target.name}”在压缩包中已损坏，无法读取。",
        ) from None
    except IngestError:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    return written


def _over_limit(name: str, max_bytes: int) -> LimitError:
    mb = max_bytes / 1e6
    return LimitError(
        f"'{name}' in the ZIP is larger than the {mb:.0f} MB upload limit (GLYPH_MAX_UPLOAD_MB).",
        f"压缩包中的“{name}”超过了 {mb:.0f} MB 的上传上限（GLYPH_MAX_UPLOAD_MB）。",
    )


def _too_big_in_total(shown: str, max_bytes: int) -> LimitError:
    mb = max_bytes / 1e6
    return LimitError(
        f"'{shown}' unpacks to more than {mb:.0f} MB; the rest of its files were left out.",
        f"“{shown}”解压后超过 {mb:.0f} MB，其余文件未打开。",
    )


def _too_many(shown: str) -> LimitError:
    return LimitError(
        f"'{shown}' holds more than {MAX_MEMBERS} files; the rest were left out.",
        f"“{shown}”中的文件超过 {MAX_MEMBERS} 个，其余文件未打开。",
    )
