"""A long document of varied real text, made from the system's licence files (no download)."""

from __future__ import annotations

from pathlib import Path

LICENSES = Path("/usr/share/common-licenses")
NOTE = "Delivery note for Room 12.\nCall the porter Lena Ortiz on +44 20 7946 0321 before noon."
"""A two-line pasted note with a phone number in it."""


def long_text(chars: int = 90_000) -> str:
    """About ``chars`` characters of licence texts (GPL, Apache, MPL, …), several files."""
    parts: list[str] = []
    size = 0
    files = [p for p in sorted(LICENSES.glob("*")) if p.is_file() and not p.is_symlink()]
    for path in files:
        text = path.read_text(encoding="utf-8", errors="ignore")
        parts.append(text)
        size += len(text)
        if size >= chars:
            break
    return "\n\n".join(parts)[:chars]
