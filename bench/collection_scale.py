"""Collections at scale (issue 20): 20 real documents, over 1,000 source pages, asked as one.

    .venv/bin/python bench/collection_scale.py [--json out.json]

The documents are manuals, specifications and licences that Debian packages install (English
and Chinese; PDF, DOCX, HTML, TXT, Markdown; ``scripts/setup.sh`` installs them). They are opened
the way the web UI opens an upload of several files (``UIManager.open_uploads``: each file read,
then rendered with one configuration, each document on its own pages), with the built-in reader
and an empty OCR cache, in this process. Measured in one run:

* adding: the time to open and render all of them, and per 100 source pages (before any OCR);
* the first answer (a question about one document, nothing read yet), a follow-up (another
  question about the same document) and a question about another document, each with the
  documents its evidence names;
* resident memory after adding, after the answers, and the peak.

Targets (issue 20): adding <= 2 s per 100 source pages, first answer <= 20 s, follow-up <= 3 s,
resident memory <= 4 GB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (file, is gzip-compressed) — PDFs first, then the other formats of the evaluation set
PDFS = [
    "/usr/share/doc/valgrind/valgrind_manual.pdf.gz",
    "/usr/share/debian-reference/debian-reference.zh-cn.pdf",
    "/usr/share/doc/debian-policy/policy.pdf.gz",
    "/usr/share/developers-reference/developers-reference.pdf",
    "/usr/share/doc/nettle-dev/nettle.pdf.gz",
    "/usr/share/doc/debian/FAQ/debian-faq.en.pdf.gz",
    "/usr/share/doc/maint-guide-zh-cn/maint-guide.zh-cn.pdf",
    "/usr/share/doc/debian-policy/fhs/fhs-3.0.pdf.gz",
    "/usr/share/doc/bzip2/manual.pdf.gz",
    "/usr/share/doc/libtasn1-doc/libtasn1.pdf",
    "/usr/share/doc/zlib1g-dev/crc-doc.1.0.pdf.gz",
    "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf",
    "/usr/share/doc/fontconfig/fontconfig-user.pdf.gz",
]
EVAL_DOCS = [
    "en-apache-license",
    "en-copyright-format",
    "en-debref-readme",
    "en-debconf-spec",
    "zh-debref-boot",
    "zh-vimtutor",
    "zh-debref-i18n",
]
QUESTIONS = [  # (label, question, the documents that hold its answer, a word the answer has)
    ("first", "Where can I obtain a copy of the License?", {"en-apache-license.txt"}, "LICENSE-2.0"),
    # the same document again: a follow-up
    ("follow_up", "Does the License grant permission to use the trademarks of the Licensor?",
     {"en-apache-license.txt"}, "trade"),
    # another document (the Debian reference, in Chinese, as DOCX and in its PDF edition)
    ("other_document", "加密文件系统的配置设置在哪个文件里？",
     {"zh-debref-boot.docx", "debian-reference.zh-cn.pdf"}, "crypttab"),
]  # fmt: skip


def documents(work: Path) -> list[Path]:
    """The 20 files, copied (PDFs unpacked) into ``work``: stand-ins for the browser's uploads."""
    from eval.qa_real.build import check_sources, default_cache, load_documents, materialise

    out: list[Path] = []
    work.mkdir(parents=True, exist_ok=True)
    missing = [p for p in PDFS if not Path(p).is_file()]
    specs = [d for d in load_documents() if d.id in EVAL_DOCS]
    missing += check_sources(specs)
    if missing:
        raise SystemExit("missing (run scripts/setup.sh): " + "; ".join(missing))
    for src in map(Path, PDFS):
        dest = work / src.name.removesuffix(".gz")
        if src.suffix == ".gz":
            with gzip.open(src) as fh, open(dest, "wb") as out_fh:
                shutil.copyfileobj(fh, out_fh)
        else:
            shutil.copyfile(src, dest)
        out.append(dest)
    for spec in specs:
        made = materialise(spec, default_cache())
        dest = work / made.name
        shutil.copyfile(made, dest)
        out.append(dest)
    return out


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="glyph-scale-"))
    os.environ["GLYPH_DATA_DIR"] = str(work / "data")  # an empty OCR cache
    os.environ.pop("GLYPH_CACHE_DIR", None)
    from app.pipeline import Pipeline
    from app.settings import get_settings
    from app.ui.manager import UIManager
    from app.ui.session import Session

    get_settings.cache_clear()
    files = documents(work / "uploads")
    manager = UIManager(Pipeline(get_settings()))
    manager.reader_status("en")  # the reader is loaded before the user uploads
    session = Session(root=work / "sessions")
    fig: dict[str, object] = {"rss_start_mb": round(rss_mb())}
    t0 = time.perf_counter()
    notes = manager.open_uploads(session, files)
    add_s = time.perf_counter() - t0
    source_pages = sum(len(f.document.pages) for f in session.files)
    fig |= {
        "documents": len(session.files),
        "left_out": [n.en for n in notes],
        "source_pages": source_pages,
        "page_images": len(session.rendered.pages),
        "characters": len(session.rendered.text),
        "add_s": round(add_s, 1),
        "add_s_per_100_pages": round(100 * add_s / max(source_pages, 1), 2),
        "rss_after_add_mb": round(rss_mb()),
    }
    for label, question, expected, needle in QUESTIONS:
        t0 = time.perf_counter()
        *_, last = manager.ask(session, question, "qa")
        seconds = time.perf_counter() - t0
        answer = last.final
        cited = sorted({ev.document for ev in answer.evidence if ev.document})
        fig[label] = {
            "question": question,
            "seconds": round(seconds, 1),
            "answer": answer.text[:160],
            "right_document": bool(cited) and set(cited) <= expected,
            "has_answer_word": needle in answer.text,
            "documents_cited": cited,
            "confidence": round(answer.confidence, 2),
            "needs_review": answer.needs_review,
            "timings": {k: round(v, 2) for k, v in answer.timings.items()},
        }
    fig["rss_after_answers_mb"] = round(rss_mb())
    fig["rss_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    fig["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    manager.pipeline.close()
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(fig, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(fig, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
