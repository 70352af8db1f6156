"""Command line: ``python -m app {render,ask,serve,worker,jobs,hash-password}``.

Every command reports user errors (``GlyphError``) as one readable line on stderr and exits with
status 2; unexpected failures exit 1 with the traceback in the log, never a crash dump alone.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from app.errors import GlyphError

log = logging.getLogger("app")

app = typer.Typer(
    name="glyph",
    help="Glyph-视觉推理: render documents to dense page images and ask a vision-language model "
    "(or the built-in OCR reader) about them, with red-box evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
jobs_app = typer.Typer(help="Async queue (异步队列): submit jobs and fetch their results.")
app.add_typer(jobs_app, name="jobs")

F = TypeVar("F", bound=Callable[..., Any])


def _lang() -> str:
    from app.settings import get_settings

    lang = get_settings().language
    return "zh" if lang == "zh" else "en"


def user_errors(func: F) -> F:
    """Turn ``GlyphError`` into a clean message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GlyphError as err:
            typer.echo(f"error: {err.user_message(_lang())}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _setup_logging(verbose: bool) -> None:
    from app.settings import get_settings, warn_unknown_keys

    level = logging.DEBUG if verbose else getattr(logging, get_settings().log_level.upper(), 20)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    warn_unknown_keys()  # a misspelled GLYPH_ variable would otherwise be ignored silently


_PASSWORD_OPT = typer.Option(
    "--password",
    help="Password of an encrypted PDF (never logged or stored).",
    show_default=False,
)


@app.callback()
def main_callback(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    _setup_logging(verbose)


@app.command()
@user_errors
def render(
    file: Annotated[
        str,
        typer.Argument(help="Input file (PDF, DOCX, TXT, MD, code, HTML) or '-' for stdin text."),
    ],
    config: Annotated[
        str,
        typer.Option(
            "--config",
            "-c",
            help="Preset (auto, en, zh, fine, medium, coarse) or a Glyph JSON path.",
        ),
    ] = "auto",
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for page PNGs and layout.")
    ] = Path("rendered"),
    password: Annotated[str | None, _PASSWORD_OPT] = None,
) -> None:
    """Render a document to page images (PNG) plus its character layout map."""
    from app.commands.render import render_command

    render_command(file, config, out, password=password)


@app.command()
@user_errors
def ask(
    args: Annotated[
        list[str],
        typer.Argument(
            help="FILE [FILE …] QUESTION: one or more documents (a folder stands for its "
            "documents, '-' for stdin text), then the question (summary and extract need none).",
            show_default=False,
        ),
    ],
    mode: Annotated[str, typer.Option("--mode", "-m", help="qa | summary | extract")] = "qa",
    reader: Annotated[
        str | None, typer.Option("--reader", "-r", help="auto | ocr | vlm | openai")
    ] = None,
    config: Annotated[
        str, typer.Option("--config", "-c", help="Render preset or JSON path.")
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where evidence images go.")
    ] = None,
    password: Annotated[str | None, _PASSWORD_OPT] = None,
) -> None:
    """Ask a question about one document or several; prints the answer and its evidence (with
    the document it is in)."""
    from app.commands.ask import ask_command, split_arguments

    files, question = split_arguments(args, mode)
    ask_command(
        files,
        question,
        mode=mode,
        reader=reader,
        config=config,
        as_json=as_json,
        out=out,
        password=password,
    )


@app.command()
@user_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default GLYPH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default GLYPH_PORT, 7860).")] = None,
) -> None:
    """Start the web UI (three panes: input, render preview, reasoning)."""
    from app.ui import launch

    launch(host=host, port=port)


@app.command()
@user_errors
def worker(
    workers: Annotated[int, typer.Option("--workers", "-w", help="Worker threads.")] = 1,
) -> None:
    """Run a job worker that consumes the async queue (SQLite or Redis)."""
    from app.jobs.worker import run_worker

    run_worker(workers=workers)


