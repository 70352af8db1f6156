"""The three-pane Gradio Blocks: input · render preview · reasoning. Thin: logic is in manager.py.

One builder per pane, each returning a dataclass of its components: the header (title, language,
account bar, message bar) here, ``DocumentPane`` and ``PreviewPane`` (document_pane.py),
``AskPane`` (ask_pane.py), ``JobsPane`` (jobs_pane.py), ``AccountBar`` (account.py). Each pane
knows its texts in a language (``relabel``); handlers return a dict keyed by component.

Handlers catch ``GlyphError`` (and, as a last resort, any exception) and show the message in the
message bar while leaving every other output unchanged, so a bad file never loses earlier work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from app.errors import GlyphError
from app.ui.account import AccountBar
from app.ui.ask_pane import AskEvents, AskPane
from app.ui.document_pane import (
    EXAMPLES,
    EXAMPLES_DIR,
    PLAIN_MD,
    DocumentEvents,
    DocumentPane,
    PreviewPane,
    pane_css,
)
from app.ui.jobs_pane import JobsPane, jobs_css
from app.ui.jobs_view import JobsManager
from app.ui.manager import UIManager, final_view
from app.ui.safety import md_escape
from app.ui.session import Session
from app.ui.texts import pick_lang, t

__all__ = ["EXAMPLES", "EXAMPLES_DIR", "build", "page_css"]

log = logging.getLogger(__name__)


def _error_text(err: BaseException, lang: str) -> str:
    if isinstance(err, GlyphError):  # messages quote file names and server text: shown literally
        return f"⚠ {md_escape(err.user_message(lang))}"
    log.exception("unexpected error in a UI handler")
    return f"⚠ {t('err_unexpected', lang, kind=type(err).__name__)}"


def page_css() -> str:
    """The page's own CSS (``launch(css=...)``): each pane's rules."""
    return "\n".join([pane_css(), jobs_css()])


def _title(lg: str) -> str:
    return f"## {t('title', lg)}\n{t('subtitle', lg)}"


@dataclass
class Header:
    """Above the panes: title, language switch, account bar, and the message bar."""

    title: gr.Markdown
    lang: gr.Radio
    account: AccountBar
    message: gr.Markdown

    @classmethod
    def build(cls) -> Header:
        with gr.Row():
            title = gr.Markdown(_title("en"), elem_id="title")
            lang = gr.Radio(
                [("English", "en"), ("中文", "zh")],
                value="en",
                label=t("language", "en"),
                elem_id="lang",
                scale=0,
                min_width=200,
            )
            account = AccountBar.build()
        message = gr.Markdown("", elem_id="message", **PLAIN_MD)
        return cls(title=title, lang=lang, account=account, message=message)

    def relabel(self, lg: str) -> dict[Any, Any]:
        return {
            self.title: _title(lg),
            self.lang: gr.update(label=t("language", lg)),
            **self.account.relabel(lg),
        }


@dataclass
class Panes:
    """Everything on the page."""

    header: Header
    doc: DocumentPane
    preview: PreviewPane
    ask: AskPane
    jobs: JobsPane

    @classmethod
    def build(cls, upload_types: list[str] | None, queue: bool) -> Panes:
        header = Header.build()
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=280, elem_id="pane-input"):
                doc = DocumentPane.build(upload_types)
            with gr.Column(scale=4, min_width=320, elem_id="pane-preview"):
                preview = PreviewPane.build()
            with gr.Column(scale=4, min_width=320, elem_id="pane-reasoning"):
                ask = AskPane.build(header.message, queue=queue)
                jobs = JobsPane.build(visible=queue)
        return cls(header=header, doc=doc, preview=preview, ask=ask, jobs=jobs)

    def relabel(self, lg: str) -> dict[Any, Any]:
        """Every label, placeholder, choice and caption in ``lg``."""
        return {
            **self.header.relabel(lg),
            **self.doc.relabel(lg),
            **self.preview.relabel(lg),
            **self.ask.relabel(lg),
            **self.jobs.relabel(lg),
        }

    def in_language(self, manager: UIManager, s: Session) -> dict[Any, Any]:
        """The page in the session's language: labels, the lines made from the session (the
        statistics, the document line and its notes, the reader line) and the answer shown."""
        lg, ask = s.lang, self.ask
        out = {
            **self.relabel(lg),
            self.preview.stats: manager.preview(s)[1],
            self.doc.info: manager.document_info(s),
            ask.reader: manager.reader_status(lg),
        }
        if s.files:  # the document list's entries ("· 12 pages")
            choices, ticked = manager.document_choices(s)
            label = t("doc_list", lg)
            out[self.doc.doc_list] = gr.update(label=label, choices=choices, value=ticked)
            out[self.doc.doc_status] = manager.document_status(s)
        if s.shown is not None:  # its confidence line, notes and page labels
            view = final_view(s.shown, lg, len(s.files) > 1)
            out[ask.confidence] = view.confidence
            label = t("evidence_pages", lg)
            out[ask.evidence_pages] = gr.update(label=label, choices=view.evidence_choices)
            shown = manager.evidence_place(s, s.shown_place)  # its caption in the new language
            out[ask.evidence_where] = shown.caption if shown is not None else ""
        return out


def _wire_language(manager: UIManager, panes: Panes, session: gr.State) -> Any:
    """The language switch; returns its event."""
    shown = [panes.ask.confidence, panes.preview.stats, panes.doc.info, panes.ask.reader]
    shown += [panes.ask.evidence_where, panes.doc.doc_status]

    def on_lang(s: Session, value: str):
        s.lang = pick_lang(value)
        return {session: s, **panes.in_language(manager, s)}

    lang = panes.header.lang
    outputs = [session, *panes.relabel("en"), *shown]
    return lang.change(
        on_lang, [session, lang], outputs, api_visibility="private", show_progress="hidden"
    )


def _wire_load(demo: gr.Blocks, manager: UIManager, panes: Panes, session, settings_lang: str):
    """On page load: the language (the setting, else the browser's) and the reader line."""
    forced = None if settings_lang == "auto" else settings_lang
    browser_locale = gr.Textbox(visible=False)
    demo.load(
        lambda browser: forced or pick_lang(browser),
        [browser_locale],
        [panes.header.lang],
        js="(x) => navigator.language || 'en'",
        api_visibility="private",
    )
    demo.load(
        lambda s: (manager.reader_status(s.lang), gr.update(visible=manager.reader_thinks())),
        [session],
        [panes.ask.reader, panes.ask.thinking_acc],  # the Thinking panel: readers that think
        api_visibility="private",
    )


def build(
    manager: UIManager,
    settings_lang: str = "auto",
    upload_types: list[str] | None = None,
    jobs: JobsManager | None = None,
    workroot: Path | None = None,
    delete_cache: tuple[int, int] | None = None,
):
    """Create the Blocks (not launched); ``jobs`` enables the async queue (异步队列).

    ``workroot``: where each session's private directory is made (app.ui.storage);
    ``delete_cache``: Gradio's (every, age) clean-up of its own temp copies.
    """
    blocks = gr.Blocks(title="Glyph-视觉推理", analytics_enabled=False, delete_cache=delete_cache)
    with blocks as demo:
        # per tab: its documents, answers and private directory (deleted when the tab is gone)
        session = gr.State(lambda: Session(root=workroot), delete_callback=manager.end_session)
        panes = Panes.build(upload_types, queue=jobs is not None)
        DocumentEvents(
            manager, session, panes.header.message, panes.doc, panes.preview, _error_text
        ).wire()
        preview = (panes.preview.gallery, panes.preview.shown_doc, panes.preview.stats)
        asked = AskEvents(manager, session, panes.ask, jobs, _error_text, preview=preview).wire()
        panes.jobs.wire(session, manager, jobs, panes.ask, _error_text, after=asked)
        panes.jobs.refresh_after(_wire_language(manager, panes, session), session)
        panes.header.account.wire(demo, session)
        _wire_load(demo, manager, panes, session, settings_lang)
    return demo
