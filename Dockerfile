# syntax=docker/dockerfile:1.7
# Glyph-视觉推理 — GPU image: the web UI on port 7860, the Glyph VLM on the GPU when a checkpoint
# is mounted at /root/models/Glyph, the built-in OCR reader (CPU, offline) otherwise.
#
#   docker build -t glyph-visual-reasoning .
#   docker run --gpus all -p 7860:7860 -v /root/models:/root/models -v /root/data:/root/data \
#       glyph-visual-reasoning
#
# Guide (compose profiles, memory per quantization profile, troubleshooting): docs/DEPLOY.md.
#
# Stages: base (Ubuntu + CUDA + Python 3.11) → reqs (requirements derived from pyproject.toml)
# → deps (/opt/venv: torch first, then the rest) → runtime (fonts, tesseract, the source).
# Source edits rebuild only the last few layers; the multi-GB dependency layers stay cached until
# a dependency in pyproject.toml changes.

# torch==2.13.0 from PyPI is built against CUDA 13.0 and carries its own CUDA libraries (pip
# packages), so the host driver must support CUDA 13 (R580 or newer). The base image matches that
# CUDA release. For an older driver, build with a CUDA 12 base *and* a CUDA 12 torch build, e.g.
#   --build-arg CUDA_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu22.04 \
#   --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-runtime-ubuntu22.04

# ---------------------------------------------------------------------------------------------
FROM ${CUDA_IMAGE} AS base
ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    LC_ALL=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# Keep downloaded .debs between builds (cache mount) instead of letting the image clean them.
RUN rm -f /etc/apt/apt.conf.d/docker-clean
# Ubuntu 22.04's own python3.11 (universe). Versions are not pinned: the archive drops superseded
# versions, so pins break rebuilds; the base image tag fixes the release.
# hadolint ignore=DL3008
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates

# ---------------------------------------------------------------------------------------------
FROM base AS reqs
COPY pyproject.toml scripts/docker_requirements.py /src/
RUN python3.11 /src/docker_requirements.py /src/pyproject.toml \
        --extras vlm,ui,ocr,jobs --out /reqs

# ---------------------------------------------------------------------------------------------
FROM base AS deps
ARG TORCH_INDEX_URL=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT=180
RUN python3.11 -m venv /opt/venv
# The newest pip (Ubuntu's ensurepip bundles an old one that lacks current wheel-metadata support).
# hadolint ignore=DL3013
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/python -m pip install --upgrade pip setuptools wheel
# torch first and alone: the largest layer (CUDA libraries included), rebuilt only when its pin
# changes; installing it before the rest stops a dependency from pulling another torch release.
COPY --from=reqs /reqs/torch.txt /reqs/torch.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/python -m pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple} \
        -r /reqs/torch.txt
# The vlm, ui, ocr and jobs extras (transformers, bitsandbytes, gradio, rapidocr, redis, ...),
# with torch held at its pin.
COPY --from=reqs /reqs/requirements.txt /reqs/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/python -m pip install -r /reqs/requirements.txt -c /reqs/torch.txt \
    && /opt/venv/bin/python -m pip check

# ---------------------------------------------------------------------------------------------
FROM base AS runtime
# Fonts the renderer needs (DejaVu; Noto CJK for Chinese/Japanese/Korean) and tesseract with
# English and Simplified Chinese (the alternative OCR engine). Unpinned for the reason above.
# hadolint ignore=DL3008
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-dejavu-core fonts-noto-cjk \
        tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim

# A non-root user whose files live where the seeds' users expect them: /root/models (checkpoints,
# mount point) and /root/data (uploads, job store, results). /root is made traversable (0711: enter,
# not list) so those two paths work unchanged for this user.
ARG GLYPH_UID=1000
ARG GLYPH_GID=1000
RUN groupadd --gid "${GLYPH_GID}" glyph \
    && useradd --uid "${GLYPH_UID}" --gid glyph --create-home --shell /bin/bash glyph \
    && chmod 0711 /root \
    && mkdir -p /root/models/huggingface /root/data \
    && chown -R glyph:glyph /root/models /root/data

ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONPATH=/app \
    GLYPH_PYTHON=/opt/venv/bin/python \
    HF_HOME=/root/models/huggingface \
    GLYPH_HOST=0.0.0.0 \
    GLYPH_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False

COPY --from=deps /opt/venv /opt/venv

# The source last: these layers are the only ones a code change rebuilds.
WORKDIR /app
COPY configs ./configs
COPY scripts ./scripts
COPY 界面推理.sh ./
COPY app ./app
RUN python -m compileall -q /app/app

# Numeric, so that orchestrators can verify "not root" without reading /etc/passwd.
USER ${GLYPH_UID}:${GLYPH_GID}
# Proves at build time, with the network off, that the built-in reader works offline: fonts,
# tesseract languages, rapidocr's bundled ONNX models, the MiniLM model shipped in its wheel, and
# one question through the real pipeline (render → OCR → retrieval → evidence boxes).
RUN --network=none python scripts/docker_selfcheck.py

EXPOSE 7860
# Python instead of curl (not in the image): the UI's root page answers 200 once Gradio is up.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/' % os.environ.get('GLYPH_PORT', '7860'), timeout=8)"]
# GLYPH_PYTHON (set above) makes 界面推理.sh skip its venv set-up; it picks /root/models/Glyph
# when that holds a checkpoint, prints the URL and execs `python -m app serve`.
ENTRYPOINT ["/app/界面推理.sh"]
