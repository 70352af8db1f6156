"""The in-process VLM reader on a tiny random GLM-4.1V checkpoint: plumbing, not answer quality."""

import importlib.util
import math

import pytest
import torch

from app.datamodel import Mode
from app.errors import ReaderError
from app.readers import load_reader
from app.readers.vlm import VlmReader
from app.readers.vlm.processor import GlyphGlm4vProcessor
from app.readers.vlm.prompts import chat_prompt, instruction
from app.settings import Settings
from tests.helpers.fake_render import fake_render
from tests.helpers.reading import ask

DOC = "\n".join(
    [
        "Quarterly report of the ACME company.",
        "Revenue grew by 12% to 4.5 million dollars.",
        "The auditor was Jane Smith from Berlin.",
    ]
    * 12
)


def make_settings(model_dir, tmp_path, **overrides) -> Settings:
    values = dict(
        model=str(model_dir),
        model_profile="int4-vision",
        device="cpu",
        dtype="float16",
        max_new_tokens=12,
        max_visual_tokens=100_000,
        review_threshold=0.6,
        data_dir=tmp_path / "data",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="module")
def reader(tiny_vlm_dir, tmp_path_factory):
    r = VlmReader(make_settings(tiny_vlm_dir, tmp_path_factory.mktemp("vlm")))
    yield r
    r.close()


@pytest.fixture
def fresh(reader):
    """The module's reader with empty caches and default settings."""
    settings = reader.settings
    reader.engine.clear()
    yield reader
    reader.settings = settings
    reader.engine.clear()


@pytest.fixture(scope="module")
def rendered():
    return fake_render(DOC, cols=40, rows=10)  # 240×100 px pages ⇒ 36 visual tokens each


def final_of(chunks):
    finals = [c for c in chunks if c.kind == "final"]
    assert len(finals) == 1 and chunks[-1].kind == "final"
    return finals[0].answer


# --- loading --------------------------------------------------------------------------------------


def test_processor_works_without_torchvision(tiny_vlm_dir, rendered):
    assert importlib.util.find_spec("torchvision") is None
    proc = GlyphGlm4vProcessor.from_pretrained(tiny_vlm_dir)
    assert not hasattr(proc, "video_processor")
    assert type(proc.image_processor).__name__ == "Glm4vImageProcessorPil"
    page = rendered.pages[0].image.convert("RGB")
    prefix, suffix = chat_prompt(proc, 1, "What?")
    out = proc(text=[prefix + suffix], images=[page], return_tensors="pt")
    n_image = int((out["input_ids"] == proc.image_token_id).sum())
    assert n_image == int(out["image_grid_thw"].prod()) // 4 == proc.image_tokens(*page.size)
    assert n_image == 9 * 4  # 240×100 px round to 252×112 px = 18×8 patches, merged 2×2


def test_prefix_and_suffix_tokenize_to_the_whole_prompt(tiny_vlm_dir):
    proc = GlyphGlm4vProcessor.from_pretrained(tiny_vlm_dir)
    prefix, suffix = chat_prompt(proc, 3, instruction(Mode.QA, "Who audited?", 3, "en"))
    assert prefix.startswith("[gMASK]<sop><|user|>\n<|begin_of_image|>")
    assert prefix.endswith("<|end_of_image|>") and prefix.count("<|image|>") == 3
    assert "Who audited?" in suffix and suffix.endswith("<|assistant|>\n")
    tok = proc.tokenizer
    whole = tok(prefix + suffix, add_special_tokens=False)["input_ids"]
    parts = tok(prefix, add_special_tokens=False)["input_ids"]
    parts += tok(suffix, add_special_tokens=False)["input_ids"]
    assert whole == parts


def test_registry_loads_the_checkpoint_by_path(settings, tiny_vlm_dir):
    s = settings.model_copy(update={"model": str(tiny_vlm_dir), "device": "cpu"})
    r = load_reader("vlm", s)
    try:
        assert isinstance(r, VlmReader)
        assert r.capabilities.thinking and "cpu" in r.capabilities.description
        assert r.loaded.model.config.model_type == "glm4v"
        assert r.loaded.dtype == torch.float32  # fp16 is turned into fp32 on CPU
    finally:
        r.close()


@pytest.mark.parametrize(
    ("model", "needle"),
    [(None, "GLYPH_MODEL"), ("/no/such/dir", "does not exist"), ("not a hub id!", "not exist")],
)
def test_unusable_model_is_a_reader_error(settings, model, needle):
    with pytest.raises(ReaderError) as info:
        VlmReader(settings.model_copy(update={"model": model}))
    assert needle in info.value.en and info.value.zh != info.value.en


def test_directory_without_config_is_a_reader_error(settings, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReaderError, match=r"config\.json"):
        VlmReader(settings.model_copy(update={"model": str(tmp_path / "empty")}))


