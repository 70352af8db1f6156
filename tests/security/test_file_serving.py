"""Gradio serves only its own cache: no path traversal to other files, no session's private
directory, no server path smuggled in as an input, uploaded HTML never rendered as a page."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import httpx
import pytest

from tests.ui.conftest import ROOT

SECRET = "quarterly secret 7741"


def _call(server, api: str, data: list, timeout: float = 120) -> tuple[str, object]:
    """One event through Gradio's REST API: ('complete' | 'error', data)."""
    resp = httpx.post(f"{server.url}/gradio_api/call/{api}", json={"data": data}, timeout=30)
    resp.raise_for_status()
    event_id = resp.json()["event_id"]
    kind, payload = "", None
    with httpx.stream(
        "GET", f"{server.url}/gradio_api/call/{api}/{event_id}", timeout=timeout
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in ("complete", "error"):
                payload = json.loads(line.split(":", 1)[1])
                break
    return kind, payload


def _upload_secret(server, tmp_path):
    """A browser-like session: its upload, as Gradio and as the session's copy saw it."""
    from gradio_client import Client, handle_file

    src = tmp_path / "secret-notes.txt"
    src.write_text(f"Internal memo. The code word is {SECRET}.\n", encoding="utf-8")
    before = set(server.sessions.glob("*/uploads/*/secret-notes.txt"))
    client = Client(server.url, verbose=False)
    assert client.predict(handle_file(str(src)), api_name="/upload")[3] == ""
    copies = set(server.sessions.glob("*/uploads/*/secret-notes.txt")) - before
    assert len(copies) == 1
    return client, copies.pop()


def _refused(status: int, body: bytes) -> bool:
    return (
        status in (400, 403, 404, 405, 422) and b"root:" not in body and SECRET.encode() not in body
    )


def test_traversal_and_foreign_paths_are_refused(limits_server, tmp_path):
    server = limits_server
    client, private_copy = _upload_secret(server, tmp_path)
    gtmp = str(server.gradio_tmp)
    # planted links inside Gradio's own cache dir: resolved before the check, so refused too
    (server.gradio_tmp / "link-file").unlink(missing_ok=True)
    (server.gradio_tmp / "link-dir").unlink(missing_ok=True)
    os.symlink("/etc/passwd", server.gradio_tmp / "link-file")
    os.symlink("/etc", server.gradio_tmp / "link-dir")
    os.symlink(private_copy, server.gradio_tmp / "link-session")
    targets = [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../../../../../etc/passwd",
        "/gradio_api/file=%2Fetc%2Fpasswd",
        "/gradio_api/file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/gradio_api/file=%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        "/gradio_api/file=....//....//....//etc/passwd",
        f"/gradio_api/file={gtmp}/../../../../../../../etc/passwd",
        f"/gradio_api/file={gtmp}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"/gradio_api/file={gtmp}/..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        f"/gradio_api/file={quote(gtmp + '/../../../../../../../etc/passwd', safe='')}",
        f"/gradio_api/file={gtmp}/link-file",
        f"/gradio_api/file={gtmp}/link-dir/passwd",
        f"/gradio_api/file={gtmp}/link-session",
        "/gradio_api/file/etc/passwd",
        "/gradio_api/file//etc/passwd",
        f"/gradio_api/file={private_copy}",  # another session's private copy, path known
        f"/gradio_api/file={quote(str(private_copy))}",
        f"/gradio_api/file={ROOT}/README.md",
        f"/gradio_api/file={ROOT}/app/settings.py",
        f"/gradio_api/file={server.data}/jobs/jobs.db",
        f"/gradio_api/file={server.log}",
        "/static/../../../../../../etc/passwd",
        "/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/assets/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/svelte/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/gradio_api/file=file:///etc/passwd",
    ]
    served = []
    for target in targets:
        status, body = server.raw_get(target)
        if not _refused(status, body):
            served.append((target, status, body[:80]))
    assert served == []
    client.close()


def test_the_sessions_own_files_are_served(limits_server):
    """The control for the refusals above: what the app shows the user does load."""
    kind, data = _call(limits_server, "paste", ["A short note about a parcel of 12 kg."])
    assert kind == "complete"
    gallery = data[2]  # data[0] is the session state (not sent to clients)
    url = gallery[0]["image"]["url"]
    assert "/gradio_api/file=" in url and str(limits_server.gradio_tmp) in url
    resp = httpx.get(url if url.startswith("http") else limits_server.url + url, timeout=30)
    assert resp.status_code == 200 and resp.content.startswith(b"\x89PNG")


def test_a_server_path_cannot_be_passed_as_an_upload(limits_server):
    for path in ("/etc/passwd", f"{ROOT}/README.md", f"{limits_server.gradio_tmp}/../../x"):
        kind, _ = _call(
            limits_server, "upload", [{"path": path, "meta": {"_type": "gradio.FileData"}}]
        )
        assert kind == "error"
    assert "it was not uploaded by a user" in limits_server.log_text()


def test_uploaded_html_is_downloaded_never_rendered(limits_server):
    page = b"<html><body><script>alert(document.cookie)</script>Hello</body></html>"
    resp = httpx.post(
        f"{limits_server.url}/gradio_api/upload",
        files={"files": ("evil.html", page, "text/html")},
        timeout=30,
    )
    path = resp.json()[0]
    got = httpx.get(f"{limits_server.url}/gradio_api/file={path}", timeout=30)
    assert got.status_code == 200 and got.content == page  # the owner can fetch it back …
    # … but the browser is told to save it, not to run it on the app's origin
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize("name", ["../../evil.txt", "..", "a/../../b.txt"])
def test_upload_names_cannot_escape_the_cache(limits_server, name):
    resp = httpx.post(
        f"{limits_server.url}/gradio_api/upload",
        files={"files": (name, b"x", "text/plain")},
        timeout=30,
    )
    if resp.status_code == 200:
        stored = resp.json()[0]
        assert os.path.realpath(stored).startswith(str(limits_server.gradio_tmp.resolve()) + "/")
    else:
        assert resp.status_code == 400
