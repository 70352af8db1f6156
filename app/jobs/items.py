"""What a batch is made of: documents × questions collected from a folder or a JSONL file,
staged into the job store, written to and read from the job's manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from app.datamodel import Mode
from app.errors import GlyphError
from app.files import atomic_write_json, atomic_write_text
from app.jobs.files import (
    relative,
    resolve,
    safe_name,
    stage_file,
    stage_text,
    upload_dir,
)
from app.jobs.models import BatchItem, DocumentRef
from app.settings import Settings


class BatchInputError(GlyphError):
    code = "batch_input"


def parse_mode(mode: str | Mode) -> Mode:
    try:
        return Mode(str(mode).lower())
    except ValueError:
        raise BatchInputError(
            f"Unknown mode '{mode}'. Choose qa, summary or extract.",
            f"未知的模式 '{mode}'，可选 qa、summary 或 extract。",
        ) from None


def question_for(question: str, mode: Mode) -> str:
    """The question to ask; summary and extraction work without one (the pipeline's default)."""
    from app.pipeline import question_for as default_for

    if mode is Mode.QA and not question.strip():
        raise BatchInputError("Please give a question.", "请输入问题。")
    return default_for(mode, question)


def _key(name: str, question: str, mode: Mode) -> str:
    digest = hashlib.sha1(f"{mode.value}\0{question}".encode()).hexdigest()[:8]
    return f"{name}::{digest}"


def collect_items(
    source: Path, questions: list[str], mode: str = "qa", collection: bool = False
) -> list[dict[str, Any]]:
    """Raw items (``file`` path, ``text`` or a ``collection`` folder, ``name``, ``question``,
    ``mode``, ``key``); ``collection``: a folder's documents are asked as one, each question
    once."""
    from app.ingest import documents_in

    source = Path(source)
    default_mode = parse_mode(mode)
    items: list[dict[str, Any]] = []
    if source.is_dir():
        files = documents_in(source)
        if not files:
            raise BatchInputError(
                f"No supported documents in {source}.", f"{source} 中没有可读取的文档。"
            )
        if collection:
            for q in questions or [""]:
                question = question_for(q, default_mode)
                key = _key(source.name, question, default_mode)
                items.append({"collection": source, "files": files, "name": source.name,
                              "key": key, "question": question, "mode": default_mode})  # fmt: skip
            return _unique(items)
        for path in files:
            name = path.relative_to(source).as_posix()
            for q in questions or [""]:
                question = question_for(q, default_mode)
                items.append(
                    {
                        "key": _key(name, question, default_mode),
                        "file": path,
                        "name": name,
                        "question": question,
                        "mode": default_mode,
                    }
                )
        return _unique(items)
    if not source.is_file():
        raise BatchInputError(f"{source} does not exist.", f"{source} 不存在。")
    if collection:
        raise BatchInputError(
            f"--collection needs a folder of documents; {source} is a file.",
            f"--collection 需要一个文档文件夹；{source} 是文件。",
        )
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except ValueError as err:
            raise BatchInputError(
                f"{source.name}, line {number}: not a JSON object ({err}).",
                f"{source.name} 第 {number} 行不是 JSON 对象（{err}）。",
            ) from None
        item_mode = parse_mode(entry.get("mode", default_mode))
        asked = entry.get("questions") or [entry.get("question", "")]
        asked = asked + questions if questions and not entry.get("questions") else asked
        if "file" in entry:
            path = (source.parent / entry["file"]).resolve()
            if not path.is_file():
                raise BatchInputError(
                    f"{source.name}, line {number}: {entry['file']} does not exist.",
                    f"{source.name} 第 {number} 行：{entry['file']} 不存在。",
                )
            doc: dict[str, Any] = {"file": path, "name": entry.get("name", entry["file"])}
        elif "text" in entry:
            doc = {"text": str(entry["text"]), "name": entry.get("name", f"line{number}.txt")}
        else:
            raise BatchInputError(
                f"{source.name}, line {number}: needs 'file' or 'text'.",
                f"{source.name} 第 {number} 行需要 'file' 或 'text'。",
            )
        for index, q in enumerate(a for a in asked if a is not None):
            question = question_for(str(q), item_mode)
            base = entry.get("id")
            key = f"{base}#{index + 1}" if base else _key(doc["name"], question, item_mode)
            items.append({**doc, "key": key, "question": question, "mode": item_mode})
    if not items:
        raise BatchInputError(f"{source} lists no items.", f"{source} 中没有条目。")
    return _unique(items)


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make keys unique (the same question listed twice for one document)."""
    seen: set[str] = set()
    for n, item in enumerate(items):
        if item["key"] in seen:
            item["key"] = f"{item['key']}@{n}"
        seen.add(item["key"])
    return items


def stage_items(settings: Settings, job_id: str, raw: list[dict[str, Any]]) -> list[BatchItem]:
    """Copy each distinct input into the job's upload folder (once per document)."""
    staged: dict[str, DocumentRef] = {}
    items: list[BatchItem] = []
    for item in raw:
        ident = _ident(item)
        ref = staged.get(ident)
        if ref is None:
            sub = f"docs/{len(staged):05d}"
            if "collection" in item:
                root = Path(item["collection"])
                for path in item["files"]:
                    name = path.relative_to(root).as_posix()
                    where = f"{sub}/{Path(name).parent}"
                    stage_file(settings, job_id, path, Path(name).name, sub=where)
                folder = upload_dir(settings, job_id) / sub
                ref = DocumentRef(
                    kind="collection", path=relative(settings, folder), name=item["name"]
                )
            elif "file" in item:
                ref = stage_file(settings, job_id, item["file"], item["name"], sub=sub)
            else:
                ref = stage_text(settings, job_id, item["text"], item["name"], sub=sub)
            staged[ident] = ref
        items.append(
            BatchItem(key=item["key"], document=ref, question=item["question"], mode=item["mode"])
        )
    return items


def _ident(item: dict[str, Any]) -> str:
    if "collection" in item:
        return f"collection:{item['collection']}"
    return str(item["file"]) if "file" in item else "text:" + item["text"]


def write_manifest(settings: Settings, job_id: str, items: list[BatchItem]) -> str:
    path = upload_dir(settings, job_id) / "items.json"
    atomic_write_json(path, [i.model_dump(mode="json") for i in items])
    return relative(settings, path)


def read_manifest(settings: Settings, manifest: str) -> list[BatchItem]:
    data = json.loads(resolve(settings, manifest).read_text(encoding="utf-8"))
    return [BatchItem.model_validate(d) for d in data]


def local_items(raw: list[dict[str, Any]], inputs_dir: Path) -> list[BatchItem]:
    """Items for a run in this process: files stay where they are, texts go to ``inputs_dir``."""
    items = []
    for item in raw:
        if "collection" in item:
            folder = str(Path(item["collection"]).resolve())
            ref = DocumentRef(kind="collection", path=folder, name=item["name"])
        elif "file" in item:
            ref = DocumentRef(
                kind="file", path=str(Path(item["file"]).resolve()), name=item["name"]
            )
        else:
            digest = hashlib.sha1(item["text"].encode()).hexdigest()[:12]
            path = inputs_dir / f"{digest}-{safe_name(item['name'], 'text.txt')}"
            if not path.exists():
                atomic_write_text(path, item["text"])
            ref = DocumentRef(kind="text", path=str(path.resolve()), name=item["name"])
        items.append(
            BatchItem(key=item["key"], document=ref, question=item["question"], mode=item["mode"])
        )
    return items
