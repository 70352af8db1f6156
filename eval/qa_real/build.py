"""Materialise the real-document QA set's documents into a cache directory.

    .venv/bin/python -m eval.qa_real.build [--cache DIR] [--force]

Every document in ``documents.jsonl`` comes from a file a Debian package installs (set-up
installs the packages: ``scripts/setup.sh --dev``). The file the pipeline opens is derived from
it reproducibly, into ``$GLYPH_EVAL_CACHE`` (default ``~/.cache/glyph-eval/qa_real``) — nothing
generated is committed:

* ``none``   — the installed file itself (copied, so the name ends in the right suffix);
* ``gunzip`` — ``*.gz`` decompressed;
* ``docx``   — an HTML chapter's headings, paragraphs, list items and table rows written with
  python-docx (real text, DOCX container);
* ``scan``   — pages of a real PDF rasterised with PyMuPDF (``dpi``) into an image-only PDF (no
  text layer), i.e. a "scanned" copy that the pipeline reads by OCR.

Independent of ``app`` (only PyMuPDF, python-docx and BeautifulSoup, which the project needs
anyway).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DOCUMENTS = HERE / "documents.jsonl"
QUESTIONS = HERE / "questions.jsonl"
RECIPE_VERSION = 2  # bump when a derivation changes: cached files are rebuilt

SUFFIX = {
    "pdf": ".pdf",
    "pdf-scan": ".pdf",
    "docx": ".docx",
    "html": ".html",
    "txt": ".txt",
    "markdown": ".md",
}


class MissingSource(RuntimeError):
    """A source file is not installed; the message names the Debian package."""


@dataclass
class DocSpec:
    id: str
    language: str
    format: str
    split: str
    title: str
    source: dict[str, str]
    derived: dict[str, Any]
    licence: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return self.source["package"]

    @property
    def source_path(self) -> Path:
        return Path(self.source["path"])

    @property
    def kind(self) -> str:
        return self.derived.get("kind", "none")


def load_documents(path: Path = DOCUMENTS) -> list[DocSpec]:
    docs = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        known = {f: row.pop(f) for f in list(row) if f in DocSpec.__dataclass_fields__}
        docs.append(DocSpec(**known, extra=row))
    return docs


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def default_cache() -> Path:
    env = os.environ.get("GLYPH_EVAL_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "glyph-eval" / "qa_real"


def check_sources(docs: list[DocSpec]) -> list[str]:
    """Messages for every missing source (empty when all are installed)."""
    missing = []
    for doc in docs:
        if not doc.source_path.is_file():
            missing.append(
                f"{doc.id}: {doc.source_path} is missing — install the Debian package "
                f"'{doc.package}' (apt-get install {doc.package}; scripts/setup.sh --dev does it)"
            )
    return missing


def _read_source(doc: DocSpec) -> bytes:
    data = doc.source_path.read_bytes()
    if doc.source_path.suffix == ".gz":
        data = gzip.decompress(data)
    return data


def _recipe_hash(doc: DocSpec) -> str:
    blob = json.dumps(
        {"v": RECIPE_VERSION, "source": doc.source, "derived": doc.derived, "format": doc.format},
        sort_keys=True,
    )
    st = doc.source_path.stat()
    blob += f"|{st.st_size}"
    if doc.kind in ("docx", "scan"):  # the derivation code is part of the recipe
        blob += "|" + hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _own_text(el: Any) -> str:
    """Text of an element without its nested lists (those are blocks of their own)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        for child in node.children:
            name = getattr(child, "name", None)
            if name in ("ul", "ol", "dl"):
                continue
            if name is None:
                parts.append(str(child))
            else:
                walk(child)

    walk(el)
    return " ".join(" ".join(parts).split())


