"""The JSONL rows of training and evaluation, and the documents they point to.

One row per line::

    {"id": "q1", "image_path": "pages/p1.png", "question": "…", "answer": "…"}
    {"image_paths": ["doc/page_001.png", "doc/page_002.png"], "question": "…", "answer": "…"}
    {"text": "the document itself …", "question": "…", "answer": "…"}
    {"path": "contracts/a.pdf", "question": "…", "answer": "…"}

Exactly one source per row; relative paths are relative to the JSONL file. Optional keys: ``id``
(default ``line-N``), ``answers`` (several acceptable answers, evaluation), ``thinking`` (for
``answer_template``), ``lang`` (``en``/``zh``, else detected), ``mode`` (qa/summary/extract,
evaluation), ``doc_dir`` (a directory written by the renderer, with ``layout.npz`` and
``text.txt``: lets image rows made by ``scripts/render_text.py`` feed the auxiliary OCR task).

Text and path rows are rendered with the configured preset (``Documents`` renders each distinct
document once and keeps it for all its questions).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.datamodel import LayoutMap, Page, RenderConfig, RenderedDoc
from app.errors import GlyphError

log = logging.getLogger(__name__)

SOURCES = ("image_path", "image_paths", "text", "path")
MAX_REPORTED = 5


class DataError(GlyphError):
    """A dataset file or one of its rows is unusable."""

    code = "data"


@dataclass
class Row:
    """One validated JSONL row."""

    line: int
    id: str
    question: str
    answers: list[str]
    images: list[Path] = field(default_factory=list)
    text: str | None = None
    path: Path | None = None
    doc_dir: Path | None = None
    thinking: str = ""
    lang: str | None = None
    mode: str = "qa"

    @property
    def answer(self) -> str:
        return self.answers[0]

    @property
    def doc_key(self) -> str:
        """Rows about the same document share this key (rendered once)."""
        if self.text is not None:
            return "text:" + hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()
        if self.path is not None:
            return f"path:{self.path}"
        return "images:" + "|".join(str(p) for p in self.images)


def _parse(line: int, record: Any, base: Path, *, need_answer: bool) -> Row | str:
    if not isinstance(record, dict):
        return f"line {line}: not a JSON object"
    present = [key for key in SOURCES if record.get(key) not in (None, "", [])]
    if len(present) != 1:
        return f"line {line}: needs exactly one of {', '.join(SOURCES)} (found {present or 'none'})"
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        return f"line {line}: 'question' must be a non-empty string"
    answers = record.get("answers", record.get("answer"))
    if isinstance(answers, str):
        answers = [answers]
    if need_answer and (
        not isinstance(answers, list)
        or not answers
        or not all(isinstance(a, str) and a.strip() for a in answers)
    ):
        return f"line {line}: 'answer' must be a non-empty string (or 'answers' a list of them)"
    row = Row(
        line=line,
        id=str(record.get("id", f"line-{line}")),
        question=question,
        answers=list(answers or []),
        thinking=str(record.get("thinking") or ""),
        lang=record.get("lang") if record.get("lang") in ("en", "zh") else None,
        mode=str(record.get("mode") or "qa"),
    )
    source = present[0]
    value = record[source]
    if source in ("image_path", "image_paths"):
        paths = [value] if source == "image_path" else value
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            return f"line {line}: '{source}' must be a path string (or a list of them)"
        row.images = [(base / p) for p in paths]
        missing = [str(p) for p in row.images if not p.is_file()]
        if missing:
            return f"line {line}: image not found: {missing[0]}"
    elif source == "text":
        if not isinstance(value, str):
            return f"line {line}: 'text' must be a string"
        row.text = value
    else:
        if not isinstance(value, str) or not (base / value).is_file():
            return f"line {line}: file not found: {value}"
        row.path = base / value
    if record.get("doc_dir"):
        row.doc_dir = base / str(record["doc_dir"])
    return row


def read_rows(path: str | Path, *, need_answer: bool = True) -> list[Row]:
    """Every row of a JSONL file, validated; raises ``DataError`` listing the first problems."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Dataset file {path} does not exist.", f"数据文件 {path} 不存在。")
    rows: list[Row] = []
    problems: list[str] = []
    base = path.resolve().parent
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                problems.append(f"line {number}: not JSON ({err.msg})")
                continue
            result = _parse(number, record, base, need_answer=need_answer)
            if isinstance(result, str):
                problems.append(result)
            else:
                rows.append(result)
    if problems:
        shown = "; ".join(problems[:MAX_REPORTED])
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise DataError(
            f"{path}: {len(problems)} invalid row(s): {shown}{more}",
            f"{path}：{len(problems)} 行无效：{shown}{more}",
        )
    if not rows:
        raise DataError(f"{path} holds no rows.", f"{path} 中没有数据行。")
    return rows


