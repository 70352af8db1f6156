"""The repository keeps the promises of docs/ARCHITECTURE.md and README.md."""

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


# --- the import structure of app/ (docs/ARCHITECTURE.md, "Layers") ----------------------------

APP = ROOT / "app"
# Lowest first. A module may import its own layer and the layers below it, never above.
LAYERS: list[tuple[str, ...]] = [
    (
        "app",
        "app.errors",
        "app.settings",
        "app.datamodel",
        "app.text",
        "app.files",
        "app.markup",
        "app.memory",
    ),
    ("app.ocr",),
    ("app.ingest", "app.render", "app.evidence", "app.readers"),
    ("app.pipeline", "app.report", "app.auth"),
    ("app.export", "app.search", "app.train"),
    ("app.commands", "app.jobs", "app.ui", "app.cli", "app.__main__"),
]
# Within the stage layer: the stages before the readers never reach into them.
FORBIDDEN: list[tuple[tuple[str, ...], str]] = [
    (("app.ingest", "app.render", "app.evidence"), "app.readers"),
]


def _package_of(module: str) -> str:
    """The LAYERS entry a module belongs to (longest prefix)."""
    names = [n for layer in LAYERS for n in layer]
    owners = [n for n in names if module == n or module.startswith(n + ".")]
    return max(owners, key=len)


def _layer(module: str) -> int:
    owner = _package_of(module)
    return next(i for i, layer in enumerate(LAYERS) if owner in layer)


def app_modules(root: Path = APP) -> dict[str, Path]:
    modules = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def import_graph(root: Path = APP) -> dict[str, set[str]]:
    """module → the app modules it imports anywhere in its code (function-level and
    TYPE_CHECKING imports included); ``from pkg import mod`` counts as importing ``pkg.mod``."""
    import ast

    modules = app_modules(root)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {resolve(a.name) for a in node.names} - {None}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    target = full if full in modules else resolve(base)
                    if target:
                        targets.add(target)
        targets.discard(module)
        graph[module] = targets
    return graph


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in graph.items():
        for target in targets:
            if _layer(target) > _layer(module):
                found.append(f"{module} imports {target} (a higher layer)")
            for sources, banned in FORBIDDEN:
                if _package_of(module) in sources and _package_of(target) == banned:
                    found.append(f"{module} imports {target} ({banned} is off limits)")
    return sorted(found)


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one file (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_every_app_module_has_a_layer():
    for module in app_modules():
        _layer(module)  # raises (max of an empty list) for a module outside every layer


def test_no_module_imports_a_higher_layer_or_a_forbidden_stage():
    assert layering_violations(import_graph()) == []


def test_no_two_app_files_import_each_other_in_a_cycle():
    assert import_cycles(import_graph()) == []


def test_the_checks_catch_the_imports_they_are_for():
    """The layering and cycle checks fail on the imports found in the review that led to them."""
    bad = {
        "app.render.batch": {"app.pipeline"},  # a command living inside a stage
        "app.ingest.scan_ocr": {"app.readers.ocr.engines"},  # ingest reaching into a reader
        "app.readers.vlm.reader": {"app.export.engine"},  # a reader importing a tool
        "app.export.engine": {"app.readers.vlm"},
        "app.ui.manager": {"app.jobs.runner"},  # same layer: allowed
    }
    assert layering_violations(bad) == [
        "app.ingest.scan_ocr imports app.readers.ocr.engines (app.readers is off limits)",
        "app.readers.vlm.reader imports app.export.engine (a higher layer)",
        "app.render.batch imports app.pipeline (a higher layer)",
    ]
    cycle = {
        "app.jobs.batch": {"app.jobs.runner"},
        "app.jobs.runner": {"app.jobs.queue"},
        "app.jobs.queue": {"app.jobs.batch"},  # a function-level import closes it
        "app.ocr.rapid": {"app.ocr.base"},
    }
    assert import_cycles(cycle) == [["app.jobs.batch", "app.jobs.queue", "app.jobs.runner"]]


def test_nothing_refers_to_files_outside_the_repository():
    """The first design sketch lived outside the repository; docs/ARCHITECTURE.md replaced it."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in tracked:
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".sh", ".toml", ".yml", ".yaml"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if re.search(r"(?<![A-Z_])DESIGN\.md|\.\./shared/", text):
            offenders.append(name)
    assert offenders == []
    assert (ROOT / "docs" / "ARCHITECTURE.md").is_file()


def test_no_function_in_app_is_over_100_lines():
    import ast

    long = []
    for module, path in app_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > 100:
                    long.append(f"{module}.{node.name}: {length} lines")
    assert long == []
