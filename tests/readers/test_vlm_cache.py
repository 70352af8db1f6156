"""Follow-up questions reuse the vision features and the document prefix; OOM and page budgets."""

import pytest
import torch

from app.datamodel import Mode
from app.errors import ReaderError
from app.readers.vlm import VlmReader
from app.readers.vlm.generate import Generated
from app.readers.vlm.prompts import chat_prompt, instruction
from tests.helpers.fake_render import fake_render
from tests.readers.test_vlm_reader import DOC, final_of, make_settings

NEEDLE_DOC = "\n".join(
    [f"Section {i}: general remarks about the quarterly figures." for i in range(40)]
    + ["The zebra code of the green project is 77315."]
    + [f"Closing note {i}." for i in range(19)]
)


@pytest.fixture(scope="module")
def reader(tiny_vlm_dir, tmp_path_factory):
    r = VlmReader(make_settings(tiny_vlm_dir, tmp_path_factory.mktemp("vlm-cache")))
    yield r
    r.close()


@pytest.fixture
def fresh(reader):
    settings = reader.settings
    reader.engine.clear()
    yield reader
    reader.settings = settings
    reader.engine.clear()


@pytest.fixture(scope="module")
def rendered():
    return fake_render(DOC, cols=40, rows=10)


class Probe:
    """Counts vision-tower calls and records the sequence length of every language-model call."""

    def __init__(self, model):
        self.vision_calls = 0
        self.lm_lengths: list[int] = []
        self._handles = [
            model.model.visual.register_forward_pre_hook(self._vision),
            model.model.language_model.register_forward_pre_hook(self._lm, with_kwargs=True),
        ]

    def _vision(self, module, args):
        self.vision_calls += 1

    def _lm(self, module, args, kwargs):
        self.lm_lengths.append(int(kwargs["inputs_embeds"].shape[1]))

    def reset(self):
        self.vision_calls, self.lm_lengths = 0, []

    def remove(self):
        for handle in self._handles:
            handle.remove()


@pytest.fixture
def probe(fresh):
    p = Probe(fresh.engine.model)
    yield p
    p.remove()


def test_follow_up_skips_vision_encoder_and_document_prefill(fresh, rendered, probe):
    first = final_of(list(fresh.answer(rendered, "How much did revenue grow?")))
    (entry,) = fresh.engine.prefixes._data.values()
    assert probe.vision_calls == 1
    assert max(probe.lm_lengths) == entry.length > first.stats.visual_tokens  # document prefill
    assert first.timings["vision"] > 0 and first.timings["prefill_document"] > 0

    snapshot = [(layer.keys.clone(), layer.values.clone()) for layer in entry.cache.layers]
    probe.reset()
    second = final_of(list(fresh.answer(rendered, "Who was the auditor from Berlin?")))
    assert probe.vision_calls == 0
    question_tokens = second.stats.prompt_tokens - entry.length
    assert max(probe.lm_lengths) == question_tokens  # only the question was prefilled
    assert sum(probe.lm_lengths) < entry.length + question_tokens
    assert second.timings["vision"] == 0 and second.timings["prefill_document"] == 0
    assert any("vision encoder and document prefill skipped" in n for n in map(str, second.notes))
    assert second.stats.visual_tokens == first.stats.visual_tokens
    # the cached prefix is untouched by the questions decoded on top of it
    for (keys, values), layer in zip(snapshot, entry.cache.layers, strict=True):
        assert torch.equal(keys, layer.keys) and torch.equal(values, layer.values)


def _engine_tokens(engine, rendered, question, max_new_tokens=10):
    images = [p.image for p in rendered.pages]
    hashes = [p.sha256 for p in rendered.pages]
    n = len(images)
    prefix, suffix = chat_prompt(engine.processor, n, instruction(Mode.QA, question, n, "en"))
    entry, hit = engine.prefix(images, hashes, prefix, rendered.config.fingerprint())
    items = list(engine.answer(entry, suffix, max_new_tokens=max_new_tokens, stream=False))
    assert isinstance(items[-1], Generated)
    return items[-1].token_ids, hit, prefix + suffix


def _reference_tokens(engine, rendered, prompt, n_tokens):
    """Plain generate() on the whole prompt with pixels: no feature or prefix cache."""
    images = [p.image.convert("RGB") for p in rendered.pages]
    inputs = engine.processor(text=[prompt], images=images, return_tensors="pt").to(engine.device)
    engine.model.model.rope_deltas = None
    with torch.no_grad():
        out = engine.model.generate(
            **inputs, max_new_tokens=n_tokens, min_new_tokens=n_tokens, do_sample=False
        )
    return out[0, inputs["input_ids"].shape[1] :].tolist()