def images_doc(images: list[Any], name: str = "images") -> RenderedDoc:
    """A ``RenderedDoc`` of page images alone (no text, empty layout): what readers need."""
    from PIL import Image

    pages = []
    for i, image in enumerate(images):
        if not isinstance(image, Image.Image):
            with Image.open(image) as fh:
                image = fh.convert("RGB")
        pages.append(Page(i, image))
    return RenderedDoc(
        text="", config=RenderConfig(name=name), pages=pages, layout=LayoutMap.empty(), name=name
    )


def load_rendered_dir(folder: Path) -> RenderedDoc:
    """A directory written by ``app.render.output.write_rendered`` back into a ``RenderedDoc``."""
    from PIL import Image

    from app.render.output import LAYOUT, MANIFEST, TEXT

    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        text = (folder / TEXT).read_text(encoding="utf-8")
        layout = LayoutMap.from_npz((folder / LAYOUT).read_bytes())
        pages = []
        for info in manifest["pages"]:
            with Image.open(folder / info["file"]) as fh:
                pages.append(Page(int(info["index"]), fh.copy()))
        config = RenderConfig.model_validate(manifest["config"])
    except (OSError, KeyError, ValueError) as err:
        raise DataError(
            f"{folder} is not a complete rendered document: {err}",
            f"{folder} 不是完整的渲染结果：{err}",
        ) from err
    return RenderedDoc(text, config, pages, layout, name=str(manifest.get("name") or folder.name))


class Documents:
    """Rendered documents for rows, each distinct document rendered (or read) once."""

    def __init__(
        self,
        render_config: str = "auto",
        overrides: dict[str, Any] | None = None,
        *,
        open_document: Callable[[Path], Any] | None = None,
        keep: int | None = None,
    ) -> None:
        self.render_config = render_config
        self.overrides = dict(overrides or {})
        self._open = open_document
        self.keep = keep  # documents kept in memory (None: all, as training needs)
        self._docs: OrderedDict[str, RenderedDoc] = OrderedDict()
        self.loaded = 0  # documents rendered or read so far

    def _render_text(self, text: str, name: str) -> RenderedDoc:
        from app.render import render, resolve_config

        cfg = resolve_config(self.render_config, text=text, **self.overrides)
        return render(text, cfg, name=name)

    def get(self, row: Row) -> RenderedDoc:
        key = row.doc_key
        doc = self._docs.get(key)
        if doc is None:
            doc = self._load(row)
            self.loaded += 1
            self._docs[key] = doc
            if self.keep is not None:
                while len(self._docs) > max(self.keep, 1):
                    self._docs.popitem(last=False)
        else:
            self._docs.move_to_end(key)
        return doc

    def _load(self, row: Row) -> RenderedDoc:
        if row.text is not None:
            return self._render_text(row.text, row.id)
        if row.path is not None:
            if self._open is None:
                from app.pipeline import Pipeline

                self._open = Pipeline().open_document
            document = self._open(row.path)
            rendered = self._render_text(document.text, document.name)
            rendered.document = document
            return rendered
        if row.doc_dir is not None and (row.doc_dir / "layout.npz").is_file():
            return load_rendered_dir(row.doc_dir)
        return images_doc(row.images, name=row.id)

    def __len__(self) -> int:
        return self.loaded
