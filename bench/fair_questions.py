"""Fair answering (issue 21): a short question's latency while another session's long one runs.

    .venv/bin/python bench/fair_questions.py [--chars 1500000] [--json out.json]

A real server (``python -m app serve``, built-in reader, the default question budget and give-way
settings unless ``GLYPH_*`` variables say otherwise) and two ``gradio_client`` sessions:

* **A** uploads a DOCX of about ``--chars`` characters of real text (the copyright files Debian
  packages install under ``/usr/share/doc``, written with python-docx) and asks a question the
  document cannot answer, so the built-in reader would have to read every page;
* **B** pastes a two-line note and asks for the phone number in it.

Measured in one run: B's latency alone (idle server), B's latency while A's question reads, A's
time to an honest reply and what it says, B's latency while A's document is read in the background,
and B's latency while the in-process job worker answers A's queued question; the server's resident
memory at the end. Ratios are against B's idle latency.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.long_text import NOTE  # noqa: E402
from tests.helpers.server import app_server  # noqa: E402

UNANSWERABLE = "What is the phone number of the harbour master?"
UNANSWERABLE_2 = "Which ferry leaves the harbour at midnight?"
PHONE = "What is the porter's phone number?"
PHONE_ANSWER = "7946 0321"


def real_text(chars: int) -> str:
    """About ``chars`` characters of the copyright files under /usr/share/doc (each file once)."""
    seen: set[str] = set()
    parts: list[str] = []
    size = 0
    for path in sorted(Path("/usr/share/doc").glob("*/copyright")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text in seen:
            continue
        seen.add(text)
        parts.append(text)
        size += len(text)
        if size >= chars:
            break
    return "\n\n".join(parts)[:chars]


def build_docx(text: str, out: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Licences of the installed packages", level=1)
    for block in text.split("\n\n"):
        block = "".join(ch for ch in block if ch == "\n" or ch == "\t" or ord(ch) >= 32).strip()
        if block:
            document.add_paragraph(block)
    document.save(out)
    return out


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 1e6


def timed(call) -> tuple[float, object]:
    started = time.monotonic()
    out = call()
    return time.monotonic() - started, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=1_500_000)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    from gradio_client import Client, handle_file

    work = Path(tempfile.mkdtemp(prefix="glyph-fair-"))
    text = real_text(args.chars)
    path = build_docx(text, work / "licences.docx")
    fig: dict[str, object] = {"chars": len(text), "docx_bytes": path.stat().st_size}
    server_env = {"GLYPH_READER": "ocr"}
    with app_server(
        work / "data",
        work / "server.log",
        server_env,
        keep=("GLYPH_QUESTION_BUDGET_S", "GLYPH_QUESTION_YIELD_S"),
        start_timeout=180,
    ) as (url, server):
        a, b = Client(url, verbose=False), Client(url, verbose=False)
        b.predict(NOTE, api_name="/paste")
        b.predict("Who is the porter?", "qa", api_name="/ask")  # the OCR engine loads once
        idle = [timed(lambda: b.predict(PHONE, "qa", api_name="/ask"))[0] for _ in range(3)]
        fig["b_idle_s"] = sorted(idle)[1]
        upload_s, out = timed(lambda: a.predict(handle_file(str(path)), api_name="/upload"))
        fig["a_upload_render_s"] = upload_s
        fig["a_stats"] = re.sub(r"<[^>]+>|\*\*| ⓘ", "", out[2])  # the UI's line, as text
        fig["a_upload_message"] = out[3]

        # 1. A asks what the document cannot answer; B asks three times meanwhile
        started = time.monotonic()
        job = a.submit(UNANSWERABLE, "qa", api_name="/ask")
        time.sleep(2.0)  # A's question holds the reader now
        busy = []
        for _ in range(3):
            seconds, answer = timed(lambda: b.predict(PHONE, "qa", api_name="/ask"))
            busy.append(seconds)
            assert PHONE_ANSWER in answer[0], answer[0]
        fig["b_while_a_reads_s"] = busy
        answer_a = job.result(timeout=600)
        fig["a_reply_s"] = time.monotonic() - started
        fig["a_reply"] = answer_a[0]
        fig["a_status"] = answer_a[2]

        # 2. the rest of A's document is read in the background now
        fig["b_while_background_read_s"] = [
            timed(lambda: b.predict(PHONE, "qa", api_name="/ask"))[0] for _ in range(3)
        ]

        # 3. A queues another unanswerable question; the job worker answers it meanwhile
        queued = a.predict(UNANSWERABLE_2, "qa", "queue", api_name="/ask")
        fig["a_queued_status"] = queued[2]
        time.sleep(3.0)
        fig["b_while_job_runs_s"] = [
            timed(lambda: b.predict(PHONE, "qa", api_name="/ask"))[0] for _ in range(3)
        ]
        fig["server_rss_mb"] = rss_mb(server.pid)

    idle_s = float(fig["b_idle_s"])
    worst = {k: max(fig[k]) for k in ("b_while_a_reads_s", "b_while_background_read_s",
                                      "b_while_job_runs_s")}  # fmt: skip
    print(
        f"machine: {platform.node()} · {os.cpu_count()} CPUs · python {platform.python_version()}"
    )
    print(f"document A: {fig['chars']:,} characters, DOCX {fig['docx_bytes'] / 1e6:.1f} MB; "
          f"{fig['a_stats']}; upload + render {fig['a_upload_render_s']:.1f} s")  # fmt: skip
    print(f"B alone (idle server): {idle_s:.2f} s")
    for key, value in worst.items():
        runs = ", ".join(f"{s:.2f}" for s in fig[key])
        print(f"B {key[2:-2].replace('_', ' ')}: {runs} s (worst {value:.2f} s, "
              f"{value / idle_s:.1f}× idle)")  # fmt: skip
    print(f"A's reply after {fig['a_reply_s']:.1f} s: {fig['a_reply']!r} ({fig['a_status']})")
    print(f"server resident memory at the end: {fig['server_rss_mb']:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
