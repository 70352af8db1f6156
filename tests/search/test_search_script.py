"""scripts/search_render.py: arguments → run_search → files, resume (evaluator stand-in)."""

import importlib.util
import json
from pathlib import Path

import pytest

from app.render import resolve_config
from tests.search.conftest import LegibilityStandIn, synthetic_items, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location(
        "search_render", ROOT / "scripts/search_render.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def script(monkeypatch, settings):
    made = []

    def fake_make_evaluator(name, _settings):
        assert name == "ocr" and _settings is settings
        made.append(LegibilityStandIn())
        return made[-1]

    monkeypatch.setattr("app.search.make_evaluator", fake_make_evaluator)
    monkeypatch.setattr("app.settings.get_settings", lambda: settings)
    return load_script(), made


def test_script_writes_config_history_state_and_resumes(script, tmp_path, settings, capsys):
    module, made = script
    data = tmp_path / "val.jsonl"
    write_jsonl(data, synthetic_items())
    base = tmp_path / "small.json"
    base.write_text(json.dumps(resolve_config("en", page_size=(320, 240)).to_glyph_dict()))
    args = [str(data), "--base", str(base), "--out-dir", str(tmp_path / "out"), "--name", "memo"]
    args += ["--population", "4", "--generations", "2", "--seed", "7", "--no-progress"]
    assert module.main(args) == 0
    out = capsys.readouterr().out
    assert "best fitness" in out and "memo.json" in out
    config = resolve_config(str(tmp_path / "out" / "memo.json"))
    assert config.name == "memo" and config.page_size == (320.0, 240.0)
    history = (tmp_path / "out" / "memo.history.csv").read_text().splitlines()
    assert len(history) == 1 + 4 * 2
    assert (tmp_path / "out" / "memo.state.json").is_file()
    first_calls = made[0].calls
    # the same command again: nothing left to evaluate; more generations: only the new ones
    assert module.main(args) == 0 and made[1].calls == 0
    more = [*args[:-5], "--generations", "3", "--seed", "7", "--no-progress"]
    assert module.main(more) == 0
    assert 0 < made[2].calls <= 4
    assert len((tmp_path / "out" / "memo.history.csv").read_text().splitlines()) == 1 + 4 * 3
    # evaluations were cached under the settings' cache dir
    assert any((settings.resolved_cache_dir / "search").rglob("*.json"))
    assert first_calls > 0


def test_script_reports_user_errors(script, tmp_path, capsys):
    module, _ = script
    assert module.main([str(tmp_path / "missing.jsonl"), "--no-progress"]) == 2
    assert "Cannot read the validation set" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        module.main([str(tmp_path / "x.jsonl"), "--population", "1"])
