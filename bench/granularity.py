"""Granularity presets: compression against readability, and coarse-to-fine reading.

    .venv/bin/python bench/granularity.py [--en-chars 20000] [--zh-chars 10000]
        [--needle-chars 60000] [--needles 5] [--needle-lang en zh] [--skip-needles] [--skip-presets]

Part 1, per preset and language: pages, estimated text tokens, GLM-4.1V visual tokens, the
compression ratio (text tokens / visual tokens) and the OCR character error rate of the pages as
the built-in reader's engine reads them (rapidocr with the models in its wheel; red newline
markers are taken out of the pixels by the engine; white space is removed on both sides, so only
characters count). ``en``/``zh`` (Glyph's own configs) are printed for reference.

Part 2, needle questions (``bench/needle_data.py``: English licence prose, Chinese system
message catalogues) answered by the built-in OCR reader from the pixels: every page read at
coarse / medium / fine, against
coarse-to-fine (the coarse render, the best-matching 1 or 3 pages re-rendered at fine): exact
answers and visual tokens fed to the reader per question. All numbers come from one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from rapidfuzz.distance import Levenshtein

from app.render import render, resolve_config
from bench.render_corpus import chinese_text, english_text

PRESETS = ("coarse", "medium", "fine")


def cer(expected: str, got: str) -> float:
    a, b = "".join(expected.split()), "".join(got.split())
    return Levenshtein.distance(a, b) / max(len(a), 1)


def readability(lang: str, n_chars: int, presets: tuple[str, ...]) -> list[dict]:
    from app.ocr import get_engine

    engine = get_engine("rapidocr")
    text = english_text(n_chars) if lang == "en" else chinese_text(n_chars)
    rows = []
    for name in presets:
        config = resolve_config(name, text=text)
        rendered = render(text, config)
        started = time.perf_counter()
        read = "\n".join(
            line.text for page in rendered.pages for line in engine.read(page.image, lang)
        )
        rows.append(
            {
                "lang": lang,
                "preset": name,
                "dpi": config.dpi,
                "font": f"{config.font_size:g}/{config.line_height:g}",
                "chars": len(text),
                "pages": len(rendered.pages),
                "text_tokens": rendered.stats.text_tokens,
                "visual_tokens": rendered.stats.visual_tokens,
                "ratio": rendered.stats.compression_ratio,
                "cer": cer(text, read),
                "ocr_s": time.perf_counter() - started,
            }
        )
        print_row(rows[-1])
    return rows


def print_row(r: dict) -> None:
    print(
        f"| {r['lang']} | `{r['preset']}` | {r['dpi']} | {r['font']} | {r['pages']} | "
        f"{r['text_tokens']:,} | {r['visual_tokens']:,} | {r['ratio']:.2f}x | "
        f"{100 * r['cer']:.2f}% | {r['ocr_s']:.0f} |",
        flush=True,
    )


def needles(lang: str, n_chars: int, n_needles: int, workdir: Path) -> None:
    from app.pipeline import Pipeline
    from app.settings import Settings
    from bench.needle_data import make_haystack

    depths = tuple(round((i + 0.5) / n_needles, 3) for i in range(n_needles))
    hay = make_haystack(lang, n_chars, depths, seed=5)
    settings = Settings(_env_file=None, data_dir=workdir)
    renders = {name: render(hay.text, resolve_config(name, text=hay.text)) for name in PRESETS}
    coarse = renders["coarse"]
    runs = [(name, renders[name], False, None) for name in PRESETS]
    runs += [(f"coarse-to-fine, {k} page(s)", coarse, True, k) for k in (1, 3)]
    fine_tokens = renders["fine"].stats.visual_tokens
    print(
        f"\n{lang}: {len(hay.text):,} characters, {n_needles} needles; pages: "
        + ", ".join(f"{n} {len(r.pages)}" for n, r in renders.items())
    )
    print("\n| reading | exact answers | visual tokens per question | vs fine (all pages) | s |")
    print("|---|---:|---:|---:|---:|")
    for label, rendered, c2f, pages in runs:
        update = {"coarse_to_fine_pages": pages} if pages else {}
        pipe = Pipeline(settings.model_copy(update=update))
        exact, fed = 0, []
        started = time.perf_counter()
        for needle in hay.needles:
            answer = pipe.ask_once(rendered, needle.question, reader="ocr", coarse_to_fine=c2f)
            exact += answer.text.strip() == needle.value
            fed.append(answer.stats.visual_tokens if c2f else rendered.stats.visual_tokens)
        pipe.close()
        mean = sum(fed) / len(fed)
        print(
            f"| {label} | {exact}/{len(hay.needles)} | {mean:,.0f} | "
            f"{mean / fine_tokens:.2f} | {time.perf_counter() - started:.0f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--en-chars", type=int, default=20_000)
    parser.add_argument("--zh-chars", type=int, default=10_000)
    parser.add_argument("--needle-chars", type=int, default=60_000)
    parser.add_argument("--needles", type=int, default=5)
    parser.add_argument("--needle-lang", nargs="+", default=["en"], choices=["en", "zh"])
    parser.add_argument("--skip-presets", action="store_true", help="needle part only")
    parser.add_argument("--skip-needles", action="store_true")
    parser.add_argument("--reference", action="store_true", help="also Glyph's en / zh configs")
    args = parser.parse_args()
    if not args.skip_presets:
        print(
            "| lang | preset | dpi | font/line pt | pages | text tokens | visual tokens | "
            "compression | OCR CER | OCR s |"
        )
        print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
        for lang, n in (("en", args.en_chars), ("zh", args.zh_chars)):
            readability(lang, n, (*PRESETS, *((lang,) if args.reference else ())))
    if not args.skip_needles:
        with tempfile.TemporaryDirectory(prefix="granularity-") as tmp:
            for lang in args.needle_lang:
                needles(lang, args.needle_chars, args.needles, Path(tmp))


if __name__ == "__main__":
    main()
