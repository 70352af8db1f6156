"""The repository keeps the promises of DESIGN.md and README.md."""

import re
import subprocess
from pathlib import Path

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_top_level_layout_matches_design():
    for name in ("Dockerfile", "docker-compose.yml", "界面推理.sh", "README.md", "pyproject.toml"):
        assert (ROOT / name).is_file(), name
    for name in ("app", "configs", "scripts", "tests", "bench", "docs", ".ci"):
        assert (ROOT / name).is_dir(), name


def test_readme_has_exactly_the_two_commands_and_ci_runs_the_test_one():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```bash\n(.*?)```", quick, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["./界面推理.sh", "./scripts/test.sh"]
    assert "./scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_readme_documents_every_setting():
    for name in Settings.model_fields:
        assert f"`GLYPH_{name.upper()}`" in README, f"GLYPH_{name.upper()} missing from README"


def test_scripts_are_executable_and_parse():
    for script in ("界面推理.sh", "scripts/setup.sh", "scripts/test.sh", ".ci/run"):
        path = ROOT / script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        subprocess.run(["bash", "-n", str(path)], check=True)
