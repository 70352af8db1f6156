from app.datamodel import Mode
from app.readers.vlm.select import select_pages
from app.text import bm25_scores, tokenize

PAGES = [
    "Introduction to the annual report of the ACME company.",
    "Revenue grew by 12% to 4.5 million dollars in the third quarter.",
    "The auditor was Jane Smith from Berlin.",
    "Outlook and risks for next year.",
    "合同于十二月到期，审计师来自柏林。",
    "Appendix: tables.",
]


def test_terms_words_and_cjk_bigrams():
    assert tokenize("What is the Revenue?") == ["revenue"]
    assert tokenize("审计师") == ["审计", "计师"]


def test_bm25_ranks_the_matching_page_first():
    scores = bm25_scores("Who was the auditor?", PAGES)
    assert max(range(len(PAGES)), key=scores.__getitem__) == 2
    assert scores[0] == 0.0


def test_everything_fits_reads_all_pages():
    sel = select_pages([100] * 6, PAGES, "revenue?", Mode.QA, budget=600)
    assert sel.pages == list(range(6)) and not sel.reduced and sel.note().en == ""


def test_over_budget_retrieves_best_pages_and_says_so():
    sel = select_pages([100] * 6, PAGES, "How much did revenue grow?", Mode.QA, budget=250)
    assert 1 in sel.pages and sel.selected_tokens <= 250 and sel.strategy == "retrieval"
    assert sel.pages == sorted(sel.pages)
    assert "GLYPH_MAX_VISUAL_TOKENS" in sel.note().en and "2" in sel.note().en and sel.note().zh


def test_chinese_question_finds_chinese_page():
    sel = select_pages([100] * 6, PAGES, "审计师是谁？", Mode.QA, budget=100)
    assert sel.pages == [4]


def test_summary_spreads_pages_over_the_document():
    sel = select_pages([100] * 6, PAGES, "", Mode.SUMMARY, budget=300)
    assert sel.strategy == "spread" and sel.pages[0] == 0 and sel.pages[-1] == 5
    assert sel.selected_tokens <= 300


def test_unmatched_question_spreads_and_a_single_huge_page_still_reads_one():
    sel = select_pages([100] * 6, PAGES, "zebra?", Mode.QA, budget=200)
    assert sel.strategy == "spread" and len(sel.pages) == 2
    sel = select_pages([500, 400], PAGES[:2], "revenue", Mode.QA, budget=100)
    assert len(sel.pages) == 1 and sel.reduced


def test_budget_is_capped_by_the_model_context():
    from app.readers.vlm.select import PROMPT_RESERVE, visual_budget

    budget, limit = visual_budget(100_000, 65536, 1024)
    assert budget == 65536 - 1024 - PROMPT_RESERVE and "65536-token context" in limit
    assert visual_budget(1000, 65536, 1024) == (1000, "GLYPH_MAX_VISUAL_TOKENS")
    assert visual_budget(1000, None, 1024) == (1000, "GLYPH_MAX_VISUAL_TOKENS")
    sel = select_pages([100] * 6, PAGES, "auditor?", Mode.QA, 200, limit)
    assert "65536-token context" in sel.note().en
