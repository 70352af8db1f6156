"""The SFT loop: a plain PyTorch loop (readable, testable on CPU with the tiny checkpoint).

One optimizer step = ``grad_accum`` micro-batches of ``batch_size`` examples. The loss of a step
is the mean cross-entropy over all answer tokens of its micro-batches (each micro-batch's token
sum is divided by the step's token count before ``backward``), so accumulation gives the same
gradient as one big batch. The data order is a permutation per epoch seeded by ``seed`` + epoch:
the position in the data follows from the step number alone, which is what makes ``--resume``
continue exactly where a run stopped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.train.checkpoint import (
    find_checkpoint,
    load_checkpoint,
    merge_adapter,
    save_adapter,
    save_checkpoint,
    save_full,
)
from app.train.config import TrainConfig
from app.train.data import DataError, read_rows
from app.train.examples import answer_tokens, build_examples, collate, encode
from app.train.model import TrainModel, answer_loss, build_model

log = logging.getLogger(__name__)

LOG_FILE = "train_log.jsonl"


@dataclass
class Plan:
    """Which examples each optimizer step uses."""

    examples: int
    batch_size: int
    grad_accum: int
    seed: int
    epochs: float
    max_steps: int | None = None

    @property
    def micro_per_epoch(self) -> int:
        return math.ceil(self.examples / self.batch_size)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.micro_per_epoch / self.grad_accum)

    @property
    def total_steps(self) -> int:
        if self.max_steps:
            return self.max_steps
        return max(1, math.ceil(self.epochs * self.steps_per_epoch))

    def order(self, epoch: int) -> list[int]:
        indices = list(range(self.examples))
        random.Random(self.seed * 1_000_003 + epoch).shuffle(indices)
        return indices

    def step_batches(self, step: int) -> tuple[int, list[list[int]]]:
        """(epoch, micro-batches of example indices) of optimizer step ``step`` (0-based)."""
        epoch, within = divmod(step, self.steps_per_epoch)
        order = self.order(epoch)
        micro = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        return epoch, micro[within * self.grad_accum : (within + 1) * self.grad_accum]


def lr_factor(step: int, total: int, warmup: int, kind: str) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine / linear decay or constant."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    if kind == "constant" or total <= warmup:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if kind == "linear":
        return max(0.0, 1.0 - progress)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class TrainResult:
    output_dir: Path
    steps: int
    history: list[dict[str, Any]] = field(default_factory=list)  # this run's steps
    adapter_dir: Path | None = None
    merged_dir: Path | None = None
    model_dir: Path | None = None
    resumed_from: Path | None = None
    examples: int = 0
    ocr_examples: int = 0


def _plan_key(cfg: TrainConfig, n: int) -> dict[str, Any]:
    """What must match for a resumed run to see the same data order."""
    keys = ("data", "batch_size", "grad_accum", "seed", "epochs", "max_steps", "ocr_aux_ratio")
    return {"examples": n, **{k: getattr(cfg, k) for k in keys}}


def train(
    cfg: TrainConfig,
    *,
    resume: str | None = None,
    stop_after: int | None = None,
    tm: TrainModel | None = None,
) -> TrainResult:
    """Run SFT per ``cfg``; ``resume`` is 'auto' or a checkpoint directory.

    ``stop_after`` ends this run after that many steps with a checkpoint (for time-boxed or
    preemptible jobs: the next run with ``resume='auto'`` continues); the final model is written
    only by the run that reaches the last step.
    """
    import torch
    from tqdm import tqdm

    out = Path(cfg.output_dir)
    tm, dataset = _prepare(cfg, tm)
    processor = tm.processor
    examples = dataset.examples
    plan = Plan(len(examples), cfg.batch_size, cfg.grad_accum, cfg.seed, cfg.epochs, cfg.max_steps)
    total = plan.total_steps
    warmup = int(cfg.warmup_ratio * total)
    params = list(tm.trainable().values())
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, total, warmup, cfg.lr_scheduler)
    )
    scaler = torch.amp.GradScaler("cuda") if tm.precision.scaler else None
    key = _plan_key(cfg, len(examples))
    step, resumed_from = _resume(out, resume, tm, (optimizer, scheduler, scaler), key, total)
    (out / "train_config.yaml").write_text(
        yaml.safe_dump(cfg.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    log.info(
        "%d examples (%d QA, %d OCR-aux, %d skipped as too long), %d steps of %d×%d, %s",
        *(len(examples), dataset.qa, dataset.ocr, len(dataset.skipped)),
        *(total, cfg.batch_size, cfg.grad_accum, tm.precision.name),
    )
    result = TrainResult(
        out, step, resumed_from=resumed_from, examples=len(examples), ocr_examples=dataset.ocr
    )
    pad_id = processor.tokenizer.pad_token_id
    if pad_id is None:
        pad_id = processor.tokenizer.eos_token_id
    device = torch.device(tm.device if tm.device == "cpu" else "cuda")
    started = time.perf_counter()
    window: list[float] = []
    bar = tqdm(total=total, initial=step, disable=not cfg.progress, desc="sft", unit="step")
    with (out / LOG_FILE).open("a", encoding="utf-8") as log_fh:
        stop_at = total if stop_after is None else min(total, step + stop_after)
        while step < stop_at:
            epoch, micro = plan.step_batches(step)
            batches = [
                collate([encode(examples[i], processor) for i in mb], pad_id) for mb in micro
            ]
            n_tokens = max(1, sum(answer_tokens(b) for b in batches))
            step_loss, grad_norm, lr = _optimizer_step(
                tm, batches, n_tokens, device, (optimizer, scheduler, scaler), params, cfg
            )
            step += 1
            record = {
                "step": step,
                "epoch": epoch,
                "loss": round(step_loss, 6),
                "lr": lr,
                "grad_norm": round(grad_norm, 4),
                "tokens": n_tokens,
                "elapsed_s": round(time.perf_counter() - started, 3),
            }
            result.history.append(record)
            log_fh.write(json.dumps(record) + "\n")
            log_fh.flush()
            window.append(step_loss)
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.4f}", lr=f"{lr:.2e}")
            if step % cfg.logging_steps == 0 or step == total:
                _log_progress(record, total, sum(window) / len(window), len(result.history))
                window.clear()
            if (step % cfg.save_steps == 0 and step < total) or step == stop_at < total:
                save_checkpoint(
                    out,
                    step,
                    tm.trainable(),
                    optimizer,
                    scheduler,
                    scaler,
                    {"plan": key, "total_steps": total},
                    cfg.save_total_limit,
                )
    bar.close()
    result.steps = step
    if step >= total:
        _finish(cfg, tm, result, dataset)
    else:
        log.info("stopped at step %d of %d; continue with --resume", step, total)
    return result


def _prepare(cfg: TrainConfig, tm: TrainModel | None) -> tuple[TrainModel, Any]:
    """Seeded model and examples; a clear error when there is nothing to train on."""
    import torch

    if not cfg.data:
        raise DataError(
            "No training data: pass --data FILE.jsonl.",
            "未指定训练数据：请传入 --data FILE.jsonl。",
        )
    Path(cfg.output_dir).mkdir(parents=True, exist_ok=True)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    rows = read_rows(cfg.data)
    tm = tm or build_model(cfg)
    dataset = build_examples(rows, cfg, tm.processor)
    if not dataset.examples:
        raise DataError(
            f"No usable training example (all {len(dataset.skipped)} exceed max_length={cfg.max_length}).",
            f"没有可用的训练样本（全部 {len(dataset.skipped)} 条超过 max_length={cfg.max_length}）。",
        )
    return tm, dataset


def _resume(
    out: Path, resume: str | None, tm: TrainModel, optim: tuple, key: Any, total: int
) -> tuple[int, Path | None]:
    """(step to start at, checkpoint resumed from): ``resume`` is 'auto' or a directory."""
    if not resume:
        return 0, None
    resumed_from = find_checkpoint(out, resume)
    if resumed_from is None:
        log.info("no checkpoint under %s: starting from step 0", out)
        return 0, None
    optimizer, scheduler, scaler = optim
    state = load_checkpoint(resumed_from, tm.trainable(), optimizer, scheduler, scaler)
    step = int(state["step"])
    if state.get("plan") != key:
        log.warning(
            "resuming %s with a different data plan: %s vs %s", resumed_from, state.get("plan"), key
        )
    log.info("resumed from %s at step %d of %d", resumed_from, step, total)
    return step, resumed_from


def _optimizer_step(
    tm: TrainModel,
    batches: list[dict],
    n_tokens: int,
    device: Any,
    optim: tuple,
    params: list,
    cfg: TrainConfig,
) -> tuple[float, float, float]:
    """One optimizer step over the micro-batches (loss per answer token): (loss, grad norm, lr)."""
    import torch

    optimizer, scheduler, scaler = optim
    step_loss = 0.0
    for batch in batches:
        batch = {k: v.to(device) for k, v in batch.items()}
        autocast = (
            torch.autocast(device.type, dtype=tm.precision.autocast)
            if tm.precision.autocast is not None
            else contextlib.nullcontext()
        )
        with autocast:
            loss_sum, _ = answer_loss(tm.inner, batch)
        loss = loss_sum / n_tokens
        (scaler.scale(loss) if scaler else loss).backward()
        step_loss += float(loss.detach())
    if scaler:
        scaler.unscale_(optimizer)
    grad_norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm))
    if scaler:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    lr = scheduler.get_last_lr()[0]
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return step_loss, grad_norm, lr


def _log_progress(record: dict, total: int, mean_loss: float, done: int) -> None:
    per_step = record["elapsed_s"] / max(1, done)
    log.info(
        "step %d/%d  epoch %d  loss %.4f  lr %.2e  grad-norm %.3f  %.2fs/step  ETA %.0fs",
        record["step"],
        total,
        record["epoch"],
        mean_loss,
        record["lr"],
        record["grad_norm"],
        per_step,
        per_step * (total - record["step"]),
    )


def _finish(cfg: TrainConfig, tm: TrainModel, result: TrainResult, dataset: Any) -> None:
    """Write the adapter (and merged model) or the full model, with what produced them."""
    meta = {
        "base_model": tm.loaded.source,
        "profile": tm.loaded.profile.name,
        "tune": cfg.tune,
        "steps": result.steps,
        "final_loss": result.history[-1]["loss"] if result.history else None,
        "examples": {"qa": dataset.qa, "ocr": dataset.ocr, "skipped": len(dataset.skipped)},
        "lora_targets": tm.lora_targets,
        "config": cfg.to_dict(),
    }
    out = result.output_dir
    if cfg.tune == "lora":
        result.adapter_dir = save_adapter(
            tm.model, tm.processor, tm.loaded.source, out / "adapter", meta
        )
        log.info(
            "adapter saved: %s (GLYPH_MODEL=%s loads it in the VLM reader)",
            result.adapter_dir,
            result.adapter_dir,
        )
        if cfg.merge:
            result.merged_dir = merge_adapter(result.adapter_dir, out / "merged")
    else:
        result.model_dir = save_full(tm.inner, tm.processor, tm.loaded.source, out / "model", meta)
        log.info("model saved: %s", result.model_dir)
