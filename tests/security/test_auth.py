"""GLYPH_AUTH parsing, password hashing and the login check (no server)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from app import auth
from app.auth import Authenticator, hash_password, parse_auth, password_line, verify_password
from app.errors import ConfigError


@pytest.fixture(autouse=True)
def fast_failures(monkeypatch):
    monkeypatch.setattr(auth, "FAIL_DELAY_S", 0.05)


@pytest.mark.parametrize("scheme", ["scrypt", "pbkdf2_sha256"])
def test_hashes_verify_and_are_salted(scheme):
    first, second = hash_password("correct horse", scheme), hash_password("correct horse", scheme)
    assert first != second and first.startswith(scheme + "$")  # a fresh salt every time
    assert ":" not in first and "," not in first  # fits both the file and the inline form
    assert verify_password(first, "correct horse") and verify_password(second, "correct horse")
    assert not verify_password(first, "correct horse ") and not verify_password(first, "")


def test_damaged_hash_never_verifies():
    good = hash_password("pw")
    key = good.rsplit("$", 1)[1]
    flipped = good[: -len(key)] + ("A" if key[0] != "A" else "B") + key[1:]
    short = good[: -len(key)] + key[:16]  # a 12-byte key is refused, not compared as a prefix
    for bad in (flipped, short, good.replace("$8$", "$0$"), "scrypt$x$8$1$aa$bb", "scrypt$1$2"):
        assert not verify_password(bad, "pw")


def test_inline_spec_plain_and_hashed():
    hashed = hash_password("s3cret")
    users = parse_auth(f"alice:pa:ss, bob:{hashed},")
    assert users == {"alice": "pa:ss", "bob": hashed}  # ':' allowed inside a plain password
    check = Authenticator(users)
    assert check.verify("alice", "pa:ss") and check.verify("bob", "s3cret")
    assert not check.verify("alice", "pa") and not check.verify("bob", hashed)
    assert not check.verify("carol", "pa:ss") and not check.verify("", "")


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("no-colon-and-no-file", "neither"),
        ("alice:", "empty password"),
        (":pw", "user name"),
        ("al ice :pw", "user name"),
        ("bob:scrypt$1$2$3$!!$??", "malformed"),
    ],
)
def test_bad_inline_specs_are_config_errors(spec, match):
    with pytest.raises(ConfigError, match=match):
        parse_auth(spec)


def test_password_file(tmp_path):
    path = tmp_path / "passwd"
    path.write_text(
        "# Glyph users\n\n"
        + password_line("alice", "wonderland")
        + "\n"
        + password_line("bob", "builder", "pbkdf2_sha256")
        + "\n",
        encoding="utf-8",
    )
    check = Authenticator.from_spec(str(path))
    assert set(check.users) == {"alice", "bob"}
    assert check.verify("alice", "wonderland") and check.verify("bob", "builder")
    assert not check.verify("alice", "builder")

    path.write_text("alice:plaintext\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not hashed.*hash-password alice"):
        parse_auth(str(path))
    path.write_text("# nobody\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no users"):
        parse_auth(str(path))
    path.write_text("just-a-name\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1"):
        parse_auth(str(path))


def test_login_check_is_async_and_slows_failures(monkeypatch):
    monkeypatch.setattr(auth, "FAIL_DELAY_S", 0.3)
    check = Authenticator(parse_auth("alice:pw"))
    assert asyncio.iscoroutinefunction(check.check)  # Gradio awaits it: no blocked event loop
    started = time.perf_counter()
    assert asyncio.run(check.check("alice", "pw"))
    fast = time.perf_counter() - started
    started = time.perf_counter()
    assert not asyncio.run(check.check("alice", "wrong"))
    assert time.perf_counter() - started >= 0.3 > fast


def test_unknown_users_cost_a_hash_too(monkeypatch):
    calls = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda s, p: calls.append(s) or real(s, p))
    check = Authenticator({"alice": hash_password("pw")})
    assert not check.verify("mallory", "pw")
    assert calls and calls[0].startswith("scrypt$")  # compared against the dummy hash


def test_hash_password_cli(tmp_path):
    run = [sys.executable, "-m", "app", "hash-password"]
    out = subprocess.run(
        [*run, "alice", "--password-stdin"],
        input="wonder land\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    user, _, hashed = out.partition(":")
    assert user == "alice" and verify_password(hashed, "wonder land")
    (tmp_path / "passwd").write_text(out + "\n", encoding="utf-8")
    assert Authenticator.from_spec(str(tmp_path / "passwd")).verify("alice", "wonder land")

    bad = subprocess.run(
        [*run, "a:b", "--password-stdin"], input="x\n", capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "user name" in bad.stderr and "Traceback" not in bad.stderr
