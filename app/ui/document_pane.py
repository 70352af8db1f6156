"""The left pane (the document: upload, paste, examples, render settings) and the middle pane
(the render preview), and the events that open and render a document. Logic: manager.py.

Every document event has the same outputs (``DocumentEvents.outputs``), in the order of the
``/upload``, ``/paste`` and ``/render`` API results (README, "API (gradio_client)"); handlers
return a dict keyed by component, so an output they do not mention keeps its value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gradio as gr

from app.ui.account import bind_user
from app.ui.manager import UIManager
from app.ui.safety import md_escape
from app.ui.session import GRANULARITIES, PRESETS, Session
from app.ui.texts import LANGS, t

EXAMPLES_DIR = Path(__file__).parent / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.is_file())
# Markdown that may quote file names or server text: no LaTeX, text escaped (safety.py)
PLAIN_MD: dict[str, Any] = {"latex_delimiters": []}

ErrorText = Callable[[BaseException, str], str]
Source = Literal["upload", "add", "other"] | None  # where a document being opened comes from


def labels(lg: str, pairs: tuple[tuple[Any, str], ...], prop: str = "label") -> dict[Any, Any]:
    """``{component: gr.update(prop=text)}`` for (component, text key) pairs."""
    return {comp: gr.update(**{prop: t(key, lg)}) for comp, key in pairs}


def note_list(notes: list, lang: str) -> str:
    """Notes (``Note``: the files that could not be opened) as a Markdown list, escaped."""
    return "\n".join(f"- {md_escape(n.text(lang))}" for n in notes)


def progress_reporter(progress: gr.Progress) -> Callable[[float | None, str], None]:
    """The manager's progress callback on Gradio's bar (``None``: the line without a bar)."""

    def report(fraction: float | None, desc: str) -> None:
        progress(fraction, desc=desc)

    return report


def _css_string(*lines: str) -> str:
    """A CSS string of ``lines``, one per line (``\\A``: a line break in ``content``; the space
    after it ends the escape, so a next line starting with a hex digit stays a letter)."""
    quoted = (line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return '"' + "\\A ".join(quoted) + '"'


def pane_css() -> str:
    """This module's page CSS: the file drop zone's words in the page's language (Gradio writes
    them in the browser's language), and a hint that the statistics line has details on hover."""
    zone = '[data-testid="upload-text"]'
    rules = [
        f"#upload {zone} {{ font-size: 0 !important; }}",
        f"#upload {zone} .or {{ display: none; }}",
        f"#upload {zone}::after {{ font-size: var(--text-lg); line-height: 1.7; "
        "white-space: pre; color: var(--body-text-color-subdued); }",
        "#stats .stats-plain { cursor: help; }",
    ]
    for lg in LANGS:
        words = _css_string(t("drop_file", lg), t("drop_or", lg), t("drop_click", lg))
        rules.append(f"#upload.lang-{lg} {zone}::after {{ content: {words}; }}")
    return "\n".join(rules)


@dataclass
class RenderSettings:
    """The "Advanced render settings" accordion."""

    accordion: gr.Accordion
    preset: gr.Radio
    granularity: gr.Radio
    font_size: gr.Slider
    line_height: gr.Slider
    dpi: gr.Slider
    margin: gr.Slider
    newline_marker: gr.Checkbox
    header_footer: gr.Checkbox
    position_marks: gr.Checkbox

    @classmethod
    def build(cls) -> RenderSettings:
        with gr.Accordion(t("advanced", "en"), open=False, elem_id="advanced") as accordion:
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
        return cls(
            accordion=accordion,
            preset=preset,
            granularity=granularity,
            font_size=font_size,
            line_height=line_height,
            dpi=dpi,
            margin=margin,
            newline_marker=newline_marker,
            header_footer=header_footer,
            position_marks=position_marks,
        )

    @property
    def sliders(self) -> list[Any]:
        """The fine-tuning sliders, in the order of ``DocumentEvents.on_slider``'s arguments."""
        return [self.font_size, self.line_height, self.dpi, self.margin]

    @property
    def choices(self) -> list[Any]:
        """Preset, granularity and switches, in the order of the ``/render`` API arguments."""
        return [
            self.preset,
            self.granularity,
            self.newline_marker,
            self.header_footer,
            self.position_marks,
        ]

    def relabel(self, lg: str) -> dict[Any, Any]:
        return labels(
            lg,
            (
                (self.accordion, "advanced"),
                (self.preset, "preset"),
                (self.granularity, "granularity"),
                (self.font_size, "font_size"),
                (self.line_height, "line_height"),
                (self.dpi, "dpi"),
                (self.margin, "margin"),
                (self.newline_marker, "newline_marker"),
                (self.header_footer, "header_footer"),
                (self.position_marks, "position_marks"),
            ),
        )


