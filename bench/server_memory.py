"""Server memory over a mixed session (issue 21): resident memory after 100 questions on 20 documents.

    .venv/bin/python bench/server_memory.py [--questions 100] [--sessions 4] [--json out.json]

A real server (``python -m app serve``, built-in reader, settings from ``GLYPH_*`` variables) and
``--sessions`` ``gradio_client`` sessions taking turns, as staff with several tabs would. Documents:
the 14 of the real-document QA set (``eval/qa_real``: PDFs, scanned PDFs, DOCX, HTML, TXT,
Markdown; English and Chinese; ``scripts/setup.sh --dev`` installs them) and 6 licence texts from
``/usr/share/common-licenses`` — 20 in all. Each document is uploaded once and asked five things
in turn: three questions of the QA set (generic ones for the licences), a summary and the key
information. The server's resident memory (RSS, ``psutil``) is sampled every 0.5 s; printed:
after start, after the first question (models loaded), the peak, after the last question, and
after a minute idle, each with its ratio to the first-question figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.qa_real.build import load_documents, load_questions, materialise_all  # noqa: E402
from tests.helpers.server import app_server  # noqa: E402

LICENCES = ["GPL-3", "LGPL-2.1", "Apache-2.0", "MPL-2.0", "Artistic", "GFDL-1.3"]
GENERIC = [
    "Which version of the licence is this?",
    "What happens if you violate the licence?",
    "Who may distribute copies?",
]


def documents(work: Path) -> list[tuple[Path, list[str]]]:
    """(file, three questions) for the 20 documents."""
    paths = materialise_all()
    questions = load_questions()
    out = []
    for doc in load_documents():
        asked = [q["question"] for q in questions if q["doc"] == doc.id][:3]
        out.append((paths[doc.id], asked))
    for name in LICENCES:
        source = Path("/usr/share/common-licenses") / name
        target = work / f"{name}.txt"
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        out.append((target, list(GENERIC)))
    return out


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0.0
        self.stop = threading.Event()

    def now(self) -> float:
        return self.process.memory_info().rss / 1e6

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.now())
            except Exception:
                return
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument(
        "--idle", type=float, default=60.0, help="seconds idle before the last read"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from gradio_client import Client, handle_file

    work = Path(tempfile.mkdtemp(prefix="glyph-memory-"))
    docs = documents(work)
    fig: dict[str, object] = {"documents": len(docs)}
    asked = 0
    started = time.monotonic()
    server_env = {"GLYPH_READER": "ocr"}
    with app_server(work / "data", work / "server.log", server_env, start_timeout=180) as (
        url,
        server,
    ):
        sampler = Sampler(server.pid)
        sampler.start()
        fig["rss_start_mb"] = sampler.now()
        clients = [Client(url, verbose=False) for _ in range(args.sessions)]
        kinds: dict[str, int] = {}
        errors: list[str] = []
        for n, (path, questions) in enumerate(docs):
            if asked >= args.questions:
                break
            client = clients[n % len(clients)]
            message = client.predict(handle_file(str(path)), api_name="/upload")[3]
            if message:
                errors.append(f"{path.name}: {message}")
            tasks = [(q, "qa") for q in questions] + [("", "summary"), ("", "extract")]
            for question, mode in tasks:
                if asked >= args.questions:
                    break
                out = client.predict(question, mode, api_name="/ask")
                asked += 1
                kinds[mode] = kinds.get(mode, 0) + 1
                if not str(out[2]).startswith(("Done", "完成")):
                    errors.append(f"{path.name} / {mode}: {out[2]}")
                if asked == 1:
                    fig["rss_first_question_mb"] = sampler.now()
            print(f"{n + 1:2d} {path.name:32s} {asked:3d} asked · RSS {sampler.now():6.0f} MB "
                  f"(peak {sampler.peak:.0f}) · {time.monotonic() - started:5.0f} s",
                  flush=True)  # fmt: skip
        fig["rss_after_mb"] = sampler.now()
        time.sleep(args.idle)
        fig["rss_idle_mb"] = sampler.now()
        sampler.stop.set()
        fig.update(peak_mb=sampler.peak, questions=asked, kinds=kinds, errors=errors,
                   minutes=(time.monotonic() - started) / 60)  # fmt: skip

    base = float(fig["rss_first_question_mb"])
    print(
        f"machine: {platform.node()} · {os.cpu_count()} CPUs · python {platform.python_version()}"
    )
    print(f"{fig['questions']} questions ({fig['kinds']}) on {fig['documents']} documents in "
          f"{args.sessions} sessions, {fig['minutes']:.1f} min; errors: {len(fig['errors'])}")  # fmt: skip
    for err in fig["errors"]:
        print("  ", err)
    for key in ("rss_start_mb", "rss_first_question_mb", "peak_mb", "rss_after_mb", "rss_idle_mb"):
        value = float(fig[key])
        print(f"{key:24s} {value:7.0f} MB  ({value / base:.2f}× after the first question)")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
