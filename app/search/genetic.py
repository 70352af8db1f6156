"""Genetic search over render configs (Glyph's rendering search, on a CPU budget).

Generation 0 is the base config plus random valid candidates. Each later generation keeps the
``elite`` best unchanged, optionally takes a share of LLM proposals (``app.search.proposer``), and
fills the rest with children: two tournament-selected parents, uniform crossover, per-gene
mutation; children that were already evaluated are re-drawn so that the budget goes to new
configs. Everything random comes from one ``random.Random(seed)``: the same seed, space, data and
evaluator give the same search.

Resuming: before each generation the state (population, RNG state, history so far) is written to
``state_path``; a re-run with the same settings continues from there, and evaluations finished
before an interruption come back from the on-disk cache. Raising ``generations`` on a re-run
extends a finished search. Outputs: the best config as Glyph-style JSON and the history as CSV
(one row per individual per generation).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from app.datamodel import RenderConfig
from app.errors import ConfigError
from app.files import atomic_write_text
from app.search.dataset import ValidationItem, dataset_hash
from app.search.evaluate import EvalCache, EvalResult, Evaluator, FitnessWeights, cached_evaluate
from app.search.space import Candidate, SearchSpace

log = logging.getLogger(__name__)

# state, history and best config: rewritten often, recomputable (no fsync), private to the user
_write = partial(atomic_write_text, durable=False, mode=0o600)

STATE_FORMAT = 1


@dataclass
class SearchOptions:
    population: int = 8
    generations: int = 4
    elite: int = 2
    tournament: int = 3
    crossover_rate: float = 0.8
    mutation_rate: float = 0.25  # per gene
    seed: int = 0
    include_base: bool = True  # the base config is one of generation 0's candidates
    weights: FitnessWeights = field(default_factory=FitnessWeights)
    proposer_share: float = 0.25  # of each generation's children, when a proposer is given

    def __post_init__(self) -> None:
        if self.population < 2 or not 0 <= self.elite < self.population:
            raise ValueError("need population >= 2 and 0 <= elite < population")
        if self.generations < 1 or self.tournament < 1:
            raise ValueError("need generations >= 1 and tournament >= 1")


@dataclass
class Individual:
    genes: Candidate
    origin: str  # base | random | elite | child | llm
    generation: int
    result: EvalResult | None = None
    fitness: float = 0.0
    cached: bool = False
    fingerprint: str = ""
    line_height: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["result"] = self.result.to_json() if self.result else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Individual:
        data = dict(data)
        result = data.pop("result", None)
        ind = cls(**data)
        ind.result = EvalResult.from_json(result) if result else None
        return ind


@dataclass
class SearchResult:
    best: Individual
    best_config: RenderConfig
    history: list[Individual]
    generation_best: list[float]  # best fitness seen up to and including each generation
    evaluations: int  # distinct configs evaluated (cache hits included)
    best_path: Path | None = None
    history_path: Path | None = None

    @property
    def initial_best(self) -> float:
        return self.generation_best[0] if self.generation_best else 0.0


def _rng_to_json(state: tuple) -> list:
    return [state[0], list(state[1]), state[2]]


def _rng_from_json(data: list) -> tuple:
    return (data[0], tuple(data[1]), data[2])


class GeneticSearch:
    """One search: ``run()`` returns a ``SearchResult`` and writes the outputs given."""

    def __init__(
        self,
        space: SearchSpace,
        evaluator: Evaluator,
        items: Sequence[ValidationItem],
        options: SearchOptions | None = None,
        *,
        cache: EvalCache | None = None,
        best_path: Path | None = None,
        history_path: Path | None = None,
        state_path: Path | None = None,
        proposer: Any = None,
        progress: bool = False,
    ) -> None:
        if not items:
            raise ConfigError("The validation set is empty.", "验证集为空。")
        self.space = space
        self.evaluator = evaluator
        self.items = list(items)
        self.options = options or SearchOptions()
        self.cache = cache or EvalCache(None)
        self.best_path, self.history_path, self.state_path = best_path, history_path, state_path
        self.proposer = proposer
        self.progress = progress
        self.data_hash = dataset_hash(self.items)
        self._memo: dict[str, tuple[EvalResult, RenderConfig | None]] = {}

    # --- bookkeeping ----------------------------------------------------------------------------
    def signature(self) -> str:
        """What must match for a saved state to be resumed (``generations`` may differ)."""
        opts = asdict(self.options)
        opts.pop("generations")
        blob = json.dumps(
            {
                "space": self.space.describe(),
                "base": self.space.base.fingerprint(),
                "name": self.space.name,
                "options": opts,
                "data": self.data_hash,
                "evaluator": self.evaluator.id,
                "proposer": self.proposer is not None,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def _save_state(
        self, generation: int, population: list[Individual], rng: random.Random, history: list
    ) -> None:
        if self.state_path is None:
            return
        state = {
            "format": STATE_FORMAT,
            "signature": self.signature(),
            "generation": generation,
            "population": [{"genes": i.genes, "origin": i.origin} for i in population],
            "rng": _rng_to_json(rng.getstate()),
            "history": [i.to_json() for i in history],
        }
        _write(self.state_path, json.dumps(state, ensure_ascii=False))

    def _load_state(self) -> dict[str, Any] | None:
        if self.state_path is None or not self.state_path.is_file():
            return None
        try:
            state = json.loads(self.state_path.read_text("utf-8"))
            if state.get("format") != STATE_FORMAT:
                raise ValueError(f"state format {state.get('format')}")
        except (OSError, ValueError) as err:
            log.warning("search state %s unreadable (%s); starting afresh", self.state_path, err)
            return None
        if state.get("signature") != self.signature():
            raise ConfigError(
                f"{self.state_path} belongs to a search with other settings (space, options, "
                "validation set or evaluator). Start afresh (--fresh) or choose another --name.",
                f"{self.state_path} 属于参数不同的搜索（搜索空间、选项、验证集或评估器）。"
                "请使用 --fresh 重新开始，或换一个 --name。",
            )
        return state

    def _write_history(self, history: list[Individual]) -> None:
        if self.history_path is None:
            return
        import io

        genes = self.space.names
        result_cols = [
            "accuracy",
            "compression",
            "correct",
            "questions",
            "visual_tokens",
            "text_tokens",
            "pages",
            "seconds",
            "error",
        ]
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(
            [
                "generation",
                "origin",
                "fitness",
                *result_cols,
                "cached",
                "fingerprint",
                *genes,
                "line_height",
            ]
        )
        for ind in history:
            res = ind.result.to_json() if ind.result else {}
            writer.writerow(
                [ind.generation, ind.origin, f"{ind.fitness:.6f}"]
                + [
                    f"{res[c]:.6f}" if isinstance(res.get(c), float) else res.get(c, "")
                    for c in result_cols
                ]
                + [int(ind.cached), ind.fingerprint]
                + ["" if ind.genes.get(g) is None else ind.genes.get(g) for g in genes]
                + ["" if ind.line_height is None else ind.line_height]
            )
        _write(self.history_path, buf.getvalue())

    # --- evaluation -----------------------------------------------------------------------------
    def _evaluate(self, ind: Individual) -> None:
        try:
            config = self.space.to_config(ind.genes)
        except ConfigError as err:
            ind.result, ind.fitness = EvalResult(error=err.en), 0.0
            return
        fp = config.fingerprint()
        ind.fingerprint, ind.line_height = fp, config.line_height
        if fp in self._memo:
            ind.result, ind.cached = self._memo[fp][0], True
        else:
            ind.result, ind.cached = cached_evaluate(
                self.evaluator, config, self.items, self.cache, self.data_hash
            )
            self._memo[fp] = (ind.result, config)
        ind.fitness = self.options.weights(ind.result)

    # --- genetic operators ----------------------------------------------------------------------
    def _valid_sample(self, rng: random.Random, avoid: set) -> Candidate:
        cand = self.space.sample(rng)
        for _ in range(200):
            if self.space.valid(cand) and self.space.key(cand) not in avoid:
                break
            cand = self.space.sample(rng)
        return cand

    def _initial(self, rng: random.Random) -> list[Individual]:
        pop: list[Individual] = []
        seen: set = set()
        if self.options.include_base:
            base = self.space.base_candidate()
            if self.space.valid(base):
                pop.append(Individual(base, "base", 0))
                seen.add(self.space.key(base))
        while len(pop) < self.options.population:
            cand = self._valid_sample(rng, seen)
            seen.add(self.space.key(cand))
            pop.append(Individual(cand, "random", 0))
        return pop

    def _tournament(self, ranked: list[Individual], rng: random.Random) -> Individual:
        picks = rng.sample(range(len(ranked)), min(self.options.tournament, len(ranked)))
        return ranked[min(picks)]  # ranked best first: the lowest index wins

    def _child(self, ranked: list[Individual], rng: random.Random) -> Candidate:
        a, b = self._tournament(ranked, rng), self._tournament(ranked, rng)
        if rng.random() < self.options.crossover_rate:
            child = {n: (a.genes if rng.random() < 0.5 else b.genes)[n] for n in self.space.names}
        else:
            child = dict(a.genes)
        mutated = False
        for gene in self.space.genes:
            if rng.random() < self.options.mutation_rate:
                child[gene.name] = gene.mutate(child[gene.name], rng)
                mutated = True
        if not mutated:  # never a plain copy of a parent
            gene = rng.choice(self.space.genes)
            child[gene.name] = gene.mutate(child[gene.name], rng)
        return child

    def _next(
        self, population: list[Individual], history: list[Individual], gen: int, rng: random.Random
    ) -> list[Individual]:
        ranked = sorted(population, key=lambda i: -i.fitness)  # stable: ties keep their order
        new = [Individual(dict(i.genes), "elite", gen) for i in ranked[: self.options.elite]]
        seen = {self.space.key(i.genes) for i in new}
        tried = {self.space.key(i.genes) for i in history}
        if self.proposer is not None:
            n_llm = max(1, round(self.options.proposer_share * (len(population) - len(new))))
            past = [
                {
                    "genes": i.genes,
                    "fitness": i.fitness,
                    "accuracy": i.result.accuracy if i.result else 0.0,
                    "compression": i.result.compression if i.result else 0.0,
                }
                for i in history
            ]
            w = self.options.weights
            formula = f"accuracy^{w.accuracy:g} * compression^{w.compression:g}"
            for cand in self.proposer.propose(self.space, past, n_llm, formula):
                if self.space.key(cand) not in seen and len(new) < self.options.population:
                    new.append(Individual(cand, "llm", gen))
                    seen.add(self.space.key(cand))
        while len(new) < self.options.population:
            for _ in range(50):
                cand = self._child(ranked, rng)
                key = self.space.key(cand)
                if key not in seen and key not in tried and self.space.valid(cand):
                    origin = "child"
                    break
            else:  # the neighbourhood is exhausted: explore
                cand, origin = self._valid_sample(rng, seen | tried), "random"
            seen.add(self.space.key(cand))
            new.append(Individual(cand, origin, gen))
        return new

    # --- the loop -------------------------------------------------------------------------------
    def run(self, *, fresh: bool = False) -> SearchResult:
        rng = random.Random(self.options.seed)
        state = None if fresh else self._load_state()
        if state is not None:
            gen = int(state["generation"])
            rng.setstate(_rng_from_json(state["rng"]))
            history = [Individual.from_json(h) for h in state["history"]]
            population = [Individual(p["genes"], p["origin"], gen) for p in state["population"]]
            log.info("resuming the search at generation %d (%d evaluated)", gen, len(history))
        else:
            gen, history, population = 0, [], self._initial(rng)
        for ind in history:
            if ind.result is not None and ind.fingerprint:
                self._memo.setdefault(ind.fingerprint, (ind.result, None))
        if not population and gen < self.options.generations:
            previous = [i for i in history if i.generation == gen - 1]
            population = self._next(previous, history, gen, rng)
        from tqdm import tqdm

        remaining = max(0, self.options.generations - gen) * self.options.population
        bar = tqdm(total=remaining, desc="render search", disable=not self.progress, unit="cfg")
        best = max(history, key=lambda i: i.fitness, default=None)
        try:
            while gen < self.options.generations:
                self._save_state(gen, population, rng, history)
                for ind in population:
                    ind.generation = gen
                    self._evaluate(ind)
                    history.append(ind)
                    if best is None or ind.fitness > best.fitness:
                        best = ind
                    bar.update(1)
                    bar.set_postfix(best=f"{best.fitness:.3f}", gen=gen)
                gen += 1
                # the next population only when it will be evaluated (a proposer call costs);
                # extending a finished search builds it from the last generation on resume
                last = gen == self.options.generations
                population = [] if last else self._next(population, history, gen, rng)
                self._save_state(gen, population, rng, history)
                self._write_history(history)
        finally:
            bar.close()
        if best is None:  # generations already done and nothing recorded: impossible by design
            raise ConfigError("The search evaluated nothing.", "搜索没有评估任何配置。")
        self._write_history(history)
        return self._finish(best, history)

    def _finish(self, best: Individual, history: list[Individual]) -> SearchResult:
        per_gen: list[float] = []
        running = 0.0
        for g in range(max(i.generation for i in history) + 1):
            gen_fit = [i.fitness for i in history if i.generation == g]
            running = max([running, *gen_fit])
            per_gen.append(running)
        config = self.space.to_config(best.genes)
        if self.best_path is not None:
            _write(
                self.best_path,
                json.dumps(config.to_glyph_dict(), ensure_ascii=False, indent=2) + "\n",
            )
        return SearchResult(
            best=best,
            best_config=config,
            history=history,
            generation_best=per_gen,
            evaluations=len({i.fingerprint for i in history if i.fingerprint}),
            best_path=self.best_path,
            history_path=self.history_path,
        )
