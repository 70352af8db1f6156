"""Property-based: rendering never raises on arbitrary Unicode and keeps its invariants."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.render import render, resolve_config

CONFIGS = [
    resolve_config("en"),
    resolve_config("zh", newline_markup=None),
    resolve_config("en", page_size=(90, 60), alignment="JUSTIFY", newline_markup="<br/>"),
    resolve_config(
        "zh",
        dpi=96,
        alignment="CENTER",
        header=True,
        footer=True,
        position_marks=True,
        page_size=(200, 120),
    ),
    resolve_config(
        "en", remove_line_breaks=True, horizontal_scale=0.8, first_line_indent=-3, left_indent=5
    ),
]

# any code point, including surrogates, controls, combining marks and unassigned ones
ANY_CHAR = st.characters(codec=None, categories=None)
TEXTS = st.one_of(
    st.text(ANY_CHAR, max_size=120),
    st.text(
        st.sampled_from(list(" \t\n\r\u3000。，「」abc 中文\u200b\xad\u0301x\ud800\U0001f600")),
        max_size=300,
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, which=st.integers(0, len(CONFIGS) - 1))
def test_rendering_never_raises_and_layout_stays_consistent(text, which):
    doc = render(text, CONFIGS[which], name="props")
    layout = doc.layout
    assert len(layout) == len(text)
    drawn = layout.page >= 0
    assert len(doc.pages) >= 1
    if drawn.any():
        assert layout.page[drawn].max() < len(doc.pages)
        sizes = np.array([doc.pages[p].size for p in layout.page[drawn]])
        boxes = layout.boxes[drawn]
        assert np.all(boxes[:, 0] >= 0) and np.all(boxes[:, 2] <= sizes[:, 0] + 1e-3)
        assert np.all(boxes[:, 1] >= 0) and np.all(boxes[:, 3] <= sizes[:, 1] + 1e-3)
        assert np.all(np.diff(layout.line[drawn]) >= 0)
    for page in doc.pages:
        assert page.png_bytes().startswith(b"\x89PNG")
