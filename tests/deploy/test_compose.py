"""docker-compose.yml and glyph.env, parsed with pyyaml (no Docker engine runs here).

Checks the GPU reservations, ports, volumes and profiles, that every GLYPH_ variable the files name
is a real setting, that the commands they run exist (``python -m app worker``, the vLLM flags of
docs/DEPLOY.md), and that the addresses in glyph.env point at the compose services. Where the
Debian ``docker-compose`` (1.29, Python) is installed, it validates the file against its schema.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from deploy_files import (
    COMPOSE,
    DEPLOY_DOC,
    ROOT,
    arg_defaults,
    interpolation_default,
    load_compose,
    parse_dockerfile,
)

from app.settings import Settings, unknown_keys

SPEC = load_compose()
SERVICES = SPEC["services"]
GLYPH_VAR = re.compile(r"\bGLYPH_[A-Z0-9_]+\b")


def _env_file_lines(service: dict) -> list[str]:
    files = service.get("env_file", [])
    files = [files] if isinstance(files, str) else files
    lines = []
    for name in files:
        path = ROOT / name
        assert path.is_file(), f"env_file {name} must exist (compose refuses to start otherwise)"
        lines += path.read_text(encoding="utf-8").splitlines()
    return lines


def _settings_names(text: str) -> set[str]:
    return {name for name in GLYPH_VAR.findall(text) if name != "GLYPH_MODELS_DIR"}


def _is_setting(name: str) -> bool:
    return name[len("GLYPH_") :].lower() in Settings.model_fields


# --- services and profiles --------------------------------------------------------------------


def test_services_and_profiles():
    assert set(SERVICES) == {"app", "vllm", "redis", "worker"}
    assert "profiles" not in SERVICES["app"], "the app starts with a plain `docker compose up`"
    assert SERVICES["vllm"]["profiles"] == ["vllm"]
    assert SERVICES["redis"]["profiles"] == ["queue"]
    assert SERVICES["worker"]["profiles"] == ["queue"]


@pytest.mark.parametrize("name", ["app", "vllm", "worker"])
def test_gpu_reservation(name):
    devices = SERVICES[name]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]


def test_app_port_matches_the_image_and_settings():
    _, stages = parse_dockerfile()
    exposed = stages[-1].find("EXPOSE")[0].args
    assert SERVICES["app"]["ports"] == [f"{exposed}:{exposed}"]
    assert int(exposed) == Settings.model_fields["port"].default
    for name in ("vllm", "redis", "worker"):
        assert "ports" not in SERVICES[name], f"{name} stays on the compose network"


def test_volumes_models_and_shared_data():
    def mounts(service: str) -> dict[str, str]:
        out = {}
        for entry in SERVICES[service]["volumes"]:
            source, target = interpolation_default(entry).split(":")[:2]
            out[target] = source
        return out

    app, worker, vllm = mounts("app"), mounts("worker"), mounts("vllm")
    assert app["/root/models"] == "/root/models"  # where the guide downloads the checkpoint
    assert "${GLYPH_MODELS_DIR:-" in SERVICES["app"]["volumes"][0]
    assert app["/root/models"] == worker["/root/models"] == vllm["/root/models"]
    # one named volume for results, uploads and the job store, shared by app and worker
    assert app["/root/data"] == worker["/root/data"] == "glyph-data"
    assert "glyph-data" in SPEC["volumes"]
    redis = mounts("redis")
    assert redis["/data"] in SPEC["volumes"]
    assert "--appendonly" in SERVICES["redis"]["command"]


def test_app_and_worker_share_image_and_settings():
    app, worker = SERVICES["app"], SERVICES["worker"]
    assert app["image"] == worker["image"]
    assert app["env_file"] == worker["env_file"]
    assert app["build"]["context"] == "."


def test_worker_runs_the_job_worker_command():
    worker = SERVICES["worker"]
    assert [*worker["entrypoint"], *worker["command"]] == ["python", "-m", "app", "worker"]
    from app.cli import app as cli

    names = {c.name or c.callback.__name__ for c in cli.registered_commands}
    assert "worker" in names
    assert worker["healthcheck"] == {"disable": True}  # the image's check probes the UI
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"


def test_app_waits_for_optional_servers_without_requiring_them():
    deps = SERVICES["app"]["depends_on"]
    for name in ("vllm", "redis"):
        assert deps[name]["required"] is False
        assert deps[name]["condition"] == "service_healthy"
        assert "healthcheck" in SERVICES[name]


# --- environment: names are settings, addresses point at the services -------------------------


def test_every_glyph_variable_named_is_a_setting():
    text = COMPOSE.read_text(encoding="utf-8")
    lines = _env_file_lines(SERVICES["app"])
    names = _settings_names(text) | _settings_names("\n".join(lines))
    assert names, "glyph.env documents the settings"
    for name in sorted(names):
        assert _is_setting(name), f"{name} is not a field of app.settings.Settings"
    for service in SERVICES.values():
        env = service.get("environment", {})
        keys = env if isinstance(env, dict) else [e.split("=")[0] for e in env]
        for key in keys:
            assert not key.startswith("GLYPH_") or _is_setting(key), key


def _env_file_settings() -> dict[str, str]:
    """Every ``# GLYPH_X=value`` or ``GLYPH_X=value`` line of glyph.env (last one wins)."""
    out = {}
    for line in _env_file_lines(SERVICES["app"]):
        match = re.match(r"^#?\s*(GLYPH_[A-Z0-9_]+)=(.*)$", line.strip())
        if match:
            out[match.group(1)] = match.group(2).strip()
    return out


