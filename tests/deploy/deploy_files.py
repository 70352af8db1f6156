"""Readers for the deployment files, shared by the tests in tests/deploy/.

No Docker engine runs where these tests run, so the Dockerfile is parsed here (instructions with
their line continuations, stages, ARG defaults) and .dockerignore is matched the way Docker
matches it (last matching pattern wins, ``!`` re-includes, a folder's pattern covers its content).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY_DOC = ROOT / "docs" / "DEPLOY.md"
ENTRYPOINT = ROOT / "界面推理.sh"


@dataclass
class Instruction:
    keyword: str  # upper-cased: FROM, RUN, COPY, ...
    args: str  # the rest of the instruction, continuations joined
    line: int  # first line in the file
    comments: list[str] = field(default_factory=list)  # comment lines right above it

    def words(self) -> list[str]:
        return shlex.split(self.args)

    def flags(self) -> dict[str, str]:
        """``--from=deps`` style flags at the start of COPY/RUN/HEALTHCHECK."""
        out = {}
        for word in self.words():
            if not word.startswith("--"):
                break
            key, _, value = word[2:].partition("=")
            out.setdefault(key, value)
        return out

    def operands(self) -> list[str]:
        """The words after the leading ``--flags``."""
        words = self.words()
        while words and words[0].startswith("--"):
            words.pop(0)
        return words


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction]

    def find(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse_dockerfile(path: Path = DOCKERFILE) -> tuple[list[Instruction], list[Stage]]:
    """All instructions (global ARGs included) and the build stages in order."""
    instructions: list[Instruction] = []
    comments: list[str] = []
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            comments = [*comments, stripped] if stripped else []
            continue
        if buf and stripped.startswith("#"):  # comment lines inside a continuation are dropped
            continue
        if not buf:
            start = number
        if stripped.endswith("\\"):
            buf.append(stripped[:-1].strip())
            continue
        buf.append(stripped)
        text = " ".join(part for part in buf if part)
        keyword, _, args = text.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start, comments))
        buf, comments = [], []
    stages: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = instruction.operands()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name, words[0], []))
        elif stages:
            stages[-1].instructions.append(instruction)
    return instructions, stages


def arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    """Every ``ARG NAME=default`` of the file (later ones win, as in a stage that redeclares)."""
    out = {}
    for instruction in instructions:
        if instruction.keyword == "ARG":
            name, _, default = instruction.args.partition("=")
            out[name.strip()] = default.strip().strip('"')
    return out


def expand(text: str, variables: dict[str, str]) -> str:
    """``${NAME}`` / ``$NAME`` replaced by ``variables`` (build-arg defaults)."""
    return re.sub(
        r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), text
    )


def env_of(stage: Stage) -> dict[str, str]:
    """The ENV values a stage sets (``KEY=value`` pairs; quotes removed)."""
    out = {}
    for instruction in stage.find("ENV"):
        for word in instruction.words():
            key, sep, value = word.partition("=")
            if sep:
                out[key] = value
    return out


# --- .dockerignore -----------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    # Docker: Go filepath.Match per segment plus '**' for any number of folders
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                out += "/?"
                i += 1
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(f"^{out}$")


def dockerignore_rules(path: Path = DOCKERIGNORE) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = line[1:].strip() if include else line
        pattern = pattern.strip("/") or "."
        rules.append((include, _pattern_regex(pattern)))
    return rules


def is_ignored(relpath: str, rules: list[tuple[bool, re.Pattern[str]]] | None = None) -> bool:
    """Whether Docker leaves ``relpath`` (relative to the context, '/'-separated) out."""
    rules = dockerignore_rules() if rules is None else rules
    parts = relpath.strip("/").split("/")
    ignored = False
    for include, regex in rules:
        # a pattern matching a parent folder covers everything inside it
        if any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            ignored = not include
    return ignored


# --- compose -------------------------------------------------------------------------------------


def load_compose(path: Path = COMPOSE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def interpolation_default(value: str) -> str:
    """``${VAR:-default}`` → default (what compose uses when VAR is unset); other text unchanged."""
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", value)
