"""The right pane (ask: the reader line, task, question, answer, evidence, downloads) and its
events. Logic: manager.py (``UIManager.ask``, ``final_view``, ``evidence_place``).

``AskPane.outputs`` is the order of the ``/ask`` and ``/job_result`` API results (README, "API
(gradio_client)"); handlers return a dict keyed by component, so an output they do not mention
keeps its value.

Evidence: the list of cited places (``evidence_pages``, one value per place and answer) drives
the rest — whenever its value changes (a new answer, a job's result, a click) the place is shown
on the original page or as a highlighted passage ("Original"), on the dense page the reader read
("What the model read", the API's ``image``), and "Show in preview" selects its rendered page in
the preview gallery. A click on the evidence image shows it full screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from app.ui.account import bind_user
from app.ui.document_pane import PLAIN_MD, labels, progress_reporter
from app.ui.evidence_view import parse_choice
from app.ui.jobs_view import JobsManager
from app.ui.manager import AnswerView, EvidenceShown, UIManager, final_view
from app.ui.safety import md_escape
from app.ui.session import Session
from app.ui.texts import t

MODES = (("mode_qa", "qa"), ("mode_summary", "summary"), ("mode_extract", "extract"))
COMPUTE = (("run_now", "now"), ("queue", "queue"))
ASK_CONCURRENCY = 8  # questions in progress at once (one reads, the others wait in the pipeline)
STOP_WAIT_S = 30.0  # Stop waits this long for the page in progress (then says "Stopped." anyway)

# A click on an evidence image presses its full-screen button (installed once per page).
ZOOM_JS = """
if (!window.glyphEvidenceZoom) {
  window.glyphEvidenceZoom = true;
  document.addEventListener('click', (event) => {
    const img = event.target.closest && event.target.closest('#evidence-original img, #evidence img');
    if (!img || document.fullscreenElement) return;
    const root = img.closest('#evidence-original, #evidence');
    const button = root && root.querySelector(
      'button[aria-label*="ull" i], button[title*="ull" i]');
    if (button) button.click();
  });
}
"""


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
    stop: gr.Button  # cancels this session's question (the reader stops between pages)
    status: gr.Markdown
    answer: gr.Textbox
    thinking_acc: gr.Accordion
    thinking: gr.Textbox
    confidence: gr.Markdown
    evidence_pages: gr.Radio  # the cited places
    evidence_where: gr.Markdown  # where the selected place is (the document's page)
    show_in_preview: gr.Button
    evidence_tabs: gr.Tabs
    tab_original: gr.Tab
    tab_rendered: gr.Tab
    evidence_original: gr.Image  # the original PDF page with red boxes
    evidence_passage: gr.HTML  # or the passage, cited text in <mark> (no pages of its own)
    evidence_img: gr.Image  # the dense page the reader read
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
        with gr.Row():
            ask = gr.Button(t("ask", "en"), variant="primary", elem_id="ask")
            stop = gr.Button(t("stop", "en"), variant="stop", elem_id="stop", min_width=80)
        status = gr.Markdown("", elem_id="status", **PLAIN_MD)
        answer = gr.Textbox(
            label=t("answer", "en"),
            lines=5,
            max_lines=20,
            interactive=False,
            buttons=["copy"],
            elem_id="answer",
        )
        # shown on page load and with each answer when the reader thinks (manager.reader_thinks)
        with gr.Accordion(
            t("thinking", "en"), open=False, visible=False, elem_id="thinking"
        ) as thinking_acc:
            thinking = gr.Textbox(show_label=False, lines=4, interactive=False)
        confidence = gr.Markdown("", elem_id="confidence", **PLAIN_MD)
        evidence_pages = gr.Radio([], label=t("evidence_pages", "en"), elem_id="evidence-pages")
        with gr.Row():
            evidence_where = gr.Markdown("", elem_id="evidence-where", scale=4, **PLAIN_MD)
            show_in_preview = gr.Button(
                t("show_in_preview", "en"),
                size="sm",
                scale=0,
                min_width=140,
                visible=False,
                elem_id="show-in-preview",
            )
        with gr.Tabs(elem_id="evidence-tabs") as evidence_tabs:
            with gr.Tab(t("evidence_original", "en"), id="original") as tab_original:
                evidence_original = gr.Image(
                    label=t("evidence_original_page", "en"),
                    show_label=False,  # the tab says it; a label would cover the page's corner
                    type="pil",
                    format="png",
                    interactive=False,
                    visible=False,
                    buttons=["fullscreen", "download"],
                    elem_id="evidence-original",
                )
                evidence_passage = gr.HTML("", js_on_load=ZOOM_JS, elem_id="evidence-passage")
            with gr.Tab(t("evidence", "en"), id="rendered") as tab_rendered:
                evidence_img = gr.Image(
                    label=t("evidence", "en"),
                    show_label=False,
                    type="pil",
                    format="png",
                    interactive=False,
                    buttons=["fullscreen", "download"],
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
            stop=stop,
            status=status,
            answer=answer,
            thinking_acc=thinking_acc,
            thinking=thinking,
            confidence=confidence,
            evidence_pages=evidence_pages,
            evidence_where=evidence_where,
            show_in_preview=show_in_preview,
            evidence_tabs=evidence_tabs,
            tab_original=tab_original,
            tab_rendered=tab_rendered,
            evidence_original=evidence_original,
            evidence_passage=evidence_passage,
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

    @property
    def place_outputs(self) -> list[Any]:
        """What showing one cited place updates (private events, not part of the API)."""
        return [
            self.evidence_where,
            self.evidence_original,
            self.evidence_passage,
            self.evidence_img,
            self.show_in_preview,
            self.thinking_acc,
            self.evidence_tabs,
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
            self.stop: gr.update(value=t("stop", lg)),
            **labels(
                lg,
                (
                    (self.answer, "answer"),
                    (self.evidence_pages, "evidence_pages"),
                    (self.evidence_img, "evidence"),
                    (self.evidence_original, "evidence_original_page"),
                    (self.tab_original, "evidence_original"),
                    (self.tab_rendered, "evidence"),
                    (self.thinking_acc, "thinking"),
                    (self.dl_json, "download_json"),
                    (self.dl_md, "download_md"),
                ),
            ),
            self.show_in_preview: gr.update(value=t("show_in_preview", lg)),
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
            self.evidence_pages: gr.update(choices=view.evidence_choices, value=view.first_choice),
            self.evidence_img: image,
            self.dl_json: gr.update(value=json_path, visible=json_path is not None),
            self.dl_md: gr.update(value=md_path, visible=md_path is not None),
            self.message: f"⚠ {md_escape(note)}" if note else "",
        }

    def show_summary(self, line: str) -> dict[Any, Any]:
        """A line instead of an answer (a finished batch job's summary); no evidence, no files."""
        return self.cleared() | {self.answer: line}

    def cleared(self, status: str = "") -> dict[Any, Any]:
        """No answer: what a new question shows until its own answer arrives."""
        hidden = gr.update(visible=False)
        return {
            self.answer: "",
            self.thinking: "",
            self.status: status,
            self.confidence: "",
            self.evidence_pages: gr.update(choices=[], value=None),
            self.evidence_img: None,
            self.dl_json: hidden,
            self.dl_md: hidden,
            self.message: "",
        }

    def show_place(
        self, shown: EvidenceShown | None, thinking: bool | None, first: bool = False
    ) -> dict[Any, Any]:
        """One cited place (``None``: none — the evidence views are emptied); ``thinking``:
        whether the Thinking panel is shown (``None``: left as it is); ``first``: a new answer's
        first place, shown on the "Original" tab."""
        out: dict[Any, Any] = {}
        if thinking is not None:
            out[self.thinking_acc] = gr.update(visible=thinking)
        if first:
            out[self.evidence_tabs] = gr.Tabs(selected="original")
        if shown is None:
            return out | {
                self.evidence_where: "",
                self.evidence_original: gr.update(value=None, visible=False),
                self.evidence_passage: "",
                self.show_in_preview: gr.update(visible=False),
            }
        return out | {
            self.evidence_where: shown.caption,
            self.evidence_original: gr.update(
                value=shown.original, visible=shown.original is not None
            ),
            self.evidence_passage: shown.passage,
            self.evidence_img: shown.rendered,
            self.show_in_preview: gr.update(visible=shown.preview_page is not None),
        }

    def show_error(self, text: str, clear_answer: bool = False) -> dict[Any, Any]:
        """``text`` in the message bar, the status line emptied; the answer stays unless
        ``clear_answer`` (a reader that failed mid-answer: its partial text is not an answer)."""
        out = {self.status: "", self.message: text}
        if clear_answer:
            out |= {self.answer: "", self.thinking: ""}
        return out


class AskEvents:
    """Ask now (streamed into the pane) or queue a job; show a cited place; jump to its page in
    the preview (``preview``: the preview pane's gallery, document selector and statistics)."""

    def __init__(
        self,
        manager: UIManager,
        session: gr.State,
        pane: AskPane,
        jobs: JobsManager | None,
        error_text: Callable[[BaseException, str], str],
        preview: tuple[gr.Gallery, gr.Dropdown, gr.Markdown] | None = None,
    ) -> None:
        self.manager, self.session, self.pane = manager, session, pane
        self.jobs, self.error_text, self.preview = jobs, error_text, preview

    def on_clear(self, s: Session, q: str, m: str):
        """A new question (one that will be asked) clears the answer shown, at once: before it
        waits for the reader, and when it is queued as a job."""
        if s.rendered is None or (m == "qa" and not (q or "").strip()):
            return {}  # it will be refused: the answer shown stays
        s.shown, s.shown_place = None, None
        return self.pane.cleared()

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
            s.shown, s.shown_place = None, None
            yield pane.cleared(t("status_job_queued", s.lang, id=job.id))
            return
        streamed = False
        try:
            for update in self.manager.ask(s, q, m, progress_reporter(progress)):
                if update.final is None:
                    if not streamed and s.shown is not None:  # the answer shown before goes
                        s.shown, s.shown_place = None, None
                        yield pane.cleared(update.status)
                    streamed = streamed or bool(update.answer or update.thinking)
                    yield {
                        pane.answer: update.answer,
                        pane.thinking: update.thinking,
                        pane.status: update.status,
                        pane.message: "",
                    }
                    continue
                s.shown = update.final
                view = final_view(update.final, s.lang, len(s.files) > 1)
                json_path, md_path, note = self.manager.downloads(s)
                image = self.manager.evidence_image(s, view.first_page)
                yield pane.show_final(view, update.status, image, (json_path, md_path), note)
        except Exception as err:
            yield pane.show_error(self.error_text(err, s.lang), clear_answer=streamed)

    def on_stop(self, s: Session):
        """Stop this session's question: the reader stops after its page, the lock is freed.
        "Stopped." is shown once the question has ended, so that no status the question sent on
        its way (Gradio's cancel of the event races with it) is shown after it."""
        if not self.manager.stop(s, wait_s=STOP_WAIT_S):
            return gr.skip()
        return t("status_stopped", s.lang)

    def on_place(self, s: Session, value):
        """Show the cited place ``value`` (the evidence list's value; None: no answer)."""
        before = parse_choice(s.shown_place)
        shown = self.manager.evidence_place(s, value)
        thinking, now = None, parse_choice(value)
        if shown is not None and s.shown is not None:
            thinking = bool(s.shown.thinking) or self.manager.reader_thinks()
        first = now is not None and (before is None or before[0] != now[0])
        return self.pane.show_place(shown, thinking, first=first)

    def on_preview(self, s: Session):
        """Select the shown place's rendered page in the preview gallery."""
        shown = self.manager.evidence_place(s, s.shown_place)
        if shown is None or shown.preview_page is None or self.preview is None:
            return gr.skip(), gr.skip(), gr.skip(), s
        showing = s.preview_name or (s.names[0] if s.names else None)
        if shown.preview_document is None or shown.preview_document == showing:
            return gr.Gallery(selected_index=shown.preview_page), gr.skip(), gr.skip(), s
        # a page of another document of the collection: the preview shows that document
        self.manager.show_document(s, shown.preview_document)
        items, line = self.manager.preview(s)
        return (
            gr.Gallery(value=items, selected_index=shown.preview_page),
            gr.update(value=s.preview_name),
            line,
            s,
        )

    def wire(self) -> list[Any]:
        """Connect the pane; returns the ask events (the jobs table refreshes after them)."""
        pane, session = self.pane, self.session
        # the pipeline's reader lock lets one question at a time read (the worker's jobs too);
        # several may wait in it, so that a waiting question makes a long one give way
        kwargs: dict[str, Any] = {"concurrency_limit": ASK_CONCURRENCY, "concurrency_id": "reader"}
        # compute: 'now' streams the answer here; 'queue' submits a job ("My jobs" follows it)
        inputs = [session, pane.question, pane.mode, pane.compute]
        asked = []
        for trigger, api in ((pane.ask.click, {"api_name": "ask"}),
                             (pane.question.submit, {"api_visibility": "private"})):  # fmt: skip
            cleared = trigger(
                self.on_clear,
                inputs[:3],
                pane.outputs,
                api_visibility="private",
                queue=False,
                show_progress="hidden",
            )
            # one progress indicator: on the answer box, not on each of the pane's outputs
            bar: dict[str, Any] = {"show_progress_on": [pane.answer]}
            asked.append(cleared.then(self.on_ask, inputs, pane.outputs, **api, **kwargs, **bar))
        pane.stop.click(
            self.on_stop, [session], [pane.status], cancels=asked, queue=False, api_name="stop"
        )
        pane.evidence_pages.change(
            self.on_place,
            [session, pane.evidence_pages],
            pane.place_outputs,
            api_visibility="private",
            show_progress="hidden",
        )
        if self.preview is not None:
            pane.show_in_preview.click(
                self.on_preview, [session], [*self.preview, session], api_visibility="private"
            )
        return asked
