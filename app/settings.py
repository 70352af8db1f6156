"""Application settings: one pydantic-settings class, environment prefix ``GLYPH_``, read once.

Every tunable of the server lives here so that the README's configuration table, the CLI and the
Docker image agree. Values come from (highest first) explicit keyword arguments, environment
variables (``GLYPH_READER=ocr``), a ``.env`` file in the working directory, then the defaults.
"""

from __future__ import annotations

import difflib
import functools
import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

ReaderName = Literal["auto", "ocr", "vlm", "openai"]

MB = 1_000_000
"""Bytes in the megabyte of every size limit and message (decimal, as users read "50 MB")."""
MIN_FREE_MB = 50
"""The server and workers refuse to start with less free space than this in the data dir."""


def _default_data_dir() -> Path:
    # /root/data is what the seeds' users type in the container; elsewhere use the user's data dir.
    container = Path("/root/data")
    if container.is_dir() and os.access(container, os.W_OK):
        return container
    from platformdirs import user_data_dir

    return Path(user_data_dir("glyph-visual-reasoning", appauthor=False))


class Settings(BaseSettings):
    """All server settings. Environment variables are the field names upper-cased with ``GLYPH_``."""

    model_config = SettingsConfigDict(
        env_prefix="GLYPH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # --- reader / model -------------------------------------------------------------------------
    reader: ReaderName = Field(
        "auto",
        description="Which reader answers: 'auto' uses the VLM when a model is configured and "
        "loads, else the built-in OCR reader; 'ocr', 'vlm' or 'openai' force one.",
    )
    model: str | None = Field(
        None,
        description="Glyph / GLM-4.1V checkpoint: a local directory or a Hugging Face hub id "
        "(e.g. /root/models/Glyph or zai-org/Glyph).",
    )
    model_profile: str = Field(
        "int4-vision",
        description="Quantization profile from configs/models/: 'int4-vision' (INT4 vision "
        "encoder + FP16 language model, 24 GB cards), 'int4-all' (12-16 GB cards), 'none'.",
    )
    vision_onnx: Path | None = Field(
        None,
        description="ONNX vision encoder exported by scripts/export_onnx.py (fp32 or INT8): the "
        "VLM reader runs the page images through onnxruntime with it, the language model in "
        "PyTorch (edge devices, CPU hosts).",
    )
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="Where the VLM runs.")
    dtype: Literal["float16", "bfloat16", "float32"] = Field(
        "float16", description="Compute dtype of the language model."
    )
    max_new_tokens: int = Field(1024, ge=1, le=32768, description="Generation length limit.")
    max_visual_tokens: int = Field(
        100_000,
        ge=1,
        description="Visual-token budget per question; longer documents are read coarse-to-fine.",
    )

    # --- OpenAI-compatible server (vLLM, SGLang) ------------------------------------------------
    openai_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server, e.g. http://vllm:8000/v1."
    )
    openai_model: str = Field("zai-org/Glyph", description="Model name on that server.")
    openai_api_key: str = Field("EMPTY", description="API key for that server.")
    openai_timeout_s: float = Field(300.0, gt=0, description="Request timeout in seconds.")
    openai_max_retries: int = Field(
        2,
        ge=0,
        le=10,
        description="Retries (with backoff) of a request that failed to connect, timed out or got "
        "HTTP 408/409/429/5xx before any output.",
    )

    # --- built-in OCR reader --------------------------------------------------------------------
    ocr_engine: Literal["rapidocr", "tesseract"] = Field(
        "rapidocr", description="OCR engine of the built-in reader and of scanned PDF pages."
    )
    ocr_scanned_pages: int = Field(
        100,
        ge=0,
        description="Scanned PDF pages (no text layer) read by OCR when the file is opened, at "
        "most this many per file (0 = none); each takes a few seconds on CPU.",
    )
    ocr_first_lines: int = Field(
        8,
        ge=0,
        le=200,
        description="Built-in reader: before whole pages, read only the rendered lines that best "
        "match the question (this many, each with two lines of context) and answer from them "
        "when confident (0 = start with whole pages).",
    )
    ocr_first_pages: int = Field(
        3,
        ge=0,
        le=50,
        description="Built-in reader, questions on long documents: read the pages that best match "
        "the question first and answer from them when confident (0 = always read every page).",
    )
    prefetch_pages: int = Field(
        100,
        ge=0,
        description="Built-in reader: pages read ahead in the background when a document is "
        "opened, before any question (0 = none; about 6 s a dense page on 2 CPU cores). A "
        "question reads the rest it needs, and a question out of time has the rest read.",
    )
    question_budget_s: float = Field(
        30.0,
        ge=0.0,
        description="Most seconds one question reads before it answers from the pages read so far "
        "(flagged for review, or 'not found in the page images read so far (n of N)'); the rest of the "
        "document is read in the background for the next question (0 = no limit).",
    )
    question_yield_s: float = Field(
        3.0,
        ge=0.0,
        description="A question that has read this many seconds gives way to another session's "
        "question waiting for the reader: it answers from what it has read, the rest is read in "
        "the background (0 = never give way before the budget runs out).",
    )
    review_threshold: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="Answers with confidence below this are flagged 需人工确认 / needs review "
        "(0.9: on the development documents, each left out of the fit in turn, 98 % of the "
        "built-in reader's answers at or above it were right; docs/BENCHMARKS.md).",
    )

    # --- rendering ------------------------------------------------------------------------------
    render_preset: str = Field(
        "auto", description="Default render config: 'auto' (zh/en by script), en, zh, fine, ..."
    )
    coarse_to_fine: bool = Field(
        False,
        description="Answer questions coarse-to-fine: the pages that best match the question are "
        "re-rendered at the fine preset and only those are read (fewer visual tokens than "
        "reading every page fine). Pair it with GLYPH_RENDER_PRESET=coarse.",
    )
    coarse_to_fine_pages: int = Field(
        3, ge=1, le=50, description="Most pages re-rendered fine per question (coarse-to-fine)."
    )

    # --- storage --------------------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Uploads of queued jobs, job store (SQLite) and results live here.",
    )
    cache_dir: Path | None = Field(
        None, description="OCR / render / feature caches (default: DATA_DIR/cache)."
    )
    redis_url: str | None = Field(
        None, description="Redis URL for the job queue; SQLite under DATA_DIR when unset."
    )

    # --- job queue (app/jobs) -------------------------------------------------------------------
    inprocess_worker: bool | None = Field(
        None,
        description="Run a job worker thread inside the UI process. Default: on with the SQLite "
        "queue, off with Redis (run `python -m app worker` on the GPU machines instead).",
    )
    job_max_attempts: int = Field(
        3,
        ge=1,
        le=20,
        description="Attempts per job before it is marked failed; a worker that dies mid-job "
        "uses up one attempt.",
    )
    job_lease_s: float = Field(
        60.0,
        gt=0,
        description="A worker renews its claim on a job every third of this; a job whose worker "
        "is silent this long (killed, crashed) is retried.",
    )

    # --- input limits ---------------------------------------------------------------------------
    max_upload_mb: float = Field(
        50.0, gt=0, description="Largest accepted upload, in MB (1 MB = 1,000,000 bytes)."
    )
    max_pages: int = Field(500, ge=1, description="Most pages read from a PDF or DOCX.")
    max_chars: int = Field(2_000_000, ge=1, description="Most characters of extracted text.")
    max_paste_chars: int = Field(100_000, ge=1, description="Most characters of pasted text.")
    max_jobs_per_session: int = Field(4, ge=1, description="Concurrent jobs per browser session.")
    temp_retention_s: float = Field(
        14400.0,
        gt=0,
        description="Gradio's temp copies of uploads and of the page images and downloads it "
        "serves are deleted this many seconds after they were made; a session's own files "
        "go when the session ends.",
    )

    # --- server ---------------------------------------------------------------------------------
    host: str = Field("0.0.0.0", description="Interface the UI listens on.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the UI.")
    auth: str | None = Field(
        None, description="Optional login: 'user:pass,user2:pass2' or a path to a password file."
    )
    language: Literal["auto", "zh", "en"] = Field(
        "auto", description="Interface language; 'auto' follows the browser."
    )
    log_level: str = Field("INFO", description="Python logging level.")

    @field_validator(
        "model",
        "vision_onnx",
        "openai_base_url",
        "redis_url",
        "auth",
        "inprocess_worker",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # `GLYPH_MODEL=` in an env file means "not set", not "the empty path".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def max_upload_bytes(self) -> int:
        """``max_upload_mb`` in bytes: decimal megabytes, the unit every message states."""
        return int(self.max_upload_mb * MB)

    @property
    def run_inprocess_worker(self) -> bool:
        """Whether the UI process consumes the queue itself (see ``inprocess_worker``)."""
        if self.inprocess_worker is not None:
            return self.inprocess_worker
        return self.redis_url is None

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.data_dir / "cache"

    def ensure_dirs(self) -> None:
        """Create the data and cache directories (not done at construction: no import side effects)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.resolved_cache_dir.mkdir(parents=True, exist_ok=True)

    def check_dirs(self, min_free_mb: float = MIN_FREE_MB) -> None:
        """Create the data and cache directories and check that they can be written and have
        ``min_free_mb`` free: the start-up check of the server and of workers, so that a full or
        unwritable directory is one clear message naming it, not a SQLite traceback later."""
        for path, variable in (
            (self.data_dir, "GLYPH_DATA_DIR"),
            (self.resolved_cache_dir, "GLYPH_CACHE_DIR"),
        ):
            check_writable_dir(path, variable, min_free_mb)


def check_writable_dir(path: Path, variable: str, min_free_mb: float = 0) -> None:
    """``path`` exists (created if needed), takes a file and has ``min_free_mb`` free; else a
    ``GlyphError`` naming the directory, the problem and ``variable``, the setting to change."""
    from app.errors import GlyphError

    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".glyph-write-test-{os.getpid()}"
        try:
            with probe.open("wb") as fh:
                fh.write(b"glyph")
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            probe.unlink(missing_ok=True)
        free = shutil.disk_usage(path).free
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise GlyphError(
            f"The directory {path} cannot be used: {reason}. Make it writable, free some space, "
            f"or set {variable} to a writable directory.",
            f"目录 {path} 无法使用：{reason}。请使其可写、释放磁盘空间，或将 {variable} "
            "设为可写的目录。",
            detail=repr(err),
        ) from None
    if free < min_free_mb * MB:
        raise GlyphError(
            f"The disk of {path} is full: {free / MB:.1f} MB free, at least {min_free_mb:g} MB "
            f"needed. Free some space or set {variable} to a directory on another disk.",
            f"{path} 所在磁盘已满：仅剩 {free / MB:.1f} MB，至少需要 {min_free_mb:g} MB。"
            f"请释放空间，或将 {variable} 设为其他磁盘上的目录。",
        )


# GLYPH_ variables that are not server settings: read by the set-up and launch scripts, the
# Docker build, the test suite, the benchmarks and the evaluation tools.
TOOL_VARIABLES = frozenset(
    {
        "GLYPH_PYTHON",
        "GLYPH_VENV",
        "GLYPH_SKIP_APT",
        "GLYPH_MODELS_DIR",
        "GLYPH_UID",
        "GLYPH_GID",
        "GLYPH_OCR_THREADS",
        "GLYPH_EVAL_CACHE",
        "GLYPH_EVAL_COMMIT",
        "GLYPH_FUZZ_EXAMPLES",
        "GLYPH_LOAD_SESSIONS",
    }
)


def unknown_keys(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> dict[str, str | None]:
    """``GLYPH_`` names in the environment (and the ``.env`` file) that are no setting — a typo
    there is otherwise ignored silently — each with the setting it probably meant (or None)."""
    known = {f"GLYPH_{name.upper()}" for name in Settings.model_fields} | TOOL_VARIABLES
    names = {key.upper() for key in (os.environ if environ is None else environ)}
    if env_file is not None and Path(env_file).is_file():
        for line in Path(env_file).read_text(encoding="utf-8", errors="replace").splitlines():
            key = line.strip().removeprefix("export ").partition("=")[0].strip()
            if "=" in line and not line.lstrip().startswith("#"):
                names.add(key.upper())
    unknown = sorted(
        n
        for n in names
        if n.startswith("GLYPH_") and n not in known and not n.startswith("GLYPH_SMOKE_")
    )
    return {
        n: next(iter(difflib.get_close_matches(n, known, n=1, cutoff=0.75)), None) for n in unknown
    }


def warn_unknown_keys(environ: Mapping[str, str] | None = None) -> list[str]:
    """Log one warning per unknown ``GLYPH_`` name (at start-up); returns the messages."""
    messages = []
    for name, guess in unknown_keys(environ).items():
        hint = f" Did you mean {guess}?" if guess else ""
        messages.append(f"{name} is not a Glyph setting and is ignored.{hint}")
        log.warning(messages[-1])
    return messages


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
