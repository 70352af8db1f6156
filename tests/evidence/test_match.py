from app.evidence.match import (
    exact_spans,
    fuzzy_span,
    locate_answer,
    split_sentences,
    supporting_sentences,
    terms,
)

TEXT = (
    "The licence was granted in 1991. The magic number of the blue project is 48213.\n"
    "The red project has magic number 1420. 蓝色项目的编号是 ZX-93。合同金额为 1,250,000 元。"
)


def test_split_sentences_offsets_point_into_text():
    sentences = split_sentences(TEXT)
    assert [s.text for s in sentences][:3] == [
        "The licence was granted in 1991.",
        "The magic number of the blue project is 48213.",
        "The red project has magic number 1420.",
    ]
    for s in sentences:
        assert TEXT[s.start : s.end] == s.text
    assert any(s.text == "蓝色项目的编号是 ZX-93。" for s in sentences)


def test_split_sentences_cuts_very_long_runs():
    text = "x" * 1000
    pieces = split_sentences(text, max_len=300)
    assert [len(p.text) for p in pieces] == [300, 300, 300, 100]


def test_exact_match_is_case_and_space_insensitive_and_token_bounded():
    spans = exact_spans(TEXT, "MAGIC  number")
    assert spans and TEXT[spans[0].start : spans[0].end].lower() == "magic number"
    # "142" must not match inside "1420"; "1420" does match
    assert exact_spans(TEXT, "142") == []
    (span,) = exact_spans(TEXT, "1420", limit=1)
    assert TEXT[span.start : span.end] == "1420" and span.score == 1.0


def test_exact_match_prefers_the_occurrence_the_question_is_about():
    text = "Alpha weight is 7 kg.\nBeta weight is 7 kg.\nGamma colour is red."
    (span,) = exact_spans(text, "7", question="What is the weight of Beta?", limit=1)
    assert text[span.start - 15 : span.start - 1] == "Beta weight is"


def test_fuzzy_alignment_finds_a_paraphrased_quote():
    span = fuzzy_span(TEXT, "the magic number of the blue projekt is 48213")
    assert span is not None and span.score >= 0.8
    assert "blue project is 48213" in TEXT[span.start : span.end]


def test_supporting_sentence_by_term_overlap():
    (span,) = supporting_sentences(TEXT, "When was the licence granted?")
    assert span.text == "The licence was granted in 1991."
    assert supporting_sentences(TEXT, "zebra giraffe") == []
    assert "the" not in terms("The Magic")


def test_locate_answer_falls_back_in_order():
    assert locate_answer(TEXT, "48213")[0].score == 1.0  # exact
    fuzzy = locate_answer(TEXT, "magic number of the blue projct is 48213")[0]
    assert 0.72 <= fuzzy.score < 1.0
    support = locate_answer(TEXT, "nineteen ninety-one", question="When was the licence granted?")
    assert support[0].text == "The licence was granted in 1991."
    assert locate_answer(TEXT, "") == []
    assert locate_answer(TEXT, "ZX-93")[0].text == "ZX-93"


def test_titles_and_abbreviations_do_not_end_sentences():
    text = "The officer is Dr. Amelia Hart of Bluefin Ltd. in London. J. Smith signed it. Done."
    assert [s.text for s in split_sentences(text)] == [
        "The officer is Dr. Amelia Hart of Bluefin Ltd. in London.",
        "J. Smith signed it.",
        "Done.",
    ]


def test_a_paraphrase_of_a_hard_wrapped_sentence_is_found_in_whole():
    """Texts wrapped at a fixed width (specifications, licences): a model's answer that restates
    one sentence is located on that sentence, not on a piece of one of its lines."""
    from app.evidence.match import document_sentences, locate_answer

    text = (
        "5. Stanzas\n\n"
        "   Multiple Files stanzas are allowed. The last stanza that matches a\n"
        "   particular file applies to it. More general stanzas should therefore be\n"
        "   given first, followed by more specific overrides.\n\n"
        "   A Files stanza that matches no file at all is an error and is reported\n"
        "   by the tools that check the file.\n"
    )
    sentences = [s.text for s in document_sentences(text)]
    assert any(s.startswith("The last stanza") and s.endswith("applies to it.") for s in sentences)
    spans = locate_answer(
        text,
        "The last stanza that matches the file applies to it.",
        "Which stanza applies when several match a file?",
    )
    assert spans and "particular file applies to it" in text[spans[0].start : spans[0].end]
    assert "The last stanza" in text[spans[0].start : spans[0].end]


