"""Text from documents, file names, readers and errors shown in Markdown components, literally.

Gradio's Markdown renders Markdown and (sanitised) HTML. A file named
``<img src=x onerror=alert(1)>.txt`` must appear as those characters, not as an image, and a
name like ``__init__.py`` must not turn bold. ``md_escape`` turns ``& < >`` into entities and
backslash-escapes the Markdown characters that could start markup where they stand, so the
rendered text equals the input while ordinary names (``report_2024.pdf``) stay readable in the
Markdown source that API clients receive. Answers and document text are shown in Textboxes,
which never interpret markup. The escaping itself lives in ``app.markup`` (the Markdown export in
``app.report`` uses it too).
"""

from __future__ import annotations

from app.markup import md_escape

__all__ = ["md_escape"]
