"""scripts/export_onnx.py end to end, and the runner's handling of foreign or missing files."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from app.errors import ExportError
from app.export.loading import load_vision_tower
from app.readers.vlm.onnx_runner import VisionEncoderRunner

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "export_onnx.py"
_spec = importlib.util.spec_from_file_location("export_onnx_script", SCRIPT)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
main = _module.main


@pytest.mark.slow
def test_script_writes_fp32_model_and_report(tiny_vlm_dir, tmp_path, capsys):
    out = tmp_path / "sub" / "vision.onnx"
    code = main(["--model", str(tiny_vlm_dir), "--output", str(out), "--quantize", "none"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quantize"] == "none" and report["fp32_path"] == str(out)
    assert report["output_bytes"] == out.stat().st_size
    assert [c["grid"] for c in report["parity"]] == [[8, 12], [20, 14]]

    runner = VisionEncoderRunner(out, threads=1)
    assert runner.quantization == "none"
    assert runner.metadata["source"] == str(tiny_vlm_dir)
    # one page at a time; the patch count is any multiple of 4
    from PIL import Image

    image = Image.new("RGB", (123, 301), "white")
    result = runner.encode(image)
    assert result.features.shape == (result.grid_thw[1] * result.grid_thw[2] // 4, 64)
    assert np.isfinite(result.features).all() and result.encode_s > 0


def test_script_reports_errors_without_traceback(tmp_path, capsys):
    code = main(["--model", str(tmp_path), "--output", str(tmp_path / "x.onnx"), "--lang", "zh"])
    assert code == 1
    err = capsys.readouterr().err
    assert "config.json" in err and "Traceback" not in err


def test_runner_rejects_onnx_without_export_metadata(tmp_path):
    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    path = tmp_path / "foreign.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ExportError) as info:
        VisionEncoderRunner(path)
    assert "export_onnx.py" in info.value.user_message("en")


def test_loading_refuses_other_architectures(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}), encoding="utf-8")
    with pytest.raises(ExportError) as info:
        load_vision_tower(tmp_path)
    assert "GLM-4.1V" in info.value.user_message("en")


def test_loading_reports_missing_vision_weights(tiny_vlm_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    for name in ("config.json", "preprocessor_config.json"):
        (tmp_path / name).write_bytes((tiny_vlm_dir / name).read_bytes())
    weights = load_file(str(tiny_vlm_dir / "model.safetensors"))
    save_file(
        {k: v for k, v in weights.items() if "visual.merger" not in k},
        str(tmp_path / "model.safetensors"),
    )
    with pytest.raises(ExportError) as info:
        load_vision_tower(tmp_path)
    assert "merger" in info.value.user_message("en")


def test_runner_imports_no_torch():
    """The edge-device path: onnxruntime, numpy and Pillow only (torch/transformers not needed)."""
    import subprocess
    import sys

    code = (
        "import sys, app.readers.vlm.onnx_runner, app.readers.vlm.onnx_preprocess; "
        "print(sorted(m for m in ('torch', 'transformers', 'onnx') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=SCRIPT.parents[1],
    )
    assert out.stdout.strip() == "[]"
