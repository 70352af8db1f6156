"""app.text: the one CJK class, language rule, tokenizer and BM25 every stage uses."""

from app.text import (
    BM25,
    STOP_WORDS,
    ZH_SHARE,
    bm25_scores,
    cjk_ratio,
    detect_language,
    has_cjk,
    is_cjk,
    question_language,
    tokenize,
)


def test_cjk_characters():
    assert is_cjk("中") and is_cjk("。") and is_cjk("，") and is_cjk("カ") and is_cjk("한")
    assert not is_cjk("a") and not is_cjk(" ") and not is_cjk("é")
    assert has_cjk("GPU 显存") and not has_cjk("GPU", 1) and not has_cjk("显", 2)


def test_document_language_is_a_share_of_the_letters():
    assert detect_language("Hello world, this is English.") == "en"
    assert detect_language("这是一个中文句子，用来测试。") == "zh"
    assert detect_language("A long English text with one name 张三 in it. " * 5) == "en"
    assert detect_language("这是一个关于 GPU 显存的中文句子") == "zh"
    # a Chinese text full of English terms is still Chinese (about half its words are)
    assert detect_language("模型 uses 显存 for the KV 缓存 when 推理 runs") == "zh"
    assert cjk_ratio("12345 !!!") is None and cjk_ratio("ab中文") == 0.5
    assert 0.1 <= ZH_SHARE <= 0.2
    # no letters: the default; the first text with letters decides
    assert detect_language("") == "en" and detect_language("", default=None) is None
    assert detect_language("2024?", "这是中文文档") == "zh"
    assert detect_language(None, "An English document") == "en"
    # bounded sample: head and tail of a long text, never the whole of it
    long = "中文内容" * 100 + "English words only " * 100_000 + "结尾也是中文" * 100
    assert detect_language(long) == "en"


def test_question_language_needs_only_two_cjk_characters():
    assert question_language("GPU 显存是多少？") == "zh"
    assert detect_language("What does the GPU memory of the 显卡 mean?") == "en"
    assert question_language("What does the GPU memory of the 显卡 mean?") == "zh"
    assert question_language("What is 词?") == "en" and question_language("") == "en"


def test_tokenize():
    assert tokenize("What is the Revenue?") == ["revenue"]
    assert tokenize("审计师") == ["审计", "计师"] and tokenize("审") == ["审"]
    assert tokenize("审计师", cjk="chars") == ["审", "计", "师"]
    assert tokenize("审计", cjk="both") == ["审", "计", "审计"]
    assert "#li" in tokenize("licence", trigrams=True) and "licence" in tokenize("licence")
    assert tokenize("营业收入是多少", question=True) == ["营业", "业收", "收入"]
    assert tokenize("4.5 million, NW-BF-2025.") == ["4.5", "million", "nw-bf-2025"]
    assert tokenize("the a of", stop=()) == ["the", "a", "of"]
    assert "the" in STOP_WORDS and "what" not in STOP_WORDS


def test_bm25():
    bm = BM25([["a", "b"], ["b"], []])
    scores = bm.scores(["a"])
    assert scores[0] > 0 and scores[1] == 0 and scores[2] == 0
    assert bm.idf_of("a") > bm.idf_of("b") and bm.idf_of("zzz") >= bm.idf_of("a")
    pages = ["The auditor was Jane Smith.", "Revenue grew by 12%.", "审计师来自柏林。"]
    scores = bm25_scores("Who was the auditor?", pages)
    assert scores[0] > 0 and scores[1] == 0 and scores[2] == 0
    assert bm25_scores("审计师是谁？", pages)[2] > 0 and bm25_scores("x", []) == []
