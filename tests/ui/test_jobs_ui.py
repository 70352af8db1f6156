"""The UI's queue path (异步队列): manager logic with a real worker, the API, the browser."""

from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.errors import GlyphError
from app.jobs import JobQueue
from app.jobs.files import resolve, upload_dir
from app.pipeline import Pipeline
from app.ui.jobs_view import JobAnswer, JobsManager
from app.ui.manager import UIManager
from app.ui.session import Session
from app.ui.view import EXAMPLES_DIR

FEE = "What is the annual subscription fee?"


@pytest.fixture
def ui_jobs(tmp_path):
    """A UI manager and a jobs manager sharing one pipeline, with an in-process worker."""
    from app.jobs.worker import Worker
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", reader="ocr", job_lease_s=10)
    pipeline = Pipeline(settings)
    queue = JobQueue(settings)
    worker = Worker(settings, pipeline=pipeline, queue=queue).start()
    yield UIManager(pipeline), JobsManager(queue)
    worker.stop()
    pipeline.close()


def _wait_done(jobs: JobsManager, session: Session, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while jobs.has_active(session):
        assert time.monotonic() < deadline, jobs.rows(session)
        time.sleep(0.3)


def test_queued_upload_is_copied_and_its_result_loads(ui_jobs, tmp_path):
    manager, jobs = ui_jobs
    upload = tmp_path / "gradio-tmp" / "agreement.md"  # stands in for Gradio's temp upload
    upload.parent.mkdir()
    upload.write_bytes((EXAMPLES_DIR / "service_agreement.md").read_bytes())
    s = Session()
    manager.open_file(s, upload)
    s.options.dpi = 96
    manager.rerender(s)
    job = jobs.submit(s, FEE, "qa")
    assert (upload_dir(jobs.queue.settings, job.id) / "agreement.md").is_file()
    upload.unlink()  # the session ends and Gradio cleans its temp dir: the job does not care
    assert job.spec["render"]["overrides"]["dpi"] == 96 and job.owner == s.id
    _wait_done(jobs, s)

    rows = jobs.rows(s)
    assert rows[0][-1] == job.id and rows[0][0] == "Done" and rows[0][1].startswith(FEE)
    s.lang = "zh"
    assert jobs.rows(s)[0][0] == "已完成" and jobs.headers("zh")[0] == "状态"
    assert jobs.table(Session())["data"] == []  # another session sees none of it

    loaded = jobs.load(s, job.id)
    assert isinstance(loaded, JobAnswer) and "186,400" in loaded.answer.text
    assert s.answers[-1] is loaded.answer and s.questions[-1] == FEE
    assert s.evidence_images and manager.evidence_image(s, None) is not None
    record = json.loads(loaded.json_path.read_text())
    assert record["record"]["answer"] == loaded.answer.text
    assert loaded.json_path.parent == s.workdir()  # downloads are served from the session dir
    assert "186,400" in loaded.md_path.read_text()


@pytest.mark.slow
def test_pasted_text_and_unlocked_pdf_are_queued_without_the_password(ui_jobs, tmp_path):
    import pymupdf

    manager, jobs = ui_jobs
    s = Session()
    manager.open_text(s, "Parcel note. The parcel weighs 12 kg and ships to Anna Berg.")
    pasted = jobs.submit(s, "How much does the parcel weigh?", "qa")
    assert pasted.spec["document"]["kind"] == "text"

    path = tmp_path / "locked.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Secret budget: 9,900 EUR", fontsize=12)
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw1", owner_pw="own")
    locked = Session()
    with pytest.raises(GlyphError):
        manager.open_file(locked, path)
    manager.unlock(locked, "pw1")
    job = jobs.submit(locked, "What is the secret budget?", "qa")
    assert job.spec["document"]["kind"] == "document"
    staged = resolve(jobs.queue.settings, job.spec["document"]["path"]).read_text()
    assert "9,900" in staged and "pw1" not in staged and "pw1" not in json.dumps(job.spec)
    _wait_done(jobs, s)
    _wait_done(jobs, locked)
    assert "12" in jobs.load(s, pasted.id).answer.text
    assert "9,900" in jobs.load(locked, job.id).answer.text


def test_queue_refusals_are_clear(tmp_path):
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", reader="ocr")
    manager, jobs = UIManager(Pipeline(settings)), JobsManager(JobQueue(settings))  # no worker
    with pytest.raises(GlyphError, match="upload or paste"):
        jobs.submit(Session(), "q", "qa")
    s = Session()
    manager.open_text(s, "A tiny note about nothing in particular.")
    with pytest.raises(GlyphError, match="type a question"):
        jobs.submit(s, " ", "qa")
    with pytest.raises(GlyphError, match="enter a job id"):
        jobs.load(s, "  ")
    with pytest.raises(GlyphError, match="No job"):
        jobs.load(s, "0123456789abcdef")
    limit = jobs.queue.settings.max_jobs_per_session
    queued = [jobs.submit(s, "", "summary") for _ in range(limit)]
    with pytest.raises(GlyphError, match="GLYPH_MAX_JOBS_PER_SESSION") as err:
        jobs.submit(s, "", "summary")
    assert "未完成" in err.value.user_message("zh")
    with pytest.raises(GlyphError, match="is Queued"):
        jobs.load(s, queued[0].id)
    for job in queued:
        jobs.queue.cancel(job.id)
    assert jobs.rows(s)[0][0] == "Cancelled"


