"""The right pane (ask: the reader line, task, question, answer, evidence, downloads) and its
events. Logic: manager.py (``UIManager.ask``, ``final_view``).

``AskPane.outputs`` is the order of the ``/ask`` and ``/job_result`` API results (README, "API
(gradio_client)"); handlers return a dict keyed by component, so an output they do not mention
keeps its value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from app.ui.account import bind_user
from app.ui.document_pane import PLAIN_MD, labels, progress_reporter
from app.ui.jobs_view import JobsManager
from app.ui.manager import AnswerView, UIManager, final_view
from app.ui.safety import md_escape
from app.ui.session import Session
from app.ui.texts import t

MODES = (("mode_qa", "qa"), ("mode_summary", "summary"), ("mode_extract", "extract"))
COMPUTE = (("run_now", "now"), ("queue", "queue"))


def choices(lg: str, pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """Radio choices: (text in ``lg``, value)."""
    return [(t(key, lg), value) for key, value in pairs]


@dataclass
class AskPane:
    """The right pane, less "My jobs" (jobs_pane.JobsPane, built below it)."""

    header: gr.Markdown
    reader: gr.Markdown
    mode: gr.Radio
    question: gr.Textbox
    compute: gr.Radio
    ask: gr.Button
    status: gr.Markdown
    answer: gr.Textbox
    thinking_acc: gr.Accordion
    thinking: gr.Textbox
    confidence: gr.Markdown
    evidence_pages: gr.Radio
    evidence_img: gr.Image
    dl_json: gr.DownloadButton
    dl_md: gr.DownloadButton
    message: gr.Markdown  # the page's message bar (above the panes), part of every result

    @classmethod
    def build(cls, message: gr.Markdown, queue: bool) -> AskPane:
        """``queue``: offer "Compute → Queue (异步队列)"."""
        header = gr.Markdown(f"### {t('reasoning', 'en')}")
        reader = gr.Markdown("", elem_id="reader", **PLAIN_MD)
        mode = gr.Radio(choices("en", MODES), value="qa", label=t("mode", "en"), elem_id="mode")
        question = gr.Textbox(
            label=t("question", "en"),
            placeholder=t("question_placeholder", "en"),
            lines=2,
            elem_id="question",
        )
        compute = gr.Radio(
            choices("en", COMPUTE),
            value="now",
            label=t("compute", "en"),
            visible=queue,
            elem_id="compute",
        )
        ask = gr.Button(t("ask", "en"), variant="primary", elem_id="ask")
        status = gr.Markdown("", elem_id="status", **PLAIN_MD)
        answer = gr.Textbox(
            label=t("answer", "en"),
            lines=5,
            max_lines=20,
            interactive=False,
            buttons=["copy"],
            elem_id="answer",
        )
        with gr.Accordion(t("thinking", "en"), open=False) as thinking_acc:
            thinking = gr.Textbox(show_label=False, lines=4, interactive=False)
        confidence = gr.Markdown("", elem_id="confidence", **PLAIN_MD)
        evidence_pages = gr.Radio([], label=t("evidence_pages", "en"), elem_id="evidence-pages")
        evidence_img = gr.Image(
            label=t("evidence", "en"),
            type="pil",
            format="png",
            interactive=False,
            elem_id="evidence",
        )
        with gr.Row():
            dl_json = gr.DownloadButton(t("download_json", "en"), visible=False, elem_id="dl-json")
            dl_md = gr.DownloadButton(t("download_md", "en"), visible=False, elem_id="dl-md")
        return cls(
            header=header,
            reader=reader,
            mode=mode,
            question=question,
            compute=compute,
            ask=ask,
            status=status,
            answer=answer,
            thinking_acc=thinking_acc,
            thinking=thinking,
            confidence=confidence,
            evidence_pages=evidence_pages,
            evidence_img=evidence_img,
            dl_json=dl_json,
            dl_md=dl_md,
            message=message,
        )

    @property
    def outputs(self) -> list[Any]:
        """In API order: answer, thinking, status, confidence, evidence pages, evidence image,
        JSON file, Markdown file, message."""
        return [
            self.answer,
            self.thinking,
            self.status,
            self.confidence,
            self.evidence_pages,
            self.evidence_img,
            self.dl_json,
            self.dl_md,
            self.message,
        ]

    def relabel(self, lg: str) -> dict[Any, Any]:
        return {
            self.header: f"### {t('reasoning', lg)}",
            self.question: gr.update(
                label=t("question", lg), placeholder=t("question_placeholder", lg)
            ),
            self.mode: gr.update(label=t("mode", lg), choices=choices(lg, MODES)),
            self.compute: gr.update(label=t("compute", lg), choices=choices(lg, COMPUTE)),
            self.ask: gr.update(value=t("ask", lg)),
            **labels(
                lg,
                (
                    (self.answer, "answer"),
                    (self.evidence_pages, "evidence_pages"),
                    (self.evidence_img, "evidence"),
                    (self.thinking_acc, "thinking"),
                    (self.dl_json, "download_json"),
                    (self.dl_md, "download_md"),
                ),
            ),
        }

    # --- what the pane shows --------------------------------------------------------------------
    def show_final(
        self,
        view: AnswerView,
        status: str,
        image: Any,
        files: tuple[Path | None, Path | None],
        note: str = "",
    ) -> dict[Any, Any]:
        """A final answer (asked now, or a finished job's): ``note`` goes to the message bar."""
        json_path, md_path = files
        return {
            self.answer: view.text,
            self.thinking: view.thinking,
            self.status: status,
            self.confidence: view.confidence,
            self.evidence_pages: gr.update(choices=view.evidence_choices, value=view.first_page),
            self.evidence_img: image,
            self.dl_json: gr.update(value=json_path, visible=json_path is not None),
            self.dl_md: gr.update(value=md_path, visible=md_path is not None),
            self.message: f"⚠ {md_escape(note)}" if note else "",
        }

    def show_summary(self, line: str) -> dict[Any, Any]:
        """A line instead of an answer (a finished batch job's summary); no evidence, no files."""
        hidden = gr.update(visible=False)
        return {
            self.answer: line,
            self.thinking: "",
            self.status: "",
            self.confidence: "",
            self.evidence_pages: gr.update(choices=[], value=None),
            self.evidence_img: None,
            self.dl_json: hidden,
            self.dl_md: hidden,
            self.message: "",
        }

    def show_error(self, text: str, clear_answer: bool = False) -> dict[Any, Any]:
        """``text`` in the message bar, the status line emptied; the answer stays unless
        ``clear_answer`` (a reader that failed mid-answer: its partial text is not an answer)."""
        out = {self.status: "", self.message: text}
        if clear_answer:
            out |= {self.answer: "", self.thinking: ""}
        return out


class AskEvents:
    """Ask now (streamed into the pane) or queue a job; pick an evidence page."""

    def __init__(
        self,
        manager: UIManager,
        session: gr.State,
        pane: AskPane,
        jobs: JobsManager | None,
        error_text: Callable[[BaseException, str], str],
    ) -> None:
        self.manager, self.session, self.pane = manager, session, pane
        self.jobs, self.error_text = jobs, error_text

    # parameter names are the API's
    def on_ask(
        self,
        s: Session,
        q: str,
        m: str,
        c: str = "now",
        request: gr.Request | None = None,
        progress=gr.Progress(),
    ):
        pane = self.pane
        if c == "queue" and self.jobs is not None:
            try:
                bind_user(s, request)  # jobs belong to the logged-in user
                job = self.jobs.submit(s, q, m)
            except Exception as err:
                yield pane.show_error(self.error_text(err, s.lang))
                return
            yield {pane.status: t("status_job_queued", s.lang, id=job.id), pane.message: ""}
            return
        streamed = False
        try:
            for update in self.manager.ask(s, q, m, progress_reporter(progress)):
                if update.final is None:
                    streamed = streamed or bool(update.answer or update.thinking)
                    yield {
                        pane.answer: update.answer,
                        pane.thinking: update.thinking,
                        pane.status: update.status,
                        pane.message: "",
                    }
                    continue
                s.shown = update.final
                view = final_view(update.final, s.lang)
                json_path, md_path, note = self.manager.downloads(s)
                image = self.manager.evidence_image(s, view.first_page)
                yield pane.show_final(view, update.status, image, (json_path, md_path), note)
        except Exception as err:
            yield pane.show_error(self.error_text(err, s.lang), clear_answer=streamed)

    def on_evidence_page(self, s: Session, page):
        return self.manager.evidence_image(s, page)

    def wire(self) -> list[Any]:
        """Connect the pane; returns the ask events (the jobs table refreshes after them)."""
        pane, session = self.pane, self.session
        # one answer at a time in this process's queue; the pipeline's lock covers the worker
        kwargs: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "reader"}
        # compute: 'now' streams the answer here; 'queue' submits a job ("My jobs" follows it)
        inputs = [session, pane.question, pane.mode, pane.compute]
        asked = [
            pane.ask.click(self.on_ask, inputs, pane.outputs, api_name="ask", **kwargs),
            pane.question.submit(
                self.on_ask, inputs, pane.outputs, api_visibility="private", **kwargs
            ),
        ]
        pane.evidence_pages.change(
            self.on_evidence_page,
            [session, pane.evidence_pages],
            [pane.evidence_img],
            api_visibility="private",
        )
        return asked
