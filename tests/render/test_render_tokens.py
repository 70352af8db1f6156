"""Visual tokens (GLM-4.1V's resize rule) and the text-token estimate."""

import pytest

from app.render.tokens import estimate_text_tokens, smart_resize, visual_tokens

SIZES = [
    (842, 595),
    (1123, 793),
    (28, 28),
    (10, 500),
    (4000, 3000),
    (5000, 8000),
    (59, 1190),
    (30000, 200),
    (200, 30000),
    (12, 12),
]


@pytest.mark.parametrize(("height", "width"), SIZES)
def test_smart_resize_is_glm4v_processors(height, width):
    glm4v = pytest.importorskip("transformers.models.glm4v.image_processing_pil_glm4v")
    from app.render import tokens

    expected = glm4v.smart_resize(
        num_frames=2,
        height=height,
        width=width,
        temporal_factor=2,
        factor=28,
        min_pixels=tokens.MIN_PIXELS,
        max_pixels=tokens.MAX_PIXELS,
    )
    assert smart_resize(height, width) == expected


def test_processor_defaults_are_the_ones_counted():
    glm4v = pytest.importorskip("transformers.models.glm4v.image_processing_pil_glm4v")
    from app.render import tokens

    proc = glm4v.Glm4vImageProcessorPil
    assert proc.size == {"shortest_edge": tokens.MIN_PIXELS, "longest_edge": tokens.MAX_PIXELS}
    assert proc.patch_size * proc.merge_size == tokens.FACTOR


@pytest.mark.parametrize(("width", "height"), [(595, 842), (300, 41), (793, 1123)])
def test_visual_tokens_equal_the_processors_image_tokens(width, height):
    glm4v = pytest.importorskip("transformers.models.glm4v.image_processing_pil_glm4v")
    from PIL import Image

    processor = glm4v.Glm4vImageProcessorPil()
    grid = processor(images=[Image.new("RGB", (width, height), "white")], return_tensors="np")[
        "image_grid_thw"
    ][0]
    assert visual_tokens(width, height) == int(grid.prod()) // processor.merge_size**2


def test_visual_tokens_of_a_glyph_page():
    # A4 at 72 dpi: 595x842 → 588x840 → 21 x 30 blocks of 28 px
    assert visual_tokens(595, 842) == 630
    assert visual_tokens(0, 10) == 0
    assert visual_tokens(5000, 8000) <= 28 * 28 * 15000 // (28 * 28) // 2 + 1


def test_text_token_estimate_separates_cjk_and_latin():
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens("a") == 1
    assert estimate_text_tokens("word " * 100) == 125  # 500 chars / 4
    assert estimate_text_tokens("中" * 150) == 100  # 1.5 CJK chars per token
    mixed = estimate_text_tokens("中" * 150 + "word " * 100)
    assert mixed == 225
