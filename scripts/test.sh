#!/usr/bin/env bash
# Set up (system packages + venv with every extra) and run the test suite.
#   scripts/test.sh                 # default suite: everything but `slow` (gpu tests skip without CUDA)
#   scripts/test.sh -m slow         # extra pytest arguments are passed through
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" --dev
cd "$ROOT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_THREAD_LIMIT=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
