"""GLM-4.1V image preprocessing and grid-dependent encoder inputs in numpy (no torch, no transformers).

An edge device running the exported vision encoder has onnxruntime, numpy and Pillow, not
transformers. This module re-implements ``Glm4vImageProcessorPil`` step by step — RGB conversion
(transparency composited on white), ``smart_resize`` (``app.render.tokens``: the same rule the
token counts use) to multiples of ``patch_size * merge_size`` (28 px), PIL bicubic resize,
rescale (in float64, then float32), normalisation (float32), patchification in spatial-merge
block order with the frame repeated ``temporal_patch_size`` times — so that ``pixel_values``
equal the processor's own output (checked in tests/export).

It also computes what the ONNX graph takes besides pixels (see ``app.export`` for the design;
this module is the runtime side, kept next to the VLM reader that uses it): the per-patch (h, w)
rotary position ids in block-major order, and the normalised sampling grid for the bicubic
interpolation of the learned position-embedding table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from app.errors import RenderError
from app.render.tokens import smart_resize

# Glm4vImageProcessorPil's class defaults (used where preprocessor_config.json omits a key)
_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class PreprocessConfig:
    """The image processor settings the runner needs (stored in the ONNX file's metadata)."""

    min_pixels: int = 112 * 112
    max_pixels: int = 28 * 28 * 15000
    patch_size: int = 14
    temporal_patch_size: int = 2
    merge_size: int = 2
    resample: int = 3  # PIL.Image.BICUBIC
    rescale_factor: float = 1 / 255
    image_mean: tuple[float, ...] = _CLIP_MEAN
    image_std: tuple[float, ...] = _CLIP_STD
    do_resize: bool = True
    do_rescale: bool = True
    do_normalize: bool = True
    do_convert_rgb: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_processor_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        """From the contents of a checkpoint's ``preprocessor_config.json``."""
        size = data.get("size") or {}
        default = cls()
        return cls(
            min_pixels=int(size.get("shortest_edge", default.min_pixels)),
            max_pixels=int(size.get("longest_edge", default.max_pixels)),
            patch_size=int(data.get("patch_size", default.patch_size)),
            temporal_patch_size=int(data.get("temporal_patch_size", default.temporal_patch_size)),
            merge_size=int(data.get("merge_size", default.merge_size)),
            resample=int(data.get("resample", default.resample)),
            rescale_factor=float(data.get("rescale_factor", default.rescale_factor)),
            image_mean=tuple(float(v) for v in data.get("image_mean", default.image_mean)),
            image_std=tuple(float(v) for v in data.get("image_std", default.image_std)),
            do_resize=bool(data.get("do_resize", True)),
            do_rescale=bool(data.get("do_rescale", True)),
            do_normalize=bool(data.get("do_normalize", True)),
            do_convert_rgb=bool(data.get("do_convert_rgb", True)),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "extra"}
        for key in ("image_mean", "image_std"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited onto white (like transformers' ``convert_to_rgb``)."""
    if "A" in image.getbands() or image.info.get("transparency") is not None:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def preprocess_image(image: Image.Image, config: PreprocessConfig) -> tuple[np.ndarray, int, int]:
    """``pixel_values`` (num_patches, C·T·P·P) float32 and the patch grid (grid_h, grid_w)."""
    if config.do_convert_rgb:
        image = to_rgb(image)
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    factor = config.patch_size * config.merge_size
    if config.do_resize:
        height, width = smart_resize(
            image.height,
            image.width,
            num_frames=config.temporal_patch_size,  # a still image is that many frames
            temporal_factor=config.temporal_patch_size,
            factor=factor,
            min_pixels=config.min_pixels,
            max_pixels=config.max_pixels,
        )
        image = image.resize((width, height), resample=config.resample)
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    pixels = array.transpose(2, 0, 1)  # CHW, like the processor
    if config.do_rescale:
        # the processor upcasts to float64 before scaling, then stores float32
        pixels = (pixels.astype(np.float64) * config.rescale_factor).astype(np.float32)
    else:
        pixels = pixels.astype(np.float32)
    if config.do_normalize:
        mean = np.array(config.image_mean, dtype=np.float32)
        std = np.array(config.image_std, dtype=np.float32)
        pixels = ((pixels.T - mean) / std).T
    return patchify(pixels, config)


def patchify(pixels: np.ndarray, config: PreprocessConfig) -> tuple[np.ndarray, int, int]:
    """CHW float image → flattened patches in spatial-merge block order (the processor's layout)."""
    channels, height, width = pixels.shape
    p, m, t = config.patch_size, config.merge_size, config.temporal_patch_size
    if height % (p * m) or width % (p * m):
        raise RenderError(
            f"Image size {width}×{height} is not a multiple of {p * m} px (resize it first).",
            f"图像尺寸 {width}×{height} 不是 {p * m} 像素的整数倍（请先缩放）。",
        )
    grid_h, grid_w = height // p, width // p
    patches = pixels.reshape(channels, grid_h // m, m, p, grid_w // m, m, p)
    patches = patches.transpose(1, 4, 2, 5, 0, 3, 6)  # (gh, gw, mh, mw, C, ph, pw)
    patches = np.broadcast_to(
        patches[:, :, :, :, :, None], (*patches.shape[:5], t, *patches.shape[5:])
    )
    flat = np.ascontiguousarray(patches.reshape(grid_h * grid_w, channels * t * p * p))
    return flat.astype(np.float32, copy=False), grid_h, grid_w


def vision_position_ids(grid_h: int, grid_w: int, merge_size: int) -> np.ndarray:
    """(grid_h·grid_w, 2) int64 (h, w) coordinates of each patch, in block-major patch order."""
    hpos, wpos = np.meshgrid(np.arange(grid_h), np.arange(grid_w), indexing="ij")
    shape = (grid_h // merge_size, merge_size, grid_w // merge_size, merge_size)
    hpos = hpos.reshape(shape).transpose(0, 2, 1, 3).reshape(-1)
    wpos = wpos.reshape(shape).transpose(0, 2, 1, 3).reshape(-1)
    return np.stack([hpos, wpos], axis=-1).astype(np.int64)


def position_sample_grid(position_ids: np.ndarray, grid_h: int, grid_w: int) -> np.ndarray:
    """(N, 2) float32 (x, y) in [-1, 1]: where each patch samples the position-embedding table.

    The same float32 arithmetic as ``Glm4vVisionEmbeddings`` (``((c + 0.5) / size) * 2 - 1``), so
    the bicubic interpolation inside the graph sees identical coordinates.
    """
    h = position_ids[:, 0].astype(np.float32)
    w = position_ids[:, 1].astype(np.float32)
    norm_w = ((w + np.float32(0.5)) / np.float32(grid_w)) * np.float32(2) - np.float32(1)
    norm_h = ((h + np.float32(0.5)) / np.float32(grid_h)) * np.float32(2) - np.float32(1)
    return np.stack([norm_w, norm_h], axis=-1).astype(np.float32)


def encoder_inputs(
    pixel_values: np.ndarray, grid_h: int, grid_w: int, merge_size: int
) -> dict[str, np.ndarray]:
    """All ONNX inputs for one image: pixels plus the grid-dependent tensors."""
    position_ids = vision_position_ids(grid_h, grid_w, merge_size)
    return {
        "pixel_values": np.ascontiguousarray(pixel_values, dtype=np.float32),
        "position_ids": position_ids,
        "pos_sample_grid": position_sample_grid(position_ids, grid_h, grid_w),
    }
