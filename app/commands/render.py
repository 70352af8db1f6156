"""``python -m app render FILE|- --config PRESET --out DIR``."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import typer

from app.commands import open_file
from app.render.output import write_rendered

log = logging.getLogger(__name__)


def render_command(file: str, config: str, out: Path, *, password: str | None = None) -> None:
    """Read ``file`` (or stdin for '-') through ingest, render it at ``config`` and write page
    PNGs, ``layout.npz``, ``text.txt`` and ``manifest.json`` into ``out``. ``password`` opens an
    encrypted PDF."""
    from app.pipeline import Pipeline

    pipeline = Pipeline()
    started = time.perf_counter()
    if file == "-":
        data = sys.stdin.buffer.read()
        doc = pipeline.open_document(data, name="stdin.txt")
    else:
        doc = open_file(pipeline, file, password)
    rendered = pipeline.render(doc, config)
    info = write_rendered(rendered, out)
    elapsed = time.perf_counter() - started
    stats = info["stats"]
    for note in doc.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(
        f"{len(info['pages'])} page(s), {stats['visual_tokens']} visual tokens for "
        f"~{stats['text_tokens_estimate']} text tokens (estimate; "
        f"{stats['compression_ratio']:.2f}x) at config '{rendered.config.name}' "
        f"→ {out} ({elapsed:.2f} s)"
    )