@dataclass
class CollectionsBox:
    """The "Saved collections" accordion: keep the open documents under a name, open or delete
    one of the user's collections."""

    accordion: gr.Accordion
    name: gr.Textbox
    save: gr.Button
    saved: gr.Dropdown
    open: gr.Button
    delete: gr.Button

    @classmethod
    def build(cls) -> CollectionsBox:
        with gr.Accordion(t("collections", "en"), open=False, elem_id="collections") as accordion:
            with gr.Row(equal_height=True):
                name = gr.Textbox(label=t("coll_name", "en"), scale=3, elem_id="coll-name")
                save = gr.Button(t("coll_save", "en"), scale=2, size="sm", elem_id="coll-save")
            with gr.Row(equal_height=True):
                # any id may come (an API client that listed them): the handler checks it
                saved = gr.Dropdown(
                    [],
                    label=t("coll_list", "en"),
                    scale=3,
                    allow_custom_value=True,
                    elem_id="coll-list",
                )
                open_ = gr.Button(t("coll_open", "en"), scale=1, size="sm", elem_id="coll-open")
                delete = gr.Button(
                    t("coll_delete", "en"),
                    scale=1,
                    size="sm",
                    variant="stop",
                    elem_id="coll-delete",
                )
        return cls(accordion, name, save, saved, open_, delete)

    def relabel(self, lg: str) -> dict[Any, Any]:
        return {
            **labels(lg, ((self.accordion, "collections"), (self.name, "coll_name"))),
            **labels(lg, ((self.saved, "coll_list"),)),
            **labels(
                lg,
                ((self.save, "coll_save"), (self.open, "coll_open"), (self.delete, "coll_delete")),
                "value",
            ),
        }


@dataclass
class DocumentPane:
    """The left pane: where a document comes from."""

    header: gr.Markdown
    upload: gr.File
    add: gr.UploadButton
    doc_list: gr.CheckboxGroup
    doc_status: gr.Markdown
    password_row: gr.Row
    password: gr.Textbox
    unlock: gr.Button
    paste: gr.Textbox
    use_paste: gr.Button
    examples: gr.Dataset
    info: gr.Markdown
    settings: RenderSettings
    collections: CollectionsBox

    @classmethod
    def build(cls, upload_types: list[str] | None) -> DocumentPane:
        header = gr.Markdown(f"### {t('input', 'en')}")
        upload = gr.File(
            label=t("upload", "en"),
            file_types=[*(upload_types or []), ".zip"] if upload_types else None,
            file_count="multiple",
            type="filepath",
            elem_id="upload",
            elem_classes=["lang-en"],  # the drop zone's words (pane_css)
        )
        add = gr.UploadButton(
            t("add_docs", "en"),
            file_types=[*(upload_types or []), ".zip"] if upload_types else None,
            file_count="multiple",
            size="sm",
            elem_id="add-docs",
        )
        doc_list = gr.CheckboxGroup(
            [], label=t("doc_list", "en"), visible=False, elem_id="doc-list"
        )
        doc_status = gr.Markdown("", visible=False, elem_id="doc-status", **PLAIN_MD)
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
        info = gr.Markdown("", elem_id="doc-info", **PLAIN_MD)
        collections = CollectionsBox.build()
        settings = RenderSettings.build()
        return cls(
            header=header,
            upload=upload,
            add=add,
            doc_list=doc_list,
            doc_status=doc_status,
            password_row=password_row,
            password=password,
            unlock=unlock,
            paste=paste,
            use_paste=use_paste,
            examples=examples,
            info=info,
            settings=settings,
            collections=collections,
        )

    def relabel(self, lg: str) -> dict[Any, Any]:
        return {
            self.header: f"### {t('input', lg)}",
            self.paste: gr.update(label=t("paste", lg), placeholder=t("paste_placeholder", lg)),
            **labels(lg, ((self.use_paste, "use_paste"), (self.unlock, "unlock")), "value"),
            **labels(lg, ((self.add, "add_docs"),)),  # an UploadButton's text is its label
            **labels(lg, ((self.examples, "examples"), (self.password, "password"))),
            **labels(lg, ((self.doc_list, "doc_list"),)),
            self.upload: gr.update(label=t("upload", lg), elem_classes=[f"lang-{lg}"]),
            **self.settings.relabel(lg),
            **self.collections.relabel(lg),
        }


