"""Batch rendering of a JSONL file: ``{"id", "text"}`` or ``{"id", "path"}`` per line.

Every record is rendered into ``OUT/<id>/`` (pages, layout, text, manifest — see ``output.py``)
and summarised by one line appended to ``OUT/manifest.jsonl``. Records already rendered (status
"ok" in that manifest) are skipped, so an interrupted run resumes where it stopped; failed
records are retried and their new line supersedes the old one. Failures never stop the batch:
they are recorded with their message (English and Chinese).

Workers are processes (rendering is CPU-bound numpy/Pillow work); the parent alone writes the
manifest, so lines never interleave.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import re
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from app.errors import GlyphError

log = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"


def safe_id(record_id: str) -> str:
    """A directory name for ``record_id``: itself when harmless, else a cleaned name + hash."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", record_id)[:80].strip("._") or "record"
    if clean == record_id:
        return clean
    digest = hashlib.sha1(record_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{clean}-{digest}"


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file; malformed lines become records carrying an 'error'."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield {"id": f"line-{number}", "error": f"line {number} is not JSON: {err}"}
                continue
            if not isinstance(record, dict) or "id" not in record:
                yield {"id": f"line-{number}", "error": f"line {number} has no 'id'"}
                continue
            if not isinstance(record.get("text"), str) and not isinstance(record.get("path"), str):
                yield {"id": str(record["id"]), "error": "record needs a 'text' or a 'path'"}
                continue
            yield {**record, "id": str(record["id"])}


def done_ids(manifest: Path) -> set[str]:
    """Ids whose latest manifest line has status 'ok' and whose page images are intact."""
    latest: dict[str, dict[str, Any]] = {}
    if manifest.is_file():
        with manifest.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by an interrupted run
                if isinstance(entry, dict) and "id" in entry:
                    latest[str(entry["id"])] = entry
    done = set()
    for key, entry in latest.items():
        if entry.get("status") != "ok":
            continue
        # a page deleted or cut short since (disk full, copy interrupted) is rendered again
        pages = entry.get("pages") or []
        if all(_png_complete(manifest.parent / page) for page in pages):
            done.add(key)
        else:
            log.warning("record %s: page images missing or damaged; rendering it again", key)
    return done


def _png_complete(path: Path) -> bool:
    """Whether ``path`` is a PNG that ends with its IEND chunk (cheap: 8 + 12 bytes read)."""
    try:
        with path.open("rb") as fh:
            if fh.read(8) != b"\x89PNG\r\n\x1a\n":
                return False
            fh.seek(-12, os.SEEK_END)
            return fh.read(12) == b"\x00\x00\x00\x00IEND\xaeB`\x82"
    except OSError:
        return False


def render_record(
    record: dict[str, Any], out: Path, config: str, overrides: dict[str, Any]
) -> dict[str, Any]:
    """Render one record into ``out / safe_id(id)``; returns its manifest line."""
    from app.render import render, resolve_config
    from app.render.output import page_file_name, write_rendered

    record_id = record["id"]
    entry: dict[str, Any] = {"id": record_id}
    if "error" in record:
        return {**entry, "status": "error", "error": record["error"]}
    try:
        if isinstance(record.get("text"), str):
            text, name = record["text"], str(record.get("name") or record_id)
        else:
            from app.ingest import load

            doc = load(record["path"])
            text, name = doc.text, str(record.get("name") or doc.name)
        cfg = resolve_config(record.get("config") or config, text, **overrides)
        rendered = render(text, cfg, name=name)
        folder = out / safe_id(record_id)
        info = write_rendered(rendered, folder)
    except GlyphError as err:
        return {**entry, "status": "error", "error": err.en, "error_zh": err.zh}
    except Exception as err:  # recorded, never fatal to the batch
        log.exception("record %s failed", record_id)
        return {**entry, "status": "error", "error": f"{type(err).__name__}: {err}"}
    return {
        **entry,
        "status": "ok",
        "dir": folder.name,
        "pages": [f"{folder.name}/{page_file_name(p['index'])}" for p in info["pages"]],
        "sizes": [[p["width"], p["height"]] for p in info["pages"]],
        "chars": info["chars"],
        "config": cfg.name,
        "visual_tokens": info["stats"]["visual_tokens"],
        "text_tokens_estimate": info["stats"]["text_tokens_estimate"],
    }


def run_batch(
    source: Path,
    out: Path,
    *,
    config: str = "auto",
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    resume: bool = True,
    progress: bool = True,
) -> dict[str, int]:
    """Render every record of ``source`` into ``out``; returns counts (ok, error, skipped)."""
    from tqdm import tqdm

    from app.render import resolve_config

    overrides = overrides or {}
    resolve_config(config if config != "auto" else "en", "", **overrides)  # fail fast on typos
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    if not resume and manifest.exists():
        manifest.unlink()
    skip = done_ids(manifest) if resume else set()
    records, seen, skipped = [], set(), 0
    for record in read_records(source):
        if record["id"] in skip:
            skipped += 1
        elif record["id"] in seen:
            log.warning("duplicate id %r in %s: later record ignored", record["id"], source)
        else:
            records.append(record)
        seen.add(record["id"])
    counts = {"ok": 0, "error": 0, "skipped": skipped}
    bar = tqdm(total=len(records), unit="doc", disable=not progress, desc="render")
    with manifest.open("a", encoding="utf-8") as fh:

        def record_done(entry: dict[str, Any]) -> None:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            counts["ok" if entry["status"] == "ok" else "error"] += 1
            bar.update(1)

        if workers <= 1:
            for record in records:
                record_done(render_record(record, out, config, overrides))
        else:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                pending: set[Future] = set()
                queue = iter(records)
                for record in queue:
                    pending.add(pool.submit(render_record, record, out, config, overrides))
                    if len(pending) >= 4 * workers:  # bounded: texts stay on disk until needed
                        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in finished:
                            record_done(future.result())
                for future in pending:
                    record_done(future.result())
    bar.close()
    return counts
