"""The genetic machinery (with the cheap legibility stand-in): improvement, determinism,
elitism, caching, resuming, outputs."""

import csv
import json

import pytest

from app.errors import ConfigError
from app.render import resolve_config
from app.search import EvalCache, FitnessWeights, GeneticSearch, SearchOptions
from tests.search.conftest import LegibilityStandIn, small_space

OPTS = dict(population=6, generations=5, elite=2, seed=0)


def run(space, items, tmp_path, evaluator=None, **kw):
    options = SearchOptions(**{**OPTS, **kw})
    search = GeneticSearch(
        space,
        evaluator or LegibilityStandIn(),
        items,
        options,
        cache=EvalCache(tmp_path / "cache"),
        best_path=tmp_path / "out" / "best.json",
        history_path=tmp_path / "out" / "history.csv",
        state_path=tmp_path / "out" / "state.json",
    )
    return search, search.run()


def test_search_improves_over_its_initial_population(space, items, tmp_path):
    _, result = run(space, items, tmp_path)
    gen0 = [i.fitness for i in result.history if i.generation == 0]
    assert result.initial_best == max(gen0)
    assert result.best.fitness > result.initial_best
    # elitism: the best so far never gets worse, and the elite is carried over
    assert result.generation_best == sorted(result.generation_best)
    for g in range(1, OPTS["generations"]):
        prev = max(i.fitness for i in result.history if i.generation == g - 1)
        assert max(i.fitness for i in result.history if i.generation == g) >= prev
    assert result.best.fitness == max(i.fitness for i in result.history)
    origins = {i.origin for i in result.history}
    assert {"base", "random", "elite", "child"} <= origins


def test_improvement_is_the_rule_not_one_lucky_seed(space, items):
    improved = 0
    for seed in range(6):
        options = SearchOptions(**{**OPTS, "seed": seed})
        result = GeneticSearch(space, LegibilityStandIn(), items, options).run()
        improved += result.best.fitness > result.initial_best
    assert improved >= 5


def test_same_seed_same_search_other_seed_other_search(space, items, tmp_path):
    _, a = run(space, items, tmp_path / "a")
    _, b = run(space, items, tmp_path / "b")
    _, c = run(space, items, tmp_path / "c", seed=4)
    genes = lambda r: [(i.generation, i.origin, i.genes) for i in r.history]  # noqa: E731
    assert genes(a) == genes(b)
    assert [i.fitness for i in a.history] == [i.fitness for i in b.history]
    assert genes(a) != genes(c)


def test_outputs_best_config_json_and_history_csv(space, items, tmp_path):
    _, result = run(space, items, tmp_path)
    data = json.loads((tmp_path / "out" / "best.json").read_text(encoding="utf-8"))
    assert data["font-size"] == result.best_config.font_size
    assert data["page-size"] == "320,240" and data["name"] == "searched"
    # the written file is a usable config, equal to the best one
    loaded = resolve_config(str(tmp_path / "out" / "best.json"))
    assert loaded.fingerprint() == result.best_config.fingerprint()
    with (tmp_path / "out" / "history.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == OPTS["population"] * OPTS["generations"]
    assert {"generation", "fitness", "accuracy", "compression", "font_size", "line_height"} <= set(
        rows[0]
    )
    best_row = max(rows, key=lambda r: float(r["fitness"]))
    assert float(best_row["fitness"]) == pytest.approx(result.best.fitness, abs=1e-6)


def test_evaluations_are_cached_on_disk_and_in_memory(space, items, tmp_path):
    first = LegibilityStandIn()
    _, result = run(space, items, tmp_path, evaluator=first)
    # elites re-appear each generation without being evaluated again
    assert first.calls == result.evaluations < len(result.history)
    # a second search over the same configs reads them from the disk cache
    again = LegibilityStandIn()
    run(space, items, tmp_path / "other-out", evaluator=again)  # separate cache: evaluates
    assert again.calls == first.calls
    third = LegibilityStandIn()
    search = GeneticSearch(
        space,
        third,
        items,
        SearchOptions(**OPTS),
        cache=EvalCache(tmp_path / "cache"),
    )
    search.run()
    assert third.calls == 0 and search.cache.hits == first.calls


def test_interrupted_search_resumes_to_the_same_result(space, items, tmp_path):
    _, whole = run(space, items, tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        run(space, items, tmp_path / "part", evaluator=LegibilityStandIn(fail_after=9))
    state = json.loads((tmp_path / "part" / "out" / "state.json").read_text())
    assert state["generation"] == 1  # generation 0 finished, generation 1 was in progress
    resumed_eval = LegibilityStandIn()
    _, resumed = run(space, items, tmp_path / "part", evaluator=resumed_eval)
    assert [(i.genes, i.fitness) for i in resumed.history] == [
        (i.genes, i.fitness) for i in whole.history
    ]
    # only configs never evaluated before the interruption cost an evaluation now
    assert resumed_eval.calls == whole.evaluations - 9


def test_more_generations_extend_a_finished_search(space, items, tmp_path):
    _, short = run(space, items, tmp_path, generations=3)
    extra = LegibilityStandIn()
    _, longer = run(space, items, tmp_path, evaluator=extra, generations=5)
    assert len(longer.history) == 5 * OPTS["population"]
    assert longer.history[: len(short.history)][-1].genes == short.history[-1].genes
    _, reference = run(space, items, tmp_path / "ref", generations=5)
    assert [i.genes for i in longer.history] == [i.genes for i in reference.history]
    assert extra.calls == longer.evaluations - short.evaluations


def test_state_from_other_settings_is_refused_unless_fresh(space, items, tmp_path):
    run(space, items, tmp_path)
    with pytest.raises(ConfigError, match="other settings"):
        run(space, items, tmp_path, seed=99)
    search = GeneticSearch(
        space,
        LegibilityStandIn(),
        items,
        SearchOptions(**{**OPTS, "seed": 99}),
        state_path=tmp_path / "out" / "state.json",
    )
    assert search.run(fresh=True).history[0].generation == 0


def test_fitness_weights_trade_accuracy_for_compression(items, tmp_path):
    space = small_space()
    _, accurate = run(space, items, tmp_path / "acc", weights=FitnessWeights(1.0, 0.0))
    _, compact = run(space, items, tmp_path / "comp", weights=FitnessWeights(0.2, 2.0))
    assert accurate.best.result.accuracy == 1.0
    assert compact.best.result.compression > accurate.best.result.compression


def test_options_are_checked():
    with pytest.raises(ValueError):
        SearchOptions(population=1)
    with pytest.raises(ValueError):
        SearchOptions(population=4, elite=4)