@dataclass
class PreviewPane:
    """The middle pane: the rendered pages and their statistics."""

    header: gr.Markdown
    stats: gr.Markdown
    gallery: gr.Gallery
    hires: gr.Button
    doc_row: gr.Row
    shown_doc: gr.Dropdown
    remove: gr.Button

    @classmethod
    def build(cls) -> PreviewPane:
        header = gr.Markdown(f"### {t('preview', 'en')}")
        # a collection: the document whose pages are shown, and a way to take it out
        with gr.Row(visible=False, elem_id="doc-row") as doc_row:
            shown_doc = gr.Dropdown(
                [], label=t("preview_doc", "en"), scale=3, elem_id="preview-doc"
            )
            remove = gr.Button(
                t("remove_doc", "en"), size="sm", scale=1, min_width=120, elem_id="remove-doc"
            )
        stats = gr.Markdown(t("no_document", "en"), elem_id="stats", **PLAIN_MD)
        gallery = gr.Gallery(
            label=t("pages", "en"),
            columns=2,
            height=720,
            format="png",
            object_fit="contain",
            elem_id="gallery",
        )
        hires = gr.Button(t("rerender_hi", "en"), elem_id="hires")
        return cls(
            header=header,
            stats=stats,
            gallery=gallery,
            hires=hires,
            doc_row=doc_row,
            shown_doc=shown_doc,
            remove=remove,
        )

    def relabel(self, lg: str) -> dict[Any, Any]:
        return {
            self.header: f"### {t('preview', lg)}",
            self.gallery: gr.update(label=t("pages", lg)),
            self.hires: gr.update(value=t("rerender_hi", lg)),
            self.shown_doc: gr.update(label=t("preview_doc", lg)),
            self.remove: gr.update(value=t("remove_doc", lg)),
        }


