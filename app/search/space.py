"""What the rendering search may change: genes over ``RenderConfig`` fields, on a grid.

A candidate is a plain dict of gene values (JSON-friendly, so it can be written to the history,
the resume state and an LLM prompt). ``SearchSpace.to_config`` turns one into a ``RenderConfig``
on top of a base config (page size, colours, auto-crop… stay as in the base). Line height is
searched as *spacing* (line height / font size) so that every candidate is typographically sane;
the history also records the resulting ``line_height``.

Fonts are the regular faces installed on this machine (``fc-list``, else the font directories):
by default the families the project installs (DejaVu Sans/Serif/Mono/Condensed, Noto Sans/Serif
CJK SC); ``installed_fonts(all_fonts=True)`` offers every regular face found.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.datamodel import RenderConfig
from app.errors import ConfigError
from app.render.fonts import FONT_DIRS, find_font

log = logging.getLogger(__name__)

GLYPH_NEWLINE_MARKUP = '<font color="#FF0000"> \\n </font>'
PREFERRED_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansCondensed.ttf",
    "NotoSansCJK-Regular.ttc#2",
    "NotoSerifCJK-Regular.ttc#2",
)
_NOT_REGULAR = ("bold", "italic", "oblique", "light", "thin", "black", "medium", "heavy", "semi")

Candidate = dict[str, Any]


@dataclass(frozen=True)
class Gene:
    """One searched setting: a numeric grid ``low, low+step, …, high`` or a list of choices."""

    name: str
    low: float = 0.0
    high: float = 0.0
    step: float = 1.0
    choices: tuple[Any, ...] = ()

    @property
    def numeric(self) -> bool:
        return not self.choices

    @property
    def size(self) -> int:
        """Number of distinct values."""
        if self.choices:
            return len(self.choices)
        return round((self.high - self.low) / self.step) + 1

    def value(self, k: int) -> Any:
        """The ``k``-th value of the grid."""
        if self.choices:
            return self.choices[k]
        v = self.low + k * self.step
        integral = all(float(x).is_integer() for x in (self.low, self.step))
        return round(v) if integral else round(v, 4)

    def index(self, value: Any) -> int:
        """Grid index of ``value`` (the nearest one for numbers, ValueError for unknown choices)."""
        if self.choices:
            for k, choice in enumerate(self.choices):
                if choice == value:
                    return k
            raise ValueError(f"{self.name}: {value!r} is not one of {self.choices}")
        k = round((float(value) - self.low) / self.step)
        return min(max(k, 0), self.size - 1)

    def snap(self, value: Any) -> Any:
        """``value`` moved onto the grid (clamped, rounded); choices must match exactly."""
        return self.value(self.index(value))

    def sample(self, rng: random.Random) -> Any:
        return self.value(rng.randrange(self.size))

    def mutate(self, value: Any, rng: random.Random) -> Any:
        """A different value: a neighbour on numeric grids (Gaussian steps), any other choice."""
        if self.size <= 1:
            return value
        k = self.index(value)
        if self.choices:
            return self.value(rng.choice([i for i in range(self.size) if i != k]))
        sigma = max(1.0, 0.15 * self.size)
        while True:
            step = round(rng.gauss(0.0, sigma))
            j = k + step if 0 <= k + step < self.size else k - step  # bounce off the edges
            j = min(max(j, 0), self.size - 1)
            if j != k:
                return self.value(j)


def _fc_list_files() -> list[str]:
    if not shutil.which("fc-list"):
        return []
    try:
        out = subprocess.run(
            ["fc-list", "--format", "%{file}\n"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        log.warning("fc-list failed (%s); scanning the font directories instead", err)
        return []
    return sorted({line.strip() for line in out.splitlines() if line.strip()})


def _scan_font_dirs() -> list[str]:
    found = []
    for root in FONT_DIRS:
        root = os.path.expanduser(root)
        for dirpath, _dirs, files in sorted(os.walk(root)):
            found.extend(
                os.path.join(dirpath, f)
                for f in sorted(files)
                if f.lower().endswith((".ttf", ".otf", ".ttc"))
            )
    return found


def installed_fonts(all_fonts: bool = False) -> tuple[str, ...]:
    """Font references (bare file names, '#index' for collections) the search may choose from.

    Default: the project's families that are installed. ``all_fonts``: every regular face that
    ``fc-list`` (or a scan of the font directories) finds.
    """
    if not all_fonts:
        return tuple(ref for ref in PREFERRED_FONTS if find_font(ref) is not None)
    files = _fc_list_files() or _scan_font_dirs()
    refs: list[str] = []
    for path in files:
        name = os.path.basename(path)
        stem = name.rsplit(".", 1)[0].lower()
        if any(word in stem.replace("regular", "") for word in _NOT_REGULAR):
            continue
        ref = name if find_font(name) is not None else path
        if ref not in refs:
            refs.append(ref)
    return tuple(sorted(refs))


def default_genes(fonts: Sequence[str] | None = None) -> tuple[Gene, ...]:
    """Font size, line spacing, dpi, margins, alignment, newline marker and font family."""
    genes = [
        Gene("font_size", 5.0, 14.0, 0.5),
        Gene("line_spacing", 1.0, 1.6, 0.05),
        Gene("dpi", 48, 144, 12),
        Gene("margin_x", 0, 30, 2),
        Gene("margin_y", 0, 30, 2),
        Gene("alignment", choices=("LEFT", "JUSTIFY", "CENTER", "RIGHT")),
        Gene("newline_markup", choices=(GLYPH_NEWLINE_MARKUP, None)),
    ]
    fonts = tuple(fonts) if fonts is not None else installed_fonts()
    if fonts:
        genes.append(Gene("font_path", choices=fonts))
    return tuple(genes)


@dataclass(frozen=True)
class SearchSpace:
    """Genes plus the base config they modify."""

    base: RenderConfig
    genes: tuple[Gene, ...] = field(default_factory=default_genes)
    name: str = "searched"

    def __post_init__(self) -> None:
        names = [g.name for g in self.genes]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate genes: {names}")
        known = set(RenderConfig.model_fields) | {"line_spacing"}
        unknown = sorted(set(names) - known)
        if unknown:
            raise ValueError(f"genes that are not RenderConfig fields: {unknown}")

    @property
    def names(self) -> list[str]:
        return [g.name for g in self.genes]

    def gene(self, name: str) -> Gene:
        return next(g for g in self.genes if g.name == name)

    def describe(self) -> list[dict[str, Any]]:
        """The genes as JSON (for prompts and the resume signature)."""
        out = []
        for g in self.genes:
            if g.choices:
                out.append({"name": g.name, "choices": list(g.choices)})
            else:
                out.append({"name": g.name, "low": g.low, "high": g.high, "step": g.step})
        return out

    def base_candidate(self) -> Candidate:
        """The base config expressed as genes (snapped onto the grid)."""
        cand: Candidate = {}
        for g in self.genes:
            if g.name == "line_spacing":
                value: Any = self.base.line_height / self.base.font_size
            else:
                value = getattr(self.base, g.name)
            try:
                cand[g.name] = g.snap(value)
            except ValueError:
                cand[g.name] = g.choices[0]
        return cand

    def snap(self, values: Mapping[str, Any]) -> Candidate:
        """A complete candidate from (possibly partial, off-grid) ``values``; missing genes
        come from the base config. Raises ValueError for unknown choices."""
        cand = self.base_candidate()
        for g in self.genes:
            if g.name in values:
                cand[g.name] = g.snap(values[g.name])
        return cand

    def sample(self, rng: random.Random) -> Candidate:
        return {g.name: g.sample(rng) for g in self.genes}

    def to_config(self, cand: Mapping[str, Any]) -> RenderConfig:
        """The ``RenderConfig`` of a candidate; ``ConfigError`` when it cannot be rendered."""
        data = self.base.model_dump()
        for name, value in cand.items():
            if name != "line_spacing":
                data[name] = value
        if "line_spacing" in cand:
            size = float(data["font_size"])
            data["line_height"] = round(size * float(cand["line_spacing"]) * 4) / 4
        data["name"] = self.name
        try:
            return RenderConfig.model_validate(data)
        except ValidationError as err:
            raise ConfigError(
                f"Candidate is not a valid render config: {err.errors()[0]['msg']}",
                f"候选参数不是有效的渲染配置：{err.errors()[0]['msg']}",
            ) from None

    def valid(self, cand: Mapping[str, Any]) -> bool:
        try:
            self.to_config(cand)
        except ConfigError:
            return False
        return True

    def key(self, cand: Mapping[str, Any]) -> tuple[Any, ...]:
        """Hashable identity of a candidate (its values in gene order)."""
        return tuple(cand.get(name) for name in self.names)


def unique(cands: Iterable[Candidate], space: SearchSpace) -> list[Candidate]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for cand in cands:
        key = space.key(cand)
        if key not in seen:
            seen.add(key)
            out.append(cand)
    return out
