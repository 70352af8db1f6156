"""Answer metrics on hand-computed cases (English word-level, Chinese character-level)."""

import pytest

from app.train.metrics import (
    Scores,
    exact_match,
    f1,
    lcs_length,
    mean_scores,
    rouge_l,
    score,
    tokenize,
)


def test_tokenize_words_numbers_and_cjk_characters():
    assert tokenize("The Cat, sat on $4.5 million!") == ["cat", "sat", "on", "4.5", "million"]
    # every CJK character is a token; Latin words and numbers stay whole; full-width folded
    assert tokenize("发票号码为BX-5104。ＡＢ１２") == [
        "发",
        "票",
        "号",
        "码",
        "为",
        "bx",
        "5104",
        "ab12",
    ]
    assert tokenize("abc中文def") == ["abc", "中", "文", "def"]
    assert tokenize("2024-0173, 1,200") == ["2024-0173", "1,200"]


def test_exact_match_ignores_case_punctuation_and_articles():
    assert exact_match("The Berlin office.", "berlin office") == 1.0
    assert exact_match("四百五十万元。", "四百五十万元") == 1.0
    assert exact_match("Berlin", "Bern") == 0.0


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        # [cat, sat, on, mat] vs [cat, is, on, mat]: 3 common of 4 and 4 → P = R = 3/4
        ("The cat sat on the mat", "the cat is on the mat", 0.75),
        # a bag of words ignores order
        ("mat on cat", "cat on mat", 1.0),
        # 9 characters vs 6, all 6 shared: P = 6/9, R = 1 → 2·(2/3)/(5/3) = 0.8
        ("收入为四百五十万元", "四百五十万元", 0.8),
        # 5 characters vs 8: P = 1, R = 5/8 → 2·(5/8)/(13/8) = 10/13
        ("十二月到期", "合同于十二月到期", 10 / 13),
        # [4.5, million] vs [4.5, million, dollars]: P = 1, R = 2/3 → 0.8
        ("$4.5 million", "4.5 million dollars", 0.8),
        ("Paris", "Berlin", 0.0),
        ("", "", 1.0),
        ("", "Berlin", 0.0),
    ],
)
def test_f1(prediction, reference, expected):
    assert f1(prediction, reference) == pytest.approx(expected)


def test_lcs_length():
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4  # the textbook example (BCBA)
    assert lcs_length([], ["a"]) == 0
    assert lcs_length(["a", "b"], ["a", "b"]) == 2


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        # LCS of [mat, on, cat] and [cat, on, mat] is 1 → P = R = 1/3
        ("mat on cat", "cat on mat", 1 / 3),
        # [police, killed, gunman] vs [police, kill, gunman]: LCS 2 → 2/3
        ("police killed the gunman", "police kill the gunman", 2 / 3),
        # characters: 同意签署合同 vs 合同已签署: LCS 同签署 = 3 → P = 3/6, R = 3/5 → 6/11
        ("同意签署合同", "合同已签署", 6 / 11),
        ("收入为四百五十万元", "四百五十万元", 0.8),
        ("", "", 1.0),
    ],
)
def test_rouge_l(prediction, reference, expected):
    assert rouge_l(prediction, reference) == pytest.approx(expected)


def test_score_takes_the_best_reference_and_mean_is_percent():
    best = score("Berlin", ["Munich", "berlin"])
    assert best == Scores(1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        score("x", [])
    rows = [Scores(1.0, 1.0, 1.0), Scores(0.0, 0.5, 0.25)]
    assert mean_scores(rows) == pytest.approx({"exact_match": 50.0, "f1": 75.0, "rouge_l": 62.5})
    assert mean_scores([]) == {"exact_match": 0.0, "f1": 0.0, "rouge_l": 0.0}
