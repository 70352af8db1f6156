"""Named collections that last (issue 20): a user's documents kept in the data directory.

``DATA_DIR/collections/<owner key>/<id>/`` holds ``collection.json`` (its name, owner, render
settings and documents) and ``files/``: each document's original upload, or, for pasted text and
unlocked encrypted PDFs, its extracted ``Document`` as JSON (a password is never written). The
owner key is a hash of the owner (``user:<name>`` with login on, ``local`` without), so one user
cannot list or open another's collections; every read checks the recorded owner too. Saving a
name again replaces that collection; deleting removes its folder. Writes go to a temporary folder
first and are renamed into place, so a crash never leaves half a collection.

Renders are made again when a collection is opened: rendering is deterministic, so the pages are
the same pixels and the reader's OCR cache (``GLYPH_CACHE_DIR``, keyed by the pixels) serves them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.datamodel import Document
from app.files import atomic_write_text

MANIFEST = "collection.json"


@dataclass(frozen=True)
class SavedDocument:
    name: str
    kind: str  # "file": the original upload; "document": the extracted Document as JSON
    path: Path


@dataclass(frozen=True)
class SavedCollection:
    id: str
    name: str
    documents: list[SavedDocument]
    options: dict[str, Any]
    updated: float


class CollectionStore:
    """The collections under ``root`` (``DATA_DIR/collections``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # --- where ----------------------------------------------------------------------------------
    def _owner_dir(self, owner: str) -> Path:
        return self.root / hashlib.sha256(owner.encode("utf-8")).hexdigest()[:20]

    def _read(self, folder: Path, owner: str) -> SavedCollection | None:
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("owner") != owner:
            return None
        docs = [
            SavedDocument(d["name"], d["kind"], folder / "files" / d["file"])
            for d in data.get("documents", [])
        ]
        return SavedCollection(
            folder.name, data["name"], docs, data.get("options", {}), data.get("updated", 0.0)
        )

    # --- what -----------------------------------------------------------------------------------
    def list(self, owner: str) -> list[SavedCollection]:
        """``owner``'s collections, the most recently saved first."""
        folder = self._owner_dir(owner)
        if not folder.is_dir():
            return []
        found = [self._read(child, owner) for child in folder.iterdir() if child.is_dir()]
        return sorted((c for c in found if c), key=lambda c: -c.updated)

    def get(self, owner: str, cid: str) -> SavedCollection | None:
        if not cid or "/" in cid or cid.startswith("."):
            return None
        return self._read(self._owner_dir(owner) / cid, owner)

    def save(
        self,
        owner: str,
        name: str,
        documents: list[tuple[str, Path | None, Document]],
        options: dict[str, Any],
    ) -> SavedCollection:
        """Keep ``documents`` ((name, original file or None, extracted document), in order) as
        ``owner``'s collection ``name``, replacing one of that name."""
        folder = self._owner_dir(owner)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        same = next((c for c in self.list(owner) if c.name == name), None)
        cid = same.id if same else uuid.uuid4().hex[:12]
        tmp = folder / f".tmp-{uuid.uuid4().hex[:8]}"
        try:
            entries = []
            for n, (doc_name, path, document) in enumerate(documents):
                own = tmp / "files" / f"{n:03d}"
                own.mkdir(parents=True)
                if path is not None and path.is_file() and not document.metadata.get("encrypted"):
                    shutil.copyfile(path, own / doc_name)
                    entries.append(
                        {"name": doc_name, "kind": "file", "file": f"{n:03d}/{doc_name}"}
                    )
                else:
                    (own / "document.json").write_text(document.model_dump_json(), "utf-8")
                    entries.append(
                        {"name": doc_name, "kind": "document", "file": f"{n:03d}/document.json"}
                    )
            manifest = {
                "name": name,
                "owner": owner,
                "updated": time.time(),
                "options": options,
                "documents": entries,
            }
            atomic_write_text(tmp / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            target = folder / cid
            old = folder / f".old-{uuid.uuid4().hex[:8]}"
            if target.exists():
                target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        saved = self.get(owner, cid)
        assert saved is not None
        return saved

    def delete(self, owner: str, cid: str) -> bool:
        """Remove ``owner``'s collection ``cid`` and its files; False when there is none."""
        saved = self.get(owner, cid)
        if saved is None:
            return False
        shutil.rmtree(self._owner_dir(owner) / saved.id, ignore_errors=True)
        return True
