"""Giving freed memory back to the system.

A long-running server allocates and frees large buffers (page images, OCR tensors) from many
threads; glibc keeps what was freed in its heaps, so the resident size stays at its high-water
mark. ``release_free_memory`` asks glibc to return free heap pages (``malloc_trim``) after the big
allocations of a question or a render are gone; on other C libraries it does nothing.

Nothing here imports another ``app`` module: this is the bottom layer.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _trim():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; True when something was given back."""
    trim = _trim()
    if trim is None:
        return False
    try:
        return bool(trim(0))
    except Exception:  # never let housekeeping break an answer
        log.debug("malloc_trim failed", exc_info=True)
        return False
