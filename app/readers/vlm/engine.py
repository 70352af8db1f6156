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
        # bound the activations of long documents: pages per vision call, tokens per prefill step
        self.vision_batch_tokens = cache.vision_batch_tokens
        self.prefill_chunk = cache.prefill_chunk
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

    def _cached_features(self, hashes: Sequence[str]) -> tuple[dict[int, PageFeatures], list[int]]:
        """(features in the cache by page index, indices of the pages not in it)."""
        found: dict[int, PageFeatures] = {}
        missing: list[int] = []
        for i, page_hash in enumerate(hashes):
            hit = self.features.get(self._feature_key(page_hash))
            if hit is None:
                missing.append(i)
            else:
                found[i] = hit
        return found, missing

    @torch.no_grad()
    def encode_pages(self, images: Sequence[Any], hashes: Sequence[str]) -> list[PageFeatures]:
        """Vision features of every page, running the encoder only on pages not cached."""
        found, missing = self._cached_features(hashes)
        for batch_pages in self._vision_batches(missing, images):
            batch = self.processor.image_processor(
                images=[images[i].convert("RGB") for i in batch_pages], return_tensors="pt"
            )
            pixel_values = batch["pixel_values"].to(self.device)
            grid = batch["image_grid_thw"].to(self.device)
            self.vision_runs += 1
            out = self.model.model.get_image_features(pixel_values, grid, return_dict=True)
            for i, feats, thw in zip(batch_pages, out.pooler_output, grid.tolist(), strict=True):
                page = PageFeatures(feats.detach().to("cpu"), tuple(int(v) for v in thw))
                found[i] = page
                self.features.put(self._feature_key(hashes[i]), page)
        return [found[i] for i in range(len(hashes))]

    def _vision_batches(self, pages: list[int], images: Sequence[Any]) -> list[list[int]]:
        """Pages grouped so that one vision call sees at most ``vision_batch_tokens`` tokens."""
        batches: list[list[int]] = []
        used = 0
        for i in pages:
            tokens = self.page_tokens(images[i])
            if batches and used + tokens <= self.vision_batch_tokens:
                batches[-1].append(i)
                used += tokens
            else:
                batches.append([i])
                used = tokens
        return batches

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
        )["input_ids"].to(self.device)
        mm_types = torch.tensor(self.processor.create_mm_token_type_ids(ids.tolist()))
        mm_types = mm_types.to(self.device)
        grid = torch.tensor([p.grid_thw for p in pages], dtype=torch.long, device=self.device)
        self.prefix_runs += 1
        cache, rope_deltas = self._prefill(ids, mm_types, grid, pages)
        entry = PrefixEntry(
            cache=cache,
            input_ids=ids,
            mm_token_type_ids=mm_types,
            image_grid_thw=grid,
            rope_deltas=rope_deltas,
            visual_tokens=sum(p.tokens for p in pages),
            prefill_s=_sync_elapsed(started, self.device),
            vision_s=vision_s,
            vision_runs=self.vision_runs - runs_before,
        )
        self.prefixes.put(key, entry)
        return entry, False

    def _prefill(
        self, ids: torch.Tensor, mm_types: torch.Tensor, grid: torch.Tensor, pages: list
    ) -> tuple[Any, torch.Tensor]:
        """KV cache and M-RoPE offset of the prefix, prefilled in chunks of ``prefill_chunk``.

        The same steps as ``Glm4vModel.forward`` (embed, scatter the image features into the
        image placeholders, 3-D positions from ``get_rope_index``), but the language model runs
        over slices of the sequence with a growing cache: activations stay bounded by the chunk
        size however many pages there are, and no vocabulary logits are computed for the prefix.
        The tests check the result decodes exactly like ``generate`` on the whole prompt.
        """
        from transformers import DynamicCache

        glm = self.model.model
        embeds = self.model.get_input_embeddings()(ids)
        feats = torch.cat([p.features for p in pages]).to(embeds.device, embeds.dtype)
        mask = (ids == self.model.config.image_token_id).unsqueeze(-1)
        embeds = embeds.masked_scatter(mask, feats)
        position_ids, rope_deltas = glm.get_rope_index(
            ids, mm_token_type_ids=mm_types, image_grid_thw=grid
        )
        cache = DynamicCache(config=self.model.config.text_config)
        chunk = max(int(self.prefill_chunk), 1)
        for start in range(0, ids.shape[1], chunk):
            glm.language_model(
                inputs_embeds=embeds[:, start : start + chunk],
                position_ids=position_ids[:, :, start : start + chunk],
                past_key_values=cache,
                use_cache=True,
            )
        return cache, rope_deltas.detach().clone()

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
