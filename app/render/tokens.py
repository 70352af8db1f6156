"""Token accounting: what a page costs the VLM, and what the text would have cost.

Visual tokens follow GLM-4.1V's image processor (``transformers.models.glm4v``) exactly: each
image is treated as two identical frames (``temporal_patch_size`` 2), resized by ``smart_resize``
so both sides are multiples of ``factor = patch_size * merge_size = 14 * 2 = 28`` with the pixel
count kept within ``[min_pixels, max_pixels]`` (the processor's defaults ``size = {shortest_edge:
112*112, longest_edge: 28*28*15000}``); every 28x28 block of the resized image becomes one token:
``tokens = (H / 28) * (W / 28)``. The ``<|begin_of_image|>``/``<|end_of_image|>`` framing tokens
are not included.

Text tokens cannot be counted without GLM's tokenizer (no weights or tokenizers can be downloaded
here), so ``estimate_text_tokens`` is an *estimate*: about 1.5 CJK characters per token (common
Chinese characters are mostly single tokens or pairs in GLM-4/Qwen-style BPE vocabularies) and
about 4 characters per token for everything else (the usual rule of thumb for English BPE).
"""

from __future__ import annotations

import math

import numpy as np

from app.errors import RenderError
from app.render.chars import codepoints, is_cjk

PATCH_SIZE = 14
MERGE_SIZE = 2
TEMPORAL_PATCH_SIZE = 2
FACTOR = PATCH_SIZE * MERGE_SIZE  # 28
MIN_PIXELS = 112 * 112
MAX_PIXELS = 28 * 28 * 15000

CJK_CHARS_PER_TOKEN = 1.5
OTHER_CHARS_PER_TOKEN = 4.0


def smart_resize(
    height: int,
    width: int,
    *,
    num_frames: int = TEMPORAL_PATCH_SIZE,
    temporal_factor: int = TEMPORAL_PATCH_SIZE,
    factor: int = FACTOR,
    min_pixels: int = MIN_PIXELS,
    max_pixels: int = MAX_PIXELS,
) -> tuple[int, int]:
    """GLM-4.1V's resize rule: (height, width) after resizing, both multiples of ``factor``.

    A transcription of ``transformers.models.glm4v.image_processing_glm4v.smart_resize`` (kept
    here so token counts need no transformers import); a test checks they agree. The ONNX
    vision encoder's preprocessing (``app.readers.vlm.onnx_preprocess``) resizes with it too. A
    page the model rejects (aspect ratio above 200) is a ``RenderError``.
    """
    if height < factor or width < factor:
        scale = max(factor / height, factor / width)
        height, width = int(height * scale), int(width * scale)
    if max(height, width) / min(height, width) > 200:
        raise RenderError(
            f"Page image {width}×{height} px has an aspect ratio above 200, which GLM-4.1V rejects.",
            f"页面图像 {width}×{height} 像素的宽高比超过 200，GLM-4.1V 无法处理。",
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    t_bar = round(num_frames / temporal_factor) * temporal_factor
    if t_bar * h_bar * w_bar > max_pixels:
        beta = math.sqrt((num_frames * height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif t_bar * h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (num_frames * height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def visual_tokens(width: int, height: int) -> int:
    """Visual tokens GLM-4.1V spends on one ``width`` x ``height`` image."""
    if width <= 0 or height <= 0:
        return 0
    h_bar, w_bar = smart_resize(height, width)
    return (h_bar // FACTOR) * (w_bar // FACTOR)


def estimate_text_tokens(text: str) -> int:
    """Estimated tokens of ``text`` as plain text (see the module docstring: an estimate)."""
    if not text:
        return 0
    cps = codepoints(text)
    cjk = int(np.count_nonzero(is_cjk(cps)))
    other = len(cps) - cjk
    return max(1, math.ceil(cjk / CJK_CHARS_PER_TOKEN + other / OTHER_CHARS_PER_TOKEN))
