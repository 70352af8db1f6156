"""Typed records of the job queue: what a job asks for (its spec) and where it stands (``Job``)."""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.datamodel import Mode


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})


class JobKind(StrEnum):
    ASK = "ask"
    BATCH = "batch"


class DocumentRef(BaseModel):
    """A job's input, copied into the data dir at submission (never a path in Gradio's temp dir).

    ``path`` is relative to ``settings.data_dir`` so the app and workers may mount the data dir at
    different places. ``kind``: an original file, pasted text (UTF-8 file) or an already extracted
    ``Document`` as JSON (used for encrypted PDFs, so no password is ever stored), or a folder of
    files asked as one collection (issue 20).
    """

    kind: Literal["file", "text", "document", "collection"]
    path: str
    name: str


class RenderSpec(BaseModel):
    """How the worker renders: a preset name or JSON path, plus single-field overrides."""

    preset: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)


class AskSpec(BaseModel):
    kind: Literal["ask"] = "ask"
    document: DocumentRef
    question: str
    mode: Mode = Mode.QA
    render: RenderSpec = Field(default_factory=RenderSpec)
    reader: str | None = None
    coarse_to_fine: bool | None = Field(None, description="None: GLYPH_COARSE_TO_FINE decides")


class BatchItem(BaseModel):
    """One document × question of a batch; ``key`` identifies it in results.jsonl (resume)."""

    key: str
    document: DocumentRef
    question: str
    mode: Mode = Mode.QA


class BatchSpec(BaseModel):
    kind: Literal["batch"] = "batch"
    manifest: str = Field(description="items.json (list of BatchItem), relative to data_dir")
    total: int = Field(ge=0)
    out_dir: str | None = Field(None, description="results.jsonl goes here (default: job dir)")
    render: RenderSpec = Field(default_factory=RenderSpec)
    reader: str | None = None
    coarse_to_fine: bool | None = None


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


class Job(BaseModel):
    """One row of the job table."""

    id: str = Field(default_factory=new_job_id)
    kind: JobKind
    owner: str = Field("", description="who submitted: a UI session id, 'cli', …")
    title: str = Field("", description="one line for lists: the question and document")
    spec: dict[str, Any]
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0
    max_attempts: int = 3
    lease_owner: str | None = Field(None, description="'worker#attempt' of the current claim")
    lease_expires: float | None = None
    progress: float = 0.0
    progress_text: str = ""
    error: str | None = None
    error_zh: str | None = None
    result: dict[str, Any] | None = None
    created: float = Field(default_factory=time.time)
    enqueued: float | None = None
    started: float | None = None
    finished: float | None = None
    updated: float = Field(default_factory=time.time)

    @property
    def finished_state(self) -> bool:
        return self.status in FINISHED

    def ask_spec(self) -> AskSpec:
        return AskSpec.model_validate(self.spec)

    def batch_spec(self) -> BatchSpec:
        return BatchSpec.model_validate(self.spec)

    def public(self) -> dict[str, Any]:
        """What ``jobs status`` prints: everything but the raw spec and result."""
        data = self.model_dump(mode="json", exclude={"spec", "result", "lease_owner"})
        data["progress"] = round(self.progress, 3)
        return data
