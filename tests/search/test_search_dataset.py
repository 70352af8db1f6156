"""Validation JSONL loading, dataset hash and answer scoring."""

import json

import pytest

from app.errors import ConfigError
from app.search.dataset import dataset_hash, load_jsonl, score_answer


def test_load_text_path_and_answer_lists(tmp_path, settings):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "memo.txt").write_text("The gate code is 4471.\n", encoding="utf-8")
    rows = [
        {"text": "Alice lives in Oslo.", "question": "Where does Alice live?", "answer": "Oslo"},
        {"path": "docs/memo.txt", "question": "What is the gate code?", "answer": ["4471"]},
        {"path": "docs/memo.txt", "question": "Gate code?", "answers": ["4471", "four"]},
    ]
    path = tmp_path / "val.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    items = load_jsonl(path, settings)
    assert [i.question for i in items] == [r["question"] for r in rows]
    assert items[1].text.startswith("The gate code is 4471.")
    assert items[2].answers == ("4471", "four") and items[1].name == "memo.txt"


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("not json", "not JSON"),
        ('{"text": "x", "answer": "y"}', "'question'"),
        ('{"text": "x", "question": "q"}', "'answer'"),
        ('{"question": "q", "answer": "a"}', "'text' or 'path'"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_bad_lines_name_the_line(tmp_path, line, why):
    path = tmp_path / "val.jsonl"
    good = json.dumps({"text": "t", "question": "q", "answer": "a"})
    path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"line 2: .*{why}"):
        load_jsonl(path)


def test_empty_or_missing_files(tmp_path):
    with pytest.raises(ConfigError, match="Cannot read"):
        load_jsonl(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no questions"):
        load_jsonl(tmp_path / "empty.jsonl")


def test_scoring_is_containment_with_number_boundaries():
    assert score_answer("4120 dollars", ["4120"]) == 1.0
    assert score_answer("  OSLO. ", ["Oslo"]) == 1.0
    assert score_answer("every Tuesday at nine", ["every tuesday"]) == 1.0
    assert score_answer("１２３", ["123"]) == 1.0  # full-width digits fold (NFKC)
    assert score_answer("41205", ["4120"]) == 0.0  # a longer number is another number
    assert score_answer("Not found in the document.", ["4120"]) == 0.0
    assert score_answer("", ["x"]) == 0.0
    assert score_answer("word " * 100 + "4120", ["4120"]) == 0.0  # a pasted page does not count
    assert score_answer("答案是 北京。", ["北京"]) == 1.0


def test_dataset_hash_follows_content(items):
    h = dataset_hash(items)
    assert h == dataset_hash(list(items))
    changed = [items[0].__class__(items[0].text, items[0].question, ("other",)), *items[1:]]
    assert dataset_hash(changed) != h
