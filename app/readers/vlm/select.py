"""Choosing pages when a document has more visual tokens than the budget allows.

Instead of failing, the reader shows the model the pages most likely to hold the answer: the page
texts (known exactly from the layout map) are ranked against the question with BM25 over words
and CJK character bigrams, and the best pages are taken until the visual-token budget
(``GLYPH_MAX_VISUAL_TOKENS``) is used, then put back in document order. Summaries (and questions
that match nothing) get pages spread evenly over the document. The answer says which pages were
read (``Answer.pages_read``) and why (``Answer.notes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.datamodel import Mode, Note
from app.text import bm25_scores


@dataclass
class PageSelection:
    pages: list[int]
    total_tokens: int
    selected_tokens: int
    budget: int
    n_pages: int
    strategy: str = "all"  # all | retrieval | spread
    scores: list[float] = field(default_factory=list)
    limit: str = "GLYPH_MAX_VISUAL_TOKENS"  # what set the budget

    @property
    def reduced(self) -> bool:
        return self.strategy != "all"

    def note(self) -> Note:
        """The user-facing remark when pages were left out (empty when none were)."""
        if not self.reduced:
            return Note(en="")
        shown = ", ".join(str(p + 1) for p in self.pages)
        how = (
            "the pages that best match the question"
            if self.strategy == "retrieval"
            else "pages spread evenly over the document"
        )
        how_zh = "与问题最相关的页面" if self.strategy == "retrieval" else "均匀分布于全文的页面"
        return Note(
            en=f"The document needs {self.total_tokens} visual tokens, more than the budget of "
            f"{self.budget} ({self.limit}): read {len(self.pages)} of "
            f"{self.n_pages} pages, {how} (pages {shown}).",
            zh=f"文档需要 {self.total_tokens} 个视觉 token，超过上限 {self.budget}"
            f"（{self.limit}）：只读取了{how_zh}（第 {shown} 页）。",
        )


# Prompt text around the images (chat tags, the mode's template, the question) is a few hundred
# tokens; keep this much of the context free for it.
PROMPT_RESERVE = 1024


def visual_budget(
    max_visual_tokens: int, context: int | None, max_new_tokens: int
) -> tuple[int, str]:
    """(visual-token budget, what limits it): the setting, or the model's context window."""
    if context:
        room = context - max_new_tokens - PROMPT_RESERVE
        if 0 < room < max_visual_tokens:
            return room, f"the model's {context}-token context"
    return max_visual_tokens, "GLYPH_MAX_VISUAL_TOKENS"


def _spread(n_pages: int, page_tokens: Sequence[int], budget: int) -> list[int]:
    """Evenly spaced pages (always the first) that fit the budget."""
    order: list[int] = []
    for k in range(n_pages, 0, -1):  # try k evenly spaced pages, fewer until they fit
        picks = sorted({round(i * (n_pages - 1) / max(k - 1, 1)) for i in range(k)})
        if sum(page_tokens[p] for p in picks) <= budget:
            order = picks
            break
    return order


def select_pages(
    page_tokens: Sequence[int],
    page_texts: Sequence[str],
    question: str,
    mode: Mode,
    budget: int,
    limit: str = "GLYPH_MAX_VISUAL_TOKENS",
) -> PageSelection:
    """Pages to show the model (document order) within ``budget`` visual tokens."""
    n = len(page_tokens)
    total = int(sum(page_tokens))
    if total <= budget:
        return PageSelection(list(range(n)), total, total, budget, n, limit=limit)
    scores = bm25_scores(question, page_texts) if question.strip() and mode != Mode.SUMMARY else []
    if scores and max(scores) > 0:
        ranked = sorted(range(n), key=lambda p: (-scores[p], p))
        chosen: list[int] = []
        used = 0
        for p in ranked:
            if scores[p] <= 0 and chosen:
                break
            if used + page_tokens[p] <= budget:
                chosen.append(p)
                used += page_tokens[p]
        # leftover budget: neighbours of the best pages (answers often straddle a page break)
        for p in list(chosen):
            for q in (p + 1, p - 1):
                if 0 <= q < n and q not in chosen and used + page_tokens[q] <= budget:
                    chosen.append(q)
                    used += page_tokens[q]
        pages = sorted(chosen)
        strategy = "retrieval"
    else:
        pages = _spread(n, page_tokens, budget)
        strategy = "spread"
        scores = scores or [0.0] * n
    if not pages:  # not even one page fits the budget: read the smallest one rather than none
        pages = [min(range(n), key=lambda p: page_tokens[p])]
    return PageSelection(
        pages,
        total,
        int(sum(page_tokens[p] for p in pages)),
        budget,
        n,
        strategy,
        list(scores),
        limit,
    )