@app.command("hash-password")
@user_errors
def hash_password_cmd(
    user: Annotated[str, typer.Argument(help="User name (no ':' or ',').")],
    scheme: Annotated[
        str, typer.Option("--scheme", help="scrypt (default) or pbkdf2_sha256.")
    ] = "scrypt",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Print a 'user:HASH' line for a GLYPH_AUTH password file."""
    from app.auth import password_line

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    typer.echo(password_line(user, password, scheme))


_PRESET_OPT = typer.Option("--render-preset", "-c", help="Render preset or JSON path.")
_READER_OPT = typer.Option("--reader", "-r", help="auto | ocr | vlm | openai")
_SET_OPT = typer.Option("--set", help="Render override KEY=VALUE (repeatable), e.g. dpi=96.")
_WAIT_OPT = typer.Option("--wait", help="Follow the job with a progress bar; print its result.")


@jobs_app.command("submit")
@user_errors
def jobs_submit(
    file: Annotated[Path, typer.Argument(help="Document to ask about.")],
    question: Annotated[str, typer.Argument(help="The question.")] = "",
    mode: Annotated[str, typer.Option("--mode", "-m")] = "qa",
    render_preset: Annotated[str | None, _PRESET_OPT] = None,
    reader: Annotated[str | None, _READER_OPT] = None,
    overrides: Annotated[list[str] | None, _SET_OPT] = None,
    wait: Annotated[bool, _WAIT_OPT] = False,
) -> None:
    """Queue a question; prints the job id."""
    from app.jobs.cli import submit_command

    submit_command(
        file,
        question,
        mode,
        preset=render_preset,
        reader=reader,
        overrides=overrides,
        wait=wait,
    )


@jobs_app.command("batch")
@user_errors
def jobs_batch(
    source: Annotated[Path, typer.Argument(help="A folder of documents or a JSONL of items.")],
    questions: Annotated[
        list[str] | None, typer.Option("--question", "-q", help="Asked of every document.")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", "-m")] = "qa",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where results.jsonl goes (resume).")
    ] = None,
    render_preset: Annotated[str | None, _PRESET_OPT] = None,
    reader: Annotated[str | None, _READER_OPT] = None,
    overrides: Annotated[list[str] | None, _SET_OPT] = None,
    wait: Annotated[bool, _WAIT_OPT] = False,
    local: Annotated[
        bool, typer.Option("--local", help="Run here (no queue), with a progress bar.")
    ] = False,
    collection: Annotated[
        bool,
        typer.Option(
            "--collection",
            help="Ask the folder's documents as one collection (each question once).",
        ),
    ] = False,
) -> None:
    """Queue documents × questions; results.jsonl + evidence images, resumable."""
    from app.jobs.cli import batch_command

    batch_command(
        source,
        questions,
        mode,
        out=out,
        preset=render_preset,
        reader=reader,
        overrides=overrides,
        wait=wait,
        local=local,
        collection=collection,
    )


@jobs_app.command("status")
@user_errors
def jobs_status(job_id: Annotated[str, typer.Argument()]) -> None:
    """Show a job's status and progress."""
    from app.jobs.cli import status_command

    status_command(job_id)


@jobs_app.command("result")
@user_errors
def jobs_result(job_id: Annotated[str, typer.Argument()]) -> None:
    """Print a finished job's result as JSON."""
    from app.jobs.cli import result_command

    result_command(job_id)


@jobs_app.command("list")
@user_errors
def jobs_list(
    limit: Annotated[int, typer.Option("--limit", "-n")] = 20,
) -> None:
    """Recent jobs, newest first."""
    from app.jobs.cli import list_command

    list_command(limit)


@jobs_app.command("cancel")
@user_errors
def jobs_cancel(job_id: Annotated[str, typer.Argument()]) -> None:
    """Cancel a job that has not started yet."""
    from app.jobs.cli import cancel_command

    cancel_command(job_id)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def main() -> None:
    app()
