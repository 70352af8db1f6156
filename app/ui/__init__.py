"""The web UI. ``create_app(settings)`` builds the Gradio Blocks without side effects;
``launch()`` serves it (``python -m app serve`` / ``界面推理.sh``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.settings import Settings, get_settings

if TYPE_CHECKING:
    import gradio as gr

    from app.jobs.queue import JobQueue
    from app.pipeline import Pipeline

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    pipeline: Pipeline | None = None,
    queue: JobQueue | None = None,
) -> gr.Blocks:
    """The three-pane Blocks for ``settings`` (not launched; no job worker is started)."""
    from app.ingest import supported_suffixes
    from app.jobs.queue import JobQueue
    from app.pipeline import Pipeline
    from app.ui import storage
    from app.ui.jobs_view import JobsManager
    from app.ui.manager import UIManager
    from app.ui.view import build

    settings = settings or get_settings()
    storage.atomic_image_cache()
    pipeline = pipeline or Pipeline(settings)
    jobs = JobsManager(queue or JobQueue(settings))  # opens its files on first use only
    demo = build(
        UIManager(pipeline),
        settings.language,
        upload_types=supported_suffixes(),
        jobs=jobs,
        workroot=storage.sessions_root(),
        delete_cache=storage.delete_cache(settings.temp_retention_s),
    )
    demo.queue(default_concurrency_limit=4)
    return demo


def launch(host: str | None = None, port: int | None = None, **kwargs) -> None:
    """Serve the UI (blocking). With ``GLYPH_AUTH`` every page, API call and file needs a login."""
    from app.auth import Authenticator
    from app.jobs.queue import JobQueue
    from app.jobs.worker import start_inprocess_worker
    from app.pipeline import Pipeline
    from app.ui import storage

    settings = get_settings()
    settings.check_dirs()  # a full or unwritable data dir: one clear message naming it
    # before the Blocks exist: Gradio's cache goes to a private dir, not the shared /tmp/gradio
    storage.configure_gradio_temp()
    auth = Authenticator.from_spec(settings.auth) if settings.auth else None
    if auth is None and (host or settings.host) not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "no GLYPH_AUTH: anyone who can reach the port can use the UI (docs/SECURITY.md)"
        )
    pipeline, queue = Pipeline(settings), JobQueue(settings)
    queue.open()
    demo = create_app(settings, pipeline, queue)
    # GLYPH_INPROCESS_WORKER (default: on without Redis): queued jobs run in this process,
    # sharing the loaded reader with the UI.
    start_inprocess_worker(settings, pipeline, queue)
    chosen = port or settings.port
    if not _port_free(host or settings.host, chosen):
        from app.errors import GlyphError

        raise GlyphError(
            f"Port {chosen} is already in use (another copy of the app, or another program). "
            "Stop it, or choose another port with GLYPH_PORT=7861.",
            f"端口 {chosen} 已被占用（可能已有一个本程序或其他程序在运行）。请先关闭它，"
            "或用 GLYPH_PORT=7861 换一个端口。",
        )
    from app.ui.view import page_css

    demo.launch(
        server_name=host or settings.host,
        server_port=chosen,
        max_file_size=settings.max_upload_bytes,
        show_error=False,
        auth=auth.check if auth else None,
        auth_message="Glyph-视觉推理" if auth else None,
        # no copies of documents or answers in the browser's storage, no /monitoring page
        run_history=False,
        enable_monitoring=False,
        css=page_css(),
        **kwargs,
    )


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
