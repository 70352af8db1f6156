"""docs/DEPLOY.md agrees with the files it documents and with the arithmetic behind its estimates."""

from __future__ import annotations

import re

from deploy_files import (
    DEPLOY_DOC,
    ROOT,
    arg_defaults,
    load_compose,
    parse_dockerfile,
)

DOC = DEPLOY_DOC.read_text(encoding="utf-8")
FLAT = " ".join(DOC.split())  # line breaks inside paragraphs do not matter


def _section(title: str) -> str:
    start = DOC.index(f"## {title}")
    end = DOC.find("\n## ", start + 3)
    return DOC[start : end if end != -1 else None]


def _slug(heading: str) -> str:
    # GitHub's anchor rule: lower case, punctuation dropped, spaces to hyphens
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_memory_table_equals_the_arithmetic():
    from memory_estimate import table

    section = _section("GPU memory per profile (estimates)")
    assert "ESTIMATE" in section and "no GPU was available" in section
    computed = table()
    for line in computed.splitlines():
        if line.startswith("| `"):
            assert line in section, f"row differs from tests/deploy/memory_estimate.py: {line}"
    params = re.search(
        r"vision ([\d.]+) B, language ([\d.]+) B, lm_head ([\d.]+) B, total ([\d.]+) B", computed
    )
    flat = " ".join(section.split())
    for value in params.groups():
        assert f"{value} B" in flat, value
    kv = re.search(r"KV cache: (\d+) KB per token = (\d+) MB per 1,000 tokens", computed)
    assert f"{kv.group(1)} KB per token = {kv.group(2)} MB per 1,000 tokens" in flat
    full = re.search(r"= ([\d.]+) GB for the full", computed).group(1)
    assert f"{full} GB for the full" in flat
    assert (ROOT / "bench" / "vlm_memory.py").is_file() and "bench/vlm_memory.py" in section


def test_documents_the_download_build_and_run_commands():
    assert "huggingface-cli download zai-org/Glyph --local-dir /root/models/Glyph" in DOC
    assert "docker build -t glyph-visual-reasoning ." in DOC
    assert "docker run --gpus all -p 7860:7860" in FLAT
    assert "-v /root/models:/root/models -v /root/data:/root/data" in FLAT
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "glyph-visual-reasoning" in readme and "docs/DEPLOY.md" in readme
    image = load_compose()["services"]["app"]["image"]
    assert image.split(":")[0] == "glyph-visual-reasoning"


def test_documents_compose_profiles_and_their_settings():
    compose = load_compose()["services"]
    profiles = {p for s in compose.values() for p in s.get("profiles", [])}
    for profile in profiles:
        assert f"--profile {profile}" in DOC, profile
    for line in ("GLYPH_READER=openai", "GLYPH_OPENAI_BASE_URL=http://vllm:8000/v1"):
        assert line in DOC
        assert f"# {line}" in (ROOT / "glyph.env").read_text(encoding="utf-8")
    assert "GLYPH_REDIS_URL=redis://redis:6379/0" in DOC


def test_image_facts_match_the_dockerfile():
    instructions, _ = parse_dockerfile()
    args = arg_defaults(instructions)
    assert args["BASE_IMAGE"] in DOC
    assert f"uid/gid {args['GLYPH_UID']}" in DOC
    assert f"chown -R {args['GLYPH_UID']}:{args['GLYPH_GID']} /root/data" in DOC


def test_keeps_the_vllm_section_and_internal_links_resolve():
    assert "vllm serve zai-org/Glyph" in _section("vLLM (OpenAI-compatible server)")
    anchors = {_slug(h) for h in re.findall(r"^#{2,3} (.+)$", DOC, re.M)}
    for link in re.findall(r"\]\(#([^)]+)\)", DOC):
        assert link in anchors, f"broken link #{link}"


def test_states_what_was_not_verified():
    section = " ".join(_section("What was and was not verified").split())
    for item in ("building the image", "GPU", "vLLM", "estimates"):
        assert item in section, item


def test_records_the_smoke_test_and_its_measured_figures():
    section = _section("Building and testing the image here: scripts/docker_smoke.sh")
    flat = " ".join(section.split())
    assert (ROOT / "scripts" / "docker_smoke.sh").is_file() and "### Measured here" in section
    for item in (
        "build time",
        "image size",
        "healthy",
        "memory at idle",
        "after one question",
        "COMPUTED",  # the CUDA variant's size: from the wheel sizes, not measured
        "2026-12-03",
        "2-core",
    ):
        assert item in flat, item
    assert "PLACEHOLDER" not in section
