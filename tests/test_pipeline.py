"""The façade: readers are loaded once, a fallback is retried later."""

from __future__ import annotations

from app.pipeline import Pipeline
from app.readers import ReaderChoice


def test_reader_is_cached_and_a_fallback_is_retried(settings, monkeypatch):
    calls = []

    class FakeReader:
        name = "ocr"

        def close(self):
            calls.append("close")

    def fake_resolve(_settings, key):
        calls.append(key)
        notes = ["vlm: not ready — falling back"] if len(calls) == 1 else []
        return ReaderChoice(FakeReader(), key, notes)

    monkeypatch.setattr("app.pipeline.resolve_reader", fake_resolve)
    pipeline = Pipeline(settings)
    first = pipeline.reader("auto")
    assert pipeline.reader("auto") is first  # cached while fresh
    monkeypatch.setattr(Pipeline, "RETRY_FALLBACK_S", 0.0)
    second = pipeline.reader("auto")
    assert second is not first and not second.notes and calls == ["auto", "close", "auto"]
    assert pipeline.reader("auto") is second  # a clean choice stays
