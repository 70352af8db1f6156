"""The UI's async-queue logic (异步队列): submit the session's document as a job, list the
session's jobs ("My jobs"), and load a finished job's answer into the reasoning pane.

Like manager.py, nothing here imports gradio. The view (view.py) only wires these methods.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from app.datamodel import Answer, Mode
from app.jobs import Job, JobError, JobKind, JobQueue, JobStatus
from app.jobs.files import read_json, resolve, result_dir
from app.ui.manager import UserError
from app.ui.session import Session
from app.ui.storage import storage_error
from app.ui.texts import t

log = logging.getLogger(__name__)

# Four short columns fit the reasoning pane at its default width without a header breaking
# mid-word: the progress and the error are part of the status ("Running · 40%", "Failed: …").
COLUMNS = ("col_status", "col_task", "col_created", "col_id")
COLUMN_WIDTHS = ["27%", "37%", "11%", "25%"]


@dataclass
class JobAnswer:
    """A finished ask job, ready for the reasoning pane."""

    job: Job
    answer: Answer
    question: str
    json_path: Path | None
    md_path: Path | None


def _error(key: str, **fmt: object) -> UserError:
    return UserError(t(key, "en", **fmt), t(key, "zh", **fmt))


class JobsManager:
    """What the queue controls do, for one ``JobQueue`` shared by every session."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    # --- submit ---------------------------------------------------------------------------------
    def submit(self, session: Session, question: str, mode: str) -> Job:
        """Queue the session's document with its render settings; raises ``GlyphError``."""
        if session.document is None or session.rendered is None:
            raise _error("err_no_document")
        doc = session.chosen_document()  # a collection: the documents the question goes to
        if doc is None:
            raise _error("err_no_selection")
        if Mode(mode) is Mode.QA and not (question or "").strip():
            raise _error("err_no_question")
        limit = self.queue.settings.max_jobs_per_session
        if self.queue.store.count_active(session.owner) >= limit:
            raise _error("err_too_many_jobs", limit=limit)
        opts = session.options
        common = {
            "mode": mode,
            "preset": opts.spec(),
            "overrides": opts.overrides(),
            "coarse_to_fine": opts.coarse_to_fine,
            "owner": session.owner,
        }
        source = session.source_path
        # The upload is copied into the data dir now: the session's copy goes with the session.
        try:
            if doc.format == "collection":  # its extracted documents, each knowing its name
                return self.queue.submit_ask(question, document=doc, **common)
            if doc.format == "paste":
                return self.queue.submit_ask(question, text=doc.text, name=doc.name, **common)
            if source is not None and source.is_file() and not doc.metadata.get("encrypted"):
                return self.queue.submit_ask(question, file=source, name=doc.name, **common)
            # An unlocked encrypted PDF (or a vanished upload): the extracted text, no password.
            return self.queue.submit_ask(question, document=doc, **common)
        except OSError as err:  # the data dir is full or read-only
            log.warning("cannot queue a job for session %s: %s", session.id, err)
            raise storage_error(err, "the job's input", "任务的输入") from None

    # --- list -----------------------------------------------------------------------------------
    def jobs(self, session: Session, limit: int = 20) -> list[Job]:
        return self.queue.list(owner=session.owner, limit=limit)

    def has_active(self, session: Session) -> bool:
        return any(not j.finished_state for j in self.jobs(session))

    @staticmethod
    def headers(lang: str) -> list[str]:
        return [t(key, lang) for key in COLUMNS]

    @staticmethod
    def status_text(job: Job, lang: str) -> str:
        """The status cell: the status word first, then its progress, attempt or error."""
        status = t(f"job_{job.status.value}", lang)
        if job.status is JobStatus.QUEUED and job.attempts:
            status += f" ({job.attempts + 1}/{job.max_attempts})"
        elif job.status is JobStatus.RUNNING:
            status += f" · {job.progress:.0%}"
            if job.progress_text:
                status += f" · {job.progress_text[:40]}"
        elif job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            error = (job.error_zh if lang == "zh" and job.error_zh else job.error) or ""
            if error:
                status += ("：" if lang == "zh" else ": ") + error
        return status

    def rows(self, session: Session) -> list[list[str]]:
        """One row per job of this session, newest first: status, question · file, time, and
        the job id last."""
        lang = session.lang
        rows = []
        for job in self.jobs(session):
            created = time.strftime("%H:%M", time.localtime(job.created))
            rows.append([self.status_text(job, lang), job.title, created, job.id])
        return rows

    def table(self, session: Session) -> dict:
        """The "My jobs" table as Gradio's Dataframe value."""
        return {"headers": self.headers(session.lang), "data": self.rows(session)}

    # --- result ---------------------------------------------------------------------------------
    def load(self, session: Session, job_id: str) -> JobAnswer | str:
        """A finished job's answer, now the session's latest answer (evidence pages included).

        Only the session's own jobs (the user's, when logged in): another owner's job id is
        answered exactly like an unknown one. Jobs submitted from the CLI are read with
        ``python -m app jobs result``. A batch job returns a one-line summary instead: its
        results are a JSONL file of many answers.
        """
        if not (job_id or "").strip():
            raise _error("err_no_job_id")
        job_id = job_id.strip()
        job = self.queue.get(job_id)
        if job.owner != session.owner:
            raise JobError(f"No job with id '{job_id}'.", f"没有 ID 为 '{job_id}' 的任务。")
        if job.status is not JobStatus.DONE:
            detail = (job.error_zh if session.lang == "zh" else job.error) or ""
            status = t(f"job_{job.status.value}", session.lang)
            raise UserError(
                t("err_job_not_done", "en", id=job.id, status=status, detail=job.error or ""),
                t("err_job_not_done", "zh", id=job.id, status=status, detail=detail),
            )
        result = job.result or read_json(result_dir(self.queue.settings, job.id) / "result.json")
        try:
            if job.kind is JobKind.BATCH:
                return t("batch_summary", session.lang, **{k: result[k] for k in ("total", "done")},
                         errors=result["errors"], path=result["results"])  # fmt: skip
            out = resolve(self.queue.settings, result["result_dir"])
            files = {key: out / result["files"][key] for key in ("json", "markdown")}
            text = (out / "answer.json").read_text(encoding="utf-8")
            answer = Answer.model_validate_json(text)
        except (OSError, ValueError, KeyError, TypeError):  # missing or damaged result files
            log.warning("result of job %s is missing or damaged", job.id, exc_info=True)
            raise _error("err_job_result_missing", id=job.id) from None
        images: dict[int, Image.Image] = {}
        for ev in answer.shown_evidence:
            path = out / f"evidence-page{ev.page + 1:03d}.png"
            if ev.page not in images and path.is_file():
                try:
                    with Image.open(path) as img:
                        images[ev.page] = img.convert("RGB")
                except (OSError, ValueError):  # a damaged image: the answer still loads
                    log.warning("evidence image %s of job %s is damaged", path, job.id)
        question = job.ask_spec().question
        session.answers.append(answer)
        session.questions.append(question)
        session.evidence_images = images
        # Gradio serves downloads from its own temp dirs, not from the data dir: copy them.
        work = session.workdir()
        copies: dict[str, Path | None] = {}
        for key, src in files.items():
            dest = work / f"job-{job.id}-{src.name}"
            try:
                copies[key] = shutil.copyfile(src, dest) if src.is_file() else None
            except OSError as err:  # a full temp disk: the answer is shown without downloads
                log.warning("cannot copy %s for download: %s", src, err)
                copies[key] = None
        return JobAnswer(job, answer, question, copies["json"], copies["markdown"])
