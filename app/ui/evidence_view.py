"""What the Ask pane shows of an answer's evidence, without gradio.

Every cited place of an answer (a ``Place``: one span on one original page) is listed; a place is
shown where the user can check it: on the original PDF page with red boxes (``original_crop``),
or, for documents without pages of their own (DOCX, text, HTML, pasted text), as the passage
with the cited text highlighted (``passage_html``) — and, second, on the dense page the reader
read (``rendered_crop``). Page numbers are the document's own (PDF page 1 is page 1).
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from app.datamodel import Answer, Box, Document, Evidence
from app.evidence.draw import BLUE, RED, RGB
from app.markup import percent
from app.ui.texts import t

SOURCE_DPI = 150  # original pages: sharp in the pane and in full screen
CONTEXT_PT = 120.0  # points of the original page above and below the red boxes (8-10 lines)
CONTEXT_CHARS = 700  # characters of a passage before and after the cited text, at most
SNIPPET_CHARS = 48
HIGHLIGHT = (255, 238, 120)  # under the cited text on an original page

EVIDENCE_MIN_WIDTH = 360  # page pixels: about 60 characters of a dense 9 pt line
EVIDENCE_ZOOM_TO = 900  # crops narrower than this are enlarged to it (at most 3x)


@dataclass(frozen=True)
class Place:
    """One cited place: a span of the text on one original page (or, without pages, the span)."""

    start: int
    end: int
    text: str
    confidence: float
    needs_review: bool
    source_page: int | None
    items: tuple[int, ...]  # indexes into Answer.shown_evidence (one per rendered page drawn on)
    document: str | None = None  # the document it is in, when the answer is from several
    document_page: int | None = None  # its page in that document (0-based)
    closest: bool = False  # no evidence: the passage closest to a question found unanswered


def places(answer: Answer, named: bool = False) -> list[Place]:
    """The answer's evidence grouped by (span, original page), in the answer's order;
    ``named``: each place names its document (an answer from several documents)."""
    groups: dict[tuple[int, int, int | None], list[int]] = {}
    for i, ev in enumerate(answer.shown_evidence):
        groups.setdefault((ev.span.start, ev.span.end, ev.source_page), []).append(i)
    out = []
    for (start, end, source_page), items in groups.items():
        evs = [answer.shown_evidence[i] for i in items]
        out.append(
            Place(
                start=start,
                end=end,
                text=evs[0].span.text,
                confidence=min(ev.confidence for ev in evs),
                needs_review=any(ev.needs_review for ev in evs),
                source_page=source_page,
                items=tuple(items),
                document=evs[0].document if named else None,
                document_page=evs[0].document_page if named else None,
                closest=evs[0].closest,
            )
        )
    return out


def answer_key(answer: Answer) -> str:
    """A short fingerprint of an answer: the evidence list's values differ between answers, so
    showing a new answer always changes the selected value (and shows its first place)."""
    return hashlib.sha1(answer.model_dump_json().encode("utf-8")).hexdigest()[:10]


def choice_value(key: str, index: int) -> str:
    return f"{key}:{index}"


def parse_choice(value: object) -> tuple[str, int] | None:
    """(answer key, place index) of an evidence-list value; None for anything else."""
    if not isinstance(value, str) or ":" not in value:
        return None
    key, _, index = value.rpartition(":")
    return (key, int(index)) if index.isdigit() else None


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The cited text on one line, shortened in the middle of nothing: the start, then '…'."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def place_label(place: Place, number: int, lang: str) -> str:
    """One entry of the evidence list: where (the document's page, or passage n), what, how sure."""
    if place.document is not None:
        page = place.document_page if place.document_page is not None else place.source_page
        where = snippet(place.document, 32)
        if page is not None:
            where += " · " + t("evidence_item", lang, page=page + 1)
    elif place.source_page is not None:
        where = t("evidence_item", lang, page=place.source_page + 1)
    else:
        where = t("evidence_passage", lang, n=number)
    if place.closest:  # no confidence to show: it answers nothing
        return f"🔍 {where} · {t('evidence_closest', lang)} · “{snippet(place.text)}”"
    flag = "⚠ " if place.needs_review else ""
    support = t("evidence_support", lang, value=percent(place.confidence))
    return f"{flag}{where} · “{snippet(place.text)}” · {support}"


# --- the text the answer's offsets refer to -------------------------------------------------------
def matching_text(answer: Answer, text: str | None) -> bool:
    """Whether ``answer``'s evidence offsets point into ``text`` (the open document's): every
    cited span reads the same there."""
    if text is None or not answer.shown_evidence:
        return False
    return all(text[ev.span.start : ev.span.end] == ev.span.text for ev in answer.shown_evidence)


def passage_html(
    text: str, start: int, end: int, context: int = CONTEXT_CHARS, *, color: RGB = RED
) -> str:
    """The paragraph(s) around ``text[start:end]``, HTML-escaped, the cited text in ``<mark>``,
    outlined in ``color`` as the page images outline it (``box_color``: blue for the closest
    passage, which answers nothing; amber for evidence to check).

    Context: from the start of the cited text's paragraph (and the one before, when that is
    short) to the end of its paragraph (and the one after, when short), at most ``context``
    characters either side, cut at a space with '…'.
    """
    left = text.rfind("\n", 0, start) + 1
    if start - left < 120 and left > 0:  # a short paragraph (a heading, a table row): one more
        left = text.rfind("\n", 0, left - 1) + 1
    right = text.find("\n", end)
    right = len(text) if right < 0 else right
    if 0 <= right - end < 120 and right < len(text):
        nxt = text.find("\n", right + 1)
        right = len(text) if nxt < 0 else nxt
    before, after = text[left:start], text[end:right]
    if len(before) > context:
        cut = before[-context:]
        before = "…" + cut[cut.find(" ") + 1 :] if " " in cut[:80] else "…" + cut
    if len(after) > context:
        cut = after[:context]
        after = (cut[: cut.rfind(" ")] if " " in cut[-80:] else cut) + "…"
    return _passage_div(
        html.escape(before), html.escape(text[start:end]), html.escape(after), color
    )


def cited_html(cited: str, *, color: RGB = RED) -> str:
    """Only the cited text (the document it came from is not open any more)."""
    return _passage_div("", html.escape(cited), "", color)


def _passage_div(before: str, cited: str, after: str, color: RGB) -> str:
    r, g, b = color
    fill = "#dbe9ff" if color == BLUE else "#ffe36e"  # the closest passage is no highlighted answer
    mark = (
        f'<mark style="background:{fill};color:#111;box-shadow:0 0 0 2px rgb({r},{g},{b});'
        'border-radius:2px;padding:0 1px">'
    )
    return (
        '<div class="glyph-passage" style="white-space:pre-wrap;overflow-wrap:anywhere;'
        "font-size:15px;line-height:1.6;max-height:460px;overflow:auto;padding:12px 14px;"
        "border:1px solid var(--border-color-primary,#ddd);border-radius:8px;"
        f'background:var(--background-fill-primary,#fff)">{before}{mark}{cited}</mark>{after}'
        "</div>"
    )


# --- pictures -------------------------------------------------------------------------------------
def crop_around(image: Image.Image, boxes: list, context: float = 0.04) -> Image.Image:
    """A window on the red boxes, enlarged so the dense page text is legible in the narrow pane.

    Horizontally: the boxes plus a margin, at least ``EVIDENCE_MIN_WIDTH`` wide (a line of context
    either side of a short answer); vertically: the boxes plus ``context`` of the page height
    (a few lines) on each side. The window is then scaled up to ``EVIDENCE_ZOOM_TO`` pixels wide
    (Lanczos, at most 3x): the reader's pages are 72-96 dpi, too small to read when a whole page
    width is squeezed into the answer column.
    """
    if not boxes:
        return image
    w, h = image.size
    x0, x1 = min(b[0] for b in boxes), max(b[2] for b in boxes)
    y0, y1 = min(b[1] for b in boxes), max(b[3] for b in boxes)
    want = min(w, max(EVIDENCE_MIN_WIDTH, (x1 - x0) + 2 * 24))
    left = int(max(0, min(w - want, (x0 + x1) / 2 - want / 2)))
    pad = max(24, int(h * context))
    top, bottom = max(0, int(y0) - pad), min(h, int(y1) + pad)
    crop = image.crop((left, top, int(left + want), bottom))
    zoom = min(3.0, EVIDENCE_ZOOM_TO / crop.width)
    if zoom > 1.05:
        crop = crop.resize((round(crop.width * zoom), round(crop.height * zoom)), Image.LANCZOS)
    return crop


def stack(images: list[Image.Image], gap: int = 12) -> Image.Image | None:
    """Images one below the other on white (a place drawn on two rendered pages)."""
    if len(images) <= 1:
        return images[0] if images else None
    width = max(im.width for im in images)
    out = Image.new("RGB", (width, sum(im.height for im in images) + gap * (len(images) - 1)))
    out.paste((255, 255, 255), (0, 0, *out.size))
    y = 0
    for im in images:
        out.paste(im.convert("RGB"), (0, y))
        y += im.height + gap
    return out


def rendered_crop(
    evidence_images: dict[int, Image.Image], evidence: list[Evidence], place: Place
) -> Image.Image | None:
    """The place on the dense page(s) the reader read, each cropped around its red boxes."""
    crops = []
    for page in sorted({evidence[i].page for i in place.items}):
        image = evidence_images.get(page)
        if image is not None:
            boxes = [b for i in place.items if evidence[i].page == page for b in evidence[i].boxes]
            crops.append(crop_around(image, boxes))
    return stack(crops)


def text_extent(document: Document | None, page: int) -> tuple[float, float] | None:
    """Left and right edge (points) of the text on original ``page``, from the blocks' boxes."""
    if document is None:
        return None
    xs = [b.bbox for b in document.blocks if b.source_page == page and b.bbox is not None]
    if not xs:
        return None
    return min(b[0] for b in xs), max(b[2] for b in xs)


def original_crop(
    page_image: Image.Image,
    page_size: tuple[float, float],
    boxes: list[Box],
    extent: tuple[float, float] | None,
) -> Image.Image:
    """The annotated original page cut to the text column and ``CONTEXT_PT`` above and below
    the red boxes (``boxes`` in points), so that its text is legible in the answer pane; the
    whole page when the boxes cover most of it."""
    width_pt, height_pt = page_size
    scale = page_image.width / max(width_pt, 1.0)
    if not boxes:
        return page_image
    page_image = highlight(page_image, [tuple(v * scale for v in b) for b in boxes])
    x0 = min(b[0] for b in boxes)
    x1 = max(b[2] for b in boxes)
    if extent is not None:
        x0, x1 = min(x0, extent[0]), max(x1, extent[1])
    y0 = min(b[1] for b in boxes) - CONTEXT_PT
    y1 = max(b[3] for b in boxes) + CONTEXT_PT
    left, right = max(0.0, x0 - 18), min(width_pt, x1 + 18)
    top, bottom = max(0.0, y0), min(height_pt, y1)
    if bottom - top > 0.8 * height_pt:
        top, bottom = 0.0, height_pt
    box = (round(left * scale), round(top * scale), round(right * scale), round(bottom * scale))
    return page_image.crop(box)


def highlight(image: Image.Image, boxes: list, color: tuple[int, int, int] = HIGHLIGHT):
    """A copy of ``image`` with a marker-pen colour under ``boxes`` (pixels): the text stays
    black, the red frames red, and the cited lines stand out from the rest of the page."""
    from PIL import ImageChops

    out = image.convert("RGB")
    w, h = out.size
    for x0, y0, x1, y1 in boxes:
        area = (max(0, int(x0)), max(0, int(y0)), min(w, int(x1) + 1), min(h, int(y1) + 1))
        if area[2] > area[0] and area[3] > area[1]:
            region = out.crop(area)
            out.paste(ImageChops.multiply(region, Image.new("RGB", region.size, color)), area)
    return out


def annotated_original(
    pdf_path: Path, evidence: list[Evidence], page: int, password: str | None = None
) -> Image.Image | None:
    """Original ``page`` of the PDF with every red box of ``evidence`` on that page."""
    from app.evidence import annotate_source_pages

    on_page = [ev for ev in evidence if ev.source_page == page]
    try:
        images = annotate_source_pages(pdf_path, on_page, dpi=SOURCE_DPI, password=password)
    except Exception:  # a damaged or vanished file: the passage is shown as text instead
        return None
    return images.get(page)
