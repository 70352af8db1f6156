"""The "My jobs" pane of the reasoning column (Gradio side). Logic: jobs_view.JobsManager.

A table of the session's jobs (status with its progress or error, question, time, id)
refreshed every two seconds while one is unfinished. Clicking a row fills the job-id box and
opens that job's answer and evidence in the Ask pane (the same handler as "Show result", which
fills the same outputs as "Ask"). Named API endpoints: ``/jobs`` (the table) and
``/job_result`` (job id → the outputs of ``/ask``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from app.ui.account import bind_user
from app.ui.jobs_view import COLUMN_WIDTHS, JobAnswer, JobsManager
from app.ui.manager import UIManager, final_view
from app.ui.session import Session
from app.ui.texts import t

if TYPE_CHECKING:
    from app.ui.ask_pane import AskPane

log = logging.getLogger(__name__)


def is_collection(answer) -> bool:
    """Whether a job's answer is from several documents (its places then name theirs)."""
    evidence = answer.shown_evidence
    return len({ev.document for ev in evidence}) > 1 or any(
        ev.document_page != ev.source_page for ev in evidence
    )


def jobs_css() -> str:
    """The table's page CSS: headers break between words only, cells in the page's font."""
    return "\n".join(
        [
            "#jobs-table th, #jobs-table th * { word-break: keep-all !important; "
            "overflow-wrap: normal !important; hyphens: none; }",
            "#jobs-table [role=columnheader], #jobs-table [role=columnheader] *, "
            "#jobs-table [role=gridcell], #jobs-table [role=gridcell] * "
            "{ font-family: var(--font) !important; font-size: var(--text-sm) !important; }",
            "#jobs-table [role=gridcell] { cursor: pointer; }",
        ]
    )


@dataclass
class JobsPane:
    accordion: gr.Accordion
    hint: gr.Markdown
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
            hint = gr.Markdown(t("jobs_hint", "en"), elem_id="jobs-hint")
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
        return cls(acc, hint, table, job_id, show, refresh, timer)

    def relabel(self, lg: str) -> dict[Any, Any]:
        """Labels in ``lg`` (the table's headers follow with its next refresh)."""
        return {
            self.accordion: gr.update(label=t("my_jobs", lg)),
            self.hint: t("jobs_hint", lg),
            self.job_id: gr.update(label=t("job_id", lg)),
            self.show: gr.update(value=t("show_result", lg)),
            self.refresh: gr.update(value=t("refresh_jobs", lg)),
        }

    # --- handlers -------------------------------------------------------------------------------
    def _table(self, s: Session, request: gr.Request) -> dict[Any, Any]:
        if self.jobs is None:
            return {self.timer: gr.Timer(active=False)}
        try:
            bind_user(s, request)
        except Exception:  # another user's session: show nothing of it
            return {self.timer: gr.Timer(active=False)}
        try:
            return {
                self.table: self.jobs.table(s),
                self.timer: gr.Timer(active=self.jobs.has_active(s)),
            }
        except Exception:  # the job store is unreachable (Redis restarting): keep the table
            log.exception("cannot list jobs")
            return {self.timer: gr.Timer(active=True)}

    def refresh_after(self, event: Any, session: gr.State) -> None:
        """Refresh the table once ``event`` has finished (a submission, a language switch)."""
        event.then(
            self._table,
            [session],
            [self.table, self.timer],
            show_progress="hidden",
            api_visibility="private",
        )

    def wire(
        self,
        session: gr.State,
        manager: UIManager,
        jobs: JobsManager | None,
        ask: AskPane,
        error_text: Callable[[BaseException, str], str],
        after: list[Any],
    ) -> None:
        """Connect the pane; "Show result" and a click on a row fill ``ask`` (the outputs of
        ``/ask``); ``after``: the ask events, after which the table is refreshed."""
        self.jobs = jobs

        def on_select(evt: gr.SelectData):
            row = evt.row_value or []
            return row[-1] if row else gr.skip()  # the id is the last column

        def on_show(s: Session, jid: str, request: gr.Request):
            if jobs is None:
                return gr.skip()
            try:
                bind_user(s, request)
                loaded = jobs.load(s, jid)
            except Exception as err:
                return ask.show_error(error_text(err, s.lang))
            if not isinstance(loaded, JobAnswer):  # a batch: its summary line
                s.shown = None
                return ask.show_summary(loaded)
            s.shown = loaded.answer
            view = final_view(loaded.answer, s.lang, is_collection(loaded.answer))
            status = t("status_job_loaded", s.lang, id=loaded.job.id)
            image = manager.evidence_image(s, view.first_page)
            return ask.show_final(view, status, image, (loaded.json_path, loaded.md_path))

        def on_row(s: Session, jid: str, request: gr.Request):
            return on_show(s, jid, request) if (jid or "").strip() else gr.skip()

        outputs = [self.table, self.timer]
        quiet: dict[str, Any] = {"show_progress": "hidden", "api_visibility": "private"}
        for event in after:
            self.refresh_after(event, session)
        self.refresh.click(self._table, [session], outputs, api_name="jobs", show_progress="hidden")
        self.timer.tick(self._table, [session], outputs, **quiet)
        show_inputs = [session, self.job_id]
        # one progress indicator, on the answer (not on each of the Ask pane's outputs)
        bar: dict[str, Any] = {"show_progress_on": [ask.answer]}
        # a click on a row: its id in the box, then its answer in the Ask pane
        self.table.select(on_select, None, [self.job_id], **quiet).success(
            on_row, show_inputs, ask.outputs, api_visibility="private", **bar
        )
        self.show.click(on_show, show_inputs, ask.outputs, api_name="job_result", **bar)
        self.job_id.submit(on_show, show_inputs, ask.outputs, api_visibility="private", **bar)
