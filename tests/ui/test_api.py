"""The named API endpoints through gradio_client, against a running server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.documents import report_pdf


def test_upload_render_ask_endpoints(ui_server, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(ui_server, verbose=False)
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/upload", "/paste", "/render", "/ask"} <= names

    out = client.predict(handle_file(str(report_pdf(tmp_path / "r.pdf"))), api_name="/upload")
    doc_info, gallery, stats, message = out[0], out[1], out[2], out[3]
    assert "r.pdf" in doc_info and gallery and "pages" in stats and message == ""

    out = client.predict("en", "coarse", True, False, False, api_name="/render")
    assert "coarse" in out[2]

    answer, thinking, status, confidence, pages, image, dl_json, dl_md, message = client.predict(
        "Who is the chief financial officer?", "qa", api_name="/ask"
    )
    assert "Marta Lindqvist" in answer and "Confidence" in confidence and message == ""
    assert thinking == "" and status.startswith("Done")
    assert pages["value"] is not None and Path(image).is_file()
    record = json.loads(
        Path(dl_json["value"] if isinstance(dl_json, dict) else dl_json).read_text()
    )
    assert record["answer"] == answer and record["evidence"]
    assert (
        "Marta Lindqvist" in Path(dl_md["value"] if isinstance(dl_md, dict) else dl_md).read_text()
    )


def test_paste_endpoint_rejects_empty_text_clearly(ui_server):
    from gradio_client import Client

    client = Client(ui_server, verbose=False)
    out = client.predict("   ", api_name="/paste")
    assert out[3].startswith("⚠")


@pytest.mark.parametrize("mode", ["summary", "extract"])
def test_other_modes_via_api(ui_server, mode):
    from gradio_client import Client

    client = Client(ui_server, verbose=False)
    client.predict(
        "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 "
        "to Anna Berg at anna.berg@example.com.",
        api_name="/paste",
    )
    answer, *_rest, message = client.predict("", mode, api_name="/ask")
    assert answer.strip() and message == ""


@pytest.mark.slow
def test_collection_endpoints(ui_server, tmp_path):
    """Several files in one call (a bad one named), questions to some of them, a saved
    collection listed, re-opened in another client and deleted (README, "API")."""
    from gradio_client import Client, handle_file

    from tests.helpers.documents import memo_docx

    memo = memo_docx(tmp_path / "memo.docx")
    notes = tmp_path / "notes.txt"
    notes.write_text("Parcel note. The parcel weighs 12 kg and ships to Anna Berg.")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 no")
    client = Client(ui_server, verbose=False)
    files = [handle_file(str(p)) for p in (memo, broken, notes)]
    info, _gallery, _stats, message, *_ = client.predict(files, api_name="/upload_files")
    assert "2 documents" in info and "broken.pdf" in message and "memo.docx" not in message
    client.predict(["notes.txt"], api_name="/select_documents")
    answer, *_ = client.predict("What is the project budget?", "qa", api_name="/ask")
    assert "2.4" not in answer  # the memo is not asked
    client.predict(["memo.docx", "notes.txt"], api_name="/select_documents")
    answer, *_rest, record_file, _md, _msg = client.predict(
        "What is the project budget?", "qa", api_name="/ask"
    )
    assert "2.4" in answer
    path = record_file["value"] if isinstance(record_file, dict) else record_file
    record = json.loads(Path(path).read_text())
    assert {e["document"] for e in record["evidence"]} == {"memo.docx"}
    assert record["document"]["documents"] == 2
    saved, message = client.predict("API set", api_name="/save_collection")
    cid = saved["value"]  # the list of collections, the saved one chosen
    assert "Saved" in message
    listed = client.predict(api_name="/collections")
    assert listed[0] == {"id": cid, "name": "API set", "documents": 2}

    other = Client(ui_server, verbose=False)
    out = other.predict(cid, api_name="/open_collection")
    assert "2 documents" in out[0] and "API set" in out[3]
    other.predict("memo.docx", api_name="/remove_document")
    answer, *_ = other.predict("How much does the parcel weigh?", "qa", api_name="/ask")
    assert "12" in answer
    _value, message = other.predict(cid, api_name="/delete_collection")
    assert "Deleted" in message and other.predict(api_name="/collections") == []
