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
    assert s.max_upload_bytes == int(1.5 * 1024 * 1024)
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
