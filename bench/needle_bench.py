"""Needle-in-a-haystack accuracy of the built-in OCR reader (answers read from the page pixels).

    .venv/bin/python bench/needle_bench.py [--lang en zh] [--sizes 20000 50000 100000 200000]
                                           [--depths 10] [--engine rapidocr|tesseract]

For every language and haystack size: ``--depths`` needles ("The special magic number for
<city> is <7 digits>.") at evenly spaced depths of real prose (see bench/needle_data.py), each
asked separately. Printed: exact-answer rate, red box on the needle's line, mean confidence,
rendered pages, OCR seconds per page (cold, empty cache) and seconds per follow-up question —
measured side by side in this run. The same check runs as the slow test
tests/readers/test_ocr_needles.py::test_needles_full_suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.needle_data import evaluate, make_haystack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", nargs="+", default=["en", "zh"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[20_000, 50_000, 100_000, 200_000])
    parser.add_argument("--depths", type=int, default=10)
    parser.add_argument("--engine", default="rapidocr")
    args = parser.parse_args()

    from app.pipeline import Pipeline
    from app.settings import Settings

    depths = tuple(round((i + 0.5) / args.depths, 3) for i in range(args.depths))
    settings = Settings(
        _env_file=None,
        data_dir=Path(tempfile.mkdtemp(prefix="glyph-needles-")),
        ocr_engine=args.engine,
    )
    pipeline = Pipeline(settings)
    print(f"engine {args.engine}; {args.depths} needles per haystack at depths {depths}")
    print(
        f"{'lang':<5}{'chars':>8}{'pages':>6}{'exact':>8}{'box':>6}{'conf':>7}{'OCR s/page':>12}{'s/question':>12}"
    )
    total = exact = boxed = 0
    for lang in args.lang:
        for size in args.sizes:
            hay = make_haystack(lang, size, depths)
            results = evaluate(pipeline, hay)
            pages = len(pipeline.render(hay.text).pages)
            follow = [r.seconds for r in results[1:]]
            # the first question pays the OCR of every page (cold cache)
            ocr_per_page = results[0].seconds / max(1, pages)
            n_exact = sum(r.exact for r in results)
            n_box = sum(r.exact and r.box_on_line for r in results)
            total, exact, boxed = total + len(results), exact + n_exact, boxed + n_box
            print(
                f"{lang:<5}{len(hay.text):>8}{pages:>6}{n_exact / len(results):>8.0%}"
                f"{n_box / max(1, n_exact):>6.0%}{sum(r.confidence for r in results) / len(results):>7.2f}"
                f"{ocr_per_page:>12.2f}{sum(follow) / max(1, len(follow)):>12.3f}"
            )
            for r in results:
                if not (r.exact and r.box_on_line):
                    print(
                        f"      miss: {r.key} expected {r.expected} got {r.answer!r} box={r.box_on_line}"
                    )
    print(
        f"overall: {exact}/{total} exact ({exact / max(1, total):.1%}), red box on the needle line for {boxed}/{exact}"
    )


if __name__ == "__main__":
    main()
