"""Load and responsiveness against a real server on 127.0.0.1.

* ``test_twenty_concurrent_sessions`` (slow): 20 gradio_client sessions at once, each uploading
  its own small document with its own needle and asking for it. 0 failures, every answer right;
  latencies are printed and written to ``tests/_output/load.json`` (docs/BENCHMARKS.md).
* ``test_ui_stays_responsive_during_a_long_render``: two sessions upload the largest document the
  limits allow (~1.8 M characters, ~190 pages) while a third pastes a note; the note's render
  comes back long before theirs.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.security.conftest import serve
from tests.ui.conftest import ROOT

SESSIONS = int(os.environ.get("GLYPH_LOAD_SESSIONS", "20"))
PROJECTS = [
    "orange",
    "amber",
    "violet",
    "cobalt",
    "crimson",
    "olive",
    "scarlet",
    "indigo",
    "maroon",
    "teal",
    "saffron",
    "ivory",
    "jade",
    "coral",
    "azure",
    "ochre",
    "umber",
    "cerise",
    "lilac",
    "khaki",
]
FILLER = (
    "The committee reviewed the supplier contracts, the maintenance schedule and the staffing "
    "plan for the coming quarter. Travel costs stayed within budget and the audit found no "
    "material issues. The next review is planned after the summer break."
)


def _document(i: int, code: int) -> str:
    rng = random.Random(i)
    words = FILLER.split()
    paragraphs = [" ".join(rng.sample(words, len(words))) for _ in range(3)]
    paragraphs.insert(
        rng.randint(1, 3), f"The magic number of the {PROJECTS[i]} project is {code}."
    )
    return f"Memo {i + 1} of the planning office.\n\n" + "\n\n".join(paragraphs) + "\n"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _one_session(url: str, i: int, code: int, folder: Path, start: threading.Barrier) -> dict:
    from gradio_client import Client, handle_file

    path = folder / f"memo-{i + 1}.txt"
    path.write_text(_document(i, code), encoding="utf-8")
    client = Client(url, verbose=False)
    start.wait()
    t0 = time.perf_counter()
    upload = client.predict(handle_file(str(path)), api_name="/upload")
    t1 = time.perf_counter()
    question = f"What is the magic number of the {PROJECTS[i]} project?"
    answer, *_rest, message = client.predict(question, "qa", api_name="/ask")
    t2 = time.perf_counter()
    client.close()
    return {
        "session": i,
        "upload_ok": upload[3] == "" and f"memo-{i + 1}.txt" in upload[0],
        "answer": answer,
        "message": message,
        "correct": str(code) in answer and message == "",
        "upload_s": t1 - t0,
        "ask_s": t2 - t1,
        "total_s": t2 - t0,
    }


@pytest.mark.slow
def test_twenty_concurrent_sessions(tmp_path):
    codes = random.Random(13).sample(range(10_000, 99_999), SESSIONS)
    start = threading.Barrier(SESSIONS)
    with serve(tmp_path) as server, ThreadPoolExecutor(SESSIONS) as pool:
        began = time.perf_counter()
        futures = [
            pool.submit(_one_session, server.url, i, codes[i], tmp_path, start)
            for i in range(SESSIONS)
        ]
        results = [f.result(timeout=900) for f in futures]
        wall = time.perf_counter() - began
    failures = [r for r in results if not (r["upload_ok"] and r["correct"])]
    summary = {
        "sessions": SESSIONS,
        "failures": len(failures),
        "wall_s": round(wall, 1),
        "cpus": os.cpu_count(),
    }
    for key in ("upload_s", "ask_s", "total_s"):
        values = [r[key] for r in results]
        summary[key] = {
            "p50": round(statistics.median(values), 2),
            "p95": round(_percentile(values, 0.95), 2),
            "max": round(max(values), 2),
        }
    out = ROOT / "tests" / "_output"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps({"summary": summary, "runs": results}, indent=2))
    print("\nload:", json.dumps(summary))
    assert failures == [], failures


@pytest.mark.slow
def test_ui_stays_responsive_during_a_long_render(tmp_path):
    from gradio_client import Client, handle_file

    line = "The quarterly report covers revenue, costs and the outlook for each region. " * 8
    big = tmp_path / "annual-report.txt"
    big.write_text((line + "\n") * 3000, encoding="utf-8")  # 1.8 M characters, under 2 M
    finished: dict[str, float] = {}
    errors: dict[str, BaseException] = {}
    with serve(tmp_path) as server:
        note = Client(server.url, verbose=False)
        t0 = time.perf_counter()
        assert note.predict("Warm-up note of 12 kg.", api_name="/paste")[3] == ""
        idle = time.perf_counter() - t0

        def render_big(name: str) -> None:
            try:
                client = Client(server.url, verbose=False)
                out = client.predict(handle_file(str(big)), api_name="/upload")
                finished[name] = time.perf_counter()
                assert out[3] == "" and "page image" in out[2], out
                client.close()
            except BaseException as err:  # reported by the main thread below
                errors[name] = err

        workers = [threading.Thread(target=render_big, args=(f"big{i}",)) for i in range(2)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        time.sleep(1.0)  # both uploads are in and rendering
        t0 = time.perf_counter()
        out = note.predict("Shipping note. The parcel weighs 12 kg.", api_name="/paste")
        small_done = time.perf_counter()
        busy = small_done - t0
        for worker in workers:
            worker.join(timeout=300)
        note.close()
    assert out[3] == "" and "pasted.txt" in out[0]
    big_s = [finished[k] - started for k in sorted(finished)]
    print(
        f"\nresponsive: small request {busy:.2f} s while busy ({idle:.2f} s idle); big renders {big_s}"
    )
    assert not errors, errors
    assert len(big_s) == 2
    assert small_done < min(finished.values())  # the small request did not wait behind them
    assert busy < 15.0