@pytest.mark.parametrize(("prefill_chunk", "vision_batch"), [(8192, 8192), (37, 40)])
def test_cached_path_decodes_exactly_like_the_uncached_model(
    fresh, rendered, monkeypatch, prefill_chunk, vision_batch
):
    engine = fresh.engine
    monkeypatch.setattr(engine, "prefill_chunk", prefill_chunk)  # 37: prefill in many slices
    monkeypatch.setattr(engine, "vision_batch_tokens", vision_batch)  # 40: one page per call
    runs = engine.vision_runs
    for question, cached in (("How much did revenue grow?", False), ("Who audited it?", True)):
        tokens, hit, prompt = _engine_tokens(engine, rendered, question)
        assert hit is cached
        assert tokens == _reference_tokens(engine, rendered, prompt, len(tokens))[: len(tokens)]
    expected_calls = 1 if vision_batch == 8192 else len(rendered.pages)
    assert engine.vision_runs - runs == expected_calls


def test_other_pages_reuse_page_features(fresh, rendered, probe):
    prefix_runs = fresh.engine.prefix_runs
    final_of(list(fresh.answer(rendered, "How much did revenue grow?")))
    assert probe.vision_calls == 1
    probe.reset()
    per_page = fresh.engine.page_tokens(rendered.pages[0].image)
    fresh.settings = fresh.settings.model_copy(update={"max_visual_tokens": 2 * per_page})
    answer = final_of(list(fresh.answer(rendered, "Who was the auditor from Berlin?")))
    assert len(answer.pages_read) == 2
    assert probe.vision_calls == 0  # new prefix, but every page was encoded before
    assert fresh.engine.prefix_runs == prefix_runs + 2
    assert any("features came from the cache" in n for n in map(str, answer.notes))


def test_too_many_pages_reads_the_best_ones_and_says_so(fresh):
    doc = fake_render(NEEDLE_DOC, cols=60, rows=6)
    assert len(doc.pages) == 10
    needle_page = doc.layout.char_box(NEEDLE_DOC.index("77315"))[0]
    per_page = fresh.engine.page_tokens(doc.pages[0].image)
    fresh.settings = fresh.settings.model_copy(update={"max_visual_tokens": 2 * per_page})
    chunks = list(fresh.answer(doc, "What is the zebra code of the green project?"))
    answer = final_of(chunks)
    assert needle_page in answer.pages_read and len(answer.pages_read) == 2
    assert answer.stats.visual_tokens <= 2 * per_page
    assert any("GLYPH_MAX_VISUAL_TOKENS" in n for n in map(str, answer.notes))
    assert any(c.kind == "status" and "GLYPH_MAX_VISUAL_TOKENS" in c.text for c in chunks)
    summary = final_of(list(fresh.answer(doc, "", Mode.SUMMARY)))
    assert summary.pages_read == [0, 9]


def test_pages_beyond_the_model_context_are_not_sent(fresh, rendered, monkeypatch):
    from app.readers.vlm.select import PROMPT_RESERVE

    per_page = fresh.engine.page_tokens(rendered.pages[0].image)
    text_config = fresh.engine.model.config.text_config
    context = PROMPT_RESERVE + fresh.settings.max_new_tokens + 2 * per_page
    monkeypatch.setattr(text_config, "max_position_embeddings", context)
    answer = final_of(list(fresh.answer(rendered, "Who was the auditor from Berlin?")))
    assert len(answer.pages_read) == 2
    assert any(f"{context}-token context" in n for n in map(str, answer.notes))


def _oom(*args, **kwargs):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_oom_in_the_vision_encoder_is_a_clear_error_and_the_reader_recovers(
    fresh, rendered, monkeypatch
):
    monkeypatch.setattr(fresh.engine.model.model, "get_image_features", _oom)
    with pytest.raises(ReaderError) as info:
        list(fresh.answer(rendered, "How much did revenue grow?"))
    err = info.value
    assert "out of memory" in err.en and "dpi" in err.en and "int4-all" in err.en
    assert "显存" in err.zh
    assert len(fresh.engine.prefixes) == 0 and len(fresh.engine.features) == 0
    monkeypatch.undo()
    assert final_of(list(fresh.answer(rendered, "How much did revenue grow?"))).text is not None


def test_oom_while_decoding_is_raised_from_the_worker_thread(fresh, rendered):
    final_of(list(fresh.answer(rendered, "How much did revenue grow?")))  # prefix cached
    assert len(fresh.engine.prefixes) == 1
    # the prefix is cached: every language-model call now runs inside generate()'s thread
    hook = fresh.engine.model.model.language_model.register_forward_pre_hook(_oom)
    try:
        with pytest.raises(ReaderError, match="out of memory"):
            list(fresh.answer(rendered, "Who was the auditor?"))
    finally:
        hook.remove()
    assert len(fresh.engine.prefixes) == 0  # caches dropped to free memory
    answer = final_of(list(fresh.answer(rendered, "Who was the auditor?")))
    assert answer.stats.output_tokens > 0


def test_consumer_that_stops_early_cancels_decoding(fresh, rendered):
    fresh.settings = fresh.settings.model_copy(update={"max_new_tokens": 200})
    stream = fresh.answer(rendered, "How much did revenue grow?")
    for chunk in stream:
        if chunk.kind in ("answer", "thinking"):
            break
    stream.close()  # the worker thread is joined, the lock released
    answer = final_of(list(fresh.answer(rendered, "Who was the auditor?", stream=False)))
    assert answer.stats.output_tokens <= 200
