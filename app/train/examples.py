"""Training examples and their tensors: prompt as the reader builds it, loss on the answer only.

An ``Example`` is page images + the text after them + the target. ``encode`` tokenizes it
exactly as ``VlmReader`` prompts at inference — ``chat_prompt`` (pages first, then the mode's
template around the question, then ``<|assistant|>\\n``) through the processor, which expands each
``<|image|>`` into its visual tokens — and appends the answer's tokens and the end-of-text token,
tokenized separately, so the prompt/answer boundary is exact. Labels are -100 for every prompt
token (chat markup, image placeholders, question) and for padding.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.datamodel import Mode
from app.readers.vlm.prompts import chat_prompt, instruction
from app.text import detect_language
from app.train.config import TrainConfig
from app.train.data import Documents, Row
from app.train.ocr_aux import allocate, sample_regions

log = logging.getLogger(__name__)

IGNORE = -100


@dataclass
class Example:
    id: str
    images: list[Any]  # PIL images or paths (opened when encoded)
    instruction: str  # the user text after the images
    target: str  # the assistant's answer (end-of-text appended when encoded)
    kind: str = "qa"  # "qa" or "ocr" (auxiliary)


@dataclass
class ExampleSet:
    examples: list[Example]
    qa: int = 0
    ocr: int = 0
    skipped: list[str] = field(default_factory=list)  # ids too long for max_length
    documents: int = 0


def qa_instruction(row: Row, pages: int, cfg: TrainConfig, doc_text: str = "") -> str:
    if cfg.prompt_style == "plain":
        return row.question.strip()
    lang = row.lang or detect_language(row.question, doc_text)
    return instruction(Mode(row.mode), row.question, pages, lang)


def target_text(row: Row, cfg: TrainConfig) -> str:
    return cfg.answer_template.format(answer=row.answer, thinking=row.thinking)


def _open_image(image: Any) -> Any:
    from PIL import Image

    if isinstance(image, Image.Image):
        return image.convert("RGB") if image.mode != "RGB" else image
    with Image.open(image) as fh:
        return fh.convert("RGB")


def _image_size(image: Any) -> tuple[int, int]:
    from PIL import Image

    if isinstance(image, Image.Image):
        return image.size
    with Image.open(image) as fh:
        return fh.size


def length(example: Example, processor: Any) -> int:
    """Prompt + answer tokens of ``example`` (visual tokens from image sizes, no pixels read)."""
    prefix, suffix = chat_prompt(processor, len(example.images), example.instruction)
    tok = processor.tokenizer
    text_tokens = len(tok(prefix + suffix, add_special_tokens=False)["input_ids"])
    visual = sum(processor.image_tokens(*_image_size(im)) for im in example.images)
    answer = len(tok(example.target, add_special_tokens=False)["input_ids"]) + 1
    return text_tokens - len(example.images) + visual + answer


def build_examples(
    rows: list[Row],
    cfg: TrainConfig,
    processor: Any,
    *,
    documents: Documents | None = None,
) -> ExampleSet:
    """QA examples for ``rows`` plus ``ocr_aux_ratio`` auxiliary OCR examples, within max_length."""
    docs = documents or Documents(cfg.render_config, cfg.render_overrides)
    rng = random.Random(cfg.seed)
    out = ExampleSet([])
    with_layout: dict[str, Any] = {}  # doc key → RenderedDoc with text (OCR aux source)
    weights: dict[str, int] = {}
    for row in rows:
        if row.images and (row.doc_dir is None or not cfg.ocr_aux_ratio):
            # pre-rendered pages are read when encoded; their layout only matters for OCR rows
            images: list[Any] = list(row.images)
            text = ""
        else:
            rendered = docs.get(row)
            images = list(row.images) if row.images else [p.image for p in rendered.pages]
            text = rendered.text
            if text:
                with_layout[row.doc_key] = rendered
                weights[row.doc_key] = weights.get(row.doc_key, 0) + 1
        example = Example(
            id=row.id,
            images=images,
            instruction=qa_instruction(row, len(images), cfg, text),
            target=target_text(row, cfg),
        )
        out.examples.append(example)
        out.qa += 1
    wanted = round(cfg.ocr_aux_ratio * out.qa)
    if wanted and not with_layout:
        log.warning(
            "ocr_aux_ratio=%s but no row has a rendered text layout (text/path rows or rows with "
            "doc_dir): no auxiliary OCR examples",
            cfg.ocr_aux_ratio,
        )
    keys = sorted(with_layout)
    for key, count in zip(keys, allocate(wanted, [weights[k] for k in keys], rng), strict=True):
        rendered = with_layout[key]
        lang = detect_language(rendered.text)
        prompt = cfg.ocr_aux_prompt_zh if lang == "zh" else cfg.ocr_aux_prompt_en
        regions = sample_regions(
            rendered, count, rng, max_lines=cfg.ocr_aux_max_lines, margin=cfg.ocr_aux_margin
        )
        for n, region in enumerate(regions):
            crop = rendered.pages[region.page].image.crop(region.box)
            ident = f"ocr-{key[-12:]}-{n}"
            out.examples.append(Example(ident, [crop], prompt, region.text, kind="ocr"))
            out.ocr += 1
    kept = []
    for example in out.examples:
        if length(example, processor) > cfg.max_length:
            out.skipped.append(example.id)
        else:
            kept.append(example)
    if out.skipped:
        log.warning(
            "%d example(s) longer than max_length=%d tokens skipped: %s",
            len(out.skipped),
            cfg.max_length,
            ", ".join(out.skipped[:5]),
        )
    out.examples = kept
    out.documents = len(docs)
    return out


def encode(example: Example, processor: Any) -> dict[str, Any]:
    """Tensors of one example: input_ids, labels, mm_token_type_ids (1-D), pixels, grid."""
    import torch

    tok = processor.tokenizer
    images = [_open_image(im) for im in example.images]
    prefix, suffix = chat_prompt(processor, len(images), example.instruction)
    enc = processor(text=[prefix + suffix], images=images or None, return_tensors="pt")
    prompt_ids = enc["input_ids"][0]
    answer = tok(example.target, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    answer_ids = torch.tensor(answer, dtype=prompt_ids.dtype)
    mm = enc.get("mm_token_type_ids")
    mm = mm[0] if mm is not None else torch.zeros_like(prompt_ids)
    item = {
        "input_ids": torch.cat([prompt_ids, answer_ids]),
        "labels": torch.cat([torch.full_like(prompt_ids, IGNORE), answer_ids]),
        "mm_token_type_ids": torch.cat([mm, torch.zeros_like(answer_ids)]),
    }
    if images:
        item["pixel_values"] = enc["pixel_values"]
        item["image_grid_thw"] = enc["image_grid_thw"]
    return item


def collate(items: list[dict[str, Any]], pad_id: int) -> dict[str, Any]:
    """Right-padded batch (padding: attention 0, label -100) with the images concatenated."""
    import torch

    longest = max(len(item["input_ids"]) for item in items)

    def pad(key: str, value: int) -> Any:
        rows = []
        for item in items:
            tensor = item[key]
            rows.append(torch.cat([tensor, tensor.new_full((longest - len(tensor),), value)]))
        return torch.stack(rows)

    batch = {
        "input_ids": pad("input_ids", pad_id),
        "labels": pad("labels", IGNORE),
        "mm_token_type_ids": pad("mm_token_type_ids", 0),
        "attention_mask": torch.stack(
            [
                torch.cat(
                    [torch.ones(len(i["input_ids"])), torch.zeros(longest - len(i["input_ids"]))]
                )
                for i in items
            ]
        ).long(),
    }
    with_images = [item for item in items if "pixel_values" in item]
    if with_images:
        batch["pixel_values"] = torch.cat([item["pixel_values"] for item in with_images])
        batch["image_grid_thw"] = torch.cat([item["image_grid_thw"] for item in with_images])
    return batch


def answer_tokens(batch: dict[str, Any]) -> int:
    """Tokens the loss is computed on (labels shifted by one, as predicted)."""
    return int((batch["labels"][:, 1:] != IGNORE).sum())


def save_examples_preview(examples: list[Example], folder: Path, limit: int = 4) -> None:
    """A few OCR-aux crops with their targets, for a human look at what the task trains."""
    folder.mkdir(parents=True, exist_ok=True)
    for example in [e for e in examples if e.kind == "ocr"][:limit]:
        _open_image(example.images[0]).save(folder / f"{example.id}.png")
        (folder / f"{example.id}.txt").write_text(example.target, encoding="utf-8")
