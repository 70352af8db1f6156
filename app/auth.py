"""Optional login for the web UI and its API (``GLYPH_AUTH``).

``GLYPH_AUTH`` is either an inline list ``user:password,user2:password2`` or the path of a
password file. A password file has one ``user:HASH`` line per user (blank lines and ``#``
comments are ignored); ``python -m app hash-password USER`` prints such a line. Inline entries
may also carry a HASH instead of a plain password. Hash formats (standard library only)::

    scrypt$N$r$p$SALT$KEY             hashlib.scrypt, N=2**15, r=8, p=1, 32-byte key
    pbkdf2_sha256$ITERATIONS$SALT$KEY hashlib.pbkdf2_hmac('sha256'), 600,000 iterations

SALT and KEY are URL-safe base64 without padding, so a line never contains ``:`` or ``,``.
User names may not contain ``:`` or ``,``; inline plain passwords may not contain ``,``.

Every comparison is constant-time (``hmac.compare_digest``), an unknown user name costs the same
hash as a known one, and a failed login waits ``FAIL_DELAY_S`` before answering (without
blocking the server: Gradio awaits ``Authenticator.check``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from app.errors import ConfigError

log = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
PBKDF2_ITERATIONS = 600_000
KEY_BYTES = 32
SALT_BYTES = 16
FAIL_DELAY_S = 1.0
# scrypt's memory is 128 * N * r bytes (32 MiB for the default); allow some headroom
_SCRYPT_MAXMEM = 256 * 1024 * 1024
_SCHEMES = ("scrypt", "pbkdf2_sha256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, scheme: str = "scrypt", *, salt: bytes | None = None) -> str:
    """A ``scheme$…`` hash of ``password`` with a fresh random salt."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    secret = password.encode("utf-8")
    if scheme == "scrypt":
        key = hashlib.scrypt(
            secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=_SCRYPT_MAXMEM,
            dklen=KEY_BYTES,
        )  # fmt: skip
        return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"
    if scheme == "pbkdf2_sha256":
        key = hashlib.pbkdf2_hmac("sha256", secret, salt, PBKDF2_ITERATIONS, KEY_BYTES)
        return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${_b64(salt)}${_b64(key)}"
    raise ValueError(f"unknown password hash scheme {scheme!r}; use one of {_SCHEMES}")


def is_hash(value: str) -> bool:
    return value.split("$", 1)[0] in _SCHEMES and value.count("$") >= 3


def _parse_hash(stored: str) -> tuple[str, tuple[int, ...], bytes, bytes]:
    """(scheme, integer parameters, salt, key) of a hash; ``ValueError`` when malformed."""
    parts = stored.split("$")
    arity = {"scrypt": 6, "pbkdf2_sha256": 4}.get(parts[0])
    if arity is None or len(parts) != arity:
        raise ValueError("malformed password hash")
    params = tuple(int(v) for v in parts[1:-2])
    salt, key = _unb64(parts[-2]), _unb64(parts[-1])
    if len(key) < 16 or len(salt) < 8 or any(v <= 0 for v in params):
        raise ValueError("malformed password hash")
    return parts[0], params, salt, key


