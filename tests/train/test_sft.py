"""SFT on the tiny random GLM-4.1V checkpoint (CPU): the loss falls, only the intended parameters
change, what is saved loads in the VLM reader and generates, and resuming continues exactly."""

import json

import pytest
import torch

from app.readers.vlm import VlmReader
from app.settings import Settings
from app.train.checkpoint import checkpoint_dirs, merge_adapter
from app.train.config import load_train_config
from app.train.data import Documents, read_rows
from app.train.examples import build_examples, collate, encode
from app.train.model import answer_loss, build_model
from app.train.synth import make_qa_rows, write_qa_set
from app.train.trainer import LOG_FILE, Plan, train
from tests.helpers.reading import ask as ask_reader

SMALL = {"dpi": 24}  # ~70 visual tokens per page: fast steps on the tiny model


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_qa_set(tmp_path_factory.mktemp("sft") / "qa.jsonl", n=8, lang="mix", sentences=2)


def make_cfg(tiny_vlm_dir, data, out, **overrides):
    values = dict(
        base_model=str(tiny_vlm_dir),
        data=str(data),
        output_dir=str(out),
        render_overrides=SMALL,
        progress=False,
        warmup_ratio=0.0,
        lr_scheduler="constant",
        save_steps=1000,
        logging_steps=1,
    )
    values.update(overrides)
    return load_train_config("lora", **values)


def dataset_loss(tm, examples) -> float:
    """Mean cross-entropy over every answer token of ``examples`` (eval mode, no grad)."""
    tm.model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for example in examples:
            loss, n = answer_loss(tm.inner, collate([encode(example, tm.processor)], 0))
            total, count = total + float(loss), count + n
    tm.model.train()
    return total / count


def snapshot(model) -> dict[str, torch.Tensor]:
    """Every parameter's tensor (4-bit layers: their packed bytes) copied."""
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def reader_for(path, tmp_path, profile="int4-vision") -> VlmReader:
    return VlmReader(
        Settings(
            _env_file=None,
            model=str(path),
            model_profile=profile,
            device="cpu",
            dtype="float32",
            max_new_tokens=6,
            data_dir=tmp_path / "data",
        )
    )


def logits(model, batch) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        keys = (
            "input_ids",
            "attention_mask",
            "pixel_values",
            "image_grid_thw",
            "mm_token_type_ids",
        )
        return model(**{k: batch[k] for k in keys}).logits


@pytest.fixture(scope="module")
def lora_run(tiny_vlm_dir, data, tmp_path_factory):
    out = tmp_path_factory.mktemp("lora")
    # full-batch steps (8 rows × grad_accum 8) at a high LR: the tiny model memorises the set
    cfg = make_cfg(
        tiny_vlm_dir, data, out, max_steps=8, grad_accum=8, learning_rate=0.02, lora_dropout=0.0
    )
    tm = build_model(cfg)
    examples = build_examples(read_rows(data), cfg, tm.processor).examples
    before = snapshot(tm.model)
    loss_before = dataset_loss(tm, examples)
    result = train(cfg, tm=tm)
    return {
        "cfg": cfg,
        "tm": tm,
        "examples": examples,
        "before": before,
        "result": result,
        "loss_before": loss_before,
        "loss_after": dataset_loss(tm, examples),
    }


def test_a_few_steps_overfit_the_tiny_set(lora_run):
    result = lora_run["result"]
    assert result.steps == 8 and [h["step"] for h in result.history] == list(range(1, 9))
    assert lora_run["loss_after"] < 0.5 * lora_run["loss_before"]
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    logged = [json.loads(x) for x in (result.output_dir / LOG_FILE).read_text().splitlines()]
    assert [x["step"] for x in logged] == list(range(1, 9))
    assert all(x["tokens"] > 0 and x["lr"] == pytest.approx(0.02) for x in logged)


def test_lora_changes_only_the_adapters(lora_run):
    tm, before = lora_run["tm"], lora_run["before"]
    after = snapshot(tm.model)
    assert set(tm.trainable()) == {n for n in after if ".lora_" in n}
    # 6 projections × 2 layers, all inside the language model, named in full
    assert len(tm.lora_targets) == 12
    assert all(t.startswith("model.language_model.layers.") for t in tm.lora_targets)
    vision = [n for n in after if ".visual." in n]
    base_lm = [n for n in after if ".language_model." in n and ".lora_" not in n]
    assert vision and base_lm
    for name in [*vision, *base_lm, "base_model.model.lm_head.weight"]:
        assert torch.equal(before[name], after[name]), name
    assert any(".visual." in n and after[n].dtype == torch.uint8 for n in vision)  # 4-bit tower
    changed = [n for n in after if ".lora_B." in n and not torch.equal(before[n], after[n])]
    assert len(changed) == 12


