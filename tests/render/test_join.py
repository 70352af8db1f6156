"""A collection is rendered one document at a time and joined (app.render.join, issue 20)."""

from __future__ import annotations

import numpy as np

from app.datamodel import Document
from app.ingest.collection import merge_documents


def _doc(name: str, words: str, lines: int) -> Document:
    return Document.from_text(
        "\n".join(f"{words} line {n}: the quick brown fox." for n in range(lines)), name=name
    )


def test_each_page_belongs_to_one_document_and_keeps_its_pixels(tmp_path):
    from app.pipeline import Pipeline
    from app.settings import Settings

    pipeline = Pipeline(Settings(_env_file=None, data_dir=tmp_path / "data"))
    a, b, c = _doc("a.txt", "alpha", 300), _doc("b.txt", "beta", 40), _doc("c.txt", "gamma", 200)
    cache: dict = {}
    merged = merge_documents([a, b, c])
    rendered = pipeline.render(merged, "en", cache=cache)
    assert rendered.text == merged.text and rendered.document is merged
    assert len(cache) == 3
    # each page knows its place in the joined render (a reader files what it reads by it)
    assert [page.index for page in rendered.pages] == list(range(len(rendered.pages)))
    owners = []
    for page in range(len(rendered.pages)):
        start, end = rendered.layout.span_of_page(page)
        names = {merged.part_at(start).name, merged.part_at(end - 1).name}
        assert len(names) == 1  # never two documents on one page
        owners.append(names.pop())
    assert owners == sorted(owners)  # a's pages, then b's, then c's
    assert owners.count("b.txt") >= 1 and owners.count("a.txt") > 1
    # a span inside b is boxed on b's pages, at the characters the joined text has there
    part_b = merged.parts()[1]
    at = rendered.text.index("beta line 7", part_b.start)
    (page, _box), *_ = rendered.layout.boxes_for_span(at, at + 11)
    assert owners[page] == "b.txt"
    # b asked with c only: the same pixels (the OCR cache still holds), rendered nothing new
    again = pipeline.render(merge_documents([b, c]), "en", cache=cache)
    assert len(cache) == 3
    b_pages = [rendered.pages[i].sha256 for i, o in enumerate(owners) if o == "b.txt"]
    assert [p.sha256 for p in again.pages[: len(b_pages)]] == b_pages
    drawn = again.layout.line[again.layout.page >= 0]
    assert np.all(np.diff(drawn) >= 0)  # line numbers go on through the documents
    assert again.stats.visual_tokens < rendered.stats.visual_tokens