@pytest.mark.slow
def test_queue_through_the_api(ui_server):
    from gradio_client import Client

    client = Client(ui_server, verbose=False)
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/jobs", "/job_result"} <= names
    client.predict(
        "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 to Anna Berg.",
        api_name="/paste",
    )
    out = client.predict("How much does the parcel weigh?", "qa", "queue", api_name="/ask")
    status, message = out[2], out[8]
    assert message == "" and "queued" in status
    job_id = re.search(r"Job (\w+) queued", status).group(1)
    deadline = time.monotonic() + 180
    while True:
        table = client.predict(api_name="/jobs")[0]
        row = next(r for r in table["data"] if r[-1] == job_id)
        if row[0] == "Done":
            break
        status = row[0].split(" ·")[0]  # "Running · 40% · …"
        assert status in ("Queued", "Running") and time.monotonic() < deadline, row
        time.sleep(1)
    answer, *_rest, message = client.predict(job_id, api_name="/job_result")
    assert "12" in answer and message == ""
    # /ask without the compute argument still answers at once (its default is 'now')
    answer, *_rest, message = client.predict(
        "How much does the parcel weigh?", "qa", api_name="/ask"
    )
    assert "12" in answer and message == ""


@pytest.mark.slow
@pytest.mark.browser
def test_queue_in_the_browser(ui_server, page_factory, shots):
    page = page_factory("en-US")
    page.goto(ui_server)
    page.locator("#examples").get_by_text("service_agreement.md").click()
    page.wait_for_function("() => document.querySelectorAll('#gallery img').length > 0")
    page.locator("#compute").get_by_text("Queue (异步队列)").click()
    page.locator("#question textarea").fill(FEE)
    page.locator("#ask").click()
    page.locator("#status").get_by_text("queued").wait_for()
    assert page.locator("#answer textarea").input_value() == ""  # nothing ran in the tab
    # the table refreshes itself while the job runs
    page.wait_for_function(
        "() => document.querySelector('#jobs-table').innerText.includes('Done')", timeout=180_000
    )
    page.locator("#jobs-table").get_by_test_id("cell-0-2").click()  # a row fills the id box
    page.wait_for_function("() => document.querySelector('#job-id input').value.length == 16")
    assert re.fullmatch(r"[0-9a-f]{16}", page.locator("#job-id input").input_value())
    page.locator("#job-show").click()
    page.wait_for_function(
        "() => document.querySelector('#answer textarea').value.includes('186,400')",
        timeout=60_000,
    )
    page.locator("#evidence-passage mark").get_by_text("186,400").wait_for()  # the passage
    page.locator("#evidence-tabs").get_by_role("tab", name="What the model read").click()
    evidence = page.locator("#evidence img")  # and the page the model read
    evidence.wait_for()
    img = Image.open(io.BytesIO(page.request.get(evidence.get_attribute("src")).body()))
    a = np.asarray(img.convert("RGB")).astype(int)
    assert int(((a[..., 0] > 180) & (a[..., 1] < 80) & (a[..., 2] < 80)).sum()) > 20
    page.locator("#dl-json").wait_for()
    page.locator("#pane-reasoning").screenshot(path=str(shots / "jobs.png"))
    assert Path(shots / "jobs.png").is_file()


@pytest.mark.slow
def test_a_collection_is_queued_with_the_ticked_documents(ui_jobs, tmp_path):
    """The queue takes the ticked documents of a collection as one job (issue 20); its answer
    names the document it is in."""
    manager, jobs = ui_jobs
    fees = tmp_path / "fees.md"
    fees.write_bytes((EXAMPLES_DIR / "service_agreement.md").read_bytes())
    parcel = tmp_path / "parcel.txt"
    parcel.write_text("Parcel note. The parcel weighs 12 kg and ships to Anna Berg.")
    other = tmp_path / "other.txt"
    other.write_text("Office note. The annual subscription fee is 9 EUR for the coffee club.")
    s = Session()
    manager.open_uploads(s, [fees, parcel, other])
    manager.select_documents(s, ["fees.md", "parcel.txt"])
    job = jobs.submit(s, FEE, "qa")
    assert job.spec["document"]["kind"] == "document"
    _wait_done(jobs, s)
    loaded = jobs.load(s, job.id)
    assert isinstance(loaded, JobAnswer) and "186,400" in loaded.answer.text
    assert {ev.document for ev in loaded.answer.evidence} == {"fees.md"}
    record = json.loads(loaded.json_path.read_text())["record"]
    assert [p["name"] for p in record["document"]["parts"]] == ["fees.md", "parcel.txt"]
    manager.select_documents(s, [])
    with pytest.raises(GlyphError, match="Tick at least one"):
        jobs.submit(s, FEE, "qa")
