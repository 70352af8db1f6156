"""The real-document QA scorer (eval/qa_real/score.py) on tiny synthetic examples."""

from __future__ import annotations

import pytest

from eval.qa_real import score


@pytest.mark.parametrize(
    ("answer", "aliases", "expected"),
    [
        ("It was released in January 2004.", ["January 2004"], "January 2004"),
        ("JANUARY   2004", ["january 2004"], "january 2004"),
        ("好密码应该由 6 到 8 个字符组成", ["6 到8 个字符"], "6 到8 个字符"),
        ("ＡＰＴ（高级包管理工具）", ["APT (高级包管理工具)"], "APT (高级包管理工具)"),
        ("see /lib/systemd/systemd.", ['" /lib/systemd/systemd "'], '" /lib/systemd/systemd "'),
        ("I am on vacation", ["[VAC]"], None),  # no match inside a longer word
        ("prepend [VAC] to the subject", ["[VAC]"], "[VAC]"),
        ("about 100 days", ["10"], None),
        ("anything at all", ["“：”", ""], None),  # aliases that normalise to nothing never match
        ("wrong", [], None),
    ],
)
def test_contains_alias(answer, aliases, expected):
    assert score.contains_alias(answer, aliases) == expected


def test_normalize_folds_width_case_punctuation_and_cjk_spaces():
    assert score.normalize("Ｈｅｌｌｏ，  World!") == "hello world"
    assert score.normalize("使用 SUPER-SPACE 切换") == "使用super space切换"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Not found in the document.", True),
        ("文档中未找到答案。", True),
        ("", True),
        ("The answer is 42.", False),
    ],
)
def test_is_not_found(text, expected):
    assert score.is_not_found(text) is expected


def test_find_passage_ignores_white_space_and_finds_every_occurrence():
    text = "alpha beta\ngamma delta. alpha  beta gamma delta!"
    ranges = score.find_passage(text, "alpha beta gamma")
    assert ranges == [(0, 16), (24, 41)]
    assert all(text[a:b].split() == ["alpha", "beta", "gamma"] for a, b in ranges)
    # a PDF line break inside Chinese text
    zh = "前言\n典型的启动过程像是一个四\n级的火箭。"
    ((a, b),) = score.find_passage(zh, "典型的启动过程像是一个四级的火箭。")
    assert zh[a:b] == "典型的启动过程像是一个四\n级的火箭。"
    assert score.find_passage(text, "epsilon") == []


def test_find_gold_takes_the_alternative_passages_too():
    text = "Lesson: press x to delete. ... Summary: x deletes a character."
    q = {"answerable": True, "passage": "press x to delete", "alt_passages": ["x deletes"]}
    assert score.find_gold(text, q) == [(8, 25), (40, 49)]
    assert score.gold_passages({"answerable": False}) == []


def test_overlaps_and_boxes():
    assert score.overlaps([(5, 10)], [(9, 20)])
    assert not score.overlaps([(5, 10)], [(10, 20)])
    assert not score.overlaps([], [(0, 5)])
    gold = [(1, (10.0, 10.0, 50.0, 20.0))]
    assert score.boxes_intersect([(1, (40.0, 15.0, 60.0, 25.0))], gold)
    assert not score.boxes_intersect([(0, (40.0, 15.0, 60.0, 25.0))], gold)  # other page
    assert not score.boxes_intersect([(1, (50.0, 10.0, 60.0, 20.0))], gold)  # touching only


def _q(answerable=True, answers=("Paris",), qtype="where", lang="en"):
    return {
        "id": "q",
        "doc": "d",
        "language": lang,
        "type": qtype,
        "answerable": answerable,
        "answers": list(answers) if answerable else [],
    }


def test_judge_answerable():
    q = _q()
    ok = score.judge(
        q, answer_text="In Paris.", needs_review=False, evidence_on_gold=True, box_on_gold=True
    )
    assert ok["correct"] and ok["contains_gold"] and ok["unanswerable_handled"] is None
    off_passage = score.judge(
        q, answer_text="Paris", needs_review=False, evidence_on_gold=False, box_on_gold=False
    )
    assert off_passage["contains_gold"] and not off_passage["correct"]
    too_long = score.judge(
        q,
        answer_text="Paris " + "x" * 300,
        needs_review=False,
        evidence_on_gold=True,
        box_on_gold=True,
    )
    assert not too_long["correct"] and not too_long["short"]
    said_not_found = score.judge(
        q,
        answer_text="Not found in the document.",
        needs_review=True,
        evidence_on_gold=False,
        box_on_gold=False,
    )
    assert said_not_found["not_found"] and not said_not_found["correct"]


def test_judge_unanswerable():
    q = _q(answerable=False)
    nf = score.judge(
        q,
        answer_text="文档中未找到答案。",
        needs_review=True,
        evidence_on_gold=False,
        box_on_gold=False,
    )
    assert nf["correct"] and nf["unanswerable_handled"]
    flagged = score.judge(
        q, answer_text="Lyon", needs_review=True, evidence_on_gold=False, box_on_gold=False
    )
    assert not flagged["correct"] and flagged["unanswerable_handled"]
    confident = score.judge(
        q, answer_text="Lyon", needs_review=False, evidence_on_gold=False, box_on_gold=False
    )
    assert not confident["unanswerable_handled"]


