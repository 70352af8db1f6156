#!/usr/bin/env bash
# 界面推理 — start the Glyph-视觉推理 web UI (default http://0.0.0.0:7860).
#
# On a machine without the venv it runs scripts/setup.sh first (system fonts + OCR + Python deps).
# A model is used when GLYPH_MODEL is set or /root/models/Glyph exists; otherwise the built-in CPU
# reader answers. Environment: GLYPH_HOST, GLYPH_PORT, GLYPH_MODEL, GLYPH_READER, … (README).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

if [[ -n "${GLYPH_PYTHON:-}" ]]; then
  PY="$GLYPH_PYTHON"                 # e.g. the Docker image's system Python
else
  "$ROOT/scripts/setup.sh"           # fast no-op when already set up
  PY="$ROOT/.venv/bin/python"
fi

export GLYPH_HOST="${GLYPH_HOST:-0.0.0.0}"
export GLYPH_PORT="${GLYPH_PORT:-7860}"
if [[ -z "${GLYPH_MODEL:-}" && -f /root/models/Glyph/config.json ]]; then
  export GLYPH_MODEL=/root/models/Glyph
fi

cuda="$("$PY" - <<'PYEOF' 2>/dev/null || echo "no"
import torch
print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no")
PYEOF
)"
if [[ "$cuda" == "no" || -z "$cuda" ]]; then
  echo "[界面推理] GPU: none detected (CPU mode)"
else
  echo "[界面推理] GPU: $cuda"
fi
# Which reader answers, by the same rule as app.readers.resolve_reader (auto: model, then server).
reader="${GLYPH_READER:-auto}"
if [[ "$reader" == "openai" || ("$reader" == "auto" && -z "${GLYPH_MODEL:-}" && -n "${GLYPH_OPENAI_BASE_URL:-}") ]]; then
  echo "[界面推理] reader: OpenAI-compatible server ${GLYPH_OPENAI_BASE_URL:-(GLYPH_OPENAI_BASE_URL is not set)}"
elif [[ "$reader" == "ocr" ]]; then
  echo "[界面推理] reader: the built-in OCR reader (CPU), as GLYPH_READER=ocr asks"
elif [[ -n "${GLYPH_MODEL:-}" ]]; then
  echo "[界面推理] model: $GLYPH_MODEL"
else
  echo "[界面推理] model: none configured — using the built-in OCR reader (CPU)"
fi
# In the Docker image /root/data is a mount point; a host folder owned by root is not writable by
# the image's user, and the app would then keep results inside the container only.
if [[ -z "${GLYPH_DATA_DIR:-}" && -d /root/data && ! -w /root/data ]]; then
  echo "[界面推理] warning: /root/data is not writable by uid $(id -u), so results will not be kept there;" \
    "on the host run: sudo chown -R $(id -u):$(id -g) /root/data (docs/DEPLOY.md)" >&2
fi
shown_host="$GLYPH_HOST"
[[ "$shown_host" == "0.0.0.0" ]] && shown_host="localhost"
echo "[界面推理] open http://$shown_host:$GLYPH_PORT in your browser"
exec "$PY" -m app serve "$@"