def test_batches_pad_without_changing_the_loss(lora_run):
    tm, examples = lora_run["tm"], lora_run["examples"][:2]
    items = [encode(e, tm.processor) for e in examples]
    assert len(items[0]["input_ids"]) != len(items[1]["input_ids"])  # so padding happens
    tm.model.eval()
    with torch.no_grad():
        together, n = answer_loss(tm.inner, collate(items, 0))
        apart = [answer_loss(tm.inner, collate([i], 0)) for i in items]
    tm.model.train()
    assert n == sum(a[1] for a in apart)
    assert float(together) == pytest.approx(sum(float(a[0]) for a in apart), rel=1e-4)


def test_gradient_checkpointing_gives_the_same_gradients(lora_run):
    tm = lora_run["tm"]
    batch = collate([encode(e, tm.processor) for e in lora_run["examples"][:2]], 0)

    def grads() -> dict[str, torch.Tensor]:
        tm.model.train()
        tm.model.zero_grad(set_to_none=True)
        loss, n = answer_loss(tm.inner, batch)
        (loss / n).backward()
        out = {k: p.grad.clone() for k, p in tm.trainable().items()}
        tm.model.zero_grad(set_to_none=True)
        return out

    assert tm.inner.is_activation_checkpointing  # on by default (configs/train/lora.yaml)
    with_checkpointing = grads()
    tm.inner.activation_checkpointing_disable()
    try:
        without = grads()
    finally:
        tm.inner.activation_checkpointing_enable(
            activation_checkpointing_kwargs={"use_reentrant": False}
        )
    assert with_checkpointing.keys() == without.keys()
    for key in without:
        torch.testing.assert_close(with_checkpointing[key], without[key], rtol=1e-4, atol=1e-6)


@pytest.fixture(scope="module")
def answer_run(tiny_vlm_dir, tmp_path_factory):
    """LoRA taught to answer "Gdansk" to English questions: a visible effect for the reader."""
    folder = tmp_path_factory.mktemp("answer")
    rows = make_qa_rows(4, lang="en", sentences=2)
    for row in rows:
        row["answer"] = "Gdansk"
    data = folder / "gdansk.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = make_cfg(
        tiny_vlm_dir,
        data,
        folder / "out",
        max_steps=8,
        grad_accum=4,
        learning_rate=0.03,
        lora_dropout=0.0,
    )
    tm = build_model(cfg)
    result = train(cfg, tm=tm)
    tm.model.eval()
    return {"cfg": cfg, "tm": tm, "result": result, "rows": read_rows(data)}


def ask(reader, row) -> str:
    return ask_reader(reader, Documents("auto", SMALL).get(row), row.question).text


def test_adapter_loads_in_the_reader_and_answers_as_trained(answer_run, tiny_vlm_dir, tmp_path):
    result, tm, rows = answer_run["result"], answer_run["tm"], answer_run["rows"]
    adapter = result.adapter_dir
    assert (adapter / "adapter_config.json").is_file() and not (adapter / "config.json").exists()
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(answer_run["cfg"].base_model)
    base = reader_for(tiny_vlm_dir, tmp_path)
    try:
        assert ask(base, rows[0]) != "Gdansk"
    finally:
        base.close()
    reader = reader_for(adapter, tmp_path)  # GLYPH_MODEL=OUT/adapter
    try:
        model = reader.loaded.model
        assert not any("lora" in n for n, _ in model.named_parameters())  # merged into fp32 LM
        assert [ask(reader, row) for row in rows] == ["Gdansk"] * len(rows)
        batch = collate(
            [
                encode(
                    build_examples(rows, answer_run["cfg"], tm.processor).examples[0],
                    reader.loaded.processor,
                )
            ],
            0,
        )
        trained = logits(tm.inner, batch)
        with tm.model.disable_adapter():
            untouched = logits(tm.inner, batch)
        # merging adds the adapter's product to the weights: equal up to float rounding, while
        # the adapter itself moved the logits far more than that
        torch.testing.assert_close(logits(model, batch), trained, rtol=1e-3, atol=1e-3)
        assert (trained - untouched).abs().max() > 0.5
    finally:
        reader.close()


def test_merged_model_is_an_ordinary_checkpoint(answer_run, tmp_path):
    merged = merge_adapter(answer_run["result"].adapter_dir, tmp_path / "merged")
    assert (merged / "config.json").is_file() and not (merged / "adapter_config.json").exists()
    assert (merged / "tokenizer.json").is_file() and (merged / "preprocessor_config.json").is_file()
    processor_config = json.loads((merged / "processor_config.json").read_text())
    assert processor_config["processor_class"] == "Glm4vProcessor"  # stock tools can load it
    reader = reader_for(merged, tmp_path)
    try:
        assert ask(reader, answer_run["rows"][1]) == "Gdansk"
    finally:
        reader.close()


