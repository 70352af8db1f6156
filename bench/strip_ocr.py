"""How well OCR reads the strips the built-in reader cuts for a question's lines (issue 17).

    .venv/bin/python bench/strip_ocr.py [--split dev] [--lines 4] [--seed 0]

A question on a document not read yet is answered from strips of the page images around its
candidate lines (the layout map says where they were drawn). For a few random lines of each
document of the real-document set (each with two lines of context, as the reader asks), the same
rows are cut two ways and read by the same engine in one run:

* **rows** — the strip ends where its rows' drawn cells end, with white around it (the reader);
* **page margin** — the strip takes half a row of the page above and below (the reader before
  2026-12-04), so it holds the top or bottom half of the neighbouring line.

Printed per document and in all: the character error rate of each row's text (the lines read
there, white space removed) against the text the renderer drew in that row (the layout map), and
the ratio of the two. No answers, no tuning: the rendered text is the truth.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.qa_real.build import default_cache, load_documents, materialise  # noqa: E402


def with_page_margin(rows: list[tuple[int, int]], height: int) -> list[tuple[int, int]]:
    """The strips as they were cut before: each row with half a row's height of the page."""
    pad = max(2.0, float(np.median([b - a for a, b in rows])) * 0.5)
    merged: list[list[float]] = []
    for top, bottom in sorted(rows):
        if merged and top - pad <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], bottom + pad)
        else:
            merged.append([top - pad, bottom + pad])
    return [(max(0, int(a)), min(height, int(np.ceil(b)))) for a, b in merged]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="dev")
    parser.add_argument("--lines", type=int, default=4, help="random lines per document")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from rapidfuzz.distance import Levenshtein

    from app.pipeline import Pipeline
    from app.readers.ocr.reader import _bands, _by_row
    from app.settings import Settings

    settings = Settings(reader="ocr")
    pipeline = Pipeline(settings)
    reader = pipeline.reader("ocr").reader
    pick = random.Random(args.seed)
    cuts = {"rows": _bands, "page margin": with_page_margin}
    total = {name: [0, 0] for name in cuts}
    print(f"{'document':<24} {'rows':>8} {'margin':>8}  (character error rate)")
    for doc in load_documents():
        if args.split != "all" and doc.split != args.split:
            continue
        rendered = pipeline.render(pipeline.open_document(materialise(doc, default_cache())))
        lines, _ = reader._line_index(rendered)
        chosen = pick.sample(range(len(lines)), min(args.lines, len(lines)))
        layout, mine = rendered.layout, {name: [0, 0] for name in cuts}
        for page, spans in reader._candidate_rows(rendered, chosen).items():
            on_page = np.flatnonzero(layout.page == page)
            truth = {}
            for top, bottom in spans:
                inside = on_page[
                    (layout.boxes[on_page, 1] >= top - 1) & (layout.boxes[on_page, 3] <= bottom + 1)
                ]
                truth[(top, bottom)] = "".join(
                    ch for ch in (rendered.text[i] for i in inside) if not ch.isspace()
                )
            height = rendered.pages[page].image.height
            for name, cut in cuts.items():
                strips = [(page, a, b) for a, b in cut(spans, height)]
                read = [line for got in reader._read_strips(rendered, strips) for line in got]
                for row, on_row in _by_row(read, spans).items():
                    if len(truth[row]) < 5:
                        continue
                    text = "".join(
                        "".join(line.text.split())
                        for line in sorted(on_row, key=lambda x: x.box[0])
                    )
                    mine[name][0] += Levenshtein.distance(text, truth[row])
                    mine[name][1] += len(truth[row])
        for name in cuts:
            total[name][0] += mine[name][0]
            total[name][1] += mine[name][1]
        rates = [mine[n][0] / max(1, mine[n][1]) for n in cuts]
        print(f"{doc.id:<24} {rates[0]:>8.2%} {rates[1]:>8.2%}", flush=True)
    rows, margin = (total[n][0] / max(1, total[n][1]) for n in cuts)
    chars = total["rows"][1]
    print(
        f"all ({chars} characters): rows {rows:.2%}, page margin {margin:.2%}, "
        f"ratio {margin / max(rows, 1e-9):.2f}x"
    )
    reader.close()
    pipeline.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
