"""Helpers shared by the renderer tests: sample texts made by code and pixel checks."""

from __future__ import annotations

import numpy as np

from app.datamodel import RenderedDoc
from app.render import chars

EN_PARAGRAPH = (
    "The renderer typesets plain text into dense page images. Every character keeps its "
    "position, so an answer can be traced back to the exact line it came from. Long words "
    "such as internationalisation wrap at spaces; numbers like 3.14159 and 2025-11-23 stay "
    "intact, and punctuation (commas, colons: semicolons; brackets) follows the word."
)
ZH_PARAGRAPH = (
    "视觉文本压缩把文字排版成图片，再让视觉语言模型阅读这些图片。渲染器必须保证同样的文本和"
    "参数总能得到完全相同的页面。中文排版有一些特殊规则：句号、逗号和右括号不能出现在行首，"
    "左括号（比如这个）和左引号「这样」不应该留在行尾。混合排版时，English words 只能在空格处换行。"
)
CODE = "def f(x):\n    if x:\n\treturn x * 2\n    return 0\n"


def ink_mask(doc: RenderedDoc, page: int, threshold: int = 40) -> np.ndarray:
    """Pixels noticeably darker than the page background."""
    grey = np.asarray(doc.pages[page].image.convert("L"), dtype=np.int16)
    background = int(np.median(grey[:2, :2]))
    return (background - grey) > threshold


def inked_chars(doc: RenderedDoc) -> np.ndarray:
    """Offsets of characters that should leave ink: drawn, not white space."""
    cps = chars.codepoints(doc.text)
    cls = chars.classify(cps)
    visible = (cls != chars.SPACE) & (cls != chars.TAB) & (cls != chars.NEWLINE)
    return np.flatnonzero(visible & (doc.layout.page >= 0))


def box_slice(box) -> tuple[slice, slice]:
    x0, y0, x1, y1 = (
        int(np.floor(box[0])),
        int(np.floor(box[1])),
        int(np.ceil(box[2])),
        int(np.ceil(box[3])),
    )
    return slice(max(y0, 0), max(y1, 0)), slice(max(x0, 0), max(x1, 0))


def line_texts(doc: RenderedDoc) -> list[str]:
    """The characters of every drawn line, in order (undrawn characters left out)."""
    from app.datamodel import iter_lines

    out = []
    for _line, start, end in iter_lines(doc.layout):
        drawn = doc.layout.page[start:end] >= 0
        out.append("".join(ch for ch, ok in zip(doc.text[start:end], drawn, strict=True) if ok))
    return out
