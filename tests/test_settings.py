from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_defaults_are_cpu_friendly(settings):
    assert settings.reader == "auto"
    assert settings.model is None
    assert settings.port == 7860
    assert settings.max_paste_chars == 100_000
    assert settings.resolved_cache_dir == settings.data_dir / "cache"


def test_env_prefix_and_types(monkeypatch, tmp_path):
    monkeypatch.setenv("GLYPH_PORT", "9000")
    monkeypatch.setenv("GLYPH_READER", "ocr")
    monkeypatch.setenv("GLYPH_MODEL", "/root/models/Glyph")
    monkeypatch.setenv("GLYPH_MAX_UPLOAD_MB", "1.5")
    monkeypatch.setenv("GLYPH_DATA_DIR", str(tmp_path))
    s = Settings(_env_file=None)
    assert s.port == 9000
    assert s.reader == "ocr"
    assert s.model == "/root/models/Glyph"
    assert s.max_upload_bytes == 1_500_000  # decimal MB, as the messages say
    assert s.data_dir == Path(tmp_path)


def test_empty_env_means_unset(monkeypatch, tmp_path):
    monkeypatch.setenv("GLYPH_MODEL", "  ")
    monkeypatch.setenv("GLYPH_REDIS_URL", "")
    s = Settings(_env_file=None, data_dir=tmp_path)
    assert s.model is None
    assert s.redis_url is None


@pytest.mark.parametrize(
    ("key", "value"),
    [("GLYPH_PORT", "70000"), ("GLYPH_READER", "gpt"), ("GLYPH_REVIEW_THRESHOLD", "1.5")],
)
def test_invalid_values_rejected(monkeypatch, tmp_path, key, value):
    monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None, data_dir=tmp_path)


def test_ensure_dirs_creates_nothing_until_asked(tmp_path):
    s = Settings(_env_file=None, data_dir=tmp_path / "d")
    assert not (tmp_path / "d").exists()
    s.ensure_dirs()
    assert (tmp_path / "d" / "cache").is_dir()


def test_a_misspelled_glyph_variable_is_named_at_start_up(tmp_path, caplog):
    from app.settings import unknown_keys, warn_unknown_keys

    env = {"GLYPH_READRE": "ocr", "GLYPH_READER": "ocr", "GLYPHS_X": "1", "PATH": "/bin"}
    assert unknown_keys(env, None) == {"GLYPH_READRE": "GLYPH_READER"}
    tools = {
        "GLYPH_PYTHON": "/opt/venv/bin/python",
        "GLYPH_EVAL_CACHE": "/x",
        "GLYPH_SMOKE_PORT": "1",
    }
    assert unknown_keys(tools, None) == {}  # the scripts' own variables are not typos
    dotenv = tmp_path / ".env"
    dotenv.write_text("# GLYPH_COMMENTED=1\nGLYPH_REVIEW_TRESHOLD=0.5\nGLYPH_PORT=1\n")
    assert unknown_keys({}, dotenv) == {"GLYPH_REVIEW_TRESHOLD": "GLYPH_REVIEW_THRESHOLD"}
    with caplog.at_level("WARNING", logger="app.settings"):
        (message,) = warn_unknown_keys(env)
    assert "GLYPH_READRE" in message and "GLYPH_READER?" in message
    assert "GLYPH_READRE" in caplog.text


def test_the_cli_warns_about_unknown_glyph_variables(monkeypatch, caplog):
    from typer.testing import CliRunner

    from app.cli import app

    monkeypatch.setenv("GLYPH_MODLE", "/nowhere")
    with caplog.at_level("WARNING", logger="app.settings"):
        result = CliRunner().invoke(app, ["hash-password", "--help"])
    assert result.exit_code == 0
    assert "GLYPH_MODLE is not a Glyph setting" in caplog.text and "GLYPH_MODEL?" in caplog.text
