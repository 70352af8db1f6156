"""The "My jobs" pane of the reasoning column (Gradio side). Logic: jobs_view.JobsManager.

A table of the session's jobs (status, progress, question, error) refreshed every two seconds
while one is unfinished, a job-id box filled by clicking a row, and "Show result", which loads
a finished job's answer and evidence into the same outputs as "Ask". Named API endpoints:
``/jobs`` (the table) and ``/job_result`` (job id → the outputs of ``/ask``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from app.ui.account import bind_user
from app.ui.jobs_view import COLUMN_WIDTHS, JobAnswer, JobsManager
from app.ui.manager import UIManager
from app.ui.session import Session
from app.ui.texts import t

log = logging.getLogger(__name__)
KEEP = gr.skip


@dataclass
class JobsPane:
    accordion: gr.Accordion
    table: gr.Dataframe
    job_id: gr.Textbox
    show: gr.Button
    refresh: gr.Button
    timer: gr.Timer
    jobs: JobsManager | None = None

    @classmethod
    def build(cls, visible: bool) -> JobsPane:
        """Create the components inside the current Blocks context."""
        with gr.Accordion(t("my_jobs", "en"), open=True, visible=visible, elem_id="jobs") as acc:
            table = gr.Dataframe(
                value={"headers": JobsManager.headers("en"), "data": []},
                interactive=False,
                wrap=True,
                column_widths=COLUMN_WIDTHS,
                max_height=320,
                elem_id="jobs-table",
            )
            with gr.Row():
                job_id = gr.Textbox(label=t("job_id", "en"), scale=3, max_lines=1, elem_id="job-id")
                show = gr.Button(t("show_result", "en"), scale=1, elem_id="job-show")
                refresh = gr.Button(t("refresh_jobs", "en"), scale=1, elem_id="jobs-refresh")
            timer = gr.Timer(2.0, active=False)
        return cls(acc, table, job_id, show, refresh, timer)

    # --- handlers -------------------------------------------------------------------------------
    def _table(self, s: Session, request: gr.Request) -> list[Any]:
        if self.jobs is None:
            return [KEEP(), gr.Timer(active=False)]
        try:
            bind_user(s, request)
        except Exception:  # another user's session: show nothing of it
            return [KEEP(), gr.Timer(active=False)]
        try:
            return [self.jobs.table(s), gr.Timer(active=self.jobs.has_active(s))]
        except Exception:  # the job store is unreachable (Redis restarting): keep the table
            log.exception("cannot list jobs")
            return [KEEP(), gr.Timer(active=True)]

    def refresh_after(self, event: Any, session: gr.State) -> None:
        """Refresh the table once ``event`` has finished (a submission, a language switch)."""
        event.then(self._table, [session], [self.table, self.timer], api_visibility="private")

    def wire(
        self,
        session: gr.State,
        manager: UIManager,
        jobs: JobsManager | None,
        ask_outputs: list[Any],
        error_text: Callable[[BaseException, str], str],
        after: list[Any],
    ) -> None:
        """Connect the pane; ``after``: the ask events, after which the table is refreshed."""
        self.jobs = jobs

        def on_select(evt: gr.SelectData):
            row = evt.row_value or []
            return row[-1] if row else KEEP()  # the id is the last column

        def on_show(s: Session, jid: str, request: gr.Request):
            try:
                if jobs is None:
                    return [*[KEEP()] * len(ask_outputs)]
                bind_user(s, request)
                loaded = jobs.load(s, jid)
            except Exception as err:
                return [*[KEEP()] * 2, "", *[KEEP()] * 5, error_text(err, s.lang)]
            hidden = gr.update(visible=False)
            if not isinstance(loaded, JobAnswer):  # a batch: its summary line
                empty = gr.update(choices=[], value=None)
                return [loaded, "", "", "", empty, None, hidden, hidden, ""]
            final = loaded.answer
            choices = manager.evidence_choices(final.evidence, s.lang)
            first = choices[0][1] if choices else None
            return [
                final.text,
                final.thinking,
                t("status_job_loaded", s.lang, id=loaded.job.id),
                manager.confidence_line(final, s.lang),
                gr.update(choices=choices, value=first),
                manager.evidence_image(s, first),
                gr.update(value=loaded.json_path, visible=True) if loaded.json_path else hidden,
                gr.update(value=loaded.md_path, visible=True) if loaded.md_path else hidden,
                "",
            ]

        outputs = [self.table, self.timer]
        for event in after:
            self.refresh_after(event, session)
        self.refresh.click(self._table, [session], outputs, api_name="jobs")
        self.timer.tick(self._table, [session], outputs, api_visibility="private")
        self.table.select(on_select, None, [self.job_id], api_visibility="private")
        self.show.click(on_show, [session, self.job_id], ask_outputs, api_name="job_result")
        self.job_id.submit(on_show, [session, self.job_id], ask_outputs, api_visibility="private")
