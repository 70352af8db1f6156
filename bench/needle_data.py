"""Needle-in-a-haystack documents for the OCR reader's tests and benchmark.

A haystack is real prose: English from the licence texts Debian ships in
/usr/share/common-licenses; Chinese from the zh_CN message catalogues of the system's programs
(coreutils, bash, tar, … translated sentences) and vim's Chinese tutor where installed, falling
back to sentences of the project's example annual report. Needles are key/value sentences ("The
special magic number for Berlin is 4829301.") inserted at sentence boundaries at the requested
depths; each needle has its own key, so every other needle is a near-identical distractor.
"""

from __future__ import annotations

import gettext
import random
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LICENCES = Path("/usr/share/common-licenses")
EN_KEYS = [
    "Berlin",
    "Lisbon",
    "Nairobi",
    "Oslo",
    "Quito",
    "Hanoi",
    "Dakar",
    "Perth",
    "Tbilisi",
    "Lima",
    "Kyoto",
    "Zagreb",
    "Accra",
    "Bergen",
    "Cusco",
    "Dublin",
    "Geneva",
    "Havana",
    "Izmir",
    "Jaipur",
]
ZH_KEYS = [
    "北京",
    "上海",
    "杭州",
    "成都",
    "西安",
    "南京",
    "武汉",
    "广州",
    "重庆",
    "苏州",
    "厦门",
    "青岛",
    "昆明",
    "拉萨",
    "天津",
    "沈阳",
    "长沙",
    "福州",
    "贵阳",
    "兰州",
]
DEPTHS_10 = tuple(round(0.05 + 0.1 * i, 2) for i in range(10))  # 5%, 15%, …, 95%


@dataclass(frozen=True)
class Needle:
    key: str
    value: str
    sentence: str
    question: str
    offset: int  # where the value starts in the haystack text


@dataclass(frozen=True)
class Haystack:
    text: str
    needles: list[Needle]
    language: str


def english_prose() -> str:
    parts = []
    if LICENCES.is_dir():
        for path in sorted(LICENCES.iterdir()):
            if path.is_file() and not path.is_symlink():
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
    if not parts:  # not Debian: the project's own documentation is prose too
        parts = [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("docs/*.md"))]
        parts.append((ROOT / "README.md").read_text(encoding="utf-8"))
    return "\n\n".join(parts)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_prose() -> str:
    sentences: list[str] = []
    catalogues = sorted(Path("/usr/share/locale/zh_CN/LC_MESSAGES").glob("*.mo"))
    for path in catalogues:
        try:
            with path.open("rb") as fh:
                catalogue = gettext.GNUTranslations(fh)
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        for key, value in catalogue._catalog.items():  # the only way to list a .mo's messages
            if not key or not isinstance(value, str):
                continue
            line = " ".join(value.split())
            # whole translated sentences only: no format strings, quoted names or code
            if re.search(r"[%\"'“”‘’<>{}\[\]\\=_|/]|^\W", line):
                continue
            if len(line) >= 8 and len(_CJK.findall(line)) >= 0.8 * len(line):
                sentences.append(line if line[-1] in "。！？；：" else line + "。")
    tutor = Path("/usr/share/vim/vim90/tutor/tutor.zh_cn.utf-8")
    if tutor.is_file():
        sentences.extend(
            s.strip()
            for s in re.split(r"(?<=[。！？])", tutor.read_text(encoding="utf-8"))
            if len(_CJK.findall(s)) >= 8
        )
    if len(sentences) < 200:  # minimal systems: the example report's sentences, reshuffled
        example = (ROOT / "app/ui/examples/年度财报摘要.txt").read_text(encoding="utf-8")
        sentences.extend(s.strip() for s in re.split(r"(?<=[。])", example) if s.strip())
    rng = random.Random(7)
    rng.shuffle(sentences)
    paragraphs = []
    for i in range(0, len(sentences), 6):
        paragraphs.append("".join(sentences[i : i + 6]))
    return "\n".join(paragraphs)


def _prose(language: str, n_chars: int) -> str:
    text = english_prose() if language == "en" else chinese_prose()
    while len(text) < n_chars:
        text = text + "\n" + text
    cut = text.rfind("\n", 0, n_chars)
    return text[: cut if cut > n_chars // 2 else n_chars]


def _boundary(text: str, pos: int, language: str) -> int:
    """The sentence boundary nearest after ``pos`` (or ``pos`` itself at the end)."""
    # English licence texts are hard-wrapped: only punctuation ends a sentence there
    pattern = r"[.!?]\s+" if language == "en" else r"[。！？]"
    m = re.compile(pattern).search(text, pos)
    return m.end() if m else len(text)


def make_haystack(
    language: str, n_chars: int, depths: tuple[float, ...] = DEPTHS_10, seed: int = 0
) -> Haystack:
    """Prose of about ``n_chars`` with one needle per depth (fraction of the text)."""
    rng = random.Random(f"{language}-{n_chars}-{seed}")
    base = _prose(language, n_chars)
    keys = EN_KEYS if language == "en" else ZH_KEYS
    chosen = rng.sample(keys, len(depths))
    inserts = []
    for depth, key in zip(depths, chosen, strict=True):
        value = str(rng.randint(1_000_000, 9_999_999))
        if language == "en":
            sentence = f"The special magic number for {key} is {value}. "
            question = f"What is the special magic number for {key}?"
        else:
            sentence = f"{key}的特殊魔法数字是 {value}。"
            question = f"{key}的特殊魔法数字是多少？"
        inserts.append(
            (_boundary(base, int(depth * len(base)), language), key, value, sentence, question)
        )
    pieces, last, shift = [], 0, 0
    needles = []
    for pos, key, value, sentence, question in sorted(inserts):
        pieces.append(base[last:pos])
        at = pos + shift
        needles.append(Needle(key, value, sentence.strip(), question, at + sentence.index(value)))
        pieces.append(sentence)
        shift += len(sentence)
        last = pos
    pieces.append(base[last:])
    text = "".join(pieces)
    for needle in needles:
        assert text[needle.offset : needle.offset + len(needle.value)] == needle.value
    return Haystack(text, needles, language)


@dataclass(frozen=True)
class NeedleResult:
    language: str
    n_chars: int
    key: str
    depth_offset: int
    expected: str
    answer: str
    exact: bool
    box_on_line: bool
    confidence: float
    seconds: float


def box_on_needle_line(rendered, evidence, start: int, end: int) -> bool:
    """Some red box of the evidence lies on the rendered line that holds ``start:end``."""
    boxes = rendered.layout.boxes_for_span(start, end)
    if not boxes:
        return False
    page, box = boxes[0]
    return any(
        ev.page == page and any(b[1] < box[3] and box[1] < b[3] for b in ev.boxes)
        for ev in evidence
    )


def evaluate(pipeline, haystack: Haystack, reader: str = "ocr") -> list[NeedleResult]:
    """Render the haystack, ask every needle's question, check answer and red box."""
    import time

    rendered = pipeline.render(haystack.text)
    results = []
    for needle in haystack.needles:
        started = time.perf_counter()
        answer = pipeline.ask_once(rendered, needle.question, reader=reader)
        end = needle.offset + len(needle.value)
        results.append(
            NeedleResult(
                language=haystack.language,
                n_chars=len(haystack.text),
                key=needle.key,
                depth_offset=needle.offset,
                expected=needle.value,
                answer=answer.text,
                exact=answer.text.strip() == needle.value,
                box_on_line=box_on_needle_line(rendered, answer.evidence, needle.offset, end),
                confidence=answer.confidence,
                seconds=time.perf_counter() - started,
            )
        )
    return results
