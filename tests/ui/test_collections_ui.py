"""Several documents in one session (issue 20): upload several files or a ZIP, the document
list, the preview per document, questions to some of them, removal, saved collections that last
and stay private. Manager logic on real documents of Debian packages; the browser flow is in
test_collections_browser.py."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from app.errors import GlyphError
from app.pipeline import Pipeline
from app.ui.manager import UIManager
from app.ui.session import Session
from tests.helpers.documents import memo_docx, report_pdf

LICENSE_Q = "Where can I obtain a copy of the License?"
CRYPT_Q = "加密文件系统的配置设置在哪个文件里？"


@pytest.fixture(scope="module")
def real_files(tmp_path_factory):
    """The Apache licence as TXT and a Chinese DOCX (a chapter of the Debian reference)."""
    from eval.qa_real.build import check_sources, default_cache, load_documents, materialise

    wanted = ["en-apache-license", "zh-debref-boot"]
    docs = [d for d in load_documents() if d.id in wanted]
    missing = check_sources(docs)
    if missing:
        pytest.skip("; ".join(missing))
    folder = tmp_path_factory.mktemp("uploads")
    files = {d.id: materialise(d, default_cache()) for d in docs}
    out = {}
    for key, path in files.items():
        out[key] = folder / path.name  # stands in for Gradio's temp copy of an upload
        out[key].write_bytes(path.read_bytes())
    return out


@pytest.fixture
def managers():
    """UI managers on a data directory; their readers' background reads stop with the test."""
    from app.settings import Settings

    made: list[UIManager] = []

    def make(data: Path) -> UIManager:
        made.append(UIManager(Pipeline(Settings(_env_file=None, data_dir=data, reader="ocr"))))
        return made[-1]

    yield make
    for manager in made:
        manager.pipeline.close()


def _answer(manager: UIManager, s: Session, question: str):
    *_, last = manager.ask(s, question, "qa")
    assert last.final is not None
    return last.final


@pytest.mark.slow
def test_several_files_are_asked_as_one_and_the_evidence_names_each(real_files, tmp_path, managers):
    manager = managers(tmp_path / "data")
    s = Session(root=tmp_path / "sessions")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 not really a PDF")
    paths = [real_files["en-apache-license"], broken, real_files["zh-debref-boot"]]
    notes = manager.open_uploads(s, paths)
    # the bad file is left out and named; the others are open
    assert len(notes) == 1 and "broken.pdf" in notes[0].en and "broken.pdf" in notes[0].zh
    assert s.names == ["en-apache-license.txt", "zh-debref-boot.docx"]
    notes = manager.open_uploads(s, [report_pdf(tmp_path / "report.pdf", pages=3)], add=True)
    assert notes == [] and len(s.names) == 3 and s.document.format == "collection"
    choices, ticked = manager.document_choices(s)
    assert [c[1] for c in choices] == ticked == s.names
    assert "3 pages" in choices[2][0] and "PDF" in choices[2][0]

    # the preview shows one document at a time; its pages are that document's only
    manager.show_document(s, "zh-debref-boot.docx")
    shown = manager.document_pages(s)
    part = s.document.parts()[1]
    assert shown == s.rendered.layout.pages_of_span(part.start, part.end) and len(shown) > 1
    items, line = manager.preview(s)
    assert len(items) == len(shown) and "zh-debref-boot.docx" in line

    answer = _answer(manager, s, LICENSE_Q)
    assert "LICENSE-2.0" in answer.text
    assert {ev.document for ev in answer.evidence} == {"en-apache-license.txt"}

    # questions to some of the documents: the licence is not read any more
    manager.select_documents(s, ["zh-debref-boot.docx", "report.pdf"])
    assert [f.name for f in s.chosen()] == ["zh-debref-boot.docx", "report.pdf"]
    answer = _answer(manager, s, CRYPT_Q)
    assert "crypttab" in answer.text
    assert {ev.document for ev in answer.evidence} == {"zh-debref-boot.docx"}

    # a PDF's place in a collection: its own original page, its own page number and name
    manager.select_documents(s, ["report.pdf"])
    answer = _answer(manager, s, "What is the magic number of the orange project?")
    assert "58213" in answer.text, answer.text
    s.shown = answer
    from app.ui.manager import final_view

    view = final_view(answer, "en", named=True)
    assert view.evidence_choices[0][0].startswith("report.pdf · page 3")
    place = manager.evidence_place(s, view.first_choice)
    assert place is not None and place.original is not None  # the PDF's own page 3, boxed
    assert "**Page 3** of 3 · report.pdf" in place.caption
    assert place.preview_document == "report.pdf" and place.preview_page is not None

    # nothing ticked: a question says so; removing documents, never the last one
    manager.select_documents(s, [])
    with pytest.raises(GlyphError, match="Tick at least one"):
        list(manager.ask(s, LICENSE_Q, "qa"))
    manager.select_documents(s, None)
    manager.remove_document(s, "zh-debref-boot.docx")
    manager.remove_document(s, "report.pdf")
    assert s.names == ["en-apache-license.txt"] and s.document.format == "txt"
    with pytest.raises(GlyphError):
        manager.remove_document(s, "en-apache-license.txt")
    assert s.names == ["en-apache-license.txt"]


