"""Real documents for end-to-end tests, made with PyMuPDF and python-docx."""

from __future__ import annotations

import io
from pathlib import Path

REPORT_PARAGRAPHS = [
    "Annual report of the Harbour Freight Cooperative for the year 2024.",
    "The cooperative operated 14 container cranes across three terminals.",
    "Total revenue reached 48.7 million euros, an increase of 9 percent.",
    "The chief financial officer is Marta Lindqvist.",
    "The magic number of the orange project is 58213.",
    "Dock maintenance was completed on 12 September 2024.",
]


def report_pdf(path: Path, pages: int = 2) -> Path:
    """A multi-page PDF with a text layer; the needle sits on the last page."""
    import pymupdf

    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page()
        y = 72
        lines = REPORT_PARAGRAPHS if i == pages - 1 else REPORT_PARAGRAPHS[:4]
        for line in [f"Section {i + 1}", *lines]:
            page.insert_text((72, y), line, fontsize=11)
            y += 18
    doc.save(path)
    doc.close()
    return path


def memo_docx(path: Path) -> Path:
    """A DOCX with a heading, paragraphs and a table."""
    import docx

    document = docx.Document()
    document.add_heading("Project Memo", level=1)
    document.add_paragraph("The kickoff meeting takes place in Rotterdam.")
    document.add_paragraph("The project budget is 2.4 million euros.")
    table = document.add_table(rows=3, cols=2)
    for row, (key, value) in zip(
        table.rows,
        [("Owner", "Ines Okafor"), ("Deadline", "30 June 2025"), ("Code", "PRJ-7731")],
        strict=True,
    ):
        row.cells[0].text, row.cells[1].text = key, value
    buf = io.BytesIO()
    document.save(buf)
    path.write_bytes(buf.getvalue())
    return path
