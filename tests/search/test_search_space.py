"""Search space: genes on a grid, candidates → RenderConfig, installed fonts."""

import random

import pytest

from app.errors import ConfigError
from app.render import resolve_config
from app.render.fonts import find_font
from app.search.space import (
    GLYPH_NEWLINE_MARKUP,
    Gene,
    SearchSpace,
    default_genes,
    installed_fonts,
    unique,
)


def test_numeric_gene_grid_snap_and_types():
    size = Gene("font_size", 5.0, 14.0, 0.5)
    assert size.size == 19
    assert size.value(0) == 5.0 and size.value(18) == 14.0
    assert size.snap(8.7) == 8.5 and size.snap(100) == 14.0 and size.snap(-3) == 5.0
    dpi = Gene("dpi", 48, 144, 12)
    assert dpi.snap(100) == 96 and isinstance(dpi.snap(100), int)


def test_mutation_changes_the_value_and_stays_on_the_grid():
    rng = random.Random(1)
    for gene in default_genes(("DejaVuSans.ttf", "DejaVuSerif.ttf")):
        grid = [gene.value(k) for k in range(gene.size)]
        value = gene.sample(rng)
        for _ in range(50):
            new = gene.mutate(value, rng)
            assert new != value and new in grid, gene.name
            value = new


def test_choice_gene_rejects_unknown_values():
    gene = Gene("alignment", choices=("LEFT", "JUSTIFY"))
    assert gene.snap("JUSTIFY") == "JUSTIFY"
    with pytest.raises(ValueError):
        gene.snap("DIAGONAL")


def test_candidate_to_config_sets_every_searched_field():
    base = resolve_config("en")
    space = SearchSpace(base, default_genes(("DejaVuSerif.ttf",)), name="trial")
    cand = {
        "font_size": 8.0,
        "line_spacing": 1.25,
        "dpi": 96,
        "margin_x": 4,
        "margin_y": 12,
        "alignment": "JUSTIFY",
        "newline_markup": None,
        "font_path": "DejaVuSerif.ttf",
    }
    config = space.to_config(cand)
    assert (config.font_size, config.line_height, config.dpi) == (8.0, 10.0, 96)
    assert (config.margin_x, config.margin_y, config.alignment) == (4, 12, "JUSTIFY")
    assert config.newline_markup is None and config.font_path == "DejaVuSerif.ttf"
    assert config.name == "trial" and config.page_size == base.page_size
    # the base expressed as genes maps back onto the base config
    back = space.to_config(space.base_candidate())
    assert (back.font_size, back.line_height, back.dpi) == (9.0, 10.0, 72)
    assert back.newline_markup == GLYPH_NEWLINE_MARKUP


def test_unrenderable_candidates_are_config_errors():
    base = resolve_config("en", page_size=(60, 40))
    space = SearchSpace(base, default_genes(()))
    cand = space.base_candidate() | {"margin_x": 30, "margin_y": 30}
    assert not space.valid(cand)
    with pytest.raises(ConfigError):
        space.to_config(cand)


def test_genes_must_be_render_config_fields():
    with pytest.raises(ValueError, match="not RenderConfig fields"):
        SearchSpace(resolve_config("en"), (Gene("colour_of_sky", 0, 1, 1),))


def test_installed_fonts_default_and_all():
    fonts = installed_fonts()
    assert "DejaVuSans.ttf" in fonts and "DejaVuSansMono.ttf" in fonts
    assert "NotoSansCJK-Regular.ttc#2" in fonts
    assert all(find_font(ref) is not None for ref in fonts)
    every = installed_fonts(all_fonts=True)
    assert {"DejaVuSans.ttf", "DejaVuSerif.ttf"} <= set(every)
    assert not [f for f in every if "Bold" in f or "Oblique" in f]
    assert all(find_font(ref) is not None for ref in every)


def test_unique_keeps_first_occurrence(space):
    rng = random.Random(0)
    a, b = space.sample(rng), space.sample(rng)
    assert unique([a, b, dict(a)], space) == [a, b]
