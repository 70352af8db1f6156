"""The user entry points: scripts/train_sft.sh → python -m app.train sft, merge, synth; errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.train.cli import main
from app.train.synth import write_qa_set

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_train_sft_script_trains_and_saves_an_adapter(tiny_vlm_dir, tmp_path):
    data = write_qa_set(tmp_path / "qa.jsonl", n=4, lang="zh", sentences=2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")}
    env["PYTHON"] = sys.executable
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "train_sft.sh"),
            "--base",
            str(tiny_vlm_dir),
            "--data",
            str(data),
            "--out",
            str(out),
            "--max-steps",
            "2",
            "--set",
            "grad_accum=2",
            "--set",
            "render_overrides={dpi: 24}",
            "--set",
            "ocr_aux_ratio=0.5",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["steps"] == 2 and result["adapter"] == str(out / "adapter")
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    meta = json.loads((out / "adapter" / "glyph_train.json").read_text())
    assert meta["examples"] == {"qa": 4, "ocr": 2, "skipped": 0}
    # progress and loss are logged
    assert "step 2/2" in proc.stderr and "loss" in proc.stderr


def test_cli_errors_are_bilingual_not_tracebacks(tmp_path, capsys):
    assert main(["sft", "--data", str(tmp_path / "missing.jsonl"), "--base", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "错误：" in err and "Traceback" not in err
    assert main(["sft", "--config", "nope"]) == 2
    assert "Unknown training config 'nope'" in capsys.readouterr().err


def test_synth_command_writes_a_qa_set(tmp_path, capsys):
    out = tmp_path / "qa.jsonl"
    assert main(["synth", str(out), "--n", "6", "--lang", "mix", "--seed", "3"]) == 0
    rows = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert len(rows) == 6 and {r["lang"] for r in rows} == {"en", "zh"}
    for row in rows:  # every answer is written verbatim in its document
        assert row["answer"] in row["text"]