def test_a_zip_is_opened_member_by_member(real_files, tmp_path, managers):
    manager = managers(tmp_path / "data")
    s = Session(root=tmp_path / "sessions")
    archive = tmp_path / "policies.zip"
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("a.txt", "nested")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(real_files["en-apache-license"], "docs/en-apache-license.txt")
        zf.write(real_files["zh-debref-boot"], "docs/启动.docx")  # a Chinese name, UTF-8 flag
        zf.writestr("__MACOSX/docs/._启动.docx", b"resource fork")
        zf.writestr(".DS_Store", b"finder")
        zf.writestr("empty.pdf", b"%PDF-1.4 broken")
        zf.writestr("table.xlsx", b"PK not read")
        zf.write(inner, "inner.zip")
        zf.writestr("../../escape.txt", "The escape clause: nothing leaves the folder.")
        zf.writestr("XXXX.txt", "Memo of the board. The budget is 5 EUR.")
    # a Windows tool's ZIP: the name in GBK bytes, no UTF-8 flag
    archive.write_bytes(archive.read_bytes().replace(b"XXXX.txt", "备忘.txt".encode("gbk")))
    notes = manager.open_uploads(s, [archive])
    assert s.names == ["en-apache-license.txt", "启动.docx", "escape.txt", "备忘.txt"]
    joined = " | ".join(n.en for n in notes)
    assert "empty.pdf" in joined and "table.xlsx" in joined and "inner.zip" in joined
    assert len(notes) == 3 and ".DS_Store" not in joined and "__MACOSX" not in joined
    assert not (tmp_path / "escape.txt").exists()
    assert all(f.path is not None and f.path.is_file() for f in s.files)  # kept for the queue
    answer = _answer(manager, s, LICENSE_Q)
    assert {ev.document for ev in answer.evidence} == {"en-apache-license.txt"}
    # a ZIP with nothing that opens: a clear error, and the open documents stay
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("x.exe", b"MZ")
    with pytest.raises(GlyphError, match=r"x\.exe"):
        manager.open_uploads(s, [bad])
    assert len(s.names) == 4
    # the ones not opened stay listed under the documents (with why) until an upload replaces them
    status = manager.document_status(s)
    assert status.startswith("**Not opened (3)")
    assert all(name in status for name in ("empty.pdf", "table.xlsx", "inner.zip"))
    memo = tmp_path / "memo.md"
    memo.write_text("# Memo\n\nThe notice period is thirty days.\n", encoding="utf-8")
    manager.open_uploads(s, [bad, memo], add=True)
    assert "x.exe" in manager.document_status(s) and "empty.pdf" in manager.document_status(s)
    manager.remove_document(s, "escape.txt")
    assert "Not opened (4)" in manager.document_status(s)
    s.lang = "zh"
    assert manager.document_status(s).startswith("**未能打开（4 个）")
    manager.open_uploads(s, [memo, report_pdf(tmp_path / "one.pdf", pages=1)])
    assert manager.document_status(s) == ""
    s.lang = "en"
    labels = [label for label, _ in manager.document_choices(s)[0]]
    assert labels == ["memo.md · MARKDOWN", "one.pdf · PDF · 1 page"]


def test_saved_collections_last_and_stay_private(real_files, tmp_path, managers):
    data = tmp_path / "data"
    manager = managers(data)
    alice = Session(root=tmp_path / "sessions", user="alice")
    memo = memo_docx(tmp_path / "memo.docx")
    manager.open_uploads(alice, [real_files["en-apache-license"], memo])
    alice.options.font_size = 10.0
    manager.rerender(alice)
    pixels = [p.sha256 for p in alice.rendered.pages]
    cid = manager.save_collection(alice, "Licences and specs")
    assert manager.collection_choices(alice) == [("Licences and specs · 2 documents", cid)]
    manager.save_collection(alice, "Licences and specs")  # the same name replaces it
    assert len(manager.collection_choices(alice)) == 1
    with pytest.raises(GlyphError):
        manager.save_collection(alice, "   ")

    # another user sees none of it and cannot open it by its id
    bob = Session(root=tmp_path / "sessions", user="bob")
    assert manager.collection_choices(bob) == []
    with pytest.raises(GlyphError, match="no longer exists"):
        manager.open_collection(bob, cid)
    assert manager.delete_collection(bob, cid) is None

    # after a restart (a new manager on the same data directory), in a new session
    later = managers(data)
    again = Session(root=tmp_path / "sessions2", user="alice")
    assert later.open_collection(again, cid) == []
    assert again.names == ["en-apache-license.txt", "memo.docx"]
    assert again.options.font_size == 10.0 and again.collection == "Licences and specs"
    assert [p.sha256 for p in again.rendered.pages] == pixels  # the OCR cache still holds
    answer = _answer(later, again, LICENSE_Q)
    assert "LICENSE-2.0" in answer.text

    # deleting removes its files
    folders = list((data / "collections").glob("*/*"))
    assert len(folders) == 1
    assert later.delete_collection(again, cid) == "Licences and specs"
    assert not folders[0].exists() and later.collection_choices(again) == []
    assert again.names  # the open documents stay open
