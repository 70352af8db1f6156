"""Several documents as one (issue 20): a collection is rendered and read like a single document,
and every offset and page still knows which document it came from.

``merge_documents`` joins the documents' blocks in order, each document opened by a heading
block with its name (drawn on the page images, so that a model reader sees which document it
reads), with the original pages of every document renumbered one after another. Its
``metadata["parts"]`` records, per document, its name and format, its character range in the
merged text and its first page; ``Document.part_at`` and ``Document.own_page`` answer "which
document, which of its own pages" (the evidence step names the document on every item).
"""

from __future__ import annotations

from typing import Any

from app.datamodel import BLOCK_SEPARATOR, PARTS_KEY, Document, Note, SourcePage, TextBlock
from app.errors import GlyphError


def merge_documents(documents: list[Document], name: str | None = None) -> Document:
    """One ``Document`` holding ``documents`` in order (see the module docstring); a single
    document is returned as it is."""
    if not documents:
        raise GlyphError("No documents to ask about.", "没有可提问的文档。")
    if len(documents) == 1:
        return documents[0]
    names = _unique([doc.name for doc in documents])
    blocks: list[TextBlock] = []
    pages: list[SourcePage] = []
    notes: list[Note] = []
    parts: list[dict[str, Any]] = []
    pos = 0
    for doc, shown in zip(documents, names, strict=True):
        first_page = len(pages)
        start = pos
        heading = TextBlock(text=shown, kind="heading", level=1)
        own = [heading]
        for block in doc.blocks:
            page = None if block.source_page is None else block.source_page + first_page
            own.append(block.model_copy(update={"source_page": page}))
        pages.extend(p.model_copy(update={"index": first_page + p.index}) for p in doc.pages)
        for block in own:
            blocks.append(block)
            pos += len(block.text) + len(BLOCK_SEPARATOR)
        notes.extend(Note(en=f"{shown}: {n.en}", zh=f"{shown}：{n.zh or n.en}") for n in doc.notes)
        parts.append(
            {
                "name": shown,
                "format": doc.format,
                "start": start,
                "end": pos,
                "first_page": first_page,
                "pages": len(doc.pages),
                "source_sha256": doc.source_sha256,
                "original_path": doc.metadata.get("original_path"),
            }
        )
    languages = {doc.language for doc in documents}
    return Document(
        name=name or f"{len(documents)} documents",
        format="collection",
        blocks=blocks,
        pages=pages,
        language=languages.pop() if len(languages) == 1 else None,
        notes=notes,
        metadata={PARTS_KEY: parts},
    )


def left_out(name: str, err: GlyphError) -> Note:
    """The note on a collection for a document that could not be opened (``err`` says why)."""
    return Note(
        en=f"Left out {name}: {err.user_message('en')}",
        zh=f"未包含 {name}：{err.user_message('zh')}",
    )


def _unique(names: list[str]) -> list[str]:
    """Names as given, a repeated one numbered ("report.pdf", "report.pdf (2)")."""
    taken: set[str] = set()
    out = []
    for name in names:
        out.append(numbered(name, taken))
        taken.add(out[-1])
    return out


def numbered(name: str, taken: set[str]) -> str:
    """``name``, numbered when ``taken`` has it already ("report.pdf (2)")."""
    n, candidate = 1, name
    while candidate in taken:
        n += 1
        candidate = f"{name} ({n})"
    return candidate
