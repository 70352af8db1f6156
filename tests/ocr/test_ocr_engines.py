"""app.ocr: the engine registry, the engines' shared pixel post-processing, and rapidocr."""

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from app import ocr
from app.errors import ReaderError
from app.ocr.base import OcrLine, insert_markers, marker_runs, merge_rows, split_markers
from app.render import render, resolve_config

ROOT = Path(__file__).resolve().parents[2]


def test_registry_imports_engines_only_when_asked_for():
    assert set(ocr.ENGINES) == {"rapidocr", "tesseract"}
    code = "import sys, app.ocr; print([m for m in sys.modules if m.startswith('app.ocr.')])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "['app.ocr.base']"


def test_markers_are_removed_from_pixels_and_put_back_as_newlines():
    img = Image.new("RGB", (60, 10), "white")
    px = img.load()
    for x in range(20, 26):
        for y in range(3, 8):
            px[x, y] = (255, 0, 0)
    rgb, mask = split_markers(img)
    assert mask.sum() == 30 and (rgb[mask] == 255).all()
    assert marker_runs(mask, 0, 10, 0, 60) == [22.5]
    line = OcrLine("ab cd", (0, 0, 60, 10), 0.9, [5, 10, 22, 35, 40], [0.9] * 5)
    out = insert_markers(line, [22.5])
    assert out.text == "ab\ncd" and len(out.char_x) == len(out.text)


def test_rows_are_merged_left_to_right_without_repeats():
    left = OcrLine("Hello", (0, 0, 30, 10), 0.9, [2, 8, 14, 20, 26], [0.9] * 5)
    right = OcrLine("o world", (25, 1, 80, 11), 0.8, [26, 32, 38, 44, 50, 56, 62], [0.8] * 7)
    below = OcrLine("Next", (0, 12, 30, 22), 0.9, [2, 8, 14, 20], [0.9] * 4)
    rows = merge_rows([below, right, left])
    assert [r.text for r in rows] == ["Hello world", "Next"]
    assert rows[0].char_x == sorted(rows[0].char_x)


def test_rapidocr_reads_lines_with_positions_and_markers():
    text = "Invoice 2024-117 total EUR 4,250.\nPaid by Acme GmbH on 3 May 2024."
    rendered = render(text, resolve_config("en"))
    lines = ocr.get_engine("rapidocr").read(rendered.pages[0].image, "en")
    read = "".join(line.text for line in lines)
    assert "EUR 4,250" in read and "3 May 2024" in read
    assert "\n" in read  # the red newline marker came back as a line break
    for line in lines:
        assert len(line.char_x) == len(line.text) == len(line.char_conf)
        assert 0 < line.confidence <= 1
        inner = [x for ch, x in zip(line.text, line.char_x, strict=True) if ch != "\n"]
        assert all(line.box[0] - 2 <= x <= line.box[2] + 2 for x in inner)


def test_unknown_engine_is_a_user_error():
    with pytest.raises(ReaderError):
        ocr.get_engine("abbyy")


def test_rows_join_without_a_space_next_to_cjk():
    left = OcrLine("营业", (0, 0, 20, 10), 0.9, [2, 12], [0.9] * 2)
    right = OcrLine("收入", (22, 0, 42, 10), 0.9, [24, 34], [0.9] * 2)
    assert [r.text for r in merge_rows([left, right])] == ["营业收入"]
