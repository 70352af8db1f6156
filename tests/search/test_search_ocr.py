"""The search with the real built-in OCR reader as evaluator (reads the rendered pixels)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.render import resolve_config
from app.search import EvalCache, GeneticSearch, SearchOptions, make_evaluator
from app.search.evaluate import cached_evaluate
from tests.search.conftest import small_space, synthetic_items, write_jsonl

pytest.importorskip("rapidocr")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ocr_evaluator(tmp_path_factory):
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("search-ocr"))
    evaluator = make_evaluator("ocr", settings)
    yield evaluator
    evaluator.close()


@pytest.mark.slow
def test_ocr_evaluator_tells_legible_from_illegible(ocr_evaluator, tmp_path):
    items = synthetic_items()
    space = small_space()
    legible = space.base.model_copy(update={"font_size": 10.0, "line_height": 12.0, "dpi": 96})
    tiny = space.base.model_copy(update={"font_size": 5.0, "line_height": 5.5, "dpi": 48})
    assert ocr_evaluator.id.startswith("ocr:rapidocr:")
    cache = EvalCache(tmp_path)
    good, hit = cached_evaluate(ocr_evaluator, legible, items, cache)
    bad, _ = cached_evaluate(ocr_evaluator, tiny, items, cache)
    assert not hit and good.accuracy >= 0.75 and bad.accuracy <= 0.25, (good, bad)
    assert good.answers and all(isinstance(a, str) for a in good.answers)
    assert bad.compression > good.compression > 0  # fewer pixels per character
    again, hit = cached_evaluate(ocr_evaluator, legible, items, cache)
    assert hit and again.accuracy == good.accuracy


@pytest.mark.slow
def test_search_with_ocr_improves_over_its_initial_population(ocr_evaluator, tmp_path):
    options = SearchOptions(population=6, generations=4, elite=2, seed=2)
    search = GeneticSearch(
        small_space(), ocr_evaluator, synthetic_items(), options, cache=EvalCache(tmp_path)
    )
    result = search.run()
    assert result.best.fitness > result.initial_best, result.generation_best
    assert result.best.result.accuracy >= 0.75
    # deterministic: the same seed replays the same search (evaluations now from the cache)
    again = GeneticSearch(
        small_space(), ocr_evaluator, synthetic_items(), options, cache=EvalCache(tmp_path)
    ).run()
    assert [i.genes for i in again.history] == [i.genes for i in result.history]
    assert again.best.fitness == result.best.fitness


@pytest.mark.slow
def test_script_end_to_end_with_ocr_and_resume(tmp_path):
    data = tmp_path / "val.jsonl"
    write_jsonl(data, synthetic_items()[:2])
    base = tmp_path / "base.json"
    base.write_text(
        json.dumps(resolve_config("en", page_size=(320, 160), margin_x=6).to_glyph_dict()),
        encoding="utf-8",
    )
    cmd = [sys.executable, str(ROOT / "scripts/search_render.py"), str(data), "--base", str(base)]
    cmd += ["--out-dir", str(tmp_path / "out"), "--population", "3", "--generations", "1"]
    cmd += ["--name", "tiny", "--no-progress", "--seed", "2"]
    env = {"GLYPH_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "out" / "tiny.json").is_file()
    rows = (tmp_path / "out" / "tiny.history.csv").read_text().splitlines()
    assert len(rows) == 1 + 3
    longer = list(cmd)
    longer[longer.index("--generations") + 1] = "2"
    second = subprocess.run(longer, capture_output=True, text=True, env=env, timeout=600)
    assert second.returncode == 0, second.stderr
    assert len((tmp_path / "out" / "tiny.history.csv").read_text().splitlines()) == 1 + 6
    config = resolve_config(str(tmp_path / "out" / "tiny.json"))
    assert config.name == "tiny" and config.page_size == (320.0, 160.0)