# --- answering ------------------------------------------------------------------------------------


def test_streamed_answer_and_stats(fresh, rendered):
    chunks = list(fresh.answer(rendered, "How much did revenue grow?"))
    answer = final_of(chunks)
    kinds = {c.kind for c in chunks}
    assert "status" in kinds and kinds <= {"status", "thinking", "answer", "final"}
    streamed_answer = "".join(c.text for c in chunks if c.kind == "answer").strip()
    streamed_thinking = "".join(c.text for c in chunks if c.kind == "thinking").strip()
    if not (answer.thinking and not streamed_thinking):  # close-without-open is fixed at the end
        assert (streamed_answer, streamed_thinking) == (answer.text, answer.thinking)
    assert answer.reader == "vlm" and answer.mode is Mode.QA
    assert answer.pages_read == list(range(len(rendered.pages)))
    proc = fresh.engine.processor
    stats = answer.stats
    assert stats.visual_tokens == sum(proc.image_tokens(*p.size) for p in rendered.pages)
    assert stats.text_tokens == len(proc.tokenizer(DOC, add_special_tokens=False)["input_ids"])
    assert stats.compression_ratio == pytest.approx(stats.text_tokens / stats.visual_tokens)
    assert 0 < stats.output_tokens <= 12
    assert stats.prompt_tokens > stats.visual_tokens
    assert stats.prefill_s > 0 and stats.decode_s > 0 and stats.peak_memory_mb > 0
    for key in ("vision", "prefill_document", "prefill_question", "decode", "total"):
        assert answer.timings[key] >= 0
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.needs_review == (answer.confidence < 0.6)


def test_non_streaming_gives_the_same_answer(fresh, rendered):
    streamed = final_of(list(fresh.answer(rendered, "Who was the auditor?")))
    fresh.engine.clear()
    chunks = list(fresh.answer(rendered, "Who was the auditor?", stream=False))
    assert {c.kind for c in chunks} <= {"status", "final"}
    answer = final_of(chunks)
    assert (answer.text, answer.thinking, answer.confidence) == (
        streamed.text,
        streamed.thinking,
        streamed.confidence,
    )
    assert ask(fresh, rendered, "Who was the auditor?").text == answer.text


def test_modes_use_their_templates(fresh, rendered):
    summary = final_of(list(fresh.answer(rendered, "", Mode.SUMMARY)))
    extract = final_of(list(fresh.answer(rendered, "", Mode.EXTRACT)))
    assert summary.mode is Mode.SUMMARY and extract.mode is Mode.EXTRACT
    assert "Summarize" in instruction(Mode.SUMMARY, "", 3, "en")
    assert "标签：值" in instruction(Mode.EXTRACT, "", 3, "zh")
    assert "问题：多少？" in instruction(Mode.QA, "多少？", 3, "zh")
    with pytest.raises(ReaderError):
        list(fresh.answer(rendered, "   ", Mode.QA))


# --- forced output: thinking split, stop token, confidence --------------------------------------


def _force(engine, script):
    """Make the model's generate() emit ``script`` (token ids) while the rest stays real."""
    from transformers import LogitsProcessor

    class Script(LogitsProcessor):
        def __call__(self, input_ids, scores):
            step = input_ids.shape[1] - self.prompt_len
            forced = torch.full_like(scores, -math.inf)
            forced[:, script[min(step, len(script) - 1)]] = 0.0
            return forced

    original = engine.model.generate

    def generate(**kwargs):
        proc = Script()
        proc.prompt_len = kwargs["input_ids"].shape[1]
        kwargs["logits_processor"].append(proc)
        return original(**kwargs)

    return generate


