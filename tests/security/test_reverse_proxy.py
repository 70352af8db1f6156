"""The nginx configuration printed in docs/SECURITY.md, run as written (ports and certificate
paths swapped): TLS, login, streamed answers, large uploads, /login rate limit, HTTP → HTTPS.
Skipped where nginx is not installed (`apt-get install nginx-light`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import httpx
import pytest

from tests.security.conftest import PASSWORDS
from tests.ui.conftest import ROOT, free_port

NOTE = "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 to Anna Berg."


def _nginx_version() -> tuple[int, ...]:
    out = subprocess.run(["nginx", "-v"], capture_output=True, text=True, check=True).stderr
    return tuple(int(v) for v in re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out).groups())


@pytest.fixture
def proxy(auth_server, tmp_path):
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        pytest.skip("nginx (and openssl) not installed")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"),
         "-subj", "/CN=127.0.0.1"],
        capture_output=True, check=True,
    )  # fmt: skip
    doc = (ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    block = re.search(r"```nginx\n(.*?)```", doc, re.S).group(1)
    https, http = free_port(), free_port()
    app_port = auth_server.url.rsplit(":", 1)[1]
    if _nginx_version() < (1, 25, 1):  # the doc's comment: older nginx spells http2 this way
        block = block.replace("http2 on;", "").replace("listen 443 ssl;", "listen 443 ssl http2;")
    block = (
        block.replace("listen 443", f"listen {https}")
        .replace("listen 80;", f"listen {http};")
        .replace("/etc/ssl/glyph/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/glyph/privkey.pem", str(tmp_path / "key.pem"))
        .replace("127.0.0.1:7860", f"127.0.0.1:{app_port}")
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        # as root, nginx's workers would drop to www-data, which cannot write into tmp_path
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events { worker_connections 256; }\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/body; "
        f"proxy_temp_path {tmp_path}/proxy;\n{block}\n}}\n",
        encoding="utf-8",
    )
    check = subprocess.run(["nginx", "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;"])
    time.sleep(1.0)
    yield f"https://127.0.0.1:{https}", f"http://127.0.0.1:{http}"
    proc.terminate()
    proc.wait(timeout=20)


def test_the_documented_nginx_config_works(proxy, tmp_path):
    from gradio_client import Client, handle_file

    url, plain = proxy
    assert httpx.get(plain, follow_redirects=False, timeout=30).status_code == 301
    client = Client(url, auth=("alice", PASSWORDS["alice"]), ssl_verify=False, verbose=False)
    assert client.predict(NOTE, api_name="/paste")[3] == ""
    assert "12" in client.predict("How much does the parcel weigh?", "qa", api_name="/ask")[0]
    # 3 MB passes the proxy (nginx's own default would refuse anything over 1 MB)
    big = tmp_path / "long-notes.txt"
    big.write_text(("The parcel weighs 12 kg. " * 40 + "\n") * 3000, encoding="utf-8")
    message = client.predict(handle_file(str(big)), api_name="/upload")[3]
    assert "GLYPH_MAX_CHARS" in message  # it reached the app, which applied its own limit
    client.close()
    codes = [
        httpx.post(
            f"{url}/login", data={"username": "bob", "password": "x"}, verify=False
        ).status_code
        for _ in range(10)
    ]
    assert codes[0] == 400 and 503 in codes  # refused, then rate-limited by the proxy
