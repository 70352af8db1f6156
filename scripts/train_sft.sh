#!/usr/bin/env bash
# Fine-tune Glyph / GLM-4.1V on your own documents (LoRA by default) — a thin wrapper around
# `python -m app.train sft`; every option is documented there (and in configs/train/lora.yaml).
#   scripts/train_sft.sh --base /root/models/Glyph --data /root/data/train.jsonl --out /root/data/runs/sft
#   scripts/train_sft.sh --config qlora --base … --data … --out …      # 4-bit base, 12-16 GB cards
#   scripts/train_sft.sh … --resume                                     # continue the last checkpoint
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$PYTHON" -m app.train sft "$@"
