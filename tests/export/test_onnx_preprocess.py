"""The numpy preprocessing of the ONNX runner equals the GLM-4.1V processor's, input for input."""

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import Glm4vImageProcessorPil
from transformers.vision_utils import get_vision_position_ids

from app.export.loading import read_preprocess_config
from app.readers.vlm.onnx_preprocess import (
    PreprocessConfig,
    encoder_inputs,
    preprocess_image,
    smart_resize,
    vision_position_ids,
)
from app.render import render, resolve_config

TEXT = (
    "Revenue grew by 12% to 4.5 million dollars; the auditor was Jane Smith. 审计师来自柏林。" * 30
)


@pytest.fixture(scope="module")
def processor(tiny_vlm_dir):
    return Glm4vImageProcessorPil.from_pretrained(tiny_vlm_dir)


@pytest.fixture(scope="module")
def config(tiny_vlm_dir):
    return read_preprocess_config(tiny_vlm_dir)


def _pages() -> list[Image.Image]:
    full = render(TEXT * 3, resolve_config("en")).pages
    short = render(TEXT[:300], resolve_config("en")).pages  # auto-cropped: a different size
    return [full[0].image, short[-1].image]


def _synthetic() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    rgba = Image.fromarray(rng.integers(0, 256, (90, 130, 4), dtype=np.uint8), "RGBA")
    gray = Image.fromarray(rng.integers(0, 256, (300, 41), dtype=np.uint8), "L")
    tiny = Image.fromarray(rng.integers(0, 256, (20, 70, 3), dtype=np.uint8), "RGB")
    palette = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).convert("P")
    return [rgba, gray, tiny, palette]


def _processor_output(processor, image):
    out = processor(images=[image], return_tensors="np")
    return out["pixel_values"], tuple(int(v) for v in out["image_grid_thw"][0])


def test_config_read_from_checkpoint(config, processor):
    assert config.min_pixels == processor.size["shortest_edge"]
    assert config.max_pixels == processor.size["longest_edge"]
    assert config.patch_size == processor.patch_size == 14
    assert config.merge_size == processor.merge_size == 2
    assert config.image_mean == tuple(processor.image_mean)
    assert PreprocessConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("kind", ["pages", "synthetic"])
def test_pixel_values_equal_the_processor(processor, config, kind):
    images = _pages() if kind == "pages" else _synthetic()
    grids = set()
    for image in images:
        want, want_grid = _processor_output(processor, image)
        got, grid_h, grid_w = preprocess_image(image, config)
        assert (1, grid_h, grid_w) == want_grid
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        grids.add(want_grid)
    assert len(grids) == len(images)  # every image a different grid


def test_max_pixels_bound_like_the_processor(tiny_vlm_dir):
    processor = Glm4vImageProcessorPil.from_pretrained(
        tiny_vlm_dir, size={"shortest_edge": 3136, "longest_edge": 28 * 28 * 40}
    )
    config = PreprocessConfig.from_processor_dict(processor.to_dict())
    image = render(TEXT * 3, resolve_config("en")).pages[0].image
    want, want_grid = _processor_output(processor, image)
    got, grid_h, grid_w = preprocess_image(image, config)
    assert (1, grid_h, grid_w) == want_grid and grid_h * grid_w < 2520
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("size", [(842, 595), (30, 29), (2000, 31), (5000, 3000), (28, 5600)])
def test_smart_resize_matches_transformers(size):
    from transformers.models.glm4v.image_processing_pil_glm4v import smart_resize as reference

    height, width = size
    bounds = {"min_pixels": 3136, "max_pixels": 28 * 28 * 2048}
    want = reference(2, height, width, temporal_factor=2, factor=28, **bounds)
    assert smart_resize(height, width, factor=28, temporal_factor=2, **bounds) == want


def test_extreme_aspect_ratio_is_a_user_error():
    from app.errors import RenderError

    with pytest.raises(RenderError) as info:
        smart_resize(28, 28 * 201)
    assert "200" in info.value.user_message("zh")


@pytest.mark.parametrize("grid", [(4, 6), (60, 42), (2, 2)])
def test_position_ids_match_transformers(grid):
    grid_h, grid_w = grid
    want = get_vision_position_ids(torch.tensor([[1, grid_h, grid_w]]), 2).numpy()
    np.testing.assert_array_equal(vision_position_ids(grid_h, grid_w, 2), want)


def test_sample_grid_matches_the_embedding_formula():
    grid_h, grid_w = 8, 12
    inputs = encoder_inputs(np.zeros((96, 1176), np.float32), grid_h, grid_w, 2)
    pos = torch.from_numpy(inputs["position_ids"])
    # Glm4vVisionEmbeddings.forward, in torch float32
    norm_w = ((pos[:, 1] + 0.5) / torch.tensor(float(grid_w))) * 2 - 1
    norm_h = ((pos[:, 0] + 0.5) / torch.tensor(float(grid_h))) * 2 - 1
    want = torch.stack((norm_w, norm_h), dim=-1).numpy()
    np.testing.assert_array_equal(inputs["pos_sample_grid"], want)
    assert inputs["pos_sample_grid"].min() > -1 and inputs["pos_sample_grid"].max() < 1