def test_env_file_only_holds_valid_values():
    # uncommented lines must be accepted by Settings (what the containers will read)
    active = {}
    for line in _env_file_lines(SERVICES["app"]):
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            active[key.strip()[len("GLYPH_") :].lower()] = value.strip()
    # Settings ignores unknown names (extra="ignore"): check the names themselves first
    assert not unknown_keys({f"GLYPH_{k.upper()}": v for k, v in active.items()}, None)
    Settings(_env_file=None, **active)
    # and so must every documented (commented) value
    documented = {k[len("GLYPH_") :].lower(): v for k, v in _env_file_settings().items()}
    Settings(_env_file=None, **{k: v for k, v in documented.items() if v})


def test_env_file_addresses_point_at_the_compose_services():
    values = _env_file_settings()
    url = values["GLYPH_OPENAI_BASE_URL"]
    match = re.fullmatch(r"http://(\w+):(\d+)/v1", url)
    assert match and match.group(1) == "vllm"
    assert f"--port {match.group(2)}" in " ".join(SERVICES["vllm"]["command"])
    assert values["GLYPH_READER"] == "openai"
    redis = re.fullmatch(r"redis://(\w+):(\d+)/\d+", values["GLYPH_REDIS_URL"])
    assert redis and redis.group(1) == "redis" and redis.group(2) == "6379"


# --- the vLLM server ----------------------------------------------------------------------------


def _flags(words: list[str]) -> dict[str, str]:
    out, i = {}, 0
    while i < len(words):
        if words[i].startswith("--"):
            value = words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith("--") else ""
            out[words[i]] = value
            i += 2 if value else 1
        else:
            i += 1
    return out


def test_vllm_serves_glyph_under_the_apps_model_name():
    vllm = SERVICES["vllm"]
    assert vllm["image"].startswith("vllm/vllm-openai:")
    assert vllm["entrypoint"] == ["vllm", "serve"]
    command = [str(w) for w in vllm["command"]]
    assert interpolation_default(command[0]) == "/root/models/Glyph"
    flags = _flags(command)
    assert flags["--served-model-name"] == Settings.model_fields["openai_model"].default
    assert flags["--host"] == "0.0.0.0"
    assert vllm["ipc"] == "host"


def test_vllm_flags_match_the_documented_command():
    doc = DEPLOY_DOC.read_text(encoding="utf-8")
    block = re.search(r"```bash\n[^`]*?(vllm serve [^`]*?)```", doc)
    assert block, "docs/DEPLOY.md documents the vllm serve command"
    documented = _flags(
        [w.strip("'") for w in re.findall(r"'[^']*'|\S+", block.group(1).replace("\\\n", " "))]
    )
    served = _flags([str(w) for w in SERVICES["vllm"]["command"]])
    for flag in ("--served-model-name", "--reasoning-parser", "--max-model-len", "--port"):
        assert served[flag] == documented[flag], flag
    assert yaml.safe_load(served["--limit-mm-per-prompt"]) == yaml.safe_load(
        documented["--limit-mm-per-prompt"]
    )


def test_compose_builds_the_same_image_the_dockerfile_describes():
    instructions, _ = parse_dockerfile()
    assert "BASE_IMAGE" in arg_defaults(instructions)
    assert SERVICES["app"]["build"] == {"context": "."}
    assert (ROOT / "Dockerfile").is_file()


# --- schema validation by a real compose implementation, where installed ------------------------


@pytest.mark.parametrize("profiles", [[], ["vllm"], ["queue"], ["vllm", "queue"]])
def test_docker_compose_validates_the_file(tmp_path, profiles):
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose (Debian package, Python 1.29) is not installed")
    # compose 1.29 predates `depends_on: {required: false}` (compose v2); drop that key only.
    spec = load_compose()
    for service in spec["services"].values():
        for dep in (service.get("depends_on") or {}).values():
            dep.pop("required", None)
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(yaml.safe_dump(spec), encoding="utf-8")
    (tmp_path / "glyph.env").write_text((ROOT / "glyph.env").read_text(encoding="utf-8"))
    args = [exe, "-f", str(copy), "--project-directory", str(tmp_path)]
    for profile in profiles:
        args += ["--profile", profile]
    result = subprocess.run(
        [*args, "config", "-q"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
