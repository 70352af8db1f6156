#!/usr/bin/env python3
"""Write the image's pip requirements from pyproject.toml (used by the Dockerfile's ``reqs`` stage).

    python3 scripts/docker_requirements.py pyproject.toml --extras vlm,ui,ocr,jobs --out /reqs

writes ``/reqs/torch.txt`` (the torch pin alone: installed first, in its own layer, and used as a
constraint afterwards so no dependency can replace it) and ``/reqs/requirements.txt`` (every other
dependency of the project and of the extras, self-references such as ``pkg[ocr,vlm]`` expanded).

Why a file derived in its own build stage: the Dockerfile copies the *output* into the install
stage, and Docker keys a COPY on the file's content — so editing pyproject.toml without changing a
dependency (the version, ruff settings, a new marker) keeps the multi-GB dependency layers cached.
Only the standard library is used (Python 3.11+ for tomllib): it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

# PEP 508: the distribution name, optional extras in brackets, then the rest (versions, markers)
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(requirement: str) -> tuple[str, list[str], str]:
    match = _REQ.match(requirement)
    if not match:
        raise ValueError(f"cannot parse requirement {requirement!r}")
    name, extras, rest = match.groups()
    return name, [e.strip() for e in (extras or "").split(",") if e.strip()], rest.strip()


def collect(pyproject: dict, extras: list[str]) -> list[str]:
    """The project's dependencies plus those of ``extras``, in file order, without duplicates."""
    project = pyproject["project"]
    own = _normalize(project["name"])
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    out: list[str] = []
    seen_extras: set[str] = set()

    def add(requirements: list[str]) -> None:
        for requirement in requirements:
            name, sub_extras, _ = _split(requirement)
            if _normalize(name) == own:  # e.g. all = ["pkg[ocr,vlm]"]: expand, don't install
                for extra in sub_extras:
                    add_extra(extra)
            elif requirement.strip() not in out:
                out.append(requirement.strip())

    def add_extra(extra: str) -> None:
        if extra in seen_extras:
            return
        if extra not in optional:
            known = ", ".join(sorted(optional)) or "none"
            raise SystemExit(f"error: extra '{extra}' is not in pyproject.toml (known: {known})")
        seen_extras.add(extra)
        add(optional[extra])

    add(project.get("dependencies", []))
    for extra in extras:
        add_extra(extra)
    return out


def split_torch(requirements: list[str]) -> tuple[list[str], list[str]]:
    """(torch requirement lines, all the others)."""
    torch = [r for r in requirements if _normalize(_split(r)[0]) == "torch"]
    others = [r for r in requirements if r not in torch]
    return torch, others


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("--extras", default="", help="comma-separated extras, e.g. vlm,ui,ocr")
    parser.add_argument("--out", type=Path, required=True, help="directory for the two files")
    args = parser.parse_args(argv)

    data = tomllib.loads(args.pyproject.read_text(encoding="utf-8"))
    extras = [e.strip() for e in args.extras.split(",") if e.strip()]
    torch, others = split_torch(collect(data, extras))
    if not torch:
        raise SystemExit("error: pyproject.toml pins no torch; the image installs torch first")
    args.out.mkdir(parents=True, exist_ok=True)
    header = f"# generated from pyproject.toml by scripts/docker_requirements.py (extras: {','.join(extras) or '-'})\n"
    (args.out / "torch.txt").write_text(header + "\n".join(torch) + "\n", encoding="utf-8")
    (args.out / "requirements.txt").write_text(header + "\n".join(others) + "\n", encoding="utf-8")
    print(f"{len(torch)} torch + {len(others)} other requirements -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