def test_resume_continues_the_step_count_and_the_same_run(tiny_vlm_dir, data, tmp_path):
    # dropout on: an exact match also proves the RNG state travels with the checkpoint
    common = dict(max_steps=4, grad_accum=2, learning_rate=0.01, lora_dropout=0.1)
    whole = train(make_cfg(tiny_vlm_dir, data, tmp_path / "whole", **common))
    cfg = make_cfg(tiny_vlm_dir, data, tmp_path / "split", **common)
    first = train(cfg, stop_after=2)
    assert first.steps == 2 and first.adapter_dir is None
    assert [p.name for p in checkpoint_dirs(tmp_path / "split")] == ["step-000002"]
    second = train(cfg, resume="auto")
    assert second.resumed_from == tmp_path / "split" / "checkpoints" / "step-000002"
    assert [h["step"] for h in second.history] == [3, 4] and second.steps == 4
    assert [h["loss"] for h in second.history] == pytest.approx(
        [h["loss"] for h in whole.history[2:]], rel=1e-5
    )
    from safetensors.torch import load_file

    a = load_file(whole.adapter_dir / "adapter_model.safetensors")
    b = load_file(second.adapter_dir / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
    logged = [
        json.loads(x)["step"] for x in (tmp_path / "split" / LOG_FILE).read_text().splitlines()
    ]
    assert logged == [1, 2, 3, 4]


def test_plan_covers_every_example_once_per_epoch():
    plan = Plan(examples=10, batch_size=2, grad_accum=2, seed=3, epochs=2)
    assert (plan.steps_per_epoch, plan.total_steps) == (3, 6)
    for epoch in range(2):
        seen = [i for s in range(3) for mb in plan.step_batches(epoch * 3 + s)[1] for i in mb]
        assert sorted(seen) == list(range(10))
    assert plan.order(0) != plan.order(1)


def test_full_tuning_changes_the_language_model_only(tiny_vlm_dir, data, tmp_path):
    cfg = make_cfg(
        tiny_vlm_dir,
        data,
        tmp_path / "full",
        tune="full",
        profile="none",
        max_steps=2,
        grad_accum=2,
        learning_rate=1e-3,
    )
    tm = build_model(cfg)
    before = snapshot(tm.model)
    result = train(cfg, tm=tm)
    after = snapshot(tm.model)
    for name in after:
        if name.startswith("model.visual."):
            assert torch.equal(before[name], after[name]), name
    lm = [n for n in after if n.startswith(("model.language_model.", "lm_head."))]
    assert set(tm.trainable()) == set(lm)
    assert not torch.equal(before["lm_head.weight"], after["lm_head.weight"])
    reader = reader_for(result.model_dir, tmp_path, profile="none")
    try:
        loaded = dict(reader.loaded.model.named_parameters())
        torch.testing.assert_close(loaded["lm_head.weight"], after["lm_head.weight"])
        rows = read_rows(data)
        assert ask_reader(
            reader, Documents("auto", SMALL).get(rows[0]), rows[0].question
        ).stats.output_tokens
    finally:
        reader.close()


def test_qlora_keeps_the_4bit_base_and_the_reader_applies_the_adapter(tiny_vlm_dir, data, tmp_path):
    cfg = make_cfg(
        tiny_vlm_dir,
        data,
        tmp_path / "qlora",
        qlora=True,
        max_steps=2,
        grad_accum=2,
        learning_rate=0.01,
    )
    tm = build_model(cfg)
    before = snapshot(tm.model)
    result = train(cfg, tm=tm)
    after = snapshot(tm.model)
    lm_4bit = [n for n in after if ".language_model." in n and after[n].dtype == torch.uint8]
    assert lm_4bit  # the language model really is 4-bit under the adapters
    for name in lm_4bit:
        assert torch.equal(before[name], after[name])
    assert any(not torch.equal(before[n], after[n]) for n in after if ".lora_B." in n)
    reader = reader_for(result.adapter_dir, tmp_path, profile="int4-all")
    try:
        # over 4-bit layers the adapter stays a separate LoRA branch (no lossy re-quantization)
        assert any(".lora_A." in n for n, _ in reader.loaded.model.named_parameters())
        rows = read_rows(data)
        assert ask_reader(
            reader, Documents("auto", SMALL).get(rows[2]), rows[2].question
        ).stats.output_tokens
    finally:
        reader.close()
