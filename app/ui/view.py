"""The three-pane Gradio Blocks: input · render preview · reasoning. Thin: logic is in manager.py.

Handlers catch ``GlyphError`` (and, as a last resort, any exception) and show the message in the
message bar while leaving every other output unchanged, so a bad file never loses earlier work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from app.errors import GlyphError
from app.ui.account import AccountBar, bind_user
from app.ui.jobs_pane import JobsPane
from app.ui.jobs_view import JobsManager
from app.ui.manager import UIManager
from app.ui.safety import md_escape
from app.ui.session import GRANULARITIES, PRESETS, Session
from app.ui.texts import pick_lang, t

log = logging.getLogger(__name__)

EXAMPLES_DIR = Path(__file__).parent / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.is_file())
KEEP = gr.skip  # "leave this output as it is"


def _error_text(err: BaseException, lang: str) -> str:
    if isinstance(err, GlyphError):  # messages quote file names and server text: shown literally
        return f"⚠ {md_escape(err.user_message(lang))}"
    log.exception("unexpected error in a UI handler")
    return f"⚠ {t('err_unexpected', lang, kind=type(err).__name__)}"


def _progress(progress: gr.Progress) -> Callable[[float, str], None]:
    def report(fraction: float, desc: str) -> None:
        progress(fraction, desc=desc)

    return report


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
        session = gr.State(lambda: Session(root=workroot), delete_callback=lambda s: s.cleanup())
        with gr.Row():
            title = gr.Markdown(f"## {t('title', 'en')}\n{t('subtitle', 'en')}", elem_id="title")
            lang = gr.Radio(
                [("English", "en"), ("中文", "zh")],
                value="en",
                label=t("language", "en"),
                elem_id="lang",
                scale=0,
                min_width=200,
            )
            account = AccountBar.build()
        # Markdown that may quote file names or server text: no LaTeX, text escaped (safety.py)
        plain_md: dict[str, Any] = {"latex_delimiters": []}
        message = gr.Markdown("", elem_id="message", **plain_md)
        with gr.Row(equal_height=False):
            # ---- left: input ----
            with gr.Column(scale=3, min_width=280, elem_id="pane-input"):
                input_hdr = gr.Markdown(f"### {t('input', 'en')}")
                upload = gr.File(
                    label=t("upload", "en"),
                    file_types=upload_types,
                    type="filepath",
                    elem_id="upload",
                )
                with gr.Row(visible=False) as password_row:
                    password = gr.Textbox(
                        label=t("password", "en"), type="password", scale=3, elem_id="password"
                    )
                    unlock = gr.Button(t("unlock", "en"), scale=1, elem_id="unlock")
                paste = gr.Textbox(
                    label=t("paste", "en"),
                    placeholder=t("paste_placeholder", "en"),
                    lines=5,
                    max_lines=12,
                    elem_id="paste",
                )
                use_paste = gr.Button(t("use_paste", "en"), elem_id="use-paste")
                examples = gr.Dataset(
                    components=[gr.Textbox(visible=False)],
                    samples=[[name] for name in EXAMPLES],
                    label=t("examples", "en"),
                    type="index",
                    elem_id="examples",
                )
                doc_info = gr.Markdown("", elem_id="doc-info", **plain_md)
                with gr.Accordion(t("advanced", "en"), open=False, elem_id="advanced") as advanced:
                    preset = gr.Radio(list(PRESETS), value="auto", label=t("preset", "en"))
                    granularity = gr.Radio(
                        list(GRANULARITIES), value="standard", label=t("granularity", "en")
                    )
                    font_size = gr.Slider(6, 16, value=9, step=0.5, label=t("font_size", "en"))
                    line_height = gr.Slider(6, 24, value=10, step=0.5, label=t("line_height", "en"))
                    dpi = gr.Slider(48, 200, value=72, step=1, label=t("dpi", "en"))
                    margin = gr.Slider(0, 60, value=10, step=1, label=t("margin", "en"))
                    newline_marker = gr.Checkbox(True, label=t("newline_marker", "en"))
                    header_footer = gr.Checkbox(False, label=t("header_footer", "en"))
                    position_marks = gr.Checkbox(False, label=t("position_marks", "en"))
            # ---- middle: render preview ----
            with gr.Column(scale=4, min_width=320, elem_id="pane-preview"):
                preview_hdr = gr.Markdown(f"### {t('preview', 'en')}")
                stats = gr.Markdown(t("no_document", "en"), elem_id="stats", **plain_md)
                gallery = gr.Gallery(
                    label=t("pages", "en"),
                    columns=2,
                    height=720,
                    format="png",
                    object_fit="contain",
                    elem_id="gallery",
                )
                hires = gr.Button(t("rerender_hi", "en"), elem_id="hires")
            # ---- right: reasoning ----
            with gr.Column(scale=4, min_width=320, elem_id="pane-reasoning"):
                reasoning_hdr = gr.Markdown(f"### {t('reasoning', 'en')}")
                reader_md = gr.Markdown("", elem_id="reader", **plain_md)
                mode = gr.Radio(
                    [
                        (t("mode_qa", "en"), "qa"),
                        (t("mode_summary", "en"), "summary"),
                        (t("mode_extract", "en"), "extract"),
                    ],
                    value="qa",
                    label=t("mode", "en"),
                    elem_id="mode",
                )
                question = gr.Textbox(
                    label=t("question", "en"),
                    placeholder=t("question_placeholder", "en"),
                    lines=2,
                    elem_id="question",
                )
                compute = gr.Radio(
                    [(t("run_now", "en"), "now"), (t("queue", "en"), "queue")],
                    value="now",
                    label=t("compute", "en"),
                    visible=jobs is not None,
                    elem_id="compute",
                )
                ask_btn = gr.Button(t("ask", "en"), variant="primary", elem_id="ask")
                status = gr.Markdown("", elem_id="status", **plain_md)
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
                confidence = gr.Markdown("", elem_id="confidence", **plain_md)
                evidence_pages = gr.Radio(
                    [], label=t("evidence_pages", "en"), elem_id="evidence-pages"
                )
                evidence_img = gr.Image(
                    label=t("evidence", "en"),
                    type="pil",
                    format="png",
                    interactive=False,
                    elem_id="evidence",
                )
                with gr.Row():
                    dl_json = gr.DownloadButton(
                        t("download_json", "en"), visible=False, elem_id="dl-json"
                    )
                    dl_md = gr.DownloadButton(
                        t("download_md", "en"), visible=False, elem_id="dl-md"
                    )
                pane = JobsPane.build(visible=jobs is not None)

        sliders = [font_size, line_height, dpi, margin]
        doc_outputs = [session, doc_info, gallery, stats, message, *sliders, password_row]

        # ---- handlers ----
        def _after_render(s: Session) -> list[Any]:
            items, line = manager.preview(s)
            cfg = s.rendered.config if s.rendered else None
            values = (
                [cfg.font_size, cfg.line_height, cfg.dpi, cfg.margin_x] if cfg else [KEEP()] * 4
            )
            return [s, manager.document_info(s), items, line, "", *values, gr.update(visible=False)]

        def _doc_error(err: BaseException, s: Session) -> list[Any]:
            locked = gr.update(visible=s.pending_path is not None)
            return [s, KEEP(), KEEP(), KEEP(), _error_text(err, s.lang), *[KEEP()] * 4, locked]

        def on_upload(s: Session, path: str | None, progress=gr.Progress()):
            if not path:
                return [s, *[KEEP()] * (len(doc_outputs) - 1)]
            try:  # opened from a private copy in the session's directory
                manager.open_upload(s, path, _progress(progress))
            except Exception as err:
                return _doc_error(err, s)
            return _after_render(s)

        def on_unlock(s: Session, secret: str, progress=gr.Progress()):
            try:
                manager.unlock(s, secret, _progress(progress))
            except Exception as err:
                return _doc_error(err, s)
            return _after_render(s)

        def on_paste(s: Session, text: str, progress=gr.Progress()):
            try:
                manager.open_text(s, text, _progress(progress))
            except Exception as err:
                return _doc_error(err, s)
            return _after_render(s)

        def on_paste_live(s: Session, text: str, progress=gr.Progress()):
            if not (text or "").strip():
                return [s, *[KEEP()] * (len(doc_outputs) - 1)]
            return on_paste(s, text, progress)

        def on_example(s: Session, index: int, progress=gr.Progress()):
            try:
                manager.open_file(s, EXAMPLES_DIR / EXAMPLES[index], _progress(progress))
            except Exception as err:
                return _doc_error(err, s)
            return _after_render(s)

        def on_preset(s: Session, preset_v, gran_v, nl, hf, pm, progress=gr.Progress()):
            opts = s.options
            opts.preset, opts.granularity = preset_v, gran_v
            opts.newline_marker, opts.header_footer, opts.position_marks = nl, hf, pm
            # a new preset resets the fine-tuning sliders to the preset's own values
            opts.font_size = opts.line_height = opts.dpi = opts.margin = None
            return _rerender(s, progress)

        def on_slider(s: Session, fs, lh, dp, mg, progress=gr.Progress()):
            opts = s.options
            opts.font_size, opts.line_height, opts.dpi, opts.margin = fs, lh, int(dp), mg
            return _rerender(s, progress)

        def on_hires(s: Session, progress=gr.Progress()):
            try:
                manager.higher_resolution(s, _progress(progress))
            except Exception as err:
                return _doc_error(err, s)
            return _after_render(s)

        def _rerender(s: Session, progress) -> list[Any]:
            try:
                manager.rerender(s, _progress(progress))
            except Exception as err:
                return _doc_error(err, s)
            return _after_render(s)

        ask_outputs = [
            answer,
            thinking,
            status,
            confidence,
            evidence_pages,
            evidence_img,
            dl_json,
            dl_md,
            message,
        ]

        def on_ask(
            s: Session,
            q: str,
            m: str,
            c: str = "now",
            request: gr.Request | None = None,
            progress=gr.Progress(),
        ):
            if c == "queue" and jobs is not None:
                try:
                    bind_user(s, request)  # jobs belong to the logged-in user
                    job = jobs.submit(s, q, m)
                except Exception as err:
                    yield [*[KEEP()] * 2, "", *[KEEP()] * 5, _error_text(err, s.lang)]
                    return
                yield [*[KEEP()] * 2, t("status_job_queued", s.lang, id=job.id), *[KEEP()] * 5, ""]
                return
            streamed = False
            try:
                for update in manager.ask(s, q, m, _progress(progress)):
                    if update.final is None:
                        streamed = streamed or bool(update.answer or update.thinking)
                        yield [update.answer, update.thinking, update.status, *[KEEP()] * 5, ""]
                        continue
                    final = update.final
                    choices = manager.evidence_choices(final.evidence, s.lang)
                    first = choices[0][1] if choices else None
                    conf = manager.confidence_line(final, s.lang)
                    if not final.evidence:
                        conf += "\n\n" + t("no_evidence", s.lang)
                    json_path, md_path, note = manager.downloads(s)
                    yield [
                        final.text,
                        final.thinking,
                        update.status,
                        conf,
                        gr.update(choices=choices, value=first),
                        manager.evidence_image(s, first),
                        gr.update(value=json_path, visible=json_path is not None),
                        gr.update(value=md_path, visible=md_path is not None),
                        f"⚠ {md_escape(note)}" if note else "",
                    ]
            except Exception as err:
                # a reader that fails mid-answer: its partial text is not an answer
                cleared = ["", ""] if streamed else [KEEP()] * 2
                yield [*cleared, "", *[KEEP()] * 5, _error_text(err, s.lang)]

        def on_evidence_page(s: Session, page):
            return manager.evidence_image(s, page)

        def _choices(lg: str, *pairs: tuple[str, str]) -> list[tuple[str, str]]:
            return [(t(key, lg), value) for key, value in pairs]

        # component → how its text looks in a language (labels, placeholders, choices, captions)
        relabel: list[tuple[Any, Callable[[str], Any]]] = [
            (title, lambda lg: f"## {t('title', lg)}\n{t('subtitle', lg)}"),
            (input_hdr, lambda lg: f"### {t('input', lg)}"),
            (preview_hdr, lambda lg: f"### {t('preview', lg)}"),
            (reasoning_hdr, lambda lg: f"### {t('reasoning', lg)}"),
            (
                paste,
                lambda lg: gr.update(label=t("paste", lg), placeholder=t("paste_placeholder", lg)),
            ),
            (
                question,
                lambda lg: gr.update(
                    label=t("question", lg), placeholder=t("question_placeholder", lg)
                ),
            ),
            (
                mode,
                lambda lg: gr.update(
                    label=t("mode", lg),
                    choices=_choices(
                        lg,
                        ("mode_qa", "qa"),
                        ("mode_summary", "summary"),
                        ("mode_extract", "extract"),
                    ),
                ),
            ),
            (
                compute,
                lambda lg: gr.update(
                    label=t("compute", lg),
                    choices=_choices(lg, ("run_now", "now"), ("queue", "queue")),
                ),
            ),
            *[
                (btn, lambda lg, k=key: gr.update(value=t(k, lg)))
                for btn, key in (
                    (use_paste, "use_paste"),
                    (hires, "rerender_hi"),
                    (ask_btn, "ask"),
                    (unlock, "unlock"),
                    (pane.show, "show_result"),
                    (pane.refresh, "refresh_jobs"),
                    (account.logout, "logout"),
                )
            ],
            *[
                (comp, lambda lg, k=key: gr.update(label=t(k, lg)))
                for comp, key in (
                    (upload, "upload"),
                    (examples, "examples"),
                    (password, "password"),
                    (preset, "preset"),
                    (granularity, "granularity"),
                    (font_size, "font_size"),
                    (line_height, "line_height"),
                    (dpi, "dpi"),
                    (margin, "margin"),
                    (newline_marker, "newline_marker"),
                    (header_footer, "header_footer"),
                    (position_marks, "position_marks"),
                    (gallery, "pages"),
                    (answer, "answer"),
                    (evidence_pages, "evidence_pages"),
                    (evidence_img, "evidence"),
                    (lang, "language"),
                    (advanced, "advanced"),
                    (thinking_acc, "thinking"),
                    (dl_json, "download_json"),
                    (dl_md, "download_md"),
                    (pane.accordion, "my_jobs"),
                    (pane.job_id, "job_id"),
                )
            ],
            (stats, lambda lg: None),  # placeholders: filled from the session below
            (doc_info, lambda lg: None),
            (reader_md, lambda lg: None),
        ]

        def on_lang(s: Session, value: str):
            s.lang = lg = pick_lang(value)
            updates = [fn(lg) for _, fn in relabel[:-3]]
            _, line = manager.preview(s)
            return [s, *updates, line, manager.document_info(s), manager.reader_status(lg)]

        lang_outputs = [session, *[comp for comp, _ in relabel]]

        # ---- wiring ----
        upload.upload(on_upload, [session, upload], doc_outputs, api_name="upload")
        use_paste.click(on_paste, [session, paste], doc_outputs, api_name="paste")
        # live preview while typing: always_last drops intermediate keystrokes (a debounce)
        paste.input(
            on_paste_live,
            [session, paste],
            doc_outputs,
            trigger_mode="always_last",
            show_progress="hidden",
            api_visibility="private",
        )
        for trigger in (unlock.click, password.submit):
            trigger(on_unlock, [session, password], doc_outputs, api_visibility="private")
        examples.click(on_example, [session, examples], doc_outputs, api_visibility="private")
        for control in (preset, granularity, newline_marker, header_footer, position_marks):
            control.input(
                on_preset,
                [session, preset, granularity, newline_marker, header_footer, position_marks],
                doc_outputs,
                trigger_mode="always_last",
                api_visibility="private",
            )
        for slider in sliders:
            slider.release(
                on_slider,
                [session, *sliders],
                doc_outputs,
                trigger_mode="always_last",
                api_visibility="private",
            )
        hires.click(on_hires, [session], doc_outputs, api_visibility="private")
        # The render endpoint for API users: preset/granularity plus optional fine-tuning.
        render_api = gr.Button(visible=False)
        render_api.click(
            on_preset,
            [session, preset, granularity, newline_marker, header_footer, position_marks],
            doc_outputs,
            api_name="render",
        )
        ask_kwargs: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "reader"}
        # compute: 'now' streams the answer here; 'queue' submits a job ("My jobs" follows it)
        ask_inputs = [session, question, mode, compute]
        asked = [
            ask_btn.click(on_ask, ask_inputs, ask_outputs, api_name="ask", **ask_kwargs),
            question.submit(
                on_ask, ask_inputs, ask_outputs, api_visibility="private", **ask_kwargs
            ),
        ]
        pane.wire(session, manager, jobs, ask_outputs, _error_text, after=asked)
        evidence_pages.change(
            on_evidence_page, [session, evidence_pages], [evidence_img], api_visibility="private"
        )
        pane.refresh_after(
            lang.change(on_lang, [session, lang], lang_outputs, api_visibility="private"), session
        )
        account.wire(demo, session)
        forced = None if settings_lang == "auto" else settings_lang
        browser_locale = gr.Textbox(visible=False)
        demo.load(
            lambda browser: forced or pick_lang(browser),
            [browser_locale],
            [lang],
            js="(x) => navigator.language || 'en'",
            api_visibility="private",
        )
        demo.load(
            lambda s: manager.reader_status(s.lang),
            [session],
            [reader_md],
            api_visibility="private",
        )
    return demo
