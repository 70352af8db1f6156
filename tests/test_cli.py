import subprocess
import sys

from typer.testing import CliRunner

from app.cli import app


def test_help_lists_subcommands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("render", "ask", "serve", "worker", "jobs"):
        assert command in result.output


def test_python_dash_m_app_runs_without_heavy_imports():
    # `python -m app --help` must stay light: no torch/transformers/gradio at import time.
    code = (
        "import sys, runpy; sys.argv=['app','--help'];\n"
        "try:\n    runpy.run_module('app', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy=[m for m in ('torch','transformers','gradio') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Commands" in out.stdout
    assert "HEAVY []" in out.stdout
