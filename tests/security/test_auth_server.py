"""GLYPH_AUTH against a real server: every page, API call and file needs a login; each user
sees only their own jobs; a real login and log-out in chromium."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from tests.security.conftest import PASSWORDS

NOTE = "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 to Anna Berg."
WEIGHT = "How much does the parcel weigh?"


def _client(server, user: str):
    from gradio_client import Client

    return Client(server.url, auth=(user, PASSWORDS[user]), verbose=False)


@pytest.mark.parametrize(
    "path",
    [
        "/config",
        "/gradio_api/info",
        "/gradio_api/openapi.json",
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/queue/data?session_hash=abc",
        "/gradio_api/call/ask/abc",
        "/gradio_api/upload_progress?upload_id=abc",
        "/gradio_api/deep_link?session_hash=abc",
    ],
)
def test_unauthenticated_requests_are_refused(auth_server, path):
    resp = httpx.get(auth_server.url + path, timeout=30)
    assert resp.status_code == 401, (path, resp.status_code, resp.text[:200])


def test_unauthenticated_writes_are_refused(auth_server):
    url = auth_server.url
    upload = httpx.post(f"{url}/gradio_api/upload", files={"files": ("a.txt", b"hi")}, timeout=30)
    join = httpx.post(
        f"{url}/gradio_api/queue/join",
        json={"data": ["x"], "fn_index": 0, "session_hash": "abc"},
        timeout=30,
    )
    call = httpx.post(f"{url}/gradio_api/call/paste", json={"data": ["x"]}, timeout=30)
    assert (upload.status_code, join.status_code, call.status_code) == (401, 401, 401)
    # the page itself is only the login form: no components, no event wiring. (Gradio does put
    # the API's schema, endpoint names and parameter types, into it: see docs/SECURITY.md.)
    page = httpx.get(url, timeout=30).text
    config = json.loads(re.search(r"window\.gradio_config = (\{.*?\});</script>", page).group(1))
    assert config["auth_required"] is True
    assert config["components"] == [] and config["dependencies"] == []


def test_wrong_or_missing_credentials_cannot_connect(auth_server):
    from gradio_client import Client

    with pytest.raises(Exception, match=r"credentials|login"):
        Client(auth_server.url, verbose=False)
    with pytest.raises(ValueError, match="login"):
        Client(auth_server.url, auth=("alice", "builder"), verbose=False)
    with pytest.raises(ValueError, match="login"):
        Client(auth_server.url, auth=("mallory", "wonderland"), verbose=False)
    resp = httpx.post(
        f"{auth_server.url}/login", data={"username": "alice", "password": "x"}, timeout=30
    )
    assert resp.status_code == 400 and "access-token" not in resp.headers.get("set-cookie", "")
    assert "failed login for user 'alice'" in auth_server.log_text()


def _wait_done(client, job_id: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        table = client.predict(api_name="/jobs")[0]
        row = next(r for r in table["data"] if r[-1] == job_id)
        if row[0] == "Done":
            return
        # "Running · 40%", "Queued (2/3)": the status word comes first
        pending = row[0].startswith(("Queued", "Running"))
        assert pending and time.monotonic() < deadline, row
        time.sleep(1)


def test_each_user_sees_only_their_own_jobs_and_results(auth_server):
    alice, bob = _client(auth_server, "alice"), _client(auth_server, "bob")
    assert alice.predict(NOTE, api_name="/paste")[3] == ""
    answer = alice.predict(WEIGHT, "qa", api_name="/ask")[0]
    assert "12" in answer  # logged in, everything works
    status = alice.predict(WEIGHT, "qa", "queue", api_name="/ask")[2]
    job_id = re.search(r"Job (\w+) queued", status).group(1)
    _wait_done(alice, job_id)

    # bob: not in his table, and his lookup of the id reads exactly like an unknown id
    assert all(r[-1] != job_id for r in bob.predict(api_name="/jobs")[0]["data"])
    answer, *_rest, message = bob.predict(job_id, api_name="/job_result")
    unknown = bob.predict("0123456789abcdef", api_name="/job_result")[-1]
    assert (
        "No job" in message
        and "12" not in str(answer)  # his answer box is left as it was
        and unknown.replace("0123456789abcdef", job_id) == message
    )
    # bob has no document in his session: alice's is not shared
    assert "upload or paste" in bob.predict(WEIGHT, "qa", api_name="/ask")[-1]

    # alice in a second tab (a new session) still finds her job: jobs belong to the user
    alice2 = _client(auth_server, "alice")
    assert any(r[-1] == job_id for r in alice2.predict(api_name="/jobs")[0]["data"])
    answer, *_rest, message = alice2.predict(job_id, api_name="/job_result")
    assert "12" in answer and message == ""
    for client in (alice, alice2, bob):
        client.close()


def test_a_session_cannot_be_taken_over_by_another_user(auth_server):
    alice, bob = _client(auth_server, "alice"), _client(auth_server, "bob")
    alice.predict(NOTE, api_name="/paste")
    status = alice.predict(WEIGHT, "qa", "queue", api_name="/ask")[2]
    job_id = re.search(r"Job (\w+) queued", status).group(1)
    bob.session_hash = alice.session_hash  # as if alice's session id had leaked
    message = bob.predict(job_id, api_name="/job_result")[-1]
    assert "belongs to another user" in message
    queued = bob.predict(WEIGHT, "qa", "queue", api_name="/ask")[-1]
    assert "belongs to another user" in queued
    alice.close()


@pytest.mark.browser
def test_login_and_logout_in_chromium(auth_server, page_factory):
    page = page_factory("en-US")
    page.goto(auth_server.url)
    page.get_by_label("username").fill("alice")
    page.get_by_label("password").fill("not-her-password")
    page.get_by_role("button", name="Login").click()
    page.get_by_text("Incorrect Credentials").wait_for()
    assert page.locator("#upload").count() == 0

    page.get_by_label("username").fill("alice")
    page.get_by_label("password").fill(PASSWORDS["alice"])
    page.get_by_role("button", name="Login").click()
    page.locator("#account").get_by_text("alice").wait_for()
    page.locator("#paste textarea").fill(NOTE)
    page.locator("#use-paste").click()
    page.wait_for_function("() => document.querySelectorAll('#gallery img').length > 0")
    page.locator("#question textarea").fill(WEIGHT)
    page.locator("#ask").click()
    page.wait_for_function(
        "() => document.querySelector('#answer textarea').value.includes('12')", timeout=120_000
    )
    # the page images are served to her (behind the login) ...
    src = page.locator("#gallery img").first.get_attribute("src")
    assert page.request.get(src).status == 200
    # ... and not to anyone without her cookie
    assert httpx.get(src if src.startswith("http") else auth_server.url + src).status_code == 401

    page.locator("#logout").click()
    page.get_by_role("button", name="Login").wait_for()
    assert page.request.get(src).status == 401
