"""Job workers: ``python -m app worker`` (a process) and the UI's in-process worker (threads).

Both run huey's consumer with thread workers that hand every message to ``JobRunner``, plus a
maintenance thread that calls ``JobQueue.maintain()`` every half lease: jobs of workers that died
(their lease expired) go back to the queue, and lost messages are sent again. One ``Pipeline`` is
shared by a process's worker threads (and by the UI when in-process), so a model loads once;
reader calls take ``reader_lock`` so only one document is read at a time per process.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from app.jobs.queue import JobQueue
from app.jobs.runner import JobRunner
from app.settings import Settings, get_settings

if TYPE_CHECKING:
    from app.pipeline import Pipeline

log = logging.getLogger(__name__)


def _consumer_class():
    from huey.consumer import Consumer

    class ThreadConsumer(Consumer):
        """huey's consumer without signal handlers: those only work in the main thread."""

        def _set_signal_handlers(self) -> None:
            return None

    return ThreadConsumer


class Worker:
    """Consumes the queue with ``workers`` threads until ``stop()``."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        workers: int = 1,
        pipeline: Pipeline | None = None,
        queue: JobQueue | None = None,
    ) -> None:
        from app.pipeline import Pipeline

        self.settings = settings or get_settings()
        self.settings.ensure_dirs()
        self.queue = queue or JobQueue(self.settings)
        self.pipeline = pipeline or Pipeline(self.settings)
        self.queue.runner = JobRunner(self.queue, self.pipeline).run
        self.workers = max(1, workers)
        self._stop = threading.Event()
        self._maintenance = threading.Thread(
            target=self._maintain_loop, name="jobs-maintenance", daemon=True
        )
        self.consumer = None

    @property
    def maintenance_interval(self) -> float:
        return min(30.0, max(0.25, self.settings.job_lease_s / 2))

    def _maintain_once(self) -> None:
        try:
            changes = self.queue.maintain()
        except Exception:  # a busy database or Redis restart: try again next round
            log.exception("job queue maintenance failed")
            return
        if any(changes.values()):
            log.info("job queue maintenance: %s", changes)

    def _maintain_loop(self) -> None:
        while not self._stop.wait(self.maintenance_interval):
            self._maintain_once()

    def _make_consumer(self, cls):
        return cls(
            self.queue.huey,
            workers=self.workers,
            worker_type="thread",
            periodic=False,
            initial_delay=0.1,
            backoff=1.5,
            max_delay=1.0,  # an idle worker looks at the SQLite queue at least every second
            check_worker_health=True,
        )

    def start(self) -> Worker:
        """Start in background threads (the UI's in-process worker)."""
        self._maintain_once()  # jobs of a worker that died before this start are retried now
        self.consumer = self._make_consumer(_consumer_class())
        self.consumer.start()
        self._maintenance.start()
        log.info("in-process job worker started (%d thread(s), %s queue)",
                 self.workers, self.queue.backend)  # fmt: skip
        return self

    def stop(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, return once the running job (if any) has finished."""
        self.queue.runner = None  # a message taken from now on goes back to the queue
        self._stop.set()
        if self.consumer is not None:
            self.consumer.stop(graceful=wait)

    def run(self) -> None:
        """Block in the main thread; SIGINT finishes running jobs, SIGTERM stops at once."""
        from huey.consumer import Consumer

        try:  # load the model before taking jobs: the first job is not slower, errors show now
            choice = self.pipeline.reader()
            log.info(
                "job worker reader: %s %s", choice.reader.name, " ".join(map(str, choice.notes))
            )
        except Exception:
            log.exception("the reader could not be loaded; jobs will report the error")
        self._maintain_once()
        self._maintenance.start()
        self.consumer = self._make_consumer(Consumer)
        log.info("job worker: %d thread(s), %s queue under %s", self.workers, self.queue.backend,
                 self.settings.redis_url or self.settings.data_dir)  # fmt: skip
        try:
            self.consumer.run()
        finally:
            self._stop.set()


def run_worker(workers: int = 1, settings: Settings | None = None) -> None:
    """``python -m app worker``: consume the queue until interrupted."""
    settings = settings or get_settings()
    settings.check_dirs()  # a full or unwritable data dir: one clear message, then exit
    queue = JobQueue(settings)
    queue.open()
    Worker(settings, workers=workers, queue=queue).run()


_INPROCESS: Worker | None = None
_INPROCESS_LOCK = threading.Lock()


def start_inprocess_worker(
    settings: Settings, pipeline: Pipeline | None = None, queue: JobQueue | None = None
) -> Worker | None:
    """The UI's worker thread, once per process, when ``settings.run_inprocess_worker``."""
    global _INPROCESS
    if not settings.run_inprocess_worker:
        return None
    with _INPROCESS_LOCK:
        if _INPROCESS is None:
            _INPROCESS = Worker(settings, workers=1, pipeline=pipeline, queue=queue).start()
        return _INPROCESS
