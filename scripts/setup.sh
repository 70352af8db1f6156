#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for Glyph-视觉推理: system packages + a venv with the project.
#
#   scripts/setup.sh            # runtime: ui, ocr, vlm extras (what 界面推理.sh needs)
#   scripts/setup.sh --dev      # everything, including test tools (what scripts/test.sh needs)
#
# Idempotent: a stamp file records what was installed; a re-run with nothing changed returns in
# well under a second. Set GLYPH_SKIP_APT=1 to skip system packages (e.g. inside the Docker build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GLYPH_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
PROFILE="runtime"
EXTRAS="ui,ocr,vlm"
if [[ "${1:-}" == "--dev" ]]; then
  PROFILE="dev"
  EXTRAS="all"
fi

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# --- system packages ---------------------------------------------------------------------------
APT_RUNTIME=(fonts-dejavu-core fonts-noto-cjk fonts-symbola tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim)
APT_DEV=(chromium chromium-driver redis-server poppler-utils docker-compose nginx-light
  docker.io debootstrap shared-mime-info) # the last three: for scripts/docker_smoke.sh
want=("${APT_RUNTIME[@]}")
[[ "$PROFILE" == dev ]] && want+=("${APT_DEV[@]}")
# documents of the real-document QA set (eval/qa_real/documents.jsonl names each file's package;
# the Debian Edu manuals are documents of eval/qa_real/probe.jsonl, GnuPG's Chinese help text one
# of probe4.jsonl; Python's policy, Ninja's manual and dpkg's specifications documents of
# probe6.jsonl and fresh3.jsonl)
APT_EVAL=(debian-faq debian-faq-zh-cn debian-policy debian-reference-common debian-reference-zh-cn
  developers-reference maint-guide-zh-cn vim-runtime fontconfig debian-edu-doc-en
  debian-edu-doc-zh-cn gnupg-l10n python3-dev ninja-build dpkg-dev)
[[ "$PROFILE" == dev ]] && want+=("${APT_EVAL[@]}")
# more manuals for bench/collection_scale.py (20 documents, over 1,000 PDF pages)
APT_BENCH=(valgrind nettle-dev zlib1g-dev fontconfig bzip2-doc libtasn1-doc)
[[ "$PROFILE" == dev ]] && want+=("${APT_BENCH[@]}")

# LibreOffice's help in English and Chinese, documents of eval/qa_real/probe2-6.jsonl and
# fresh3.jsonl: with its dependencies about 150 MB, so only on request
# (GLYPH_EVAL_PROBES=1 scripts/setup.sh --dev)
APT_PROBES=(libreoffice-help-en-us libreoffice-help-zh-cn)
[[ "$PROFILE" == dev && "${GLYPH_EVAL_PROBES:-0}" == 1 ]] && want+=("${APT_PROBES[@]}")

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 && "${GLYPH_SKIP_APT:-0}" != 1 ]]; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
      log "missing system packages: ${missing[*]} (not root and no sudo: install them yourself)"; SUDO=skip
    fi
  fi
  if [[ "$SUDO" != skip ]] && command -v apt-get >/dev/null; then
    log "installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- virtual environment -----------------------------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating venv at $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# The stamp covers the dependency list and this script, so editing either triggers a reinstall.
stamp_src="$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/setup.sh"; echo "$PROFILE")"
stamp_hash="$(printf '%s' "$stamp_src" | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.glyph-setup-$PROFILE"
if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_hash" ]]; then
  exit 0
fi

# Room for the install: the venv takes about 3 GB (torch, OCR and VLM libraries) and pip unpacks
# each wheel beside it. A full disk otherwise fails half-way with pip's "[Errno 28]".
NEED_MB=3500
free_mb=$(df -Pm "$(dirname "$VENV")" | awk 'NR==2 {print $4}')
if [[ -n "$free_mb" && "$free_mb" -lt "$NEED_MB" && ! -f "$VENV/.glyph-setup-runtime" && ! -f "$VENV/.glyph-setup-dev" ]]; then
  log "only ${free_mb} MB free where the venv goes ($(dirname "$VENV")); about ${NEED_MB} MB are needed" \
    "/ 磁盘空间不足：仅剩 ${free_mb} MB，安装约需 ${NEED_MB} MB"
  exit 1
fi
# --no-cache-dir: the downloaded wheels are not kept a second time in ~/.cache/pip
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check --no-cache-dir -q)
# torch first, pinned: on this kind of machine pip takes the CPU wheel from local disk; on a GPU
# host PyPI serves the CUDA build. Installing it before the rest stops a dependency from pulling
# another torch release.
if ! "$VENV/bin/python" -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  log "installing torch==2.13.0"
  "${PIP[@]}" "torch==2.13.0"
fi
log "installing the project with extras [$EXTRAS]"
"${PIP[@]}" -e "$ROOT[$EXTRAS]"

printf '%s' "$stamp_hash" >"$stamp_file"
log "ready: $VENV"
