"""Entry points above the pipeline: the ``python -m app`` sub-commands' bodies (``app.cli``
parses the arguments and calls them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import IngestError

if TYPE_CHECKING:
    from app.datamodel import Document
    from app.pipeline import Pipeline


def open_file(pipeline: Pipeline, file: str, password: str | None) -> Document:
    """``file`` through ingest; an encrypted PDF's error names the ``--password`` option."""
    from app.ingest.base import PasswordRequiredError

    try:
        return pipeline.open_document(file, password=password)
    except PasswordRequiredError as err:
        name = Path(file).name
        if err.wrong:
            raise IngestError(
                f"The password given with --password does not open '{name}'.",
                f"用 --password 提供的密码无法打开“{name}”。",
            ) from None
        raise IngestError(
            f"'{name}' is protected by a password: give it with --password.",
            f"“{name}”受密码保护：请用 --password 提供密码。",
        ) from None
