"""The VLM reader with the ONNX vision encoder (onnxruntime) and the PyTorch language model."""

import pytest

from app.errors import ExportError
from app.export.onnx_export import FP32_TOLERANCE, export_checkpoint, relative_error
from app.readers.vlm import VlmReader
from app.readers.vlm.onnx_engine import OnnxVisionEngine, use_onnx_vision
from app.settings import Settings
from tests.helpers.fake_render import fake_render

DOC = "Revenue grew by 12% to 4.5 million dollars. The auditor was Jane Smith.\n" * 12


@pytest.fixture(scope="module")
def onnx_fp32(tiny_vlm_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx-engine") / "vision.onnx"
    export_checkpoint(tiny_vlm_dir, out, quantize="none", verify=False)
    return out


@pytest.fixture(scope="module")
def reader(tiny_vlm_dir, tmp_path_factory):
    settings = Settings(
        _env_file=None,
        model=str(tiny_vlm_dir),
        model_profile="none",
        device="cpu",
        dtype="float32",
        max_new_tokens=10,
        max_visual_tokens=100_000,
        data_dir=tmp_path_factory.mktemp("vlm-onnx") / "data",
    )
    r = VlmReader(settings)
    yield r
    r.close()


def final_answer(reader, rendered, question):
    chunks = list(reader.answer(rendered, question))
    return next(c.answer for c in chunks if c.kind == "final")


def test_onnx_features_and_answer_match_pytorch(reader, onnx_fp32):
    rendered = fake_render(DOC, cols=40, rows=10)
    images = [p.image for p in rendered.pages]
    hashes = [f"p{i}" for i in range(len(images))]
    torch_engine = reader.engine
    want_pages = torch_engine.encode_pages(images, hashes)
    want = final_answer(reader, rendered, "How much did revenue grow?")

    engine = use_onnx_vision(reader, onnx_fp32, threads=1)
    try:
        assert reader.engine is engine and isinstance(engine, OnnxVisionEngine)
        got_pages = engine.encode_pages(images, hashes)
        for a, b in zip(got_pages, want_pages, strict=True):
            assert a.grid_thw == b.grid_thw
            assert relative_error(a.features.numpy(), b.features.numpy()) <= FP32_TOLERANCE
        assert engine.vision_runs == 1
        engine.encode_pages(images, hashes)
        assert engine.vision_runs == 1  # cached: onnxruntime not called again
        got = final_answer(reader, rendered, "How much did revenue grow?")
        assert (want.text or want.thinking) and got.text == want.text
        assert got.thinking == want.thinking
        assert engine.vision_s > 0
    finally:
        reader.engine = torch_engine


def test_features_of_another_model_are_refused(reader, onnx_fp32, tmp_path):
    import json

    import onnx

    model = onnx.load(str(onnx_fp32))
    for prop in model.metadata_props:
        if prop.key == "glyph.vision_encoder":
            facts = json.loads(prop.value)
            facts["vision"]["out_hidden_size"] = 128  # as if exported from a wider model
            prop.value = json.dumps(facts)
    out = tmp_path / "other.onnx"
    onnx.save(model, str(out))
    with pytest.raises(ExportError) as info:
        OnnxVisionEngine(reader.loaded, out)
    assert "128" in info.value.user_message("en") and "128" in info.value.user_message("zh")


def test_glyph_vision_onnx_setting(reader, onnx_fp32, tiny_vlm_dir, tmp_path):
    """GLYPH_VISION_ONNX: the reader users get from the settings runs pages through the ONNX file
    and answers like the PyTorch encoder; a missing file is a clear note, not a crash."""
    from app.readers import resolve_reader

    rendered = fake_render(DOC, cols=40, rows=10)
    want = final_answer(reader, rendered, "Who was the auditor?")
    settings = reader.settings.model_copy(update={"vision_onnx": onnx_fp32})
    choice = resolve_reader(settings, "vlm")
    try:
        assert choice.notes == [] and isinstance(choice.reader.engine, OnnxVisionEngine)
        assert "ONNX vision encoder" in choice.reader.capabilities.description
        got = final_answer(choice.reader, rendered, "Who was the auditor?")
        assert got.text == want.text and got.thinking == want.thinking
        assert choice.reader.engine.vision_runs == 1
    finally:
        choice.reader.close()
    missing = reader.settings.model_copy(update={"vision_onnx": tmp_path / "nope.onnx"})
    choice = resolve_reader(missing, "vlm")
    assert choice.reader.name == "ocr"
    assert "GLYPH_VISION_ONNX" in choice.notes[0].en and "nope.onnx" in choice.notes[0].en
    assert "GLYPH_VISION_ONNX" in choice.notes[0].zh
    choice.reader.close()
