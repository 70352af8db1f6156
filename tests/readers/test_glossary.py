"""A Chinese question about an English passage: its words' English words (``glossary``, from
CC-CEDICT) stand for them in the key matching and the retrieval of the built-in reader."""

import pytest

from app.readers.ocr import glossary
from app.readers.ocr.extract import key_matches, profile
from app.readers.ocr.retrieve import HybridIndex

GUIDE = """Backup Service Guide

The backup service copies every file in your home folder to the central server each night.

Backups are kept for 90 days and then deleted automatically.

To restore a file, open the Backup window from the Tools menu and choose Restore. The restored \
file is placed in a folder called Restored on your desktop.

Each user may store up to 50 GB on the server. If you exceed this quota, the service stops \
copying new files and sends you a warning.

For help, contact the service desk at helpdesk@example.org."""


def test_a_chinese_word_has_the_english_words_of_its_senses_and_their_forms():
    assert "backup" in glossary.english("备份")
    # the forms of a sense's words: "kept" is no stem of "keep"
    assert {"keep", "kept", "retain"} <= glossary.english("保留")
    # a word the dictionary lacks is looked up in its longest dictionary words
    assert {"automatic", "correct"} <= glossary.english("自动更正")
    # what a sense says of itself is no word of it: "CL:份[fen4]", "(computer)"
    assert not {"cl", "fen", "computer"} & glossary.english("文件")
    assert glossary.english("") == frozenset()
    assert glossary.in_english("Backups are kept for 90 days.")
    assert not glossary.in_english("备份保留 90 天（90 days）。")
    # code and command lines are no English prose, whatever words they hold
    assert not glossary.in_english('<item attribute="value">')
    assert not glossary.in_english("tar --create --file /srv/backup/home.tar /home")


def test_chinese_keys_are_found_in_an_english_sentence_by_their_english_words(monkeypatch):
    prof = profile("备份会保留多少天？")
    assert key_matches(prof, "Backups are kept for 90 days.")[0] == 1.0
    # in Chinese text a Chinese key is looked for as it is written, never by its English words
    assert key_matches(prof, "备份保留九十天。")[0] == 1.0
    assert key_matches(prof, "这些 backup 会 keep 很久。")[0] == 0.0
    # the English words of "属性值" are in a line of markup, which says nothing of it
    assert key_matches(profile("属性值可以为空吗？"), '<item attribute="value">')[0] == 0.0
    monkeypatch.setattr(glossary, "english", lambda word: frozenset())
    assert key_matches(prof, "Backups are kept for 90 days.")[0] == 0.0


def test_the_english_sentence_holding_the_questions_words_is_found():
    texts = GUIDE.split("\n\n")
    index = HybridIndex(texts, embeddings=False)
    prof = profile("恢复的文件放在哪里？")
    assert index.search(prof.text, k=3) == []  # no Chinese word is in the text
    found = index.search(prof.text, k=3, runs=prof.runs)
    assert found and texts[found[0][0]].startswith("To restore a file")
    # a Chinese sentence is ranked by its own words only
    mixed = HybridIndex(["文件恢复后放在桌面上。", *texts], embeddings=False)
    first, score = mixed.search(prof.text, k=3, runs=prof.runs)[0]
    assert first == 0 and score == pytest.approx(1.0)


def test_chinese_questions_on_an_english_text_are_answered_and_flagged(tmp_path):
    from tests.readers.test_ocr_text import _answers

    days, size, where, who, nowhere = _answers(
        tmp_path,
        GUIDE,
        "备份会保留多少天？",
        "每个用户最多可以存多少空间？",
        "恢复的文件放在哪里？",
        "需要帮助时应该联系谁？",
        "公司的年假有多少天？",
    )
    assert "90 days" in days.text
    assert "50 GB" in size.text
    assert "folder called Restored" in where.text
    assert "helpdesk@example.org" in who.text
    for answer in (days, size, where, who):
        # word for word is no translation: always to be checked, and said so in both languages
        assert answer.found and answer.needs_review, answer
        assert any("CC-CEDICT" in n.en and "CC-CEDICT" in n.zh for n in answer.notes)
        assert answer.spans and answer.spans[0].text in GUIDE
    assert not nowhere.found, nowhere.text