def test_thinking_split_stop_token_and_confidence(fresh, rendered, monkeypatch):
    tok = fresh.engine.tokenizer

    def ids(text):
        return tok(text, add_special_tokens=False)["input_ids"]

    special = tok.convert_tokens_to_ids
    thought, answer_a, answer_b = ids("The page says 12"), ids("Revenue grew by "), ids("12%")
    script = [
        special("<think>"),
        *thought,
        special("</think>"),
        *answer_a,
        special("<|begin_of_box|>"),
        *answer_b,
        special("<|end_of_box|>"),
        special("<|user|>"),  # a stop token from the generation config
    ]
    monkeypatch.setattr(fresh.engine.model, "generate", _force(fresh.engine, script))
    fresh.settings = fresh.settings.model_copy(update={"max_new_tokens": 64})
    recorded = {}
    confidence_of = fresh._confidence

    def spy(token_ids, logprobs):
        recorded.update(token_ids=token_ids, logprobs=logprobs)
        return confidence_of(token_ids, logprobs)

    monkeypatch.setattr(fresh, "_confidence", spy)
    chunks = list(fresh.answer(rendered, "How much did revenue grow?"))
    answer = final_of(chunks)
    assert answer.thinking == "The page says 12"
    assert answer.text == "Revenue grew by 12%"
    assert "".join(c.text for c in chunks if c.kind == "thinking") == "The page says 12"
    assert "".join(c.text for c in chunks if c.kind == "answer") == "Revenue grew by 12%"
    assert answer.stats.output_tokens == len(script) - 1  # the stop token is not counted
    assert not any("GLYPH_MAX_NEW_TOKENS" in n for n in map(str, answer.notes))

    # every token's log-probability equals the plain model's (full prompt, no cache, pixels)
    engine = fresh.engine
    prefix, suffix = chat_prompt(
        engine.processor,
        len(rendered.pages),
        instruction(Mode.QA, "How much did revenue grow?", len(rendered.pages), "en"),
    )
    images = [p.image.convert("RGB") for p in rendered.pages]
    inputs = engine.processor(text=[prefix + suffix], images=images, return_tensors="pt")
    gen = torch.tensor([script[:-1]])
    full = torch.cat([inputs["input_ids"], gen], dim=1)
    mm = torch.cat([inputs["mm_token_type_ids"], torch.zeros_like(gen)], dim=1)
    with torch.no_grad():
        logits = engine.model(
            input_ids=full,
            attention_mask=torch.ones_like(full),
            mm_token_type_ids=mm,
            pixel_values=inputs["pixel_values"],
            image_grid_thw=inputs["image_grid_thw"],
        ).logits[0]
    start = inputs["input_ids"].shape[1]
    logp = torch.log_softmax(logits[start - 1 : -1].float(), -1)
    token_lp = logp[torch.arange(gen.shape[1]), gen[0]]
    assert recorded["token_ids"] == script[:-1]
    assert recorded["logprobs"] == pytest.approx(token_lp.tolist(), abs=1e-3)
    # confidence = geometric mean probability of the answer tokens only
    answer_pos = [*range(len(thought) + 2, len(thought) + 2 + len(answer_a))]
    answer_pos += [answer_pos[-1] + 2 + k for k in range(len(answer_b))]  # after the box marker
    assert [script[i] for i in answer_pos] == answer_a + answer_b
    expected = math.exp(float(token_lp[answer_pos].mean()))
    assert answer.confidence == pytest.approx(expected, abs=1e-4)
    thinking_lp = [0.0] * (len(thought) + 2)  # <think> … </think>
    confidence, low = confidence_of(script[:-1], [*thinking_lp, *[-0.1] * 20])
    assert confidence == pytest.approx(math.exp(-0.1))  # thinking tokens do not count
    assert low == []  # p = 0.9 per token is above the review threshold

    fresh.settings = fresh.settings.model_copy(update={"review_threshold": 0.0})
    assert not final_of(list(fresh.answer(rendered, "How much did revenue grow?"))).needs_review
    fresh.settings = fresh.settings.model_copy(update={"review_threshold": 1.0})
    flagged = final_of(list(fresh.answer(rendered, "How much did revenue grow?")))
    assert flagged.needs_review and any("Low-confidence" in n for n in map(str, flagged.notes))


def test_length_limit_is_noted(fresh, rendered, monkeypatch):
    tok = fresh.engine.tokenizer
    word = tok("report", add_special_tokens=False)["input_ids"]
    monkeypatch.setattr(fresh.engine.model, "generate", _force(fresh.engine, word * 40))
    answer = final_of(list(fresh.answer(rendered, "Repeat?")))
    assert answer.stats.output_tokens == 12
    assert any("GLYPH_MAX_NEW_TOKENS=12" in n for n in map(str, answer.notes))


def test_pipeline_with_the_real_renderer(tiny_vlm_dir, tmp_path):
    from app.pipeline import Pipeline

    pipeline = Pipeline(make_settings(tiny_vlm_dir, tmp_path, reader="vlm"))
    try:
        rendered = pipeline.render(DOC, "en")
        answer = pipeline.ask_once(rendered, "Who was the auditor?")
        assert answer.reader == "vlm" and answer.stats.visual_tokens > 0
        assert "evidence" in answer.timings  # app.evidence ran on the VLM's answer
        follow_up = pipeline.ask_once(rendered, "How much did revenue grow?")
        assert follow_up.timings["vision"] == 0 and follow_up.timings["prefill_document"] == 0
    finally:
        pipeline.close()


def test_out_of_memory_while_loading_suggests_the_int4_profile(tiny_vlm_dir, tmp_path, monkeypatch):
    import transformers

    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")

    monkeypatch.setattr(transformers.AutoModelForImageTextToText, "from_pretrained", oom)
    with pytest.raises(ReaderError, match="GLYPH_MODEL_PROFILE=int4-all") as info:
        VlmReader(make_settings(tiny_vlm_dir, tmp_path))
    assert "显存" in info.value.zh
