"""Per-browser-session state: the open document, its render, the answers so far.

Held in a ``gr.State``; nothing here imports gradio, so the logic is testable on its own.
A failed upload or render never replaces what the session already has.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from app.datamodel import Answer, Document, Note, RenderedDoc

GRANULARITIES = ("standard", "fine", "medium", "coarse", "coarse-to-fine")
COARSE_TO_FINE = "coarse-to-fine"  # render coarse, re-read the pages a question needs fine
PRESETS = ("auto", "en", "zh")
DPI_STEPS = (72, 96, 120, 144, 200)


@dataclass
class RenderOptions:
    """What the 'Advanced' accordion sets. ``None`` means: keep the preset's value."""

    preset: str = "auto"
    granularity: str = "standard"
    font_size: float | None = None
    line_height: float | None = None
    dpi: int | None = None
    margin: float | None = None
    newline_marker: bool = True
    header_footer: bool = False
    position_marks: bool = False

    def spec(self) -> str:
        """The preset name for ``app.render.resolve_config``."""
        if self.granularity == COARSE_TO_FINE:
            return "coarse"
        return self.preset if self.granularity == "standard" else self.granularity

    @property
    def coarse_to_fine(self) -> bool:
        return self.granularity == COARSE_TO_FINE

    def overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.granularity != "standard" and self.preset != "auto":
            out["language"] = self.preset
        if self.font_size:
            out["font_size"] = float(self.font_size)
        if self.line_height:
            out["line_height"] = float(self.line_height)
        if self.dpi:
            out["dpi"] = int(self.dpi)
        if self.margin is not None:
            out["margin_x"] = out["margin_y"] = float(self.margin)
        if not self.newline_marker:
            out["newline_markup"] = None
        if self.header_footer:
            out["header"] = out["footer"] = True
        if self.position_marks:
            out["position_marks"] = True
        return out


@dataclass
class OpenedFile:
    """One document of the session's collection (a session with one document has one)."""

    name: str  # unique within the session ("report.pdf", "report.pdf (2)")
    document: Document  # named ``name``
    path: Path | None = None  # its private upload copy (None: pasted text, an example)


@dataclass
class Session:
    """Everything one browser tab has done so far."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    lang: str = "en"
    document: Document | None = None  # the open document, or its documents as one collection
    rendered: RenderedDoc | None = None
    files: list[OpenedFile] = field(default_factory=list)  # the documents, in order
    selected: list[str] | None = None  # the names questions go to (None: all of them)
    # the uploads among the documents that could not be opened (name, why), listed with them
    not_opened: list[tuple[str, Note]] = field(default_factory=list)
    preview_name: str | None = None  # the document the preview shows (None: the first)
    # each document's render at the current settings (Pipeline.render's cache), so adding a
    # document or asking some of them renders nothing twice
    render_cache: dict[str, RenderedDoc] = field(default_factory=dict)
    asked: RenderedDoc | None = None  # what the last answer was read from (its evidence's pages)
    collection: str | None = None  # the name the collection was saved under (app.ui.collections)
    options: RenderOptions = field(default_factory=RenderOptions)
    answers: list[Answer] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    shown: Answer | None = None  # the answer the reasoning pane shows (re-shown in a new language)
    evidence_images: dict[int, Image.Image] = field(default_factory=dict)
    shown_place: str | None = None  # the evidence-list value shown (re-captioned in a new language)
    # (answer key, place) → its original PDF page, red boxes drawn (None: it cannot be drawn)
    evidence_cache: dict[tuple[str, int], Image.Image | None] = field(default_factory=dict)
    pending_path: Path | None = None  # an encrypted upload waiting for its password
    root: Path | None = None  # where workdirs are made (app.ui.storage.sessions_root)
    user: str | None = None  # the logged-in user (GLYPH_AUTH) this session belongs to
    _workdir: Path | None = None

    def workdir(self, root: Path | None = None) -> Path:
        """A private directory for this session's uploads, downloads and evidence images."""
        if self._workdir is None or not self._workdir.exists():
            base = root or self.root or Path(tempfile.gettempdir())
            base.mkdir(parents=True, exist_ok=True)
            self._workdir = Path(tempfile.mkdtemp(prefix=f"glyph-{self.id}-", dir=base))
        return self._workdir

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.files]

    def chosen(self) -> list[OpenedFile]:
        """The documents questions go to: the selected ones (None selected: all)."""
        return [f for f in self.files if self.selected is None or f.name in self.selected]

    def chosen_document(self) -> Document | None:
        """What a question goes to, as one document: the open one (or collection) when every
        document is chosen, else the chosen ones joined; None when none is chosen."""
        from app.ingest.collection import merge_documents

        chosen = self.chosen()
        if not chosen:
            return None
        if len(chosen) == len(self.files):
            return self.document
        return merge_documents([f.document for f in chosen])

    @property
    def source_path(self) -> Path | None:
        """The open document's upload (copied when queued as a job); None for pasted text, an
        example, or several documents."""
        return self.files[0].path if len(self.files) == 1 else None

    @property
    def owner(self) -> str:
        """Who owns this session's queued jobs: the logged-in user, else the session itself."""
        return f"user:{self.user}" if self.user else self.id

    def cleanup(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __deepcopy__(self, memo: dict) -> Session:
        # gr.State deep-copies its initial value per session; a fresh Session is the right copy.
        return Session(lang=self.lang, root=self.root)