def _record(
    answerable, correct, needs_review, lang="en", qtype="what", handled=None, free=None, seconds=1.0
):
    return {
        "answerable": answerable,
        "correct": correct,
        "contains_gold": correct,
        "evidence_on_gold": correct,
        "box_on_gold": correct,
        "not_found": not answerable and correct,
        "needs_review": needs_review,
        "unanswerable_handled": handled,
        "free_form_box_on_gold": free,
        "language": lang,
        "type": qtype,
        "seconds": seconds,
    }


def test_summarize_metrics():
    records = [
        _record(True, True, False, free=True, seconds=1.0),
        _record(True, True, True, lang="zh", free=True, seconds=2.0),
        _record(True, False, False, lang="zh", free=False, seconds=3.0),
        _record(True, False, True, free=True, seconds=4.0),
        _record(False, True, True, handled=True, seconds=5.0),  # said not found
        _record(False, False, False, handled=False, seconds=6.0),  # confident wrong answer
    ]
    s = score.summarize(records)
    assert (s["questions"], s["answerable"], s["unanswerable"]) == (6, 4, 2)
    assert s["correct"] == 0.5  # 2 of the 4 answerable
    assert s["unflagged"] == 3
    assert s["unflagged_correct"] == pytest.approx(1 / 3, abs=1e-4)  # 1 of 3 unflagged
    assert s["unanswerable_handled"] == 0.5
    assert s["free_form_box_on_gold"] == 0.75
    assert s["flagged"] == 0.5
    assert s["seconds_mean"] == 3.5 and s["seconds_total"] == 21.0
    by_lang = score.breakdown(records, "language")
    assert by_lang["zh"]["correct"] == 0.5 and by_lang["en"]["answerable"] == 2


def test_key_info_precision():
    judged = [
        {
            "doc": "a",
            "language": "en",
            "type": "date",
            "item": "2004",
            "real_and_correct_type": True,
        },
        {
            "doc": "a",
            "language": "en",
            "type": "person",
            "item": "Legal Entity",
            "real_and_correct_type": False,
        },
        {
            "doc": "b",
            "language": "zh",
            "type": "date",
            "item": "2012年",
            "real_and_correct_type": True,
        },
        {"doc": "b", "language": "zh", "type": "org", "item": "?", "real_and_correct_type": None},
    ]
    p = score.key_info_precision(judged)
    assert p["items"] == 3
    assert p["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert p["by_language"]["en"]["precision"] == 0.5


def _bench():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "qa_real.py"
    spec = importlib.util.spec_from_file_location("bench_qa_real", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_bench_key_info_counts_only_the_items_this_run_extracted():
    bench = _bench()
    judged = [
        {"doc": "a", "type": "date", "item": "January  2004", "real_and_correct_type": True},
        {"doc": "a", "type": "person", "item": "Legal Entity", "real_and_correct_type": False},
        {"doc": "a", "type": "person", "item": "Joe Hacker", "real_and_correct_type": True},
    ]
    extracted = [
        {"doc": "a", "language": "en", "type": "date", "item": "January 2004"},
        {"doc": "a", "language": "en", "type": "person", "item": "Legal Entity"},
        {"doc": "a", "language": "en", "type": "url", "item": "http://x.example/"},
    ]
    ki = bench.judged_key_info(extracted, judged)
    assert (ki["items"], ki["precision"], ki["extracted"], ki["unjudged"]) == (2, 0.5, 3, 1)
    assert ki["unjudged_items"][0]["type"] == "url"
    # judged by the text at its place, but shown as the OCR misread it: wrong all the same
    shown = [
        {**extracted[0], "shown": "January 2004"},
        {**judged[2], "language": "en", "item": "Joe Hacker", "shown": "Joe Hackor"},
    ]
    ki = bench.judged_key_info(shown, judged)
    assert (ki["items"], ki["precision"], ki["shown_misread"]) == (2, 0.5, 1)
    assert bench.shown_values("- Date: January 2004\n- Person: Joe Hacker", 2) == [
        "January 2004",
        "Joe Hacker",
    ]
    assert bench.shown_values("Not found in the document.", 1) is None


def test_bench_selects_by_split_and_limit():
    bench = _bench()
    from eval.qa_real.build import load_documents, load_questions

    docs, questions = load_documents(), load_questions()
    dev_docs, dev_q = bench.select(docs, questions, "dev")
    assert dev_docs and all(d.split == "dev" for d in dev_docs)
    assert {q["doc"] for q in dev_q} == {d.id for d in dev_docs}
    few_docs, few = bench.select(docs, questions, "heldout", limit=5)
    assert len(few) == 5 and {d.id for d in few_docs} == {q["doc"] for q in few}
    all_docs, everything = bench.select(docs, questions, "all")
    assert len(all_docs) == len(docs) and len(everything) == len(questions)
