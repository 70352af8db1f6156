# Glyph-视觉推理 — GPU image. Full build/run guide: docs/DEPLOY.md.
FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    HF_HOME=/root/models/.hf \
    GLYPH_DATA_DIR=/root/data \
    GLYPH_PYTHON=/opt/venv/bin/python

RUN apt-get update && apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv fonts-dejavu-core fonts-noto-cjk \
        tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
RUN python3.11 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir torch==2.13.0 \
    && /opt/venv/bin/pip install --no-cache-dir ".[ui,ocr,vlm]"
COPY configs ./configs
COPY scripts ./scripts
COPY 界面推理.sh ./

EXPOSE 7860
ENTRYPOINT ["./界面推理.sh"]
