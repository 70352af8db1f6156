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