def _html_blocks(html: bytes) -> list[tuple[str, str, int]]:
    """(kind, text, level) of an HTML chapter in reading order: heading / para / item / row."""
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # XHTML chapters
        soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "head", "nav"]):
        tag.decompose()
    # navigation bars, sidebars and permalink marks are page chrome, not document text
    chrome = ["navheader", "navfooter", "related", "sphinxsidebar", "footer"]
    for div in soup.find_all("div", class_=chrome):
        div.decompose()
    for link in soup.find_all("a", class_="headerlink"):
        link.decompose()
    body = soup.body or soup
    blocks: list[tuple[str, str, int]] = []
    wanted = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "dt", "dd"]
    for el in body.find_all(wanted):
        # innermost only: a <p> inside an <li> is written by the <li>, a <p> inside <dd> by <dd>
        if el.name in ("p", "pre") and el.find_parent(["li", "dd", "td", "th"]):
            continue
        if el.name in ("li", "dd") and el.find_parent(["td", "th"]):
            continue
        if el.name == "tr":
            cells = [
                " ".join(c.get_text(" ", strip=True).split()) for c in el.find_all(["td", "th"])
            ]
            text = " | ".join(c for c in cells if c)
            kind, level = "row", 0
        elif el.name == "pre":
            text = el.get_text().rstrip("\n")
            kind, level = "pre", 0
        else:
            text = _own_text(el)
            if el.name.startswith("h"):
                kind, level = "heading", int(el.name[1])
            elif el.name == "li":
                kind, level = "item", 0
            else:
                kind, level = "para", 0
        if text:
            blocks.append((kind, text, level))
    return blocks


def build_docx(html: bytes, out: Path, title: str) -> None:
    from docx import Document as DocxDocument

    document = DocxDocument()
    document.core_properties.title = title
    # fixed metadata: the same source gives the same file contents (apart from the zip dates)
    document.core_properties.author = ""
    for kind, text, level in _html_blocks(html):
        if kind == "heading":
            document.add_heading(text, level=min(max(level - 1, 0), 9))
        elif kind == "item":
            document.add_paragraph(text, style="List Bullet")
        elif kind == "pre":
            document.add_paragraph(text)
        else:
            document.add_paragraph(text)
    document.save(str(out))


def build_scan(pdf: bytes, out: Path, first: int, last: int, dpi: int) -> None:
    """Pages ``first``..``last`` (1-based, inclusive) as images only, at ``dpi``."""
    import pymupdf

    src = pymupdf.open(stream=pdf, filetype="pdf")
    dst = pymupdf.open()
    for index in range(first - 1, last):
        page = src[index]
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        new = dst.new_page(width=page.rect.width, height=page.rect.height)
        new.insert_image(new.rect, stream=pix.tobytes("png"))
    dst.set_metadata({})
    dst.save(str(out), garbage=4, deflate=True, no_new_id=True)


def materialise(doc: DocSpec, cache: Path, *, force: bool = False) -> Path:
    """The file the pipeline opens for ``doc`` (built on first use)."""
    if not doc.source_path.is_file():
        raise MissingSource(check_sources([doc])[0])
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{doc.id}{SUFFIX[doc.format]}"
    stamp = cache / f"{doc.id}.recipe"
    recipe = _recipe_hash(doc)
    if not force and out.is_file() and stamp.is_file() and stamp.read_text() == recipe:
        return out
    tmp = out.with_name(out.name + ".tmp")
    kind = doc.kind
    if kind in ("none", "gunzip"):
        tmp.write_bytes(_read_source(doc))
    elif kind == "docx":
        build_docx(_read_source(doc), tmp, doc.title)
    elif kind == "scan":
        first, last = doc.derived["pages"]
        build_scan(_read_source(doc), tmp, first, last, int(doc.derived.get("dpi", 200)))
    else:
        raise ValueError(f"{doc.id}: unknown derivation {kind!r}")
    os.replace(tmp, out)
    stamp.write_text(recipe)
    return out


def materialise_all(
    docs: list[DocSpec] | None = None, cache: Path | None = None, *, force: bool = False
) -> dict[str, Path]:
    docs = docs if docs is not None else load_documents()
    missing = check_sources(docs)
    if missing:
        raise MissingSource("\n".join(missing))
    cache = cache or default_cache()
    return {doc.id: materialise(doc, cache, force=force) for doc in docs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="default: $GLYPH_EVAL_CACHE")
    parser.add_argument("--force", action="store_true", help="rebuild every file")
    args = parser.parse_args(argv)
    try:
        paths = materialise_all(cache=args.cache, force=args.force)
    except MissingSource as err:
        print(err, file=sys.stderr)
        return 2
    for doc_id, path in paths.items():
        print(f"{doc_id:24s} {path} ({path.stat().st_size:,} bytes)")
    return 0


def copy_to(paths: dict[str, Path], dest: Path) -> None:
    """Copy materialised files somewhere else (e.g. to inspect them)."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in paths.values():
        shutil.copy2(path, dest / path.name)


if __name__ == "__main__":
    raise SystemExit(main())
