"""OCR: page image → text lines with boxes, per-character positions and confidences.

Two engines behind one small interface (``app.ocr.base.OcrEngine``): ``rapid.RapidEngine``
(default; the ONNX models shipped inside the ``rapidocr`` wheel) and ``tesseract.TesseractEngine``
(the tesseract binary). ``get_engine(name)`` creates the one engine of that name per process;
``ENGINES`` names them as "module:Class" strings, imported only when asked for, so importing this
package loads neither engine.

Used by scanned-page ingest (``app.ingest.scan_ocr``) and by the OCR reader (``app.readers.ocr``).
"""

from __future__ import annotations

import importlib
import threading

from app.errors import ReaderError
from app.ocr.base import OcrEngine, OcrLine

ENGINES: dict[str, str] = {
    "rapidocr": "app.ocr.rapid:RapidEngine",
    "tesseract": "app.ocr.tesseract:TesseractEngine",
}

_CREATED: dict[str, OcrEngine] = {}
_LOCK = threading.Lock()


def get_engine(name: str) -> OcrEngine:
    """The engine called ``name`` ('rapidocr' or 'tesseract'), created once per process."""
    with _LOCK:
        if name not in _CREATED:
            if name not in ENGINES:
                raise ReaderError(
                    f"Unknown OCR engine '{name}' (use {' or '.join(ENGINES)}).",
                    f"未知的 OCR 引擎 '{name}'（可选 {' 或 '.join(ENGINES)}）。",
                )
            module, cls = ENGINES[name].split(":")
            _CREATED[name] = getattr(importlib.import_module(module), cls)()
        return _CREATED[name]


__all__ = ["ENGINES", "OcrEngine", "OcrLine", "get_engine"]
