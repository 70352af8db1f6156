"""The built-in CPU reader: OCR of the rendered page images + retrieval (see ``reader.py``)."""

from app.readers.ocr.reader import OcrReader

__all__ = ["OcrReader"]
