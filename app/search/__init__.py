"""Rendering-configuration search: rendering is a hyper-parameter, tuned by a genetic search.

``run_search`` wires the pieces that ``scripts/search_render.py`` exposes: a validation JSONL
(``dataset``), a search space over ``RenderConfig`` fields (``space``), a reader-based evaluator
with an on-disk cache (``evaluate``), the genetic loop with resume state (``genetic``) and the
optional LLM proposer (``proposer``). Outputs: ``<out_dir>/<name>.json`` (the best config, Glyph
keys), ``<name>.history.csv`` and ``<name>.state.json`` (for resuming).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from app.search.dataset import ValidationItem, dataset_hash, load_jsonl, score_answer
from app.search.evaluate import (
    EvalCache,
    EvalResult,
    Evaluator,
    FitnessWeights,
    ReaderEvaluator,
    make_evaluator,
)
from app.search.genetic import GeneticSearch, Individual, SearchOptions, SearchResult
from app.search.proposer import LlmProposer, parse_candidates
from app.search.space import Gene, SearchSpace, default_genes, installed_fonts
from app.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_OUT_DIR = Path(__file__).resolve().parents[2] / "configs" / "render" / "search"


@dataclass
class SearchJob:
    """Everything ``run_search`` needs besides the settings."""

    validation: Path
    name: str = "searched"
    base: str = "auto"
    evaluator: str = "ocr"  # ocr | vlm | openai
    out_dir: Path = DEFAULT_OUT_DIR
    options: SearchOptions = field(default_factory=SearchOptions)
    all_fonts: bool = False
    proposer: bool = False
    proposer_url: str | None = None
    proposer_model: str | None = None
    fresh: bool = False
    progress: bool = True


def run_search(job: SearchJob, settings: Settings) -> SearchResult:
    """Load the data, build space/evaluator/proposer, run (or resume) the search, write outputs."""
    from app.render import resolve_config

    items = load_jsonl(job.validation, settings)
    base = resolve_config(job.base, text=items[0].text)
    space = SearchSpace(base, default_genes(installed_fonts(job.all_fonts)), name=job.name)
    evaluator = make_evaluator(job.evaluator, settings)
    proposer = (
        LlmProposer.from_settings(settings, base_url=job.proposer_url, model=job.proposer_model)
        if job.proposer
        else None
    )
    out = Path(job.out_dir)
    search = GeneticSearch(
        space,
        evaluator,
        items,
        job.options,
        cache=EvalCache(settings.resolved_cache_dir / "search"),
        best_path=out / f"{job.name}.json",
        history_path=out / f"{job.name}.history.csv",
        state_path=out / f"{job.name}.state.json",
        proposer=proposer,
        progress=job.progress,
    )
    try:
        return search.run(fresh=job.fresh)
    finally:
        evaluator.close()


__all__ = [
    "DEFAULT_OUT_DIR",
    "EvalCache",
    "EvalResult",
    "Evaluator",
    "FitnessWeights",
    "Gene",
    "GeneticSearch",
    "Individual",
    "LlmProposer",
    "ReaderEvaluator",
    "SearchJob",
    "SearchOptions",
    "SearchResult",
    "SearchSpace",
    "ValidationItem",
    "dataset_hash",
    "default_genes",
    "installed_fonts",
    "load_jsonl",
    "make_evaluator",
    "parse_candidates",
    "run_search",
    "score_answer",
]
