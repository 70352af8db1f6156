"""Sharing one reader fairly: the question lock, a question's budget and cancel flag, and the
"a question is being answered" signal that background reads yield to.

* ``QuestionLock``: one question at a time (the pipeline's ``reader_lock``). Interactive questions
  go first: a queued job (``interactive=False``) waits while an interactive question waits.
* ``QuestionControl``: what a reader checks between its units of work (a page, a strip batch):
  the question's deadline, its cancel flag, and whether another question is waiting its turn.
* ``foreground``: entered by the pipeline while a question holds the reader; background reads
  (the built-in reader's prefetch threads) pause between pages while it is active, so that the
  question's own OCR gets the CPU.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class QuestionLock:
    """A lock with two priorities and no owner thread (a generator may hold it across steps that
    run on different threads). ``acquire``/``release`` as ``threading.Lock``'s."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._held = False
        self._interactive_waiting = 0

    def locked(self) -> bool:
        return self._held

    @property
    def waiting(self) -> int:
        """Interactive questions waiting for the lock now."""
        return self._interactive_waiting

    @contextmanager
    def queued(self, interactive: bool = True) -> Iterator[None]:
        """Count the caller as waiting (interactive ones make jobs wait) while inside."""
        if not interactive:
            yield
            return
        with self._cond:
            self._interactive_waiting += 1
        try:
            yield
        finally:
            with self._cond:
                self._interactive_waiting -= 1
                self._cond.notify_all()

    def acquire(
        self, blocking: bool = True, timeout: float = -1, *, interactive: bool = True
    ) -> bool:
        """Take the lock; a non-interactive caller also waits while interactive ones wait
        (``queued`` counts the interactive ones that are waiting)."""
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        with self._cond:
            while self._held or (not interactive and self._interactive_waiting > 0):
                if not blocking:
                    return False
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            self._held = True
            return True

    def release(self) -> None:
        with self._cond:
            if not self._held:
                raise RuntimeError("release unlocked lock")
            self._held = False
            self._cond.notify_all()

    def __enter__(self) -> QuestionLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


@dataclass
class QuestionControl:
    """The limits of one question, checked by a reader between its units of work."""

    deadline: float | None = None  # time.monotonic() after which the question answers with
    # what it has read so far (None: no limit)
    cancel: threading.Event | None = None
    others_waiting: Callable[[], bool] = field(default=lambda: False)
    yield_after: float | None = None  # monotonic time after which it gives way to a waiting
    # question (an answer from the pages read so far, the rest read in the background)
    pause: Callable[[], None] = field(default=lambda: None)  # a queued job: lets waiting
    # questions from the UI have the reader, then continues

    def checkpoint(self) -> None:
        """Called by the reader between units of work: a job may pause here for questions."""
        self.pause()

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def over(self) -> bool:
        """True when the question should stop reading now: cancelled, out of time, or another
        question has waited long enough."""
        if self.cancelled():
            return True
        now = time.monotonic()
        if self.deadline is not None and now >= self.deadline:
            return True
        return self.yield_after is not None and now >= self.yield_after and self.others_waiting()


class Foreground:
    """How many questions are being answered now; background reads wait while any is."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0

    @property
    def active(self) -> bool:
        return self._active > 0

    def enter(self) -> None:
        with self._cond:
            self._active += 1

    def leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()

    @contextmanager
    def answering(self) -> Iterator[None]:
        self.enter()
        try:
            yield
        finally:
            self.leave()

    def wait_idle(self, stop: threading.Event, unless: Callable[[], bool] = lambda: False) -> None:
        """Block while a question is being answered (not when ``stop`` is set or ``unless()``:
        a question is waiting for this very read)."""
        with self._cond:
            while self._active and not stop.is_set() and not unless():
                self._cond.wait(0.2)


foreground = Foreground()
"""The process's one signal: the pipeline enters it while a question holds the reader."""
