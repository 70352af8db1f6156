"""The VLM reader on CUDA with the tiny checkpoint (skipped where CUDA is missing)."""

import pytest
import torch

from app.readers.vlm import VlmReader
from tests.helpers.fake_render import fake_render
from tests.readers.test_vlm_cache import Probe, _engine_tokens, _reference_tokens
from tests.readers.test_vlm_reader import DOC, final_of, make_settings

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def rendered():
    return fake_render(DOC, cols=40, rows=10)


@pytest.mark.parametrize(
    ("profile", "vision_4bit", "language_4bit"),
    [("int4-vision", True, False), ("int4-all", True, True), ("none", False, False)],
)
def test_profiles_on_cuda(tiny_vlm_dir, tmp_path, rendered, profile, vision_4bit, language_4bit):
    reader = VlmReader(make_settings(tiny_vlm_dir, tmp_path, device="cuda", model_profile=profile))
    try:
        layout = reader.loaded.layout
        assert (layout["vision"]["4bit"] > 0) == vision_4bit
        assert (layout["language"]["4bit"] > 0) == language_4bit
        assert layout["lm_head"]["4bit"] == 0
        assert reader.loaded.device == "cuda" and "cuda" in reader.capabilities.description
        embed = reader.loaded.model.get_input_embeddings().weight
        assert embed.device.type == "cuda" and embed.dtype == torch.float16

        probe = Probe(reader.engine.model)
        first = final_of(list(reader.answer(rendered, "How much did revenue grow?")))
        second = final_of(list(reader.answer(rendered, "Who was the auditor?")))
        probe.remove()
        assert probe.vision_calls == 1  # the follow-up reused the vision features and prefix
        assert second.timings["prefill_document"] == 0
        assert first.stats.peak_memory_mb > 0 and first.stats.visual_tokens > 0
    finally:
        reader.close()


def test_cached_path_matches_uncached_on_cuda(tiny_vlm_dir, tmp_path, rendered):
    reader = VlmReader(make_settings(tiny_vlm_dir, tmp_path, device="cuda", model_profile="none"))
    try:
        engine = reader.engine
        for question in ("How much did revenue grow?", "Who audited it?"):
            tokens, _, prompt = _engine_tokens(engine, rendered, question, max_new_tokens=4)
            reference = _reference_tokens(engine, rendered, prompt, len(tokens))
            # fp16 kernels differ between one long prefill and prefix + question: compare a few
            assert tokens[:2] == reference[:2]
    finally:
        reader.close()


def test_injected_oom_on_cuda_keeps_the_reader_usable(tiny_vlm_dir, tmp_path, rendered):
    from app.errors import ReaderError

    reader = VlmReader(make_settings(tiny_vlm_dir, tmp_path, device="cuda"))
    try:
        visual = reader.engine.model.model.visual

        def oom(*args):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")

        hook = visual.register_forward_pre_hook(oom)
        with pytest.raises(ReaderError, match="dpi"):
            list(reader.answer(rendered, "How much did revenue grow?"))
        hook.remove()
        assert final_of(list(reader.answer(rendered, "How much did revenue grow?")))
    finally:
        reader.close()
