"""The validation set of a rendering search, and how an answer is scored against it.

A JSONL file, one question per line: ``{"text": "...", "question": "...", "answer": "..."}`` or
``{"path": "doc.pdf", ...}`` (read through ``app.ingest``; relative paths are relative to the JSONL
file). ``answer`` (or ``answers``, as in ``scripts/eval_inference.py`` rows) may also be a list of
accepted answers. The dataset hash (texts, questions, answers) is part of every cached
evaluation's key, so editing the file never reuses stale scores.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.errors import ConfigError

SCORING_VERSION = "1"  # bump when score_answer changes: cached evaluations become stale


@dataclass(frozen=True)
class ValidationItem:
    text: str
    question: str
    answers: tuple[str, ...]
    name: str = ""


def _bad(path: Path, line: int, why: str) -> ConfigError:
    return ConfigError(
        f"Validation set {str(path)!r}, line {line}: {why}",
        f"验证集 {str(path)!r} 第 {line} 行：{why}",
    )


def load_jsonl(path: str | Path, settings=None) -> list[ValidationItem]:
    """Items of a validation JSONL; ``ConfigError`` (with the line number) for bad lines."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise ConfigError(
            f"Cannot read the validation set {str(path)!r}: {err.strerror or err}",
            f"无法读取验证集 {str(path)!r}：{err.strerror or err}",
        ) from None
    texts: dict[Path, str] = {}
    items: list[ValidationItem] = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as err:
            raise _bad(path, number, f"not JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise _bad(path, number, "each line must be a JSON object")
        question = row.get("question")
        answer = row.get("answer", row.get("answers"))  # eval_inference.py's rows use "answers"
        if not isinstance(question, str) or not question.strip():
            raise _bad(path, number, "'question' is missing or empty")
        answers = [answer] if isinstance(answer, str) else answer
        if (
            not isinstance(answers, list)
            or not answers
            or not all(isinstance(a, str) and a.strip() for a in answers)
        ):
            raise _bad(path, number, "'answer' must be a non-empty string or list of strings")
        if isinstance(row.get("text"), str) and row["text"].strip():
            text, name = row["text"], f"{path.stem}-{number}"
        elif isinstance(row.get("path"), str):
            doc_path = Path(row["path"]).expanduser()
            if not doc_path.is_absolute():
                doc_path = path.parent / doc_path
            if doc_path not in texts:
                from app.ingest import load

                texts[doc_path] = load(doc_path, settings=settings).text
            text, name = texts[doc_path], doc_path.name
        else:
            raise _bad(path, number, "give the document as 'text' or 'path'")
        items.append(
            ValidationItem(text, question.strip(), tuple(a.strip() for a in answers), name)
        )
    if not items:
        raise ConfigError(
            f"The validation set {str(path)!r} has no questions.",
            f"验证集 {str(path)!r} 没有问题。",
        )
    return items


def dataset_hash(items: Sequence[ValidationItem]) -> str:
    digest = hashlib.sha256(SCORING_VERSION.encode())
    for item in items:
        for part in (item.text, item.question, *item.answers):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        digest.update(b"\1")
    return digest.hexdigest()[:16]


_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = " .,;:!?\"'()[]{}。，；：！？、“”‘’（）《》"


def normalize(text: str) -> str:
    """Case-folded, NFKC, single spaces, no punctuation at the ends (full-width folded too)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", text).strip(_EDGE_PUNCT)


def score_answer(answer: str, expected: Sequence[str]) -> float:
    """1.0 when an accepted answer appears in the reader's answer (after normalising), else 0.

    Containment, not equality: extractive readers often return the value with its unit or a few
    neighbouring words ("4120 dollars" for "4120"); a digit string must not match inside a
    longer number, though, and an answer far longer than the expected one (a pasted page) does
    not count.
    """
    got = normalize(answer)
    if not got:
        return 0.0
    for exp in expected:
        want = normalize(exp)
        if not want or len(got) > max(200, 10 * len(want)):
            continue
        for m in re.finditer(re.escape(want), got):
            before = got[m.start() - 1] if m.start() else ""
            after = got[m.end()] if m.end() < len(got) else ""
            if not (want[0].isdigit() and before.isdigit()) and not (
                want[-1].isdigit() and after.isdigit()
            ):
                return 1.0
    return 0.0
