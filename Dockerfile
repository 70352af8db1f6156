# Glyph-视觉推理 — GPU image: the web UI on port 7860, the Glyph VLM on the GPU when a checkpoint
# is mounted at /root/models/Glyph, the built-in OCR reader (CPU, offline) otherwise.
#
#   docker build -t glyph-visual-reasoning .
#   docker run --gpus all -p 7860:7860 -v /root/models:/root/models -v /root/data:/root/data \
#       glyph-visual-reasoning
#
# Guide (compose profiles, memory per quantization profile, troubleshooting): docs/DEPLOY.md.
# Built and run end to end by scripts/docker_smoke.sh (a local Debian base, a CPU torch).
#
# No `# syntax=` line on purpose: the builder's built-in Dockerfile frontend is enough (RUN
# --mount), so a build needs no frontend image from a registry — only the base image.
#
# Stages: base (Debian + Python 3.11) → reqs (requirements derived from pyproject.toml)
# → deps (/opt/venv: torch first, then the rest) → src (the source, byte-compiled)
# → runtime (fonts, tesseract, user, venv, source). Source edits rebuild only the last layers; the
# multi-GB dependency layers stay cached until a dependency in pyproject.toml changes.

# The CUDA libraries come from PyPI with torch: torch==2.13.0's Linux wheel is built against
# CUDA 13.0 and depends on NVIDIA's CUDA 13 wheels (nvidia-cublas, nvidia-cudnn, nccl, …), so the
# base needs no CUDA of its own — only the host's driver (R580 or newer), which `--gpus all` (the
# NVIDIA Container Toolkit) mounts into the container. Any Debian or Ubuntu base with a python3.11
# package works here: scripts/docker_smoke.sh builds on a debootstrap'd bookworm.
ARG BASE_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS base
ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    LC_ALL=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# Python 3.11 from the distribution (Debian 12's python3; Ubuntu 22.04 has it in universe).
# Downloaded .debs and package lists stay in cache mounts, never in a layer (hence docker-clean,
# which would delete them, is removed). Versions are not pinned: the archive drops superseded
# versions, so pins break rebuilds; the base image tag fixes the release.
# hadolint ignore=DL3008
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
    && apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates

# ---------------------------------------------------------------------------------------------
FROM base AS reqs
COPY pyproject.toml scripts/docker_requirements.py /src/
RUN python3.11 /src/docker_requirements.py /src/pyproject.toml \
        --extras vlm,ui,ocr,jobs --out /reqs

# ---------------------------------------------------------------------------------------------
FROM base AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT=180
RUN python3.11 -m venv /opt/venv
# Every pip step mounts the optional secret `pip_cert` (a CA bundle, for a network whose TLS is
# intercepted: `docker build --secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt`). It is
# used for that step only and never stored in a layer; without it pip uses the image's CAs.
# The newest pip (a distribution's ensurepip may bundle one without current wheel-metadata support).
# hadolint ignore=DL3013
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
    && /opt/venv/bin/python -m pip install --upgrade pip setuptools wheel
# torch first and alone: the largest layer (CUDA libraries included), rebuilt only when its pin
# changes; installing it before the rest stops a dependency from pulling another torch release.
COPY --from=reqs /reqs/torch.txt /reqs/torch.txt
# Another torch build: a PyTorch index (e.g. https://download.pytorch.org/whl/cu128 for a CUDA 12
# driver), and/or a folder or URL of wheels that pip also considers for torch (the smoke test
# serves a CPU wheel from the build host). Empty: PyPI's torch, CUDA 13. Declared here, not at the
# top of the stage, so that their values key only the steps from here on.
ARG TORCH_INDEX_URL=""
ARG TORCH_FIND_LINKS=""
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
    && /opt/venv/bin/python -m pip install \
        ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple} \
        ${TORCH_FIND_LINKS:+--find-links "$TORCH_FIND_LINKS"} \
        -r /reqs/torch.txt
# The vlm, ui, ocr and jobs extras (transformers, bitsandbytes, gradio, rapidocr, redis, ...),
# with torch held at its pin. Then the test suites some wheels ship (pandas, numpy, scipy, sympy,
# sklearn, …: ~160 MB, only ever imported by pytest) are dropped.
COPY --from=reqs /reqs/requirements.txt /reqs/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
    && /opt/venv/bin/python -m pip install -r /reqs/requirements.txt -c /reqs/torch.txt \
    && /opt/venv/bin/python -m pip check \
    && find /opt/venv/lib/python3.11/site-packages \( -type d -name tests -prune -o -name conftest.py \) \
        -exec rm -rf {} +