class DocumentEvents:
    """Open, unlock and render a document: the left pane's events, shown in both panes."""

    def __init__(
        self,
        manager: UIManager,
        session: gr.State,
        message: gr.Markdown,
        doc: DocumentPane,
        preview: PreviewPane,
        error_text: ErrorText,
    ) -> None:
        self.manager, self.session, self.message = manager, session, message
        self.doc, self.preview, self.error_text = doc, preview, error_text

    @property
    def outputs(self) -> list[Any]:
        """In API order: document line, gallery, statistics, message (the State is not sent),
        then the render settings, the password row and the upload box."""
        doc, preview = self.doc, self.preview
        return [
            self.session,
            doc.info,
            preview.gallery,
            preview.stats,
            self.message,
            *doc.settings.sliders,
            doc.password_row,
            doc.upload,
            doc.doc_list,
            preview.shown_doc,
            preview.doc_row,
            doc.doc_status,
        ]

    # --- what the panes show --------------------------------------------------------------------
    def shown(self, s: Session, clear_upload: bool = False) -> dict[Any, Any]:
        """The panes after a successful open or render (sliders show the render's values);
        ``clear_upload``: the document did not come from the upload box (pasted text, an
        example), so the box no longer names a file that is not the open document."""
        items, line = self.manager.preview(s)
        out = {
            self.session: s,
            self.doc.info: self.manager.document_info(s),
            self.preview.gallery: items,
            self.preview.stats: line,
            self.message: "",
            self.doc.password_row: gr.update(visible=False),
            **self.documents(s),
        }
        if clear_upload:
            out[self.doc.upload] = None
        if s.rendered is not None:
            cfg, settings = s.rendered.config, self.doc.settings
            out |= {
                settings.font_size: cfg.font_size,
                settings.line_height: cfg.line_height,
                settings.dpi: cfg.dpi,
                settings.margin: cfg.margin_x,
            }
        return out

    def documents(self, s: Session) -> dict[Any, Any]:
        """The document list (questions go to the ticked ones) and the preview's selector,
        shown for two documents or more."""
        choices, ticked = self.manager.document_choices(s)
        several = len(choices) > 1
        names = [(name, name) for _, name in choices]
        shown = s.preview_name or (s.names[0] if s.names else None)
        status = self.manager.document_status(s)
        return {
            self.doc.doc_list: gr.update(choices=choices, value=ticked, visible=several),
            self.doc.doc_status: gr.update(value=status, visible=bool(status)),
            self.preview.shown_doc: gr.update(choices=names, value=shown),
            self.preview.doc_row: gr.update(visible=several),
        }

    def failed(self, err: BaseException, s: Session, source: Source = None) -> dict[Any, Any]:
        """The message; everything else as it was (the password box while a PDF is locked).

        ``source``: where the document that failed to open came from. The message then says
        which document is still open; a rejected upload is taken out of the upload box (unless
        it is the locked PDF waiting for its password), so the box never shows a file that
        is not the open document."""
        message = self.error_text(err, s.lang)
        out = {
            self.session: s,
            self.message: message,
            self.doc.password_row: gr.update(visible=s.pending_path is not None),
        }
        if source == "upload" and s.pending_path is None:
            out[self.doc.upload] = None
        if source is not None and s.document is not None:
            name = md_escape(s.document.name)
            gap = "" if s.lang == "zh" else " "  # no space between Chinese sentences
            out[self.message] = f"{message}{gap}{t('kept_document', s.lang, name=name)}"
        return out

    def _run(self, s: Session, action: Callable[[], Any], source: Source = None) -> dict[Any, Any]:
        """``action`` (an open from ``source``, or a re-render), then the panes or the error."""
        try:
            action()
        except Exception as err:
            return self.failed(err, s, source)
        return self.shown(s, clear_upload=source == "other")

    # --- handlers (their parameter names are the API's) -----------------------------------------
    def on_upload(self, s: Session, files: list[str] | str | None, progress=gr.Progress()):
        """Open the files (one, several, or a ZIP of documents) in place of the open ones."""
        return self._open_files(s, files, progress, add=False)

    def on_add(self, s: Session, files: list[str] | str | None, progress=gr.Progress()):
        """Add the files to the open documents."""
        return self._open_files(s, files, progress, add=True)

    def _open_files(self, s: Session, files, progress: gr.Progress, add: bool) -> dict[Any, Any]:
        paths = [files] if isinstance(files, str) else list(files or [])
        if not paths:
            return {self.session: s}
        # each opened from a private copy in the session's directory
        report = progress_reporter(progress)
        notes: list = []

        def action() -> None:
            notes.extend(self.manager.open_uploads(s, paths, report, add=add))

        out = self._run(s, action, "add" if add else "upload")
        if notes and out.get(self.message) == "":  # opened, but not every file
            lines = note_list(notes, s.lang)
            out[self.message] = f"⚠ {t('opened_some', s.lang, n=len(notes))}\n\n{lines}"
        return out

    # --- saved collections ----------------------------------------------------------------------
    def _saved(self, s: Session, value: str | None = None) -> dict[Any, Any]:
        choices = self.manager.collection_choices(s)
        ids = {cid for _, cid in choices}
        return {self.doc.collections.saved: gr.update(choices=choices,
                                                      value=value if value in ids else None)}  # fmt: skip

    def on_list(self, s: Session, request: gr.Request):
        """The user's collections (when the accordion opens)."""
        try:
            bind_user(s, request)
        except Exception as err:
            return {self.session: s, self.message: self.error_text(err, s.lang)}
        return {self.session: s, **self._saved(s)}

    def on_api_list(self, s: Session, request: gr.Request) -> list[dict[str, str]]:
        bind_user(s, request)
        saved = self.manager.collections.list(self.manager.collection_owner(s))
        return [{"id": c.id, "name": c.name, "documents": len(c.documents)} for c in saved]

    def on_save(self, s: Session, name: str, request: gr.Request):
        try:
            bind_user(s, request)
            cid = self.manager.save_collection(s, name)
        except Exception as err:
            return {self.session: s, self.message: self.error_text(err, s.lang)}
        line = t("coll_saved", s.lang, name=md_escape(s.collection or name), n=len(s.files))
        return {self.session: s, self.message: f"✓ {line}", **self._saved(s, cid)}

    def on_open(self, s: Session, cid: str | None, request: gr.Request, progress=gr.Progress()):
        notes: list = []

        def action() -> None:
            bind_user(s, request)
            notes.extend(self.manager.open_collection(s, cid or "", progress_reporter(progress)))

        out = self._run(s, action, "add")
        if out.get(self.message) == "":
            opened = t("coll_opened", s.lang, name=md_escape(s.collection or ""))
            out[self.message] = f"✓ {opened}" + (
                f"\n\n⚠\n{note_list(notes, s.lang)}" if notes else ""
            )
            out[self.doc.collections.name] = s.collection or ""
            out[self.doc.upload] = None  # the box no longer names what is open
        return out | self._saved(s, cid)

    def on_delete(self, s: Session, cid: str | None, request: gr.Request):
        try:
            bind_user(s, request)
            name = self.manager.delete_collection(s, cid or "")
        except Exception as err:
            return {self.session: s, self.message: self.error_text(err, s.lang)}
        if name is None:
            line = t("err_coll_missing", s.lang)
        else:
            line = "✓ " + t("coll_deleted", s.lang, name=md_escape(name))
        return {self.session: s, self.message: line, **self._saved(s)}

    def on_select(self, s: Session, names: list[str] | None):
        """Questions go to the ticked documents."""
        self.manager.select_documents(s, list(names or []))
        return {self.session: s}

    def on_show_document(self, s: Session, name: str | None):
        """The preview shows ``name``'s pages."""
        self.manager.show_document(s, name)
        items, line = self.manager.preview(s)
        return {
            self.session: s,
            self.preview.gallery: gr.Gallery(value=items, selected_index=None),
            self.preview.stats: line,
        }

    def on_remove(self, s: Session, name: str | None, progress=gr.Progress()):
        """Take the document the preview shows out of the open ones."""
        report = progress_reporter(progress)
        chosen = name or s.preview_name or (s.names[0] if s.names else "")
        return self._run(s, lambda: self.manager.remove_document(s, chosen, report), "add")

    def on_unlock(self, s: Session, secret: str, progress=gr.Progress()):
        report = progress_reporter(progress)
        return self._run(s, lambda: self.manager.unlock(s, secret, report), "upload")

    def on_paste(self, s: Session, text: str, progress=gr.Progress()):
        report = progress_reporter(progress)
        return self._run(s, lambda: self.manager.open_text(s, text, report), "other")

    def on_paste_live(self, s: Session, text: str, progress=gr.Progress()):
        if not (text or "").strip():
            return {self.session: s}
        return self.on_paste(s, text, progress)

    def on_example(self, s: Session, index: int, progress=gr.Progress()):
        path = EXAMPLES_DIR / EXAMPLES[index]
        report = progress_reporter(progress)
        return self._run(s, lambda: self.manager.open_file(s, path, report), "other")

    def on_preset(self, s: Session, preset_v, gran_v, nl, hf, pm, progress=gr.Progress()):
        opts = s.options
        opts.preset, opts.granularity = preset_v, gran_v
        opts.newline_marker, opts.header_footer, opts.position_marks = nl, hf, pm
        # a new preset resets the fine-tuning sliders to the preset's own values
        opts.font_size = opts.line_height = opts.dpi = opts.margin = None
        return self._rerender(s, progress)

    def on_slider(self, s: Session, fs, lh, dp, mg, progress=gr.Progress()):
        opts = s.options
        opts.font_size, opts.line_height, opts.dpi, opts.margin = fs, lh, int(dp), mg
        return self._rerender(s, progress)

    def on_hires(self, s: Session, progress=gr.Progress()):
        report = progress_reporter(progress)
        return self._run(s, lambda: self.manager.higher_resolution(s, report))

    def _rerender(self, s: Session, progress: gr.Progress) -> dict[Any, Any]:
        return self._run(s, lambda: self.manager.rerender(s, progress_reporter(progress)))

    # --- wiring ---------------------------------------------------------------------------------
    def wire(self) -> None:
        doc, settings, session, outputs = self.doc, self.doc.settings, self.session, self.outputs
        # one progress indicator, on the pages being made (Gradio's default puts one on every
        # output: the statistics line, the document line and the sliders stacked up)
        bar: dict[str, Any] = {"show_progress_on": [self.preview.gallery]}
        private: dict[str, Any] = {"api_visibility": "private", **bar}
        doc.upload.upload(
            self.on_upload, [session, doc.upload], outputs, api_name="upload_files", **bar
        )
        # /upload for API users: one file (as before collections), through a hidden box
        one_file = gr.File(visible=False, type="filepath")
        gr.Button(visible=False).click(
            self.on_upload, [session, one_file], outputs, api_name="upload", **bar
        )
        doc.add.upload(self.on_add, [session, doc.add], outputs, api_name="add", **bar)
        doc.doc_list.input(
            self.on_select, [session, doc.doc_list], [session], api_name="select_documents"
        )
        preview = self.preview
        preview.shown_doc.input(
            self.on_show_document,
            [session, preview.shown_doc],
            [session, preview.gallery, preview.stats],
            api_name="show_document",
            **bar,
        )
        preview.remove.click(
            self.on_remove, [session, preview.shown_doc], outputs, api_name="remove_document", **bar
        )
        doc.use_paste.click(self.on_paste, [session, doc.paste], outputs, api_name="paste", **bar)
        # live preview while typing: always_last drops intermediate keystrokes (a debounce)
        doc.paste.input(
            self.on_paste_live,
            [session, doc.paste],
            outputs,
            trigger_mode="always_last",
            show_progress="hidden",
            api_visibility="private",
        )
        for trigger in (doc.unlock.click, doc.password.submit):
            trigger(self.on_unlock, [session, doc.password], outputs, **private)
        doc.examples.click(self.on_example, [session, doc.examples], outputs, **private)
        for control in settings.choices:
            control.input(
                self.on_preset,
                [session, *settings.choices],
                outputs,
                trigger_mode="always_last",
                **private,
            )
        for slider in settings.sliders:
            slider.release(
                self.on_slider,
                [session, *settings.sliders],
                outputs,
                trigger_mode="always_last",
                **private,
            )
        self.preview.hires.click(self.on_hires, [session], outputs, **private)
        # The render endpoint for API users: preset/granularity plus optional fine-tuning.
        render_api = gr.Button(visible=False)
        render_api.click(
            self.on_preset, [session, *settings.choices], outputs, api_name="render", **bar
        )
        self.wire_collections()

    def wire_collections(self) -> None:
        box, session = self.doc.collections, self.session
        listed = [session, box.saved, self.message]
        box.accordion.expand(self.on_list, [session], listed, api_visibility="private")
        box.save.click(self.on_save, [session, box.name], listed, api_name="save_collection")
        box.open.click(
            self.on_open,
            [session, box.saved],
            [*self.outputs, box.saved, box.name],
            api_name="open_collection",
            show_progress_on=[self.preview.gallery],
        )
        box.delete.click(self.on_delete, [session, box.saved], listed, api_name="delete_collection")
        # for API users: the user's collections as [{"id", "name"}], newest first
        listing = gr.JSON(visible=False)
        gr.Button(visible=False).click(
            self.on_api_list, [session], [listing], api_name="collections"
        )
