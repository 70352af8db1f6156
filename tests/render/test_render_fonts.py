"""Font resolution and the per-character fallback chain."""

import logging

import numpy as np

from app.render import chars
from app.render.fonts import (
    DEJAVU_SANS,
    NOTO_CJK,
    NOTO_CJK_SC_INDEX,
    build_chain,
    default_chain,
    find_font,
    parse_font_ref,
)
from app.render.glyphs import GlyphSet


def test_find_font_by_name_path_and_collection_index(tmp_path):
    dejavu = find_font(DEJAVU_SANS)
    assert dejavu is not None and dejavu.path.endswith("DejaVuSans.ttf") and dejavu.index == 0
    assert find_font(dejavu.path) == dejavu
    noto = find_font(NOTO_CJK)
    assert noto is not None and noto.index == NOTO_CJK_SC_INDEX  # SC face by default
    assert find_font(f"{NOTO_CJK}#0").index == 0
    assert find_font("../config/Verdana-not-here.ttf") is None
    assert parse_font_ref("a.ttc#3") == ("a.ttc", 3)
    assert parse_font_ref("odd#name.ttf") == ("odd#name.ttf", None)


def test_chain_order_follows_the_language():
    en, zh = default_chain("en"), default_chain("zh")
    assert en[0].path.endswith("DejaVuSans.ttf") and zh[0].path.endswith(NOTO_CJK)
    assert set(en) == set(zh)


def test_missing_configured_fonts_warn_and_fall_back(caplog):
    from app.render import fonts

    fonts._warned.clear()
    with caplog.at_level(logging.WARNING, logger="app.render.fonts"):
        chain = build_chain("../config/Verdana.ttf", ("nope.otf",), "en")
    assert chain == default_chain("en")
    assert "Verdana" in caplog.text and "nope.otf" in caplog.text


def test_each_character_uses_the_first_face_that_has_it():
    gs = GlyphSet(default_chain("en"), 9.0, 4)
    text = "aЖ中あ∑★\U0001f600\U000f0000"
    gids = gs.lookup(chars.codepoints(text))
    faces = [gs.faces[gs.gid_face[g]].spec.path.rsplit("/", 1)[-1] for g in gids.tolist()]
    assert faces[0] == "DejaVuSans.ttf" and faces[1] == "DejaVuSans.ttf"
    assert faces[2] == NOTO_CJK and faces[3] == NOTO_CJK
    assert "DejaVu" in faces[4] and faces[5] == "DejaVuSans.ttf"
    assert faces[6] == "DejaVuSans.ttf"  # DejaVu has monochrome emoticons
    # a character no installed font has becomes the replacement glyph (U+FFFD)
    assert gids[7] == gs.replacement_gid and gs.gid_cp[gs.replacement_gid] == 0xFFFD
    assert np.all(gs.advances[gids] > 0)


def test_glyph_cache_rasterises_each_phase_once_with_ink():
    gs = GlyphSet(default_chain("en"), 12.0, 4)
    gid = int(gs.lookup(chars.codepoints("H"))[0])
    ents = np.array([gid * 4 + p for p in range(4)])
    gs.ensure(ents)
    starts = gs.ent_start[ents].copy()
    gs.ensure(ents)
    assert np.array_equal(starts, gs.ent_start[ents])  # cached, not redrawn
    _dy, dx, val = gs.flat()
    sums = [
        int(val[s : s + n].sum()) for s, n in zip(gs.ent_start[ents], gs.ent_len[ents], strict=True)
    ]
    assert min(sums) > 0 and max(sums) - min(sums) < 0.05 * max(sums)  # same ink, shifted
    first = dx[gs.ent_start[ents[0]] : gs.ent_start[ents[0]] + gs.ent_len[ents[0]]]
    last = dx[gs.ent_start[ents[3]] : gs.ent_start[ents[3]] + gs.ent_len[ents[3]]]
    weights0 = val[gs.ent_start[ents[0]] : gs.ent_start[ents[0]] + gs.ent_len[ents[0]]]
    weights3 = val[gs.ent_start[ents[3]] : gs.ent_start[ents[3]] + gs.ent_len[ents[3]]]
    centre0 = float((first * weights0).sum() / weights0.sum())
    centre3 = float((last * weights3).sum() / weights3.sum())
    assert 0.6 < centre3 - centre0 < 0.9  # phase 3 is 3/4 pixel to the right