def test_a_sentence_ends_where_markup_or_a_command_begins():
    """A manual's sentence that introduces an example: the XML, the shell command or the
    markup after it is not part of the sentence (an answer quoting it would carry the code)."""
    from app.evidence.match import document_sentences

    text = (
        "This is an example of a per-user configuration file that lives in the home folder\n"
        '<?xml version="1.0"?> <!DOCTYPE config SYSTEM "config.dtd"> <config>\n'
        '<dir prefix="xdg">fonts</dir>\n'
        "The next section describes how the system file is read by every program on start\n"
        "$ fc-cache -f -v\n"
        "and the cache is then written again for each of the directories that were listed.\n"
    )
    sentences = [s.text for s in document_sentences(text)]
    assert sentences[0] == (
        "This is an example of a per-user configuration file that lives in the home folder"
    )
    assert "The next section describes how the system file is read by every program on start" in (
        sentences
    )
    assert "$ fc-cache -f -v" in sentences
    # a wrapped sentence without markup still reads as one
    wrapped = (
        "The per-user file is read after the system file, and the settings in it\ntake precedence."
    )
    assert len(document_sentences(wrapped)) == 1


FILLER = "The office keeps records of every contract, its parties and its dates. " * 8


def test_an_answer_joining_two_places_cites_each():
    text = (
        f"Lease. {FILLER}The notice period of the lease is ninety days. {FILLER}"
        f"Insurance. {FILLER}The yearly insurance premium is 2,340 EUR. {FILLER}"
    )
    answer = "The notice period of the lease is ninety days, and the yearly premium is 2,340 EUR."
    spans = locate_answer(text, answer)  # the second clause in other words
    assert len(spans) == 2 and spans[0].text == "The notice period of the lease is ninety days"
    assert spans[1].text.startswith("The yearly insurance premium is 2,340 EUR")
    zh = (
        f"租约。{FILLER}租约的通知期为九十天。{FILLER}"
        f"保险。{FILLER}每年的保险费为 2340 欧元。{FILLER}"
    )
    found = locate_answer(zh, "租约的通知期为九十天，每年的保险费为 2340 欧元。")
    assert len(found) == 2 and "九十天" in found[0].text and "2340" in found[1].text


def test_clauses_of_one_passage_or_not_found_as_written_stay_one_place():
    text = (
        f"{FILLER}The notice period of the lease is ninety days. The landlord must be told in "
        f"writing. {FILLER}"
    )
    one = locate_answer(
        text, "The notice period of the lease is ninety days; the landlord must be told in writing."
    )
    assert len(one) == 1 and "ninety days" in one[0].text and "writing" in one[0].text
    # the second clause is not in the text: not two places, the answer is aligned as a whole
    guess = locate_answer(
        text,
        "The notice period of the lease is ninety days, and parking costs forty euros a month.",
    )
    assert len(guess) == 1 and "ninety days" in guess[0].text


def test_a_rephrased_answer_is_cited_where_its_rare_words_are():
    # a model restates the fact in its own words: the place is the line holding its values
    # (the field's name, the level's name and number), not a sentence sharing its common words
    text = (
        "Fields of the header.\nFormat: required.\n"
        "Other fields in the header stanza are optional, and the Source field is recommended.\n"
    )
    answer = "The Format field is required in the header stanza."
    [span] = locate_answer(text, answer, "Which field is required in the header stanza?")
    assert span.text == "Format: required."

    text = (
        "内核错误级别表\n级别 | 名称 | 含义\n3 | KERN_ERR | 错误条件\n4 | KERN_WARNING | 警告条件\n"
        "内核错误级别越小，表示的问题越严重。\n"
    )
    answer = "KERN_ERR（级别 3）表示错误条件。"
    [span] = locate_answer(text, answer, "内核错误级别 3（KERN_ERR）表示什么？")
    assert span.text == "3 | KERN_ERR | 错误条件"


def test_the_sentence_holding_the_answers_value_is_cited_though_others_share_more_words():
    text = (
        "Debian 发行版的每个软件包都由维护者负责，软件包的版本号由发行版统一管理。\n"
        "截至本文写作时，共计 58100 余项。\n"
        "您也可以检查 /etc/debian_version 文件，它给出了 Debian 发行版的版本号，由软件包 "
        "base-files 定义。\n"
    )
    answer = "Debian 发行版目前一共收录了大约 58100 个软件包。"
    [span] = locate_answer(text, answer, "Debian 现在一共有多少个软件包？")
    assert span.text == "截至本文写作时，共计 58100 余项。"
    assert span.score == 1.0  # it holds the answer's only value


def test_an_alignment_does_not_take_a_sliver_of_the_next_sentence():
    text = "名单见下。\n版权© 1998-2002 Josip Rodin\n本手册的所有版权归各自的作者所有，翻译的版权归译者所有。\n"
    span = fuzzy_span(text, "1998-2002 年的版权归 Josip Rodin 所有。")
    assert span is not None and span.text == "版权© 1998-2002 Josip Rodin"