# ---------------------------------------------------------------------------------------------
# The source, byte-compiled in a small stage of its own, so that it reaches the image as one layer
# (every layer above the 2-7 GB venv costs a full copy with some storage drivers).
FROM base AS src
WORKDIR /app
COPY configs ./configs
COPY scripts ./scripts
COPY 界面推理.sh ./
COPY app ./app
RUN python3.11 -m compileall -q /app/app

# ---------------------------------------------------------------------------------------------
FROM base AS runtime
ARG GLYPH_UID=1000
ARG GLYPH_GID=1000
# Fonts the renderer needs (DejaVu; Noto CJK for Chinese/Japanese/Korean; Symbola for emoji) and
# tesseract with English and Simplified Chinese (the alternative OCR engine). Unpinned for the
# reason above.
# A non-root user whose files live where the seeds' users expect them: /root/models (checkpoints,
# mount point) and /root/data (uploads, job store, results). /root is made traversable (0711: enter,
# not list) so those two paths work unchanged for this user.
# hadolint ignore=DL3008
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-dejavu-core fonts-noto-cjk fonts-symbola \
        tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim \
    && groupadd --gid "${GLYPH_GID}" glyph \
    && useradd --uid "${GLYPH_UID}" --gid glyph --create-home --shell /bin/bash glyph \
    && chmod 0711 /root \
    && mkdir -p /root/models/huggingface /root/data \
    && chown -R glyph:glyph /root/models /root/data

# The CUDA release the torch wheels need: the NVIDIA Container Toolkit refuses to start the
# container on an older driver with a clear message (as it does for nvidia/cuda images); compute
# and utility (nvidia-smi) are the driver parts it mounts. Without a GPU these do nothing.
ARG NVIDIA_REQUIRE_CUDA="cuda>=13.0"
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONPATH=/app \
    GLYPH_PYTHON=/opt/venv/bin/python \
    HF_HOME=/root/models/huggingface \
    GLYPH_HOST=0.0.0.0 \
    GLYPH_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    NVIDIA_REQUIRE_CUDA=${NVIDIA_REQUIRE_CUDA}

WORKDIR /app
COPY --from=deps /opt/venv /opt/venv
# The source last: the only layer a code change rebuilds.
COPY --from=src /app /app

# Numeric, so that orchestrators can verify "not root" without reading /etc/passwd.
USER ${GLYPH_UID}:${GLYPH_GID}
# Proves at build time that the built-in reader works offline: fonts, tesseract languages,
# rapidocr's bundled ONNX models, the MiniLM model shipped in its wheel, and one question through
# the real pipeline (render → OCR → retrieval → evidence boxes). --deny-network makes any attempt
# to open a connection beyond loopback fail the check (the built-in frontend has no RUN
# --network=none), and the hub and the proxies point at a closed local port for good measure.
# HOME on a tmpfs: whatever the libraries write there stays out of the layer.
RUN --mount=type=tmpfs,target=/tmp \
    HOME=/tmp HF_HUB_OFFLINE=1 HF_ENDPOINT=http://127.0.0.1:9 \
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 NO_PROXY='' no_proxy='' \
    python scripts/docker_selfcheck.py --deny-network

EXPOSE 7860
# Python instead of curl (not in the image): the UI's root page answers 200 once Gradio is up;
# no proxy, even when the container's environment names one.
HEALTHCHECK --interval=10s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:%s/' % os.environ.get('GLYPH_PORT', '7860'), timeout=8)"]
# GLYPH_PYTHON (set above) makes 界面推理.sh skip its venv set-up; it picks /root/models/Glyph
# when that holds a checkpoint, prints the URL and execs `python -m app serve`.
ENTRYPOINT ["/app/界面推理.sh"]
# The server is PID 1, which ignores SIGTERM (Docker's default stop signal) unless it handles it,
# so `docker stop` waited out its timeout and killed it (measured: 30 s, exit 137). SIGINT is
# Python's KeyboardInterrupt: Gradio closes the server and the process exits 0 in about 1 s
# (measured at idle). A `python -m app worker` container gets SIGINT too: huey's consumer then
# finishes its running job and stops (not measured here).
STOPSIGNAL SIGINT
