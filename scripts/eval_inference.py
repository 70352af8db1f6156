#!/usr/bin/env python
"""Score a reader (ocr, vlm, openai) on a JSONL of questions: exact match, F1, ROUGE-L, timing.

    .venv/bin/python scripts/eval_inference.py DATA.jsonl --reader ocr --out runs/eval-ocr
    .venv/bin/python scripts/eval_inference.py DATA.jsonl --reader vlm --model runs/sft/adapter
    .venv/bin/python scripts/eval_inference.py DATA.jsonl --reader openai --set openai_base_url=http://vllm:8000/v1

Rows: {"image_path"|"image_paths"|"text"|"path", "question", "answer"|"answers"} (optional "id",
"lang", "mode"). Writes OUT/predictions.jsonl (one line per row) and OUT/summary.json, and prints
the summary. The logic lives in app/train/evaluate.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.train.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