# a Chinese help page that left some paragraphs in English: its Chinese sentences share the
# question's words as they are written, the English ones say what is asked
COMMENTS = """批注

在批注窗口中可以输入批注的内容。

点击批注窗口右上角的箭头可以打开批注菜单。

您也可以在批注窗口中回复其他作者的批注。

批注窗口的颜色取决于作者，另存为旧版本的格式时会保留批注。

To hide all comments, choose View - Comments and clear the check mark.

To print comments in the margin, choose File - Print and select Place in margin."""


def test_an_english_paragraph_of_a_chinese_page_answers_a_chinese_question(tmp_path):
    from tests.readers.test_ocr_text import _answers

    hide, margin, old = _answers(
        tmp_path,
        COMMENTS,
        # the Chinese sentences hold "批注窗口" as written, ranked first by meaning too
        "批注窗口太多了，怎样把所有批注都隐藏起来？",
        "打印的时候批注能放在页边上吗？",
        # … and a Chinese sentence that answers stays the answer
        "另存为旧版本的格式时，批注还在吗？",
        preset="zh",
    )
    assert "hide all comments" in hide.text, hide.text
    assert "Place in margin" in margin.text, margin.text
    for answer in (hide, margin):
        assert answer.needs_review and any("CC-CEDICT" in n.en for n in answer.notes)
    assert "会保留批注" in old.text, old.text
    assert not any("CC-CEDICT" in n.en for n in old.notes)


def test_the_english_words_lead_to_the_lines_read_first_of_an_english_document_only(tmp_path):
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings

    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    try:
        english = render(GUIDE, resolve_config("en"))
        words = reader._search_words(english, "恢复的文件放在哪里？").split()
        assert "恢复的文件放在哪里？" in words and {"restore", "restored", "file"} <= set(words)
        assert reader._search_words(english, "Where is the file?") == "Where is the file?"
        chinese = render(COMMENTS, resolve_config("zh"))
        assert reader._search_words(chinese, "怎样隐藏批注？") == "怎样隐藏批注？"
    finally:
        reader.close()


def test_an_early_english_answer_to_a_chinese_question_waits_for_the_chinese_text(
    tmp_path, monkeypatch
):
    """On a Chinese document, lines read first that hold an English paragraph answering by the
    dictionary's words are no early answer: the Chinese text not read yet may say it."""
    from app.readers.ocr.reader import OcrReader
    from app.render import render, resolve_config
    from app.settings import Settings
    from tests.helpers.reading import ask

    filler = "港口办公室记录每一艘船的货物和泊位，检查按照每年春天商定的时间表进行。"
    text = "\n".join(
        [filler * 3] * 12
        + ["To hide all comments, choose View - Comments and clear the check mark."]
        + [filler * 3] * 12
        + ["要隐藏所有批注，请选择「视图 - 批注」并取消勾选。"]
        + [filler * 3] * 6
    )
    rendered = render(text, resolve_config("zh", page_size=(595, 300)))
    assert len(rendered.pages) >= 3
    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path, ocr_first_pages=0))
    lines, _ = reader._line_index(rendered)
    english = [i for i, (_, a, b) in enumerate(lines) if "comments" in rendered.text[a:b]]
    # the English paragraph's lines are the ones read first
    monkeypatch.setattr(reader, "_candidate_lines", lambda rendered, question: english)
    try:
        answer = ask(reader, rendered, "怎样把所有批注都隐藏起来？")
    finally:
        reader.close()
    assert "要隐藏所有批注" in answer.text, answer.text
