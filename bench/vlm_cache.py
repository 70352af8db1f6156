"""What the VLM reader's caches save on a follow-up question (CPU, random-weight GLM-4.1V).

Measured side by side in one run, on a document rendered by ``app.render``:

* ``naive``     — ``model.generate`` on the whole prompt with pixels, as without any cache:
                  vision encoder + full prefill every question;
* ``cold``      — the reader's first question (vision encoder, document prefill, question);
* ``features``  — a question whose page features are cached but whose prefix is not (e.g. another
                  page selection): no vision encoder, document prefill again;
* ``follow-up`` — a second question on the same pages: only the question is prefilled.

Times are medians over ``--repeat`` runs; decoding is capped at ``--new-tokens`` so that the
prefill part dominates as it does for long documents. Random weights: the text is garbage, the
compute is real. The model size is tiny or small (``--size``), so absolute numbers say nothing
about the 9B model; the *ratios* show what the caches skip.

    .venv/bin/python bench/vlm_cache.py --size small --pages 8
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {
    "tiny": ({}, {}),
    # ~20 M parameters: big enough that prefill and the vision encoder dominate on a CPU
    "small": (
        {
            "hidden_size": 512,
            "intermediate_size": 1408,
            "num_hidden_layers": 4,
            "num_attention_heads": 8,
            "num_key_value_heads": 2,
            "initializer_range": 0.02,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 10000.0,
                "partial_rotary_factor": 0.5,
                "mrope_section": [4, 6, 6],
            },
        },
        {
            "depth": 4,
            "hidden_size": 256,
            "num_heads": 4,
            "intermediate_size": 1024,
            "out_hidden_size": 512,
            "initializer_range": 0.02,
        },
    ),
}


def make_document(pages: int):
    from app.render import render, resolve_config

    line = (
        "Quarterly report {i}: revenue grew by {p}% to {m} million dollars; the auditor for "
        "region {i} was office {o} in Berlin, and the contract ends in month {k}."
    )
    lines, doc = [], None
    config = resolve_config("en")
    while doc is None or len(doc.pages) < pages:
        lines.extend(
            line.format(i=i, p=i % 17, m=i % 9 + 1, o=i * 7 % 31, k=i % 12 + 1)
            for i in range(len(lines), len(lines) + 40)
        )
        doc = render("\n".join(lines), config, name="bench")
    # trim to exactly `pages` pages
    end = doc.layout.span_of_page(pages - 1)[1]
    return render(doc.text[:end], config, name="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from app.readers.vlm import VlmReader
    from app.readers.vlm.prompts import chat_prompt, instruction
    from app.settings import Settings
    from tests.helpers.tiny_vlm import build_tiny_glm4v, parameter_count

    text_over, vision_over = SIZES[args.size]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_glm4v(
            Path(tmp) / "ckpt",
            max_pixels=28 * 28 * 15000,
            text_overrides=text_over,
            vision_overrides=vision_over,
        )
        settings = Settings(
            _env_file=None,
            model=str(model_dir),
            model_profile="none",
            device="cpu",
            dtype="float32",
            max_new_tokens=args.new_tokens,
            data_dir=Path(tmp) / "data",
        )
        reader = VlmReader(settings)
        engine = reader.engine
        doc = make_document(args.pages)
        questions = ["Which office audited region 3?", "How much did revenue grow in report 5?"]

        def ask(question):
            return reader.ask(doc, question)

        def naive():
            images = [p.image.convert("RGB") for p in doc.pages]
            n = len(images)
            prefix, suffix = chat_prompt(
                engine.processor, n, instruction("qa", questions[1], n, "en")
            )
            inputs = engine.processor(text=[prefix + suffix], images=images, return_tensors="pt")
            engine.model.model.rope_deltas = None
            with torch.no_grad():
                return engine.model.generate(
                    **inputs,
                    max_new_tokens=args.new_tokens,
                    min_new_tokens=args.new_tokens,
                    do_sample=False,
                )

        def cold():
            engine.clear()
            return ask(questions[0])

        def features_only():
            engine.prefixes.clear()
            return ask(questions[1])

        def follow_up():
            return ask(questions[1])

        naive()  # warm-up (allocator, kernels)
        paths = {
            "naive generate (no cache)": naive,
            "cold (first question)": cold,
            "features cached, new prefix": features_only,
            "follow-up (prefix cached)": follow_up,
        }
        totals: dict[str, list[float]] = {name: [] for name in paths}
        stages: dict[str, list[dict]] = {name: [] for name in paths}
        # interleaved rounds: on a shared machine, load changes hit every path alike
        for _ in range(args.repeat):
            for name, fn in paths.items():
                runs_before = engine.vision_runs
                started = time.perf_counter()
                result = fn()
                totals[name].append(time.perf_counter() - started)
                if not isinstance(result, torch.Tensor):
                    stages[name].append(result.timings)
                if name.startswith("follow-up"):
                    assert engine.vision_runs == runs_before, "the follow-up ran the vision encoder"
        med = {name: statistics.median(v) for name, v in totals.items()}
        a_cold = cold()

        print(f"# VLM reader cache bench — size={args.size}, {parameter_count(model_dir):,} params")
        print(
            f"document: {len(doc.pages)} pages (en preset), {a_cold.stats.visual_tokens} visual "
            f"tokens, prompt {a_cold.stats.prompt_tokens} tokens; {args.new_tokens} new tokens; "
            f"torch threads {torch.get_num_threads()}; median of {args.repeat}"
        )
        print()
        print("| path | total s | vision s | doc prefill s | question prefill s | decode s |")
        print("|---|---|---|---|---|---|")
        keys = ("vision", "prefill_document", "prefill_question", "decode")
        for name in paths:
            cells = [
                f"{statistics.median(t[k] for t in stages[name]):.3f}" if stages[name] else "–"
                for k in keys
            ]
            print(f"| {name} | {med[name]:.3f} | " + " | ".join(cells) + " |")
        naive_s, cold_s = med["naive generate (no cache)"], med["cold (first question)"]
        feat_s, follow_s = med["features cached, new prefix"], med["follow-up (prefix cached)"]
        print()
        print(f"follow-up vs naive generate: {naive_s / follow_s:.1f}x faster")
        print(f"follow-up vs cold question:  {cold_s / follow_s:.1f}x faster")
        print(f"features cached vs cold:     {cold_s / feat_s:.2f}x (vision encoder skipped)")
        reader.close()


if __name__ == "__main__":
    main()
