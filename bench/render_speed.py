"""Renderer throughput against Glyph's own path, side by side in one run.

    .venv/bin/python bench/render_speed.py [--chars 200000] [--repeat 3] [--lang en zh]

For each language the same text and the same preset (Glyph's en/zh values: A4, 72 dpi, 9 pt on
10 pt, red newline marker, auto-crop) are rendered, alternately, by

* **glyph**: reportlab → PDF → poppler (pdf2image) → PNG files (``bench/glyph_baseline.py``);
* **ours+png**: ``app.render.render`` plus every page's PNG written to a file;
* **ours in memory**: ``app.render.render`` only (PIL pages, what the UI and readers use).

Both sides use the same font design (DejaVu Sans; for Chinese, Noto Sans CJK SC — converted to
TrueType outlines for reportlab) and run in this one process, one core each, warm (fonts
registered / glyphs cached after a warm-up). Times are the best of ``--repeat`` alternating
rounds; ratios are only meaningful within one run (other work on the machine shifts both sides).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.render import render, resolve_config
from app.render.fonts import DEJAVU_SANS, find_font
from app.render.output import page_file_name
from bench.glyph_baseline import text_to_images, truetype_cjk_font
from bench.render_corpus import chinese_text, english_text


def _ours_png(text: str, config, out: Path) -> int:
    doc = render(text, config)
    for page in doc.pages:
        (out / page_file_name(page.index)).write_bytes(page.png_bytes())
    return len(doc.pages)


def run_language(lang: str, n_chars: int, repeat: int, workdir: Path) -> dict:
    text = english_text(n_chars) if lang == "en" else chinese_text(n_chars)
    config = resolve_config(lang)
    glyph_config = config.to_glyph_dict()
    if lang == "en":
        font = find_font(DEJAVU_SANS).path
    else:
        font = truetype_cjk_font("".join(sorted(set(text))), workdir / "noto-sc-subset.ttf")

    started = time.perf_counter()
    cold = render(text[:20000], config)
    cold_s = time.perf_counter() - started
    text_to_images(text[:3000], glyph_config, font, workdir / "warm")
    times: dict[str, list[float]] = {"glyph": [], "ours_png": [], "ours_mem": []}
    pages = {}
    for round_ in range(repeat):
        out = workdir / f"{lang}-{round_}"
        for side in ("glyph", "ours_png", "ours_mem"):
            target = out / side
            target.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            if side == "glyph":
                pages[side] = len(text_to_images(text, glyph_config, font, target))
            elif side == "ours_png":
                pages[side] = _ours_png(text, config, target)
            else:
                doc = render(text, config)
                pages[side] = len(doc.pages)
            times[side].append(time.perf_counter() - started)
    best = {k: min(v) for k, v in times.items()}
    median = {k: statistics.median(v) for k, v in times.items()}
    glyph_png_bytes = sum(p.stat().st_size for p in (workdir / f"{lang}-0" / "glyph").glob("*.png"))
    ours_png_bytes = sum(
        p.stat().st_size for p in (workdir / f"{lang}-0" / "ours_png").glob("*.png")
    )
    return {
        "lang": lang,
        "chars": len(text),
        "pages": pages,
        "best_s": best,
        "median_s": median,
        "chars_per_s": {k: len(text) / v for k, v in best.items()},
        "ms_per_page": {k: 1000 * v / pages[k] for k, v in best.items()},
        "ratio_png": best["glyph"] / best["ours_png"],
        "ratio_mem": best["glyph"] / best["ours_mem"],
        "ratio_png_median": median["glyph"] / median["ours_png"],
        "ratio_mem_median": median["glyph"] / median["ours_mem"],
        "png_bytes": {"glyph": glyph_png_bytes, "ours": ours_png_bytes},
        "cold_first_render_s": cold_s,
        "cold_pages": len(cold.pages),
        "visual_tokens": doc.stats.visual_tokens,
        "text_tokens_estimate": doc.stats.text_tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lang", nargs="+", default=["en", "zh"], choices=["en", "zh"])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        for lang in args.lang:
            results.append(run_language(lang, args.chars, args.repeat, Path(tmp)))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("| lang | side | pages | best s | chars/s | ms/page | ratio (best) | ratio (median) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for side, label in (
            ("glyph", "Glyph reportlab→PDF→poppler→PNG"),
            ("ours_png", "ours, PNG files"),
            ("ours_mem", "ours, in memory"),
        ):
            ratio = (
                "1.0"
                if side == "glyph"
                else f"{r['ratio_png' if side == 'ours_png' else 'ratio_mem']:.1f}x"
            )
            med = (
                ""
                if side == "glyph"
                else f"{r['ratio_png_median' if side == 'ours_png' else 'ratio_mem_median']:.1f}x"
            )
            print(
                f"| {r['lang']} | {label} | {r['pages'][side]} | {r['best_s'][side]:.2f} | "
                f"{r['chars_per_s'][side] / 1000:.0f}k | {r['ms_per_page'][side]:.1f} | {ratio} | {med} |"
            )
    for r in results:
        print(
            f"\n{r['lang']}: {r['chars']} chars; PNG bytes glyph {r['png_bytes']['glyph']:,} vs "
            f"ours {r['png_bytes']['ours']:,}; first (cold-cache) render of 20k chars "
            f"{r['cold_first_render_s']:.2f} s; {r['visual_tokens']} visual tokens for "
            f"~{r['text_tokens_estimate']} text tokens (estimate)"
        )


if __name__ == "__main__":
    main()
