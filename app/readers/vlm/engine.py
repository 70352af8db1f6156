"""The model-side steps of one question: encode pages, prefill the document prefix, decode.

``VlmEngine`` owns the loaded model and its two caches (``cache.py``). A question runs as:

1. ``encode_pages`` — the vision encoder on the pages whose features are not cached yet
   (``vision_runs`` counts its calls, so tests and benchmarks can see it skipped);
2. ``prefix`` — one forward pass of the language model over ``[gMASK]<sop><|user|>\\n`` and the
   page images (features scattered into the image placeholders), keeping its KV cache and the
   M-RoPE offset; reused as is for every later question about the same pages;
3. ``answer`` — ``generate`` on the full prompt with a fork of the prefix cache, so only the
   question's tokens are prefilled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from app.readers.vlm.cache import (
    FeatureCache,
    PageFeatures,
    PrefixCache,
    PrefixEntry,
    fork_cache,
    prefix_key,
)
from app.readers.vlm.generate import Generated, stream_generate
from app.readers.vlm.loader import LoadedModel

log = logging.getLogger(__name__)


class VlmEngine:
    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.model = loaded.model
        self.processor = loaded.processor
        self.tokenizer = loaded.processor.tokenizer
        cache = loaded.profile.cache
        self.features = FeatureCache(cache.feature_pages)
        self.prefixes = PrefixCache(cache.prefix_entries)
        self.vision_runs = 0  # calls of the vision encoder (for tests and benchmarks)
        self.prefix_runs = 0  # document prefills
        self.image_token = self.processor.image_token
        self._model_key = f"{loaded.source}|{loaded.dtype}|{loaded.profile.name}"

    @property
    def device(self) -> torch.device:
        return self.model.device

    # --- pages ----------------------------------------------------------------------------------
    def page_tokens(self, image: Any) -> int:
        width, height = image.size
        return self.processor.image_tokens(width, height)

    def _feature_key(self, page_hash: str) -> str:
        return f"{self._model_key}|{page_hash}"

    @torch.no_grad()
    def encode_pages(self, images: Sequence[Any], hashes: Sequence[str]) -> list[PageFeatures]:
        """Vision features of every page, running the encoder only on pages not cached."""
        found: dict[int, PageFeatures] = {}
        missing: list[int] = []
        for i, page_hash in enumerate(hashes):
            hit = self.features.get(self._feature_key(page_hash))
            if hit is None:
                missing.append(i)
            else:
                found[i] = hit
        if missing:
            batch = self.processor.image_processor(
                images=[images[i].convert("RGB") for i in missing], return_tensors="pt"
            )
            pixel_values = batch["pixel_values"].to(self.device)
            grid = batch["image_grid_thw"].to(self.device)
            self.vision_runs += 1
            out = self.model.model.get_image_features(pixel_values, grid, return_dict=True)
            for i, feats, thw in zip(missing, out.pooler_output, grid.tolist(), strict=True):
                page = PageFeatures(feats.detach().to("cpu"), tuple(int(v) for v in thw))
                found[i] = page
                self.features.put(self._feature_key(hashes[i]), page)
        return [found[i] for i in range(len(hashes))]

    # --- document prefix ------------------------------------------------------------------------
    def _expand_images(self, text: str, pages: Sequence[PageFeatures]) -> str:
        parts = text.split(self.image_token)
        if len(parts) - 1 != len(pages):
            raise ValueError(f"prompt has {len(parts) - 1} image slots for {len(pages)} pages")
        out = [parts[0]]
        for page, rest in zip(pages, parts[1:], strict=True):
            out.append(self.image_token * page.tokens + rest)
        return "".join(out)

    def prefix_key(self, hashes: Sequence[str], config_fingerprint: str, prefix_text: str) -> str:
        return prefix_key([self._model_key, *hashes], config_fingerprint, prefix_text)

    @torch.no_grad()
    def prefix(
        self,
        images: Sequence[Any],
        hashes: Sequence[str],
        prefix_text: str,
        config_fingerprint: str = "",
    ) -> tuple[PrefixEntry, bool]:
        """The document prefix's KV cache: (entry, True when it came from the cache)."""
        key = self.prefix_key(hashes, config_fingerprint, prefix_text)
        entry = self.prefixes.get(key)
        if entry is not None:
            return entry, True
        vision_started, runs_before = time.perf_counter(), self.vision_runs
        pages = self.encode_pages(images, hashes)
        vision_s = _sync_elapsed(vision_started, self.device)
        started = time.perf_counter()
        ids = self.tokenizer(
            self._expand_images(prefix_text, pages), add_special_tokens=False, return_tensors="pt"
        )["input_ids"]
        mm_types = torch.tensor(self.processor.create_mm_token_type_ids(ids.tolist()))
        grid = torch.tensor([p.grid_thw for p in pages], dtype=torch.long)
        feats = tuple(p.features.to(self.device) for p in pages)
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        self.prefix_runs += 1
        out = self.model(
            input_ids=ids.to(self.device),
            attention_mask=torch.ones_like(ids).to(self.device),
            mm_token_type_ids=mm_types.to(self.device),
            image_grid_thw=grid.to(self.device),
            mm_encoder_outputs={"image": BaseModelOutputWithPooling(pooler_output=feats)},
            use_cache=True,
            logits_to_keep=1,  # the vocabulary logits of the prefix are never needed
        )
        entry = PrefixEntry(
            cache=out.past_key_values,
            input_ids=ids.to(self.device),
            mm_token_type_ids=mm_types.to(self.device),
            image_grid_thw=grid.to(self.device),
            rope_deltas=self.model.model.rope_deltas.detach().clone(),
            visual_tokens=sum(p.tokens for p in pages),
            prefill_s=_sync_elapsed(started, self.device),
            vision_s=vision_s,
            vision_runs=self.vision_runs - runs_before,
        )
        self.prefixes.put(key, entry)
        return entry, False

    # --- question -------------------------------------------------------------------------------
    def answer(
        self,
        entry: PrefixEntry,
        suffix_text: str,
        *,
        max_new_tokens: int,
        stream: bool = True,
    ) -> Iterator[str | Generated]:
        """Decode the answer to ``suffix_text`` after the cached prefix (deltas, then Generated)."""
        suffix = self.tokenizer(suffix_text, add_special_tokens=False, return_tensors="pt")
        suffix_ids = suffix["input_ids"].to(self.device)
        input_ids = torch.cat([entry.input_ids, suffix_ids], dim=1)
        mm_types = torch.cat([entry.mm_token_type_ids, torch.zeros_like(suffix_ids)], dim=1)
        # generate() continues from a cache by adding the stored M-RoPE offset to the text
        # positions; the model keeps that offset as state, so set this document's before decoding.
        self.model.model.rope_deltas = entry.rope_deltas
        inputs = {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "mm_token_type_ids": mm_types,
            "image_grid_thw": entry.image_grid_thw,
            "past_key_values": fork_cache(entry.cache),
        }
        gen = self.loaded.profile.generation
        yield from stream_generate(
            self.model,
            self.tokenizer,
            inputs,
            max_new_tokens=max_new_tokens,
            do_sample=gen.do_sample,
            temperature=gen.temperature,
            top_p=gen.top_p,
            repetition_penalty=gen.repetition_penalty,
            stream=stream,
        )

    def count_text_tokens(self, text: str) -> int:
        """Tokens the document would take as plain text (the real tokenizer's count)."""
        if not text:
            return 0
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def clear(self) -> None:
        self.features.clear()
        self.prefixes.clear()


def _sync_elapsed(started: float, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - started