def _derive(stored: str, password: str) -> tuple[bytes, bytes]:
    """(key derived from ``password`` with ``stored``'s parameters, ``stored``'s key)."""
    scheme, params, salt, key = _parse_hash(stored)
    secret = password.encode("utf-8")
    if scheme == "scrypt":
        n, r, p = params
        got = hashlib.scrypt(
            secret, salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=len(key)
        )
        return got, key
    return hashlib.pbkdf2_hmac("sha256", secret, salt, params[0], len(key)), key


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (a hash, or a plain inline password)."""
    if is_hash(stored):
        try:
            got, key = _derive(stored, password)
        except (ValueError, OverflowError, MemoryError):
            return False
        return hmac.compare_digest(got, key)
    # plain inline password: compare digests so the time does not depend on where they differ
    a = hashlib.sha256(stored.encode("utf-8")).digest()
    b = hashlib.sha256(password.encode("utf-8")).digest()
    return hmac.compare_digest(a, b)


def _check_entry(user: str, secret: str, where: str) -> None:
    if not user or any(c in user for c in ":,") or user != user.strip():
        raise ConfigError(
            f"GLYPH_AUTH {where}: the user name {user!r} is empty or contains ':' or ','.",
            f"GLYPH_AUTH {where}：用户名 {user!r} 为空或包含 ':' 或 ','。",
        )
    if not secret:
        raise ConfigError(
            f"GLYPH_AUTH {where}: user {user!r} has an empty password.",
            f"GLYPH_AUTH {where}：用户 {user!r} 的密码为空。",
        )
    if is_hash(secret):
        try:
            _parse_hash(secret)
        except ValueError:
            raise ConfigError(
                f"GLYPH_AUTH {where}: the password hash of {user!r} is malformed.",
                f"GLYPH_AUTH {where}：用户 {user!r} 的密码哈希格式错误。",
            ) from None


def parse_auth_file(path: Path) -> dict[str, str]:
    """``user → hash`` from a password file; plain-text passwords are refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(
            f"Cannot read the password file {path} (GLYPH_AUTH): {err}",
            f"无法读取密码文件 {path}（GLYPH_AUTH）：{err}",
        ) from None
    users: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, secret = line.partition(":")
        where = f"{path.name} line {number}"
        if not sep:
            raise ConfigError(
                f"GLYPH_AUTH {where}: expected 'user:HASH'.",
                f"GLYPH_AUTH {where}：格式应为 'user:HASH'。",
            )
        _check_entry(user, secret, where)
        if not is_hash(secret):
            raise ConfigError(
                f"GLYPH_AUTH {where}: the password of {user!r} is not hashed; create the line "
                f"with `python -m app hash-password {user}`.",
                f"GLYPH_AUTH {where}：用户 {user!r} 的密码未加密；请用 "
                f"`python -m app hash-password {user}` 生成该行。",
            )
        users[user] = secret
    if not users:
        raise ConfigError(
            f"The password file {path} (GLYPH_AUTH) lists no users.",
            f"密码文件 {path}（GLYPH_AUTH）中没有用户。",
        )
    return users


def parse_auth(spec: str) -> dict[str, str]:
    """``user → password or hash`` from a ``GLYPH_AUTH`` value (inline list or file path)."""
    spec = spec.strip()
    path = Path(spec).expanduser()
    if path.is_file():
        return parse_auth_file(path)
    if ":" not in spec:
        raise ConfigError(
            f"GLYPH_AUTH is neither 'user:password,…' nor an existing password file: {spec!r}.",
            f"GLYPH_AUTH 既不是 'user:password,…' 也不是存在的密码文件：{spec!r}。",
        )
    users: dict[str, str] = {}
    for number, entry in enumerate(spec.split(","), start=1):
        if not entry.strip():
            continue
        user, _, secret = entry.strip().partition(":")
        _check_entry(user, secret, f"entry {number}")
        users[user] = secret
    return users


@dataclass
class Authenticator:
    """The login check handed to Gradio (``launch(auth=authenticator.check)``)."""

    users: dict[str, str]

    @classmethod
    def from_spec(cls, spec: str) -> Authenticator:
        return cls(parse_auth(spec))

    def __post_init__(self) -> None:
        # an unknown user name is checked against this, so it costs as much as a known one
        self._dummy = hash_password(secrets.token_hex(8))

    def verify(self, username: str, password: str) -> bool:
        stored = self.users.get(username)
        ok = verify_password(stored if stored is not None else self._dummy, password)
        return ok and stored is not None

    async def check(self, username: str, password: str) -> bool:
        """Gradio awaits this on every login; hashing runs off the event loop."""
        ok = await asyncio.to_thread(self.verify, username, password)
        if not ok:
            log.warning("failed login for user %r", username[:64])
            await asyncio.sleep(FAIL_DELAY_S)  # slows guessing without blocking other users
        return ok


def password_line(user: str, password: str, scheme: str = "scrypt") -> str:
    """One ``user:HASH`` line for a password file (``python -m app hash-password``)."""
    _check_entry(user, password, "hash-password")
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"Unknown password hash scheme {scheme!r}; use one of: {', '.join(_SCHEMES)}.",
            f"未知的密码哈希方案 {scheme!r}；可选：{', '.join(_SCHEMES)}。",
        )
    return f"{user}:{hash_password(password, scheme)}"
