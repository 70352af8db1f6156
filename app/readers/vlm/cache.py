"""Caches that make follow-up questions on the same document cheap.

* ``FeatureCache`` — the vision encoder's output per page, keyed by the page's pixel hash. Kept on
  the CPU (a page of the 9B model is ~700 visual tokens × 4096 × 2 bytes ≈ 6 MB) so that GPU memory
  goes to the model and KV cache. A different choice of pages (page selection per question)
  still reuses every page already encoded.
* ``PrefixCache`` — the language model's KV cache of the prompt prefix (the chat header and all
  page images), keyed by the page hashes, the render config and the prefix text. The question
  comes after the images, so a follow-up question only prefills its own tokens.

Generation appends to a KV cache in place, so each question runs on a *fork* of the cached
prefix: new cache objects whose layers point at the same prefix tensors. ``DynamicLayer.update``
concatenates into new tensors, so the shared prefix tensors are never written (the tests check
that the cached prefix is bit-identical after a question).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


class LRU:
    """A small thread-safe LRU mapping with a maximum number of entries (0 disables it)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: Any) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data


@dataclass
class PageFeatures:
    """Vision-encoder output of one page: merged tokens (n, hidden) and the (t, h, w) patch grid."""

    features: Any  # torch.Tensor on the CPU
    grid_thw: tuple[int, int, int]

    @property
    def tokens(self) -> int:
        return int(self.features.shape[0])


class FeatureCache(LRU):
    """page sha256 → ``PageFeatures``."""


@dataclass
class PrefixEntry:
    """The document prefix after prefill: everything a follow-up question needs."""

    cache: Any  # transformers Cache holding the prefix keys/values
    input_ids: Any  # (1, P) prompt-prefix token ids
    mm_token_type_ids: Any  # (1, P)
    image_grid_thw: Any  # (pages, 3)
    rope_deltas: Any  # (1, 1) M-RoPE offset of the text positions after the images
    visual_tokens: int
    prefill_s: float  # language-model prefill of the prefix
    vision_s: float = 0.0  # vision encoder (0 when every page's features were cached)
    vision_runs: int = 0  # vision-encoder calls it took to build this entry (0 or 1)

    @property
    def length(self) -> int:
        return int(self.input_ids.shape[1])


class PrefixCache(LRU):
    """prefix key → ``PrefixEntry``."""


def prefix_key(page_hashes: Sequence[str], config_fingerprint: str, prefix_text: str) -> str:
    digest = hashlib.sha256()
    for page_hash in page_hashes:
        digest.update(page_hash.encode())
    digest.update(b"\0" + config_fingerprint.encode() + b"\0")
    digest.update(prefix_text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def fork_cache(cache: Any) -> Any:
    """A cache object sharing ``cache``'s tensors, safe to extend without touching the original."""
    forked = copy.copy(cache)
    layers = getattr(cache, "layers", None)
    if layers is None:  # an unknown cache type: pay for a real copy rather than risk corruption
        return copy.deepcopy(cache)
    forked.layers = [copy.copy(layer) for layer in layers]
    return forked
