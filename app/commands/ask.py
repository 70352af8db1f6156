"""``python -m app ask FILE [FILE …] QUESTION [--mode qa|summary|extract] [--reader R] [--config C]
[--json] [--password P]``.

Opens the file (or stdin for '-'; several files, or a folder's documents, as one collection whose
evidence names the document — ``app.ingest.collection``), renders it, asks the reader and prints
the answer with its
confidence, the review flag, the evidence (page, red boxes, annotated page image written under
``--out`` or a temporary folder), token statistics and timings. Progress lines ("OCR page 3/12")
go to stderr as they happen unless ``--json``, which prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from app.commands import open_file
from app.datamodel import Answer, Document, Mode, Note, RenderedDoc
from app.errors import GlyphError
from app.report import REVIEW_LABEL, answer_record

if TYPE_CHECKING:
    from app.pipeline import Pipeline

log = logging.getLogger(__name__)


def _mode(mode: str) -> Mode:
    try:
        return Mode(mode.lower())
    except ValueError:
        raise GlyphError(
            f"Unknown mode '{mode}'. Choose qa, summary or extract.",
            f"未知的模式 '{mode}'，可选 qa、summary 或 extract。",
        ) from None


def split_arguments(args: list[str], mode: str = "qa") -> tuple[list[str], str]:
    """``FILE [FILE …] QUESTION`` → (files, question). The last argument is the question, except
    for a summary or an extraction (which need none) when it names a file or folder."""
    if not args:
        raise GlyphError("Please give a document.", "请指定文档。")
    if len(args) == 1:
        return args, ""
    last = args[-1]
    if mode.lower() != "qa" and (last == "-" or Path(last).exists()):
        return args, ""
    return args[:-1], last


def expand(files: list[str]) -> list[str]:
    """Folders replaced by the documents in them (sorted; hidden files and unknown kinds left
    out); '-' and files as given."""
    from app.ingest import documents_in

    out: list[str] = []
    for file in files:
        path = Path(file)
        if file != "-" and path.is_dir():
            found = [str(p) for p in documents_in(path)]
            if not found:
                raise GlyphError(
                    f"The folder {file} holds no documents this app can read.",
                    f"文件夹 {file} 中没有可读取的文档。",
                )
            out.extend(found)
        else:
            out.append(file)
    return out


def _open_all(
    pipeline: Pipeline, files: list[str], password: str | None, status: Any
) -> tuple[Document, list[Note]]:
    """The documents of ``files`` as one (a collection when several). A file that cannot be
    opened is left out with a note, unless it is the only one."""
    from app.ingest.collection import left_out, merge_documents

    docs, notes = [], []
    for file in files:
        try:
            if file == "-":
                docs.append(pipeline.open_document(sys.stdin.buffer.read(), name="stdin.txt"))
            else:
                docs.append(open_file(pipeline, file, password))
        except GlyphError as err:
            if len(files) == 1:
                raise
            status(f"left out {file}: {err.user_message('en')}")
            notes.append(left_out(Path(file).name, err))
    if not docs:
        raise GlyphError("None of the documents could be opened.", "所有文档都无法打开。")
    return merge_documents(docs), notes


def ask_command(
    files: list[str],
    question: str,
    *,
    mode: str = "qa",
    reader: str | None = None,
    config: str = "auto",
    as_json: bool = False,
    out: Path | None = None,
    password: str | None = None,
) -> None:
    """Run one question end to end and print the result (see the module docstring)."""
    from app.pipeline import Pipeline, question_for

    chosen = _mode(mode)
    if chosen is Mode.QA and not question.strip():
        raise GlyphError("Please give a question.", "请输入问题。")
    question = question_for(chosen, question)

    def status(line: str) -> None:
        if not as_json:
            typer.echo(f"… {line}", err=True)

    pipeline = Pipeline()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    files = expand(files)
    doc, left_out = _open_all(pipeline, files, password, status)
    timings["open"] = time.perf_counter() - started
    for note in doc.notes:
        status(f"note: {note.en}")
    t0 = time.perf_counter()
    rendered = pipeline.render(doc, config)
    timings["render"] = time.perf_counter() - t0
    status(f"rendered {len(rendered.pages)} page(s) at config '{rendered.config.name}'")
    t0 = time.perf_counter()
    final: Answer | None = None
    # unbounded: this process has no other users, and a background read would end with it
    for chunk in pipeline.ask(rendered, question, chosen, reader=reader, bounded=False):
        if chunk.kind == "status":
            status(chunk.text)
        elif chunk.kind == "final":
            final = chunk.answer
    if final is None:  # every reader ends with a final chunk; guard the CLI anyway
        raise GlyphError("The reader gave no answer.", "阅读器未给出答案。")
    timings["ask"] = time.perf_counter() - t0
    for key, value in final.timings.items():
        timings.setdefault(f"reader_{key}" if key in timings else key, value)
    out_dir = out if out is not None else Path(tempfile.mkdtemp(prefix="glyph-ask-"))
    if final.shown_evidence:
        _draw_evidence(pipeline, rendered, final, out_dir, password)
    timings["total"] = time.perf_counter() - started
    final.notes[:0] = left_out
    data = answer_record(final, question, rendered, file=", ".join(files), timings=timings)
    pipeline.close()
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    _print_text(data)


def _draw_evidence(
    pipeline: Pipeline, rendered: RenderedDoc, answer: Answer, out_dir: Path, password: str | None
) -> None:
    """Annotated page images (rendered pages, and the user's own PDF pages) under ``out_dir``.

    The answer is already computed: a drawing failure (a disk that is full, a page MuPDF will not
    rasterise) is logged and noted on the answer, never allowed to lose it.
    """
    from app.evidence import save_annotated, save_annotated_sources

    doc = rendered.document
    prefix = "evidence" if answer.evidence else "closest"  # a not-found answer: where to look
    try:
        save_annotated(rendered, answer.shown_evidence, out_dir, prefix=prefix)
        if doc is not None and doc.format == "pdf":  # the same boxes on the user's PDF pages
            from app.ingest.store import find_original

            original = find_original(doc, pipeline.settings)
            if original is not None:
                save_annotated_sources(
                    original,
                    answer.shown_evidence,
                    out_dir,
                    prefix=f"{prefix}-original",
                    password=password,
                )
    except Exception as err:  # any drawing error: the answer stands
        log.warning("evidence images not written: %s: %s", type(err).__name__, err)
        answer.notes.append(
            Note(
                en=f"The evidence images could not be drawn ({type(err).__name__}); "
                "the answer and its page boxes are complete.",
                zh=f"无法绘制证据图片（{type(err).__name__}）；答案及其页面框选不受影响。",
            )
        )


def _print_places(data: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """Each cited place: its page, words, boxes and images (rendered and original page)."""
    echo = typer.echo
    for ev in items:
        boxes = ", ".join("[" + ", ".join(f"{v:g}" for v in box) + "]" for box in ev["boxes"])
        label = f"{ev['label']}: " if ev["label"] else ""
        where = f"{ev['document']}, " if data["document"].get("documents", 1) > 1 else ""
        echo(f"  {where}page {ev['page_number']}: {label}{ev['text'][:80]!r}")
        echo(f"    boxes {boxes}")
        if ev["source_page"] is not None:
            echo(f"    original page {ev['source_page_number']}: {ev['source_boxes']}")
            if ev["source_image"]:
                echo(f"    original image {ev['source_image']}")
        if ev["image"]:
            echo(f"    image {ev['image']}")


def _print_text(data: dict[str, Any]) -> None:
    echo = typer.echo
    echo(
        f"answer: {data['answer']}"
        if data["mode"] == "qa"
        else f"{data['mode']}:\n{data['answer']}"
    )
    review = f" — {REVIEW_LABEL}" if data["needs_review"] else ""
    echo(f"confidence: {data['confidence']:.2f}{review}  (reader: {data['reader']})")
    if data["evidence"]:
        echo("evidence:")
        _print_places(data, data["evidence"])
    elif data["closest"]:
        echo("closest passage (not an answer; please check there):")
        _print_places(data, data["closest"][:1])
    doc = data["document"]
    echo(
        f"tokens: {doc['visual_tokens']} visual for ~{doc['text_tokens']} text "
        f"({doc['compression_ratio']:.2f}x), {doc['pages']} page(s) at '{doc['config']}'"
    )
    echo("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in data["timings"].items()))
    for note in data["notes"]:
        echo(f"note: {note['en']}")
