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


def test_serve_on_a_busy_port_says_so_in_words(monkeypatch, tmp_path):
    import socket

    from typer.testing import CliRunner

    from app.cli import app

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setenv("GLYPH_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("GLYPH_INPROCESS_WORKER", "false")
        from app.settings import get_settings

        get_settings.cache_clear()
        result = CliRunner().invoke(app, ["serve", "--host", "127.0.0.1", "--port", str(port)])
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert f"Port {port} is already in use" in result.output and "GLYPH_PORT" in result.output
    assert "Traceback" not in result.output
