#!/usr/bin/env python
"""Search rendering parameters that a reader reads well at high compression (genetic search).

    .venv/bin/python scripts/search_render.py VALIDATION.jsonl [--name searched] [--base auto]
        [--evaluator ocr|vlm|openai] [--population 8] [--generations 4] [--elite 2] [--seed 0]
        [--accuracy-weight 1.0] [--compression-weight 0.5] [--all-fonts]
        [--llm-proposer [--proposer-url URL] [--proposer-model NAME]] [--out-dir DIR] [--fresh]

Each validation line is {"text": ..., "question": ..., "answer": ...} (or "path" instead of
"text"). Fitness = accuracy^a × compression^c (compression = text tokens / visual tokens).
Writes DIR/NAME.json (best config, Glyph keys: use it with --config DIR/NAME.json or
GLYPH_RENDER_PRESET), DIR/NAME.history.csv and DIR/NAME.state.json; re-running the same command
resumes, and a larger --generations extends a finished search. Evaluations are cached under
GLYPH_CACHE_DIR/search. The logic lives in app/search/.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from app.search import DEFAULT_OUT_DIR

    p = argparse.ArgumentParser(description="Genetic search over render configs.")
    p.add_argument("validation", type=Path, help="JSONL: {text|path, question, answer} per line")
    p.add_argument("--name", default="searched", help="name of the result config (file stem)")
    p.add_argument("--base", default="auto", help="base preset or JSON the genes modify")
    p.add_argument("--evaluator", default="ocr", choices=["ocr", "vlm", "openai"])
    p.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    p.add_argument("--population", type=int, default=8)
    p.add_argument("--generations", type=int, default=4)
    p.add_argument("--elite", type=int, default=2)
    p.add_argument("--tournament", type=int, default=3)
    p.add_argument("--mutation-rate", type=float, default=0.25)
    p.add_argument("--crossover-rate", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--accuracy-weight", type=float, default=1.0)
    p.add_argument("--compression-weight", type=float, default=0.5)
    p.add_argument("--all-fonts", action="store_true", help="every installed regular face")
    p.add_argument("--llm-proposer", action="store_true", help="let a chat model propose too")
    p.add_argument("--proposer-url", help="OpenAI-compatible base URL (default from settings)")
    p.add_argument("--proposer-model", help="model name (default GLYPH_OPENAI_MODEL)")
    p.add_argument("--proposer-share", type=float, default=0.25)
    p.add_argument("--fresh", action="store_true", help="ignore a saved state and start over")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from app.errors import GlyphError
    from app.search import FitnessWeights, SearchJob, SearchOptions, run_search
    from app.settings import get_settings

    try:
        options = SearchOptions(
            population=args.population,
            generations=args.generations,
            elite=args.elite,
            tournament=args.tournament,
            crossover_rate=args.crossover_rate,
            mutation_rate=args.mutation_rate,
            seed=args.seed,
            weights=FitnessWeights(args.accuracy_weight, args.compression_weight),
            proposer_share=args.proposer_share,
        )
    except ValueError as err:
        p.error(str(err))
    job = SearchJob(
        validation=args.validation,
        name=args.name,
        base=args.base,
        evaluator=args.evaluator,
        out_dir=args.out_dir,
        options=options,
        all_fonts=args.all_fonts,
        proposer=args.llm_proposer,
        proposer_url=args.proposer_url,
        proposer_model=args.proposer_model,
        fresh=args.fresh,
        progress=not args.no_progress,
    )
    try:
        result = run_search(job, get_settings())
    except GlyphError as err:
        print(f"error: {err.en}", file=sys.stderr)
        return 2
    best, res = result.best, result.best.result
    print(
        f"best fitness {best.fitness:.4f} (accuracy {res.accuracy:.2f}, compression "
        f"{res.compression:.2f}x; generation 0 best {result.initial_best:.4f}) after "
        f"{result.evaluations} configs"
    )
    print(f"config  → {result.best_path}\nhistory → {result.history_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
