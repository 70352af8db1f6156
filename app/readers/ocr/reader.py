"""The built-in CPU reader: OCR of the rendered page images, retrieval, extractive answers.

Every answer word comes from OCR of the page pixels; the layout map only ties read characters to
positions in the rendered text so that evidence boxes are exact. Pages are OCR'd once per page
image hash (disk cache), the assembled text and its retrieval index once per rendered document
(memory), so follow-up questions cost retrieval only. A re-render of the same text (higher
resolution, other settings) answers from the text already read until its own pages are read in
the background: what was read is tied to character offsets, which the new pages share.
"""

from __future__ import annotations

import atexit
import bisect
import concurrent.futures.thread  # noqa: F401 - must register its exit hook before ours
import dataclasses
import hashlib
import itertools
import logging
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from app.datamodel import Answer, AnswerChunk, Mode, Note, RenderedDoc, Span, iter_lines
from app.evidence.match import Sentence
from app.ocr import OcrLine, get_engine
from app.readers.base import NOT_FOUND, Reader, ReaderCapabilities
from app.readers.control import QuestionControl, foreground
from app.readers.ocr import glossary
from app.readers.ocr.answer_policy import (
    HEAD_SENTENCES,
    MAX_ANSWER,
    MEANING_ANSWERS,
    MIN_SUPPORT,
    Choice,
    Decision,
    abbreviation,
    announces,
    asks_document_date,
    asks_only_document_date,
    asks_reason,
    asks_term,
    confidence,
    contents_label,
    contents_pointers,
    continues,
    decide,
    defined_term,
    defines,
    does_what_it_says,
    excerpt,
    explains,
    fitting_values,
    follows_from,
    gives_reason,
    glosses,
    goes_on,
    in_contents,
    introduces,
    keys_entry,
    lacks_required_value,
    lost_in_reading,
    marker,
    names_a_number,
    needs_next,
    new_terms,
    opens_part,
    option_dashes_misread,
    pressed_key,
    question_numbers,
    refers_back,
    resumed_end,
    shown_command,
    sibling_entries,
    spells_out,
    states_meaning,
    symbol_read_as_letter,
    term_label,
    unmentioned_options,
)
from app.readers.ocr.cache import OcrCache
from app.readers.ocr.extract import (
    Candidate,
    Profile,
    extract,
    find_literal,
    key_matches,
    literals,
    profile,
    without_phrasing,
)
from app.readers.ocr.keyinfo import format_items, key_information, precise
from app.readers.ocr.lines import OcrText, assemble
from app.readers.ocr.patterns import OPENING_FOOTNOTE
from app.readers.ocr.retrieve import HybridIndex, warm_up_embeddings
from app.readers.ocr.summarize import furniture, requested_length, summarize
from app.readers.ocr.tables import labelled, read_tables
from app.settings import Settings
from app.text import (
    BM25,
    bm25_scores,
    detect_language,
    question_language,
    tokenize,
    unspaced,
)

log = logging.getLogger(__name__)

MAX_SPELLED = 3  # sentences spelling out an abbreviation that are looked at (the first ones)
MIN_COVERAGE = 0.34  # fewer of the question's key words than this: no answer
TOP_K = 12
MIN_KIND_COVERAGE = 0.15  # … unless it holds the kind of value asked for, and leads by KIND_LEAD
KIND_LEAD = 0.1
GLOSS_REACH = 3  # a window saying what the term asked about means goes first from this far down
FIT_TIE = 0.05  # a window this close to the first that holds the kind of value asked goes first
# A Chinese question in everyday words shares few bigrams with the sentence that answers it, so
# coverage says less than in English. A first window that is also first by retrieval, close in
# meaning and this far ahead of the next answers, always flagged. Dev, 2026-12-05 (447 questions,
# the first windows of the 69 "not found" answers): Chinese, 6 on the gold passage and 1
# unanswerable question at these bounds (the others under 0.13 or not first by retrieval);
# English, 0 on the gold passage and 1 unanswerable, so English has none.
LEAD_ANSWERS = {"zh": 0.13}
# an English window that answers a Chinese question by its words' English words goes first when
# the first holds too few of them and leads it by no more than this (probe6, read like dev)
ENGLISH_LEAD = 0.15
LEAD_COVERAGE = 0.2  # … and it holds at least this much of the question's words
LEAD_MEANING = 0.55  # … and at least this close in meaning
MAX_LITERAL_SENTENCES = 24  # sentences holding a quoted option or path, each also a candidate
# An answer from the first-read lines or pages at least this sure is given at once (flagged when
# under the review threshold) instead of reading every page first: the lines read first are the
# best-matching ones, and a whole read of a long document takes minutes (the threshold moved to
# 0.85 for the flag, since 2026-12-05 0.9; answering early stayed where it was, 0.6)
EARLY_ANSWER_MIN = 0.6
# the best-matching lines read first (each with its context) before the other candidates
FIRST_ROUND_LINES = 3
DOCS_IN_MEMORY = 8
_READERS: weakref.WeakSet[OcrReader] = weakref.WeakSet()


def _stop_background_reads() -> None:
    # Daemon threads inside onnxruntime abort the process when the interpreter finalises under
    # them ("terminate called without an active exception", exit 134): stop them first.
    for reader in list(_READERS):
        reader.close()


# Run before concurrent.futures shuts its thread pools down at exit (those callbacks run in
# reverse order of registration; concurrent.futures.thread, imported above, registers first),
# so a background read finishes its page instead of failing on a closed pool.
try:
    threading._register_atexit(_stop_background_reads)  # type: ignore[attr-defined]
except (AttributeError, RuntimeError):
    atexit.register(_stop_background_reads)


def _with_neighbour(
    sentences: list[Sentence], idx: int, start: int, end: int, fitting: Callable[[str], bool]
) -> tuple[int, int, bool]:
    """``start:end`` widened by the next (else the previous) sentence when that one holds what
    the question asks for and the two stay within an answer's length; else unchanged."""
    for other in (idx + 1, idx - 1):
        if not 0 <= other < len(sentences):
            continue
        a, b = min(start, sentences[other].start), max(end, sentences[other].end)
        if b - a <= MAX_ANSWER and fitting(sentences[other].text):
            return a, b, True
    return start, end, False


def _line_above_holds(
    sentences: list[Sentence],
    idx: int,
    text: str,
    fitting: Callable[[str], bool],
) -> bool:
    """The sentence before ``idx`` is the first line of the same sentence (a line break between
    them, no blank line, and it does not end as a sentence ends), not a part of its own, or the
    term the sentence describes ("65534:" / "User nobody."), the two fit an answer's length, and
    it holds a value of the kind the question asks for."""
    if idx == 0:
        return False
    prev, sent = sentences[idx - 1], sentences[idx]
    gap = text[prev.end : sent.start]
    return (
        gap.count("\n") == 1
        and not gap.strip()
        and not continues(prev.text)
        and (not opens_part(prev.text) or term_label(prev.text))
        and sent.end - prev.start <= MAX_ANSWER
        and fitting(prev.text)
    )


def _with_what_comes_before(
    prof: Profile,
    sentences: list[Sentence],
    idx: int,
    start: int,
    end: int,
    names: bool,
    naming: Callable[[str], bool],
    reason: bool = False,
) -> tuple[int, int]:
    """The window ``start:end`` of sentence ``idx`` widened back to the sentence before it, when
    that one says what this one is about (or, for a "why" question, ``reason``, when this one
    follows from it: "So …"); else unchanged."""
    if idx == 0:
        return start, end
    sent, prev = sentences[idx], sentences[idx - 1]
    if (
        names
        and start == sent.start
        and needs_next(prev.text, prof.cjk)
        and naming(prev.text)
        and not furniture(prev.text)
        and end - prev.start <= MAX_ANSWER
    ):
        # a list of terms, each above its description ("isolation-container" / "The test wants
        # to … open network TCP ports."): the name asked for is the label above
        return prev.start, end
    if (
        start == sent.start
        and shown_command(sent.text, prof.literals)
        and introduces(prev.text)
        and sent.end - prev.start <= MAX_ANSWER
    ):
        # a command on its own line under the sentence that says what it does ("要查看所有已安装
        # 的软件包的版本，请运行：" / "dpkg -l"): a question about the command is answered by that
        # sentence, and the command ends the answer; that sentence may itself point back ("…
        # use your key for the signature. You do that with the -k option:" / "dpkg-buildpackage
        # -kKEY-ID")
        before = sentences[idx - 2] if idx > 1 else None
        if before and refers_back(prev.text) and sent.end - before.start <= MAX_ANSWER:
            return before.start, sent.end
        return prev.start, sent.end
    if (refers_back(sent.text) or (reason and follows_from(sent.text))) and (
        end - prev.start <= MAX_ANSWER
    ):
        # "This file describes all the changes …": what "this file" is, is said just before (a
        # file name, a heading, the previous sentence); that one may point back in turn
        # ("/etc/dpkg/shlibs.default" / "This file lists …" / "It was used when …")
        before = sentences[idx - 2] if idx > 1 else None
        if before and refers_back(prev.text) and end - before.start <= MAX_ANSWER:
            return before.start, end
        return prev.start, end
    return start, end


_CLAUSE_START = re.compile(r"\n\s*|[,;，；]\s*")  # where the rest of a sentence can be shown from
MIN_CLAUSE = 60  # characters of the sentence kept before the next one


def _and_what_follows(
    sentences: list[Sentence], text: str, start: int, end: int
) -> tuple[int, int]:
    """The window of a sentence answer, carried over the next sentence when it goes on in the
    same line of text (a paragraph; not the next list entry, table row or heading) and both fit
    an answer's length: the sentence that matches the question often only sets it up ("After you
    have signed up, your advocate has to confirm your application." / "When your advocate has
    completed this step you will be assigned an Application Manager …"). A number between them
    is a footnote's ("… needed by the package. 10 To do this, put …"). Where the next sentence
    does what this one says and the two are too long together, the window starts later in this
    one (after a heading run into it, or a comma): "… it must run dpkg-shlibdeps on each shared
    library … To do this, put a call to dpkg-shlibdeps into your debian/rules file" answers a
    "how" better than the same without its second sentence."""
    starts = [s.start for s in sentences]
    idx = bisect.bisect_right(starts, max(start, end - 1)) - 1
    if not 0 <= idx < len(sentences) - 1 or sentences[idx].end != end:
        return start, end  # the answer was cut inside its sentence, or nothing follows
    whole = _to_full_stop(sentences, text, idx, start)
    if whole > end:
        return start, whole  # the sentence was one clause of a longer one: the rest first
    nxt = sentences[idx + 1]
    gap = text[end : nxt.start]
    if "\n" in gap or furniture(nxt.text) or not continues(OPENING_FOOTNOTE.sub("", nxt.text)):
        return start, end
    if nxt.end - start <= MAX_ANSWER:
        return start, _to_full_stop(sentences, text, idx + 1, start)
    if does_what_it_says(nxt.text):
        # it does what this one says ("To do this, …"): it is more of the answer than the start
        # of this one, a heading run into it or its first clauses, which go when the two do not
        # fit together
        for cut in _CLAUSE_START.finditer(text, start, end):
            if nxt.end - cut.end() <= MAX_ANSWER:
                if end - cut.end() >= MIN_CLAUSE:
                    return cut.end(), nxt.end
                break
    return start, end


def _to_full_stop(sentences: list[Sentence], text: str, idx: int, start: int) -> int:
    """The end of sentence ``idx``, carried over the clauses after it while it ends with a
    Chinese semicolon, where sentences are split, and they go on in the same line and fit an
    answer's length from ``start``: "所有以“K”开头的脚本都会被执行；" says what is run, and the clause
    after it, "这些脚本杀死（kill）服务。", what the scripts do."""
    end = sentences[idx].end
    while sentences[idx].text.endswith("；") and idx + 1 < len(sentences):
        nxt = sentences[idx + 1]
        if "\n" in text[end : nxt.start] or nxt.end - start > MAX_ANSWER or furniture(nxt.text):
            break
        idx, end = idx + 1, nxt.end
    return end


ANNOUNCED_LINES = 3  # lines an answer ending in a colon may take after it


def _and_what_it_announces(text: str, start: int, end: int) -> int:
    """The end of a sentence answer that ends by announcing what follows ("… simply run the
    following command:", "它应该是以下二者之一："), carried over the lines after it (a command, the
    entries of a short list, after a blank line or not) up to a blank line, a heading, or an
    answer's length: the colon promises the answer, and an answer that stops there gives only
    its lead-in (also where the lead-in says so and ends in a full stop: "是按下面的方式标记。")."""
    if not announces(text[start:end]):
        return end
    best = pos = end
    first = ""
    for _ in range(ANNOUNCED_LINES):
        nl = text.find("\n", pos)
        if nl < 0 or text[pos:nl].strip():  # the lead-in's own line goes on: not at its end
            break
        if best == end and text.startswith("\n", nl + 1):
            nl += 1  # the announced block (a command, a listing) may be a paragraph of its own
        line_end = text.find("\n", nl + 1)
        line_end = len(text) if line_end < 0 else line_end
        line = text[nl + 1 : line_end]
        if not line.strip() or opens_part(line):
            break
        if line_end - start > MAX_ANSWER or furniture(line):
            break
        if best > end and continues(line) != continues(first):
            break  # the announced lines (a command, list entries) ended: prose goes on
        if best == end:
            first = line
        best = pos = line_end
    return best


def _literal_sentences(quoted: tuple[str, ...], sentences: list[Sentence], text: str) -> list[int]:
    """Sentences that hold an option, command or path the question quotes ("passwd -e", "$1$"),
    or the sign it asks the meaning of ("●"): word retrieval drops the symbols, so "-e" would
    rank like any other mention of passwd."""
    if not quoted or not sentences:
        return []
    starts = [s.start for s in sentences]
    found: list[int] = []
    for lit in quoted:
        for a, _ in find_literal(lit, text)[:MAX_LITERAL_SENTENCES]:
            idx = bisect.bisect_right(starts, a) - 1
            if idx >= 0 and idx not in found:
                found.append(idx)
    return found


def _asks_about(question: str) -> tuple[Profile, str | None, str | None]:
    """The question's profile, the term it asks the meaning of and the option it asks about
    (the "-sa" of "dpkg-buildpackage -sa"), each None when it asks none."""
    prof = profile(question)
    asked = defined_term(question)
    sign = marker(asked)
    if sign and sign not in prof.literals:
        # "What does the @ sign mean?": the sign is looked for and counted as written
        prof = dataclasses.replace(prof, literals=(*prof.literals, sign))
    options = [lit.rsplit(" ", 1)[-1] for lit in prof.literals]
    return prof, asked, next((o for o in options if o.startswith("-")), None)


def _saying_what_it_is(
    sentences: list[Sentence], term: str | None, asked: str | None, key: str | None = None
) -> list[int]:
    """The first sentences that say what the term asked about is, whatever else they share
    with the question: an abbreviation's words spelled out ("NSS 是什么的缩写？" of "NSS（Name
    Service Switch，…）"), else a sentence opening with the term and saying what it is ("HEX 是
    十六进制…", over table rows that only list "HEX" and share more of the question's words);
    for a key asked about ("按 C 是干什么的？"), the list's entries for it ("C  修改注释。").
    Nothing for a question that asks about no term."""
    if not (asked or term):
        return []
    if key:
        entries = [i for i, sent in enumerate(sentences) if keys_entry(sent.text, key)]
        if entries:
            return entries[:MAX_SPELLED]
    acronym = abbreviation(term)
    stating = [i for i, sent in enumerate(sentences) if states_meaning(sent.text, asked)]
    if acronym and not (stating and acronym != (term or "").strip()):
        # … but where the term is more than its abbreviation ("LTSP 客户端"), a sentence saying
        # what the whole term is goes before one spelling out the abbreviation alone
        spelled = [i for i, sent in enumerate(sentences) if spells_out(sent.text, term)]
        if spelled:
            return spelled[:MAX_SPELLED]
    return stating[:MAX_SPELLED]


def _saying_what_first(
    choices: list[Choice], saying: list[int], asked: str | None, option: str | None
) -> list[Choice]:
    """``choices`` with the one saying what is asked first: the first of ``saying`` (spelling
    out the abbreviation asked about, or opening with the term and saying what it is:
    ``_saying_what_it_is``), else the sentence saying what the term means, before those that
    only use it ("If no Depends field is present, Depends: @ is assumed." for "What does the @
    sign mean?"), from the first three; for an option, the one saying what it does from any
    place, when it holds as many of the question's other words ("-R" explained for less(1) is no
    answer to "date 命令加上 -R 参数")."""
    if not choices:
        return choices
    spelling = next((c for c in choices if c.index in saying), None)
    if spelling is not None:
        spelling.spells = True
    first = spelling or next(
        (
            c
            for c in (choices if option and not asked else choices[:GLOSS_REACH])
            if c.glosses and (asked or c.coverage >= choices[0].coverage)
        ),
        None,
    )
    if first is None or choices[0] is first:
        return choices
    return [first, *(c for c in choices if c is not first)]


def _answers(choice: Choice) -> bool:
    """Enough of the question's words and support for the sentence to answer it, or the words
    of the abbreviation it asks about."""
    if choice.spells:  # says what the term asked about is or stands for, in any words
        return choice.numbers
    return choice.coverage >= MIN_COVERAGE and choice.support >= MIN_SUPPORT and choice.numbers


def _answers_in_other_words(choice: Choice, prof: Profile) -> bool:
    """Too few of the question's words, but the window means what the question asks (its
    similarity in meaning to the question): an answer, always to be checked."""
    threshold = MEANING_ANSWERS["zh" if prof.cjk else "en"]
    return not _answers(choice) and choice.numbers and choice.meaning >= threshold


def _answers_by_gloss(choice: Choice) -> bool:
    """Too few of the question's words, but the window says what the term asked about means
    where it uses it ("… subscribe and lurk (that is, read without posting) …"): an answer,
    always to be checked."""
    return not _answers(choice) and choice.glosses and choice.numbers


def _answers_by_kind(choice: Choice, prof: Profile, runner_up: Choice | None) -> bool:
    """Too few of the question's words, but the only leading window holding a value of the kind
    asked for (a percentage for "百分之多少", a date for "when"): an answer, always to be checked."""
    if _answers(choice) or not (prof.typed and choice.fits and choice.numbers):
        return False
    if choice.coverage < MIN_KIND_COVERAGE or choice.support < MIN_SUPPORT:
        return False
    return runner_up is None or choice.rank - runner_up.rank >= KIND_LEAD


def _answers_by_lead(choice: Choice, prof: Profile, choices: list[Choice]) -> bool:
    """Too few of the question's words (a Chinese question in other words), but the window is
    first by retrieval too, close in meaning and far ahead of the next: an answer, always to be
    checked."""
    lead = LEAD_ANSWERS.get("zh" if prof.cjk else "en")
    if lead is None or _answers(choice) or not choice.numbers:
        return False
    if choice.coverage < LEAD_COVERAGE or choice.meaning < LEAD_MEANING:
        return False
    if choice.retrieval < max(c.retrieval for c in choices):
        return False
    return len(choices) < 2 or choice.rank - choices[1].rank >= lead


def _closest_first(prof: Profile, choices: list[Choice]) -> list[Choice]:
    """``choices``, whose first holds too few of the question's words, with the closest in
    meaning first when that one answers in other words than the document's: the sentence that
    means what is asked may rank under one that shares a word with the question ("Travel
    policy" for "… when I travel abroad?"; not over one saying what the term or option asked
    about means)."""
    closest = max(choices, key=lambda c: c.meaning)
    if _answers_in_other_words(closest, prof):
        return [closest, *(c for c in choices if c is not closest)]
    return choices


def _other_ways(prof: Profile, choices: list[Choice]) -> tuple[bool, bool, bool]:
    """Whether the first of ``choices``, holding too few of the question's words, answers all
    the same: by the kind of value asked for, by its lead, by saying what the term means."""
    if not choices:
        return False, False, False
    runner = choices[1] if len(choices) > 1 else None
    by_kind = _answers_by_kind(choices[0], prof, runner)
    by_lead = not by_kind and _answers_by_lead(choices[0], prof, choices)
    return by_kind, by_lead, not (by_kind or by_lead) and _answers_by_gloss(choices[0])


def _answered(prof: Profile, choice: Choice, ways: tuple[bool, bool, bool]) -> bool:
    """Whether ``choice`` (the first) answers: by the question's words, in other words, or in
    one of the ``_other_ways``."""
    return _answers(choice) or _answers_in_other_words(choice, prof) or any(ways)


def _english_that_answers(prof: Profile, choices: list[Choice], text: str) -> list[Choice]:
    """``choices`` with an English window that holds enough of a Chinese question's words (by
    their English words) first, when the first is no answer and ranks only a little higher: on
    a page that is partly in English (LibreOffice's Chinese help), multilingual-e5 puts the
    Chinese sentences closer in meaning to a Chinese question than the English one that says
    what is asked."""
    if not prof.cjk or choices[0].glosses:  # … nor one saying what the term asked means
        return choices
    for choice in choices[1:]:
        if choices[0].rank - choice.rank > ENGLISH_LEAD:
            break
        if _answers(choice) and glossary.in_english(text[choice.start : choice.end]):
            return [choice, *(c for c in choices if c is not choice)]
    return choices


def _fitting_first(prof: Profile, choices: list[Choice]) -> list[Choice]:
    """``choices`` (best first), with a window that holds the kind of value asked for first when
    it is nearly tied with a first that holds none ("Version 3, 29 June 2007" for "When was
    version 3 published?", not the notice that repeats more of the question's words)."""
    if not prof.typed or not choices or choices[0].fits:
        return choices
    top = choices[0].rank
    tied = next(
        (c for c in choices[1:4] if c.fits and _answers(c) and top - c.rank <= FIT_TIE), None
    )
    return choices if tied is None else [tied, *(c for c in choices if c is not tied)]


def _kind_zh(kind: str) -> str:
    return "句子" if kind == "sentence" else kind


# the kind of value a passage was chosen for, in words ("it was chosen for holding … (a date)")
_KIND_WORDS = {
    "action": ("a step or menu path", "操作步骤或菜单路径"),
    "path": ("a path", "路径"),
    "url": ("a web address", "网址"),
    "site": ("a web site", "网站"),
    "email": ("an e-mail address", "电子邮件地址"),
    "phone": ("a phone number", "电话号码"),
    "date": ("a date", "日期"),
    "duration": ("a duration", "时长"),
    "amount": ("an amount", "金额"),
    "percent": ("a percentage", "百分比"),
    "number": ("a number", "数字"),
    "code": ("a code", "编号"),
    "person": ("a name", "人名"),
    "org": ("an organisation", "机构"),
}


def _why_chosen(
    kind: str,
    *,
    in_other_words: bool,
    by_kind: bool,
    by_lead: bool = False,
    dated: bool = False,
    by_gloss: bool = False,
) -> list[Note]:
    """Why a passage sharing few of the question's words was chosen: its meaning, the kind of
    value it holds (such an answer is always flagged), or its place at the document's head."""
    if dated:
        return [
            Note(
                en="This is the date at the head of the document (its title block); the document "
                "does not say in words what the date is for. Please check it.",
                zh="这是文档开头（标题部分）的日期，文档没有明确说明该日期的含义，请核对。",
            )
        ]
    if in_other_words:
        return [
            Note(
                en="The document words this differently from the question: the passage was "
                "chosen by meaning. Please check it.",
                zh="文档的措辞与问题不同，这段话是按意思选出的，请核对。",
            )
        ]
    if by_kind:
        return [
            Note(
                en="Few of the question's words are in this passage; it was chosen for holding "
                f"the kind of answer asked for ({_KIND_WORDS.get(kind, (kind, kind))[0]}). "
                "Please check it.",
                zh="这段话与问题相同的词语不多，因含有所问类型的答案"
                f"（{_KIND_WORDS.get(kind, (kind, kind))[1]}）而选出，请核对。",
            )
        ]
    if by_gloss:
        return [
            Note(
                en="Few of the question's words are in this passage; it was chosen for saying "
                "what the term asked about means. Please check it.",
                zh="这段话与问题相同的词语不多，因说明了所问词语的含义而选出，请核对。",
            )
        ]
    if by_lead:
        return [
            Note(
                en="Few of the question's words are in this passage; it was chosen for standing "
                "well ahead of the other passages, by its words and its meaning. Please check it.",
                zh="这段话与问题相同的词语不多，因在用词和意思上都明显领先其他段落而选出，请核对。",
            )
        ]
    return []


def _table_note(header: str | None) -> list[Note]:
    """A row of a table answers: its cells alone do not say which number is which ("apache2 |
    V:236, I:292 | 565 | …"), so the answer names the table's columns, as read on the page."""
    if not header:
        return []
    header = " ".join(header.split())
    if len(header) > _TABLE_HEADER_SHOWN:
        cut = header.rfind(" ", 0, _TABLE_HEADER_SHOWN)  # at a word's end
        header = header[: cut if cut > 0 else _TABLE_HEADER_SHOWN] + " …"
    return [
        Note(
            en=f"From a table; its heading and columns: {header}",
            zh=f"出自表格，表头与各列为：{header}",
        )
    ]


_TABLE_HEADER_SHOWN = 200  # characters of a table's caption and header shown with a row


def _sentence_window(doc: _Doc, best: Choice, decision: Decision) -> tuple[int, int, int, bool]:
    """A sentence answer's window with the sentences and lines that belong to it (the next one
    that goes on with it, the lines it announces, the rest of a sentence broken by a command
    line); where a "…" would say it was cut; and whether it announces lines it does not show
    whole."""
    text = doc.ocr.text
    a, b = _and_what_follows(doc.ocr.sentences, text, decision.start, decision.end)
    cut_from = best.start
    if a > decision.start and text[a - 1] == "\n":
        cut_from = a  # a heading run into the sentence went: no cut
    announced = _and_what_it_announces(text, a, b)
    # a lead-in whose announced lines did not fit or were not told apart ("… run the following
    # command:" and no command): the answer stops short of what it promises
    unshown = announced == b and announces(text[a:b]) and bool(text[b:].strip())
    b = announced
    if best.index not in doc.headers:  # a table's row is no sentence to go on
        b = resumed_end(text, a, b)
    # or it shows them cut to an answer's length ("… run the following command: archive-tool…"),
    # mid-line and not at a sentence's end
    lead_in = max(text.rfind(":\n", a, b), text.rfind("：\n", a, b))
    cut = lead_in >= 0 and goes_on(text, b)
    return a, b, cut_from, unshown or cut


_IN_ENGLISH_NOTE = Note(
    en="The passage is in English: the question's Chinese words were matched to it word for word "
    "through a dictionary (CC-CEDICT), not translated. Please check that it answers the question.",
    zh="原文是英文：问题中的中文词是借助词典（CC-CEDICT）逐词对应到原文的，并非翻译，"
    "请核对它是否回答了问题。",
)
_NO_REASON_NOTE = Note(
    en="The question asks why, and the passage does not say why in so many words (no "
    "“because”, “so that”, “otherwise” …). Please check that it gives the reason.",
    zh="问题问的是原因，但这段文字没有明确说出原因（没有“因为”“为了”“否则”等）。"
    "请核对它是否回答了原因。",
)
_UNSHOWN_NOTE = Note(
    en="The passage announces what follows it (a command, a list), which the answer does not "
    "show whole. Please check the lines below the box.",
    zh="这段文字引出了后面的内容（命令或列表），答案未能完整显示，请查看框下方的几行。",
)


def _misread_note(answer: str, rendered: RenderedDoc, span: Span | None) -> list[Note]:
    """A note when the reading of the answer's passage lost what the page shows there (OCR
    dropped "“.so”" from "使用后缀 “.so”。"): the answer is flagged, and the boxed passage is
    where to check it."""
    typeset = "" if span is None else rendered.text[span.start : span.end]
    lost = lost_in_reading(answer, typeset) if typeset else None
    swapped = (
        symbol_read_as_letter(answer, typeset) or option_dashes_misread(answer, typeset)
        if typeset and not lost
        else None
    )
    if swapped:
        shown, got = swapped
        return [
            Note(
                en=f"The reading of this passage has “{got}” where the page shows “{shown}”. "
                "Please check the boxed text.",
                zh=f"这段文字识别为“{got}”，页面上是“{shown}”，请核对框出的原文。",
            )
        ]
    if not lost:
        return []
    return [
        Note(
            en=f"The reading of this passage may have missed “{lost}”, which the page shows "
            "there. Please check the boxed text.",
            zh=f"识别这段文字时可能漏读了页面上的“{lost}”，请核对框出的原文。",
        )
    ]


def _head_date(
    prof: Profile, sentences: list[Sentence], text: str, weight: Callable[[str], float]
) -> Choice | None:
    """The first sentence near the document's start that holds a date: what a question about the
    document's own date asks for when no retrieved sentence that answers holds one. Its coverage
    is at least half (the document is what the question is about; none of its words need be
    there), so unless it also holds the question's words the answer's confidence stays below
    the review threshold: a person checks it."""
    for idx, sent in enumerate(sentences[:HEAD_SENTENCES]):
        window = text[sent.start : sent.end]
        if fitting_values(prof, window):
            coverage = max(0.5, key_matches(prof, window, weight)[0])
            return Choice(idx, sent.start, sent.end, coverage, retrieval=0.0, fits=True, dated=True)
    return None


def _with_head_date(
    prof: Profile,
    choices: list[Choice],
    sentences: list[Sentence],
    text: str,
    weight: Callable[[str], float],
) -> list[Choice]:
    """``choices`` with the title block's date first for a question about the document's own
    date: when no leading window that answers holds a date, or when the question asks about
    nothing but that date ("When was the paper written?" is not answered by a reference's date)."""
    if not asks_document_date(prof):
        return choices
    if not asks_only_document_date(prof) and any(_answers(c) and c.fits for c in choices[:3]):
        return choices
    head = _head_date(prof, sentences, text, weight)
    return choices if head is None else [head, *choices]


def _moved(line: OcrLine, dy: float) -> OcrLine:
    """A line read on a strip of a page, in the page's coordinates."""
    x0, y0, x1, y1 = line.box
    return OcrLine(
        text=line.text,
        box=(x0, y0 + dy, x1, y1 + dy),
        confidence=line.confidence,
        char_x=list(line.char_x),
        char_conf=list(line.char_conf),
    )


class _Closing(Exception):
    """Raised inside a background read's page when the reader closes (not an error)."""


def _row_key(page_sha: str, top: int, bottom: int) -> str:
    """The OCR cache's key of one drawn row of a page (the lines read there). "rows" (not "row",
    the key of strips cut with a margin of the page around them, lines of which were cut in
    half): rows read before that change are read again."""
    return f"{page_sha}-rows-{top}-{bottom}"


def _bands(rows: list[tuple[int, int]], height: int) -> list[tuple[int, int]]:
    """Rows (top, bottom) as strips to cut out of a page ``height`` pixels tall: neighbouring
    rows (less than half a row's height apart) in one strip. A strip ends where its rows' drawn
    cells end: a margin of the page around it would hold the top or bottom half of the line
    next to it, which OCR reads as garbage ("Dart" for "part", "有. 重定 上." for "有。事实 上，");
    ``_read_strips`` puts white around each strip instead."""
    pad = max(2.0, float(np.median([b - a for a, b in rows])) * 0.5)
    merged: list[list[int]] = []
    for top, bottom in sorted(rows):
        if merged and top - pad <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], bottom)
        else:
            merged.append([top, bottom])
    return [(max(0, a), min(height, b)) for a, b in merged]


def _by_row(lines: list[OcrLine], rows: list[tuple[int, int]]) -> dict[tuple[int, int], list]:
    """Each row (top, bottom) with the lines read on it (by the nearest row centre); a line
    farther than a row's height from every row (a sliver of the margin) is left out."""
    out: dict[tuple[int, int], list[OcrLine]] = {row: [] for row in rows}
    if not rows:
        return out
    centres = np.array([(a + b) / 2 for a, b in rows])
    for line in lines:
        i = int(np.argmin(np.abs(centres - line.y_centre)))
        top, bottom = rows[i]
        if abs(centres[i] - line.y_centre) <= 0.75 * (bottom - top):
            out[rows[i]].append(line)
    return out


def _cited_documents_pages(rendered: RenderedDoc, answer: Answer) -> list[int]:
    """The page images of the documents (of a collection) that ``answer`` cites; none for a
    single document."""
    document = rendered.document
    if document is None or len(document.parts()) < 2:
        return []
    pages: set[int] = set()
    for span in answer.spans:
        part = document.part_at(span.start)
        if part is not None:
            pages.update(rendered.layout.pages_of_span(part.start, part.end))
    return sorted(pages)


def _status(en: str, zh: str) -> AnswerChunk:
    return AnswerChunk(kind="status", text=en, note=Note(en=en, zh=zh))


@dataclass
class _Doc:
    ocr: OcrText
    index: HybridIndex
    ocr_s: float
    pages: int
    read: list[int] | None = None  # part of the pages only (a question out of time): these
    headers: dict[int, str] = field(default_factory=dict)  # a table row's caption and header
    heads: set[int] = field(default_factory=set)  # sentences read from a table's header row


def _read_doc(ocr: OcrText, source: str, ocr_s: float, pages: int) -> _Doc:
    """The document as read: its sentences indexed for search, a table's rows together with
    their header (the column a question names is there, not in the row)."""
    tables = read_tables(ocr, source)
    headers = tables.headers
    texts = [
        f"{headers[i]} {s.text}" if i in headers else s.text for i, s in enumerate(ocr.sentences)
    ]
    return _Doc(ocr, HybridIndex(texts), ocr_s, pages, headers=headers, heads=tables.heads)


PAGE_S = 6.0  # seconds to read one dense page on 2 CPU cores, until this process has measured


def _so_far_notes(read: int, total: int, page_s: float | None) -> tuple[Note, Note]:
    """What a question out of time says: (not found so far, answered from part), with when the
    background read of the rest should be done (pages left × the measured seconds per page)."""
    minutes = max(1, round((total - read) * (page_s or PAGE_S) / 60))
    when_en = "in about a minute" if minutes == 1 else f"in about {minutes} minutes"
    when_zh = f"约 {minutes} 分钟后"
    return (
        Note(
            en=f"Not found in the page images read so far ({read} of {total}) — the rest is being read "
            f"in the background; ask again {when_en}.",
            zh=f"在已读的 {read}/{total} 张页面图像中未找到答案——其余页面正在后台读取，请{when_zh}再问。",
        ),
        Note(
            en=f"Answered from the page images read so far ({read} of {total}) — the rest is being read "
            f"in the background; ask again {when_en} for an answer from the whole document.",
            zh=f"根据已读的 {read}/{total} 张页面图像作答——其余页面正在后台读取，{when_zh}再问可根据全文作答。",
        ),
    )


def _value_of(
    prof: Profile, window: str, best: Choice, idf: Callable[[str], float]
) -> Candidate | None:
    """The short value the best window gives, if any. The title block's date line shares none of
    the question's words: its date is the value, not a "sentence" (its note said so on screen)."""
    value = extract(prof, window, idf)
    if value is None and best.dated:
        value = next(
            (Candidate(v.start, v.end, v.kind, 0.5) for v in fitting_values(prof, window)), None
        )
    return value


def _places(value: Span | None, sentence: Span | None, short: bool) -> list[Span]:
    """The answer's cited places: its value or passage, then the sentence it was taken from. A
    value is shown in its sentence; a sentence answer is its sentence (maybe with the next, or
    cut to an answer's length): one place, not the same one twice."""
    spans = [value] if value is not None else []
    if sentence is not None and (
        value is None
        or not (
            value.start <= sentence.start and sentence.end <= value.end
            if short
            else sentence.start < value.end and value.start < sentence.end
        )
    ):
        spans.append(sentence)
    return spans


def _as_read(text: str, a: int, b: int, read: str, slack: int = 6) -> tuple[int, int]:
    """``a:b`` moved onto the read words themselves where the typeset text holds them right there.
    A read character's place in the text comes from where it was drawn, estimated within its
    word's box, so the span of a value can take in the character after it ("…/testing。",
    "…caractères\"") or lose one; a passage read with a slip anywhere keeps its span."""
    words = read.split()
    if not words or len(read) > 80:
        return a, b
    lo, hi = max(0, a - slack), min(len(text), b + slack)
    pattern = re.compile(r"\s+".join(re.escape(word) for word in words))
    found = [m.span() for m in pattern.finditer(text, lo, hi)]
    if not found:
        return a, b
    return min(found, key=lambda span: abs(span[0] - a))


class OcrReader(Reader):
    """OCR (rapidocr or tesseract) + BM25/MiniLM retrieval + extractive QA, summary, key info."""

    name = "ocr"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine_name = settings.ocr_engine
        self.engine = get_engine(self.engine_name)  # fails early if the extra is missing
        self.cache = OcrCache(settings.resolved_cache_dir / "ocr")
        self._docs: OrderedDict[str, _Doc] = OrderedDict()
        # the same documents by their text (any render of it) with the dpi they were read at:
        # a re-render keeps what was read (no page images held here)
        self._by_text: OrderedDict[str, tuple[_Doc, int]] = OrderedDict()
        self._inflight: dict[str, threading.Event] = {}
        self._waiters: dict[str, int] = {}  # questions waiting for a background read of a key
        # per read: the pages to read before the others (the documents an answer cited: the
        # follow-up question is most likely about them)
        self._read_first: dict[str, list[int]] = {}
        # pages read so far of documents not read in full (a question out of time, a background
        # read paused or stopped): the next read of the document goes on from them
        self._partial: OrderedDict[str, dict[int, list[OcrLine]]] = OrderedDict()
        self._lock = threading.Lock()
        self.background: threading.Thread | None = None  # the latest prefetch, for callers/tests
        self.page_s: float | None = None  # measured seconds per page OCR'd (running mean)
        self._threads: set[threading.Thread] = set()  # every background read still running
        self._stop = threading.Event()
        self.last_decision = None  # the last QA decision, for calibration
        # per render: its drawn lines and a BM25 index of their three-line windows (where a
        # question's candidate lines are); question-independent, so made once per document
        self._line_indexes: OrderedDict[str, tuple[list[tuple[int, int, int]], BM25]] = (
            OrderedDict()
        )
        self._index_locks: dict[str, threading.Lock] = {}  # per render while its index is made
        # answer from another render's read of the same text (UI re-renders); off where the
        # question is how legible THIS render is (the render-setting search)
        self.reuse_reads = True
        _READERS.add(self)

    @property
    def capabilities(self) -> ReaderCapabilities:
        return ReaderCapabilities(
            thinking=False,
            description=f"built-in OCR reader ({self.engine_name}, CPU)",
        )

    # -- reading the pixels ------------------------------------------------------------------
    def _language(self, rendered: RenderedDoc) -> str:
        lang = rendered.config.language
        if lang in ("en", "zh"):
            return lang
        return (
            rendered.document.language
            if rendered.document and rendered.document.language
            else "auto"
        )

    def read_pages(
        self,
        rendered: RenderedDoc,
        only: list[int] | None = None,
        pause: Callable[[], None] | None = None,
    ) -> Iterator[tuple[int, list[OcrLine], bool]]:
        """(page index, lines, from cache) for every page (or those in ``only``), OCR'ing
        those not cached; ``pause`` (a background read) is called between the engine's steps."""
        version = self.engine.version
        lang = self._language(rendered)
        chosen = rendered.pages if only is None else [rendered.pages[i] for i in only]
        paused = 0.0

        def timed_pause() -> None:  # time given way to questions is not reading time
            nonlocal paused
            t = time.perf_counter()
            pause()  # type: ignore[misc]
            paused += time.perf_counter() - t

        for page in chosen:
            sha = page.sha256
            lines = self.cache.get(self.engine_name, version, sha)
            cached = lines is not None
            if lines is None:
                paused = 0.0
                started = time.perf_counter()
                lines = self.engine.read(page.image, lang, timed_pause if pause else None)
                seconds = time.perf_counter() - started - paused
                # a running mean: how long the rest of a document will take, said to users
                self.page_s = seconds if self.page_s is None else 0.8 * self.page_s + 0.2 * seconds
                self.cache.put(self.engine_name, version, sha, lines)
            yield page.index, lines, cached

    def _doc_key(self, rendered: RenderedDoc) -> str:
        return f"{rendered.key}:{self.engine_name}:{self.engine.version}"

    def _document(
        self,
        rendered: RenderedDoc,
        control: QuestionControl | None = None,
        background: bool = False,
        limit: int | None = None,
    ) -> Iterator[AnswerChunk | _Doc]:
        """The read document (OCR text + index), from memory, from a read in progress, or new.
        ``limit`` (a background read): OCR at most this many pages not cached yet.

        ``control`` (a question with a budget): never waits for a background read of the same
        pages (that read pauses while a question is answered) but reads alongside it, and stops
        when ``control.over()``: then the ``_Doc`` holds the pages read so far (``read``)."""
        key = self._doc_key(rendered)
        owner = False
        while True:
            with self._lock:
                doc = self._docs.get(key)
                if doc is not None:
                    self._docs.move_to_end(key)
                    break
                if control is not None:  # neither waits for nor holds up a background read
                    break
                pending = self._inflight.get(key)
                if pending is None:
                    self._inflight[key] = threading.Event()
                    owner = True
                    break
                if not background:
                    self._waiters[key] = self._waiters.get(key, 0) + 1
            # another thread (a prefetch, a second user) is reading these pages: wait for it
            try:
                yield _status("OCR already in progress for this document", "正在识别本文档，请稍候")
                pending.wait()
            finally:
                if not background:
                    with self._lock:
                        self._waiters[key] -= 1
        if doc is not None:
            yield doc
            return
        try:
            yield from self._read_all(rendered, key, control, background, limit)
        finally:
            if owner:
                with self._lock:
                    event = self._inflight.pop(key, None)
                if event is not None:
                    event.set()

    def _pages_so_far(self, key: str) -> dict[int, list[OcrLine]]:
        with self._lock:
            read = self._partial.setdefault(key, {})
            self._partial.move_to_end(key)
            while len(self._partial) > DOCS_IN_MEMORY:
                self._partial.popitem(last=False)
        return read

    def _read_all(
        self,
        rendered: RenderedDoc,
        key: str,
        control: QuestionControl | None,
        background: bool,
        limit: int | None = None,
    ) -> Iterator[AnswerChunk | _Doc]:
        """Every page not read yet, one at a time: a background read pauses while a question
        is answered (unless one waits for it); a question stops when over its budget (pages
        already in the disk cache are still taken)."""
        started = time.perf_counter()
        total = len(rendered.pages)
        read = self._pages_so_far(key)
        version = self.engine.version
        fresh = 0  # pages OCR'd by this read (not from the cache)

        def pause() -> None:  # give way to a question, down to a wave of OCR'd lines
            foreground.wait_idle(self._stop, unless=lambda: self._waiters.get(key, 0) > 0)
            if self._stop.is_set():
                raise _Closing  # the reader is closing: leave the page in progress unread

        passed: set[int] = set()  # pages this read has been at (read, or left for later)

        def next_page() -> int | None:
            with self._lock:  # the pages asked for first (a cited document's), then in order
                first = list(self._read_first.get(key, ()))
            order = itertools.chain(first, range(total))
            return next((i for i in order if i not in read and i not in passed), None)

        while (index := next_page()) is not None:
            passed.add(index)
            if background:
                if limit is not None and fresh >= limit:
                    break  # read ahead far enough: a question reads the rest it needs
                pause()  # raises _Closing when the reader closes
            elif control is not None:
                control.checkpoint()
                if control.over():
                    sha = rendered.pages[index].sha256
                    lines = self.cache.get(self.engine_name, version, sha)
                    if lines is not None:
                        read[index] = lines
                    continue
            for _, lines, cached in self.read_pages(
                rendered, [index], pause if background else None
            ):
                read[index] = lines
                fresh += not cached
                yield _status(
                    f"OCR page {index + 1}/{total}" + (" (cached)" if cached else ""),
                    f"识别第 {index + 1}/{total} 页" + ("（已缓存）" if cached else ""),
                )
        complete = len(read) == total
        ocr = assemble([read.get(i, []) for i in range(total)], rendered.layout, rendered.text)
        doc = _read_doc(ocr, rendered.text, time.perf_counter() - started, total)
        if not complete:
            doc.read = sorted(read)
            yield doc
            return
        with self._lock:
            self._partial.pop(key, None)
            self._read_first.pop(key, None)
            self._docs[key] = doc
            self._by_text[self._text_key(rendered)] = (doc, rendered.config.dpi)
            self._by_text.move_to_end(self._text_key(rendered))
            for cache in (self._docs, self._by_text):
                while len(cache) > DOCS_IN_MEMORY:
                    cache.popitem(last=False)
        yield doc

    def _text_key(self, rendered: RenderedDoc) -> str:
        """The document's text (not its layout), the engine and the language it is read in."""
        digest = hashlib.sha256(rendered.text.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        return f"{digest}:{self._language(rendered)}:{self.engine_name}:{self.engine.version}"

    def _read_before(self, rendered: RenderedDoc) -> tuple[_Doc, Note] | None:
        """The text already read from another render of the same text (a re-render at a higher
        resolution or with other settings), while ``rendered`` itself is not read yet.

        The read is tied to character offsets of the text, not to page images, so its answers
        and evidence hold for the new pages as they are; the new pages are read in the
        background and used once they are read."""
        if not self.reuse_reads or self._is_read(rendered):
            return None
        with self._lock:
            found = self._by_text.get(self._text_key(rendered))
        if found is None:
            return None
        doc, dpi = found
        self.prefetch(rendered, if_idle=True)
        note = Note(
            en=f"Answered from the text already read on the earlier pages ({dpi} dpi): the "
            "document's text is unchanged. The new pages are read in the background.",
            zh=f"根据之前页面（{dpi} dpi）已识别的文字作答：文档文字没有变化。新页面将在后台识别。",
        )
        return doc, note

    def _is_read(self, rendered: RenderedDoc) -> bool:
        key = self._doc_key(rendered)
        with self._lock:
            return key in self._docs

    def _first_pages(self, rendered: RenderedDoc, question: str) -> list[int]:
        """The pages to read first for a question: best BM25 match of the page texts (known
        from the layout map) — only the ORDER of reading; the answer still comes from pixels."""
        k = self.settings.ocr_first_pages
        if k <= 0 or len(rendered.pages) <= k or self._is_read(rendered):
            return []
        texts = [rendered.page_text(i) for i in range(len(rendered.pages))]
        scores = bm25_scores(self._search_words(rendered, question), texts)
        ranked = sorted(range(len(texts)), key=lambda i: -scores[i])
        return sorted(i for i in ranked[:k] if scores[i] > 0)

    def _read_subset(
        self, rendered: RenderedDoc, pages: list[int], control: QuestionControl | None = None
    ) -> Iterator[AnswerChunk | _Doc]:
        started = time.perf_counter()
        total = len(rendered.pages)
        read: list[list[OcrLine]] = [[] for _ in range(total)]
        so_far = self._pages_so_far(self._doc_key(rendered))
        for n, (index, lines, cached) in enumerate(self.read_pages(rendered, pages), 1):
            read[index] = so_far[index] = lines
            yield _status(
                f"OCR page {index + 1} ({n}/{len(pages)} first)" + (" (cached)" if cached else ""),
                f"先识别第 {index + 1} 页（{n}/{len(pages)}）" + ("（已缓存）" if cached else ""),
            )
            if control is not None:
                control.checkpoint()
                if control.over():
                    break
        ocr = assemble(read, rendered.layout, rendered.text)
        yield _read_doc(ocr, rendered.text, time.perf_counter() - started, len(pages))

    def prefetch(
        self,
        rendered: RenderedDoc,
        *,
        if_idle: bool = False,
        limit: int | None = None,
        first: list[int] | None = None,
    ) -> threading.Thread | None:
        """Start reading ``rendered``'s pages in the background (e.g. while the user looks at
        the render preview and types a question); a question asked meanwhile waits for it
        instead of reading the pages a second time. ``if_idle``: not while another background
        read runs (slider tweaks must not pile up work). ``limit``: OCR at most this many pages
        (reading ahead of any question); None: the whole document. ``first``: pages to read before
        the others, also by a read of this document already running."""

        def run() -> None:
            try:
                # questions rank by meaning too: MiniLM (English), multilingual-e5 (Chinese)
                warm_up_embeddings(self._language(rendered))
                if self.settings.ocr_first_lines > 0:  # where a question's lines are, ready
                    self._line_index(rendered)
                for _ in self._document(rendered, background=True, limit=limit):
                    if self._stop.is_set():  # closing: leave the rest unread
                        break
            except _Closing:
                pass
            except Exception:  # the question asked later reports the error to the user
                log.exception("background OCR failed")
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        with self._lock:
            if first:
                self._read_first[self._doc_key(rendered)] = list(first)
            if self._stop.is_set() or (if_idle and self._threads):
                return None
            if self._doc_key(rendered) in self._inflight:  # being read already
                return None
            thread = threading.Thread(target=run, name="ocr-prefetch", daemon=True)
            self._threads.add(thread)
            thread.start()
            self.background = thread
        return thread

    def close(self) -> None:
        """Stop every background read (within the page in progress: at its next step) and
        wait for them."""
        self._stop.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=120)

    # -- answering ---------------------------------------------------------------------------
    def answer(
        self, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA, *, stream: bool = True
    ) -> Iterator[AnswerChunk]:
        started = time.perf_counter()
        mode = Mode(mode)
        control = self.control  # this question's (the pipeline may lend the reader meanwhile)
        if mode is Mode.QA:
            unmentioned = self._unmentioned(rendered, question)
            if unmentioned is not None:
                yield AnswerChunk(kind="answer", text=unmentioned.text)
                yield AnswerChunk(kind="final", answer=unmentioned)
                return
            warm_up_embeddings(question_language(question))
        doc: _Doc | None = None
        reused = self._read_before(rendered)
        if reused is not None:
            doc, reused_note = reused
        else:
            early = yield from self._answer_early(
                rendered, question, mode, started, stream, control
            )
            if early is not None:
                yield AnswerChunk(kind="answer", text=early.text)
                yield AnswerChunk(kind="final", answer=early)
                return
            for item in self._document(rendered, control):
                if isinstance(item, _Doc):
                    doc = item
                elif stream:
                    yield item
        assert doc is not None
        ocr_s = time.perf_counter() - started
        if stream:
            yield AnswerChunk(
                kind="status", text=f"Searching {len(doc.ocr.sentences)} read sentences"
            )
        t0 = time.perf_counter()
        # answer in the question's language; summaries and key facts in the document's
        lang = question_language(question)
        if mode is not Mode.QA:
            lang = detect_language(doc.ocr.text)
        if mode is Mode.QA:
            answer = self._qa(doc, rendered, question, lang)
        elif mode is Mode.SUMMARY:
            answer = self._summary(doc, rendered, question, lang)
        else:
            answer = self._extract(doc, rendered, lang)
        answer.timings.update(
            {
                "ocr": round(ocr_s, 4),
                "answer": round(time.perf_counter() - t0, 4),
                "total": round(time.perf_counter() - started, 4),
            }
        )
        answer.stats = rendered.stats.model_copy()
        answer.pages_read = list(range(len(rendered.pages)))
        if reused is not None:
            answer.notes.append(reused_note)
        if doc.read is not None:
            self._so_far(answer, doc.read, rendered, lang, control)
        if answer.text:
            yield AnswerChunk(kind="answer", text=answer.text)
        yield AnswerChunk(kind="final", answer=answer)

    def _unmentioned(self, rendered: RenderedDoc, question: str) -> Answer | None:
        """ "Not found" at once for a question about an option the document's text never has
        ("What does the --keep option do?" of a manual without it): no page is read for it, and no
        other option's line is offered as its answer. Not for scans, whose text is OCR'd."""
        document = rendered.document
        if document is not None and any(page.scanned for page in document.pages):
            return None
        options = unmentioned_options(literals(question), rendered.text)
        if not options:
            return None
        named = ", ".join(f"“{o}”" for o in options)
        answer = self._not_found(
            question_language(question),
            notes=[
                Note(
                    en=f"The document does not mention {named} anywhere.",
                    zh=f"文档中没有出现 {named}。",
                )
            ],
        )
        answer.stats = rendered.stats.model_copy()
        answer.nowhere = True  # no other option's line to point at
        return answer

    def _so_far(
        self,
        answer: Answer,
        read: list[int],
        rendered: RenderedDoc,
        lang: str,
        control: QuestionControl | None,
    ) -> None:
        """An answer from part of the pages (the question ran out of time or gave way): flagged
        for review, or "not found in the page images read so far"; the rest is read in the
        background."""
        missing, partial = _so_far_notes(len(read), len(rendered.pages), self.page_s)
        answer.pages_read = list(read)
        answer.needs_review = True
        if answer.found:
            answer.notes.append(partial)
        else:
            answer.text = missing.zh if lang == "zh" else missing.en
            answer.notes = [missing]
        if control is None or not control.cancelled():
            self.prefetch(rendered)

    def _answer_early(
        self,
        rendered: RenderedDoc,
        question: str,
        mode: Mode,
        started: float,
        stream: bool,
        control: QuestionControl | None = None,
    ) -> Iterator[AnswerChunk]:
        """A question on a document not read yet: first the rendered lines that match it, then
        the best-matching pages; a confident answer from either is returned at once (the whole
        document is then read in the background for follow-ups). None: read everything."""
        if mode is not Mode.QA or self._is_read(rendered):
            return None
        ranked = self._candidate_lines(rendered, question)
        # the best few lines first: most questions are answered there, and reading every
        # candidate costs several seconds on CPU; unsure, the rest (lines read are not re-read)
        rounds = (
            [ranked[:FIRST_ROUND_LINES], ranked] if len(ranked) > FIRST_ROUND_LINES else [ranked]
        )
        for chosen in filter(None, rounds):
            rows = self._candidate_rows(rendered, chosen)
            shown = ", ".join(str(p + 1) for p in sorted(rows))
            note = Note(
                en=f"Read the lines that match the question first (page(s) {shown}); the rest of "
                "the document is being read in the background.",
                zh=f"先读取了与问题相关的行（第 {shown} 页）；文档的其余部分正在后台读取。",
            )
            answer = yield from self._answer_part(
                rendered,
                question,
                self._read_rows(rendered, rows),
                sorted(rows),
                note,
                started,
                stream,
            )
            if answer is not None:
                return answer
            if control is not None and control.over():
                break
        pages = self._first_pages(rendered, question)
        if not pages or (control is not None and control.over()):
            return None
        shown = ", ".join(str(p + 1) for p in pages)
        note = Note(
            en=f"Read pages {shown} first (ranked by the question against the page texts); "
            "the remaining pages are being read in the background.",
            zh=f"先读取了第 {shown} 页（按问题与页面文字的相关度排序）；其余页面正在后台读取。",
        )
        return (
            yield from self._answer_part(
                rendered,
                question,
                self._read_subset(rendered, pages, control),
                pages,
                note,
                started,
                stream,
            )
        )

    def _text_language(self, rendered: RenderedDoc) -> str:
        """The document's language, "en" or "zh" (its text's when the render does not say)."""
        language = self._language(rendered)
        return detect_language(rendered.text) if language == "auto" else language

    def _search_words(self, rendered: RenderedDoc, question: str) -> str:
        """What the lines and pages to read first are looked for by: the question, and for a
        Chinese question on an English document the English words of its words (``glossary``),
        which it otherwise shares none of."""
        prof = profile(question)
        if not prof.cjk or self._text_language(rendered) == "zh":
            return question
        english = {word for run in prof.runs for word in glossary.english(run)}
        return " ".join([question, *sorted(english)])

    def _candidate_lines(self, rendered: RenderedDoc, question: str) -> list[int]:
        """The rendered lines (indexes into ``_line_index``) that best match the question, best
        first: at most ``ocr_first_lines``; none for a short document (read it whole)."""
        k = self.settings.ocr_first_lines
        if k <= 0:
            return []
        lines, index = self._line_index(rendered)
        if len(lines) <= 4 * k:
            return []
        scores = index.scores(tokenize(self._search_words(rendered, question)))
        ranked = np.argsort(-scores, kind="stable")[:k]
        return [int(i) for i in ranked if scores[i] > 0]

    def _candidate_rows(
        self, rendered: RenderedDoc, chosen: list[int]
    ) -> dict[int, list[tuple[int, int]]]:
        """Page → pixel rows (top, bottom) where the layout map says the ``chosen`` lines were
        drawn, each with two lines of context on either side. Only WHERE to read; the words
        still come from pixels."""
        lines, _ = self._line_index(rendered)
        layout = rendered.layout
        wanted: set[int] = set()
        for i in chosen:
            wanted.update(range(max(0, i - 2), min(len(lines), i + 3)))
        rows: dict[int, set[tuple[int, int]]] = {}
        for i in sorted(wanted):
            _, a, b = lines[i]
            drawn = a + np.flatnonzero(layout.page[a:b] >= 0)
            if len(drawn):
                boxes = layout.boxes[drawn]
                page = int(layout.page[drawn[0]])
                top, bottom = int(boxes[:, 1].min()), int(np.ceil(boxes[:, 3].max()))
                rows.setdefault(page, set()).add((top, bottom))
        return {page: sorted(spans) for page, spans in rows.items()}

    def _line_index(self, rendered: RenderedDoc) -> tuple[list[tuple[int, int, int]], BM25]:
        """``rendered``'s drawn lines and the BM25 index of their windows (a line with the one
        before and after it), made once per render (a collection of 1,000 pages: ~4 s)."""
        key = rendered.key
        with self._lock:
            building = self._index_locks.setdefault(key, threading.Lock())
        with building:  # one build per render: a question waits for the background's build
            with self._lock:
                hit = self._line_indexes.get(key)
                if hit is not None:
                    self._line_indexes.move_to_end(key)
                    return hit
            made = self._build_line_index(rendered)
            with self._lock:
                self._line_indexes[key] = made
                self._index_locks.pop(key, None)
                while len(self._line_indexes) > 4:
                    self._line_indexes.popitem(last=False)
            return made

    @staticmethod
    def _build_line_index(rendered: RenderedDoc) -> tuple[list[tuple[int, int, int]], BM25]:
        lines = list(iter_lines(rendered.layout))
        texts = [rendered.text[a:b] for _, a, b in lines]
        windows = [" ".join(texts[max(0, i - 1) : i + 2]) for i in range(len(texts))]
        return lines, BM25([tokenize(w) for w in windows])

    def _read_rows(
        self, rendered: RenderedDoc, rows: dict[int, list[tuple[int, int]]]
    ) -> Iterator[AnswerChunk | _Doc]:
        """OCR of the pixel rows in ``rows`` (page → (top, bottom) of drawn lines). A page
        already read whole is used as it is; each row read before is taken from the cache. The
        rest are cut out as strips (neighbouring rows together), stacked into one image and read
        in one engine call; each line read goes back to its page and to the row it lies on, and
        is cached per row, so a later question re-reads none of them."""
        started = time.perf_counter()
        version = self.engine.version
        read: list[list[OcrLine]] = [[] for _ in rendered.pages]
        todo: dict[int, list[tuple[int, int]]] = {}
        for page in sorted(rows):
            sha = rendered.pages[page].sha256
            whole = self.cache.get(self.engine_name, version, sha)
            if whole is not None:
                read[page] = whole
                continue
            for top, bottom in rows[page]:
                lines = self.cache.get(self.engine_name, version, _row_key(sha, top, bottom))
                if lines is None:
                    todo.setdefault(page, []).append((top, bottom))
                else:
                    read[page].extend(lines)
        if todo:
            count = sum(len(r) for r in todo.values())
            yield _status(
                f"OCR of {count} line(s) matching the question",
                f"识别与问题相关的 {count} 行",
            )
            strips = [
                (page, top, bottom)
                for page, spans in todo.items()
                for top, bottom in _bands(spans, rendered.pages[page].image.height)
            ]
            for (page, top, bottom), lines in zip(
                strips, self._read_strips(rendered, strips), strict=True
            ):
                sha = rendered.pages[page].sha256
                inside = [(a, b) for a, b in todo[page] if top <= a and b <= bottom]
                for (a, b), on_row in _by_row(lines, inside).items():
                    self.cache.put(self.engine_name, version, _row_key(sha, a, b), on_row)
                    read[page].extend(on_row)
        for lines in read:
            lines.sort(key=lambda line: (line.box[1], line.box[0]))
        ocr = assemble(read, rendered.layout, rendered.text)
        yield _read_doc(ocr, rendered.text, time.perf_counter() - started, len(rows))

    def _read_strips(
        self, rendered: RenderedDoc, strips: list[tuple[int, int, int]]
    ) -> list[list[OcrLine]]:
        """Lines of each strip (page, top, bottom), read from one stacked image."""
        from PIL import Image

        # white rows above, between and below strips: the detector never joins lines across
        # them, and sees white around each line as it does on the page
        gap = 24
        width = max(rendered.pages[page].image.width for page, *_ in strips)
        # at least as tall as wide: the detector scales an image by its shorter side, so a
        # short stack would be blown up several times over (seconds of detection for a few
        # lines); this way strips are detected at the scale of the page they come from
        height = max(width, gap + sum(bottom - top + gap for _, top, bottom in strips))
        canvas = Image.new("RGB", (width, height), "white")
        origins = []
        y = gap
        for page, top, bottom in strips:
            image = rendered.pages[page].image
            canvas.paste(image.crop((0, top, image.width, bottom)), (0, y))
            origins.append((y, y + bottom - top, top))
            y += bottom - top + gap
        out: list[list[OcrLine]] = [[] for _ in strips]
        for line in self.engine.read(canvas, self._language(rendered)):
            centre = line.y_centre
            for i, (y0, y1, top) in enumerate(origins):
                if y0 - gap / 2 <= centre < y1 + gap / 2:
                    out[i].append(_moved(line, top - y0))
                    break
        return out

    def _answer_part(
        self,
        rendered: RenderedDoc,
        question: str,
        reading: Iterator[AnswerChunk | _Doc],
        pages: list[int],
        note: Note,
        started: float,
        stream: bool,
    ) -> Iterator[AnswerChunk]:
        """Answer from part of the document; None unless confident (then the whole document is
        read in the background for follow-ups)."""
        part: _Doc | None = None
        for item in reading:
            if isinstance(item, _Doc):
                part = item
            elif stream:
                yield item
        assert part is not None
        t0 = time.perf_counter()
        lang = question_language(question)
        answer = self._qa(part, rendered, question, lang)
        if not answer.found or not answer.spans:
            return None
        if answer.confidence < min(EARLY_ANSWER_MIN, self.settings.review_threshold):
            return None  # not sure from this part: read more
        if _IN_ENGLISH_NOTE in answer.notes and self._text_language(rendered) == "zh":
            return None  # an English passage of a Chinese document: the rest may say it in Chinese
        term = defined_term(question)
        if term and not defines(answer.text, term):
            # "What is a Combined Work?": a sentence that uses the term is no answer while the
            # one defining it may be on a line not read yet
            return None
        self.prefetch(rendered, first=_cited_documents_pages(rendered, answer))
        answer.notes.append(note)
        answer.timings.update(
            {
                "ocr": round(t0 - started, 4),
                "answer": round(time.perf_counter() - t0, 4),
                "total": round(time.perf_counter() - started, 4),
            }
        )
        answer.stats = rendered.stats.model_copy()
        answer.pages_read = list(pages)
        return answer

    def _span(
        self,
        doc: _Doc,
        rendered: RenderedDoc,
        start: int,
        end: int,
        score: float,
        label: str | None = None,
    ) -> Span | None:
        src = doc.ocr.source_span(start, end)
        if src is None:
            return None
        a, b = _as_read(rendered.text, *src, doc.ocr.text[start:end])
        return Span(
            start=a,
            end=b,
            text=rendered.text[a:b],
            score=round(min(1.0, max(0.0, score)), 4),
            label=label,
        )

    def _choices(
        self, doc: _Doc, question: str, source: str | None = None
    ) -> tuple[Profile, list[Choice]]:
        """The retrieved sentence windows, best first (``Choice.rank``)."""
        worded, asked, option = _asks_about(question)
        prof = worded if source is None else without_phrasing(worded, source)
        # "what does X mean", or "what does the -k option do": an option list's entry starts
        # with the option ("-k --keep  Keep (don't delete) input files …")
        term = asked or next((lit for lit in prof.literals if lit.startswith("-")), None)
        reason = asks_reason(question)
        names = not reason and asks_term(question)  # which package / 哪个文件 / who
        weight = doc.index.bm25.idf_of  # rare keys (the thing asked about) count more
        sentences = doc.ocr.sentences
        text = doc.ocr.text

        def fitting(window: str) -> bool:
            return gives_reason(window) if reason else bool(fitting_values(prof, window))

        def naming(window: str) -> bool:
            return bool(new_terms(prof, window))

        choices: list[Choice] = []
        numbers = question_numbers(prof)
        quoted = _literal_sentences(prof.literals, sentences, text)
        saying = _saying_what_it_is(sentences, term, asked, pressed_key(question))
        texts = [s.text for s in sentences]
        found = doc.index.search(
            question, k=TOP_K, include=quoted + saying, runs=prof.runs if prof.cjk else ()
        )
        pointers = contents_pointers(texts, [idx for idx, _ in found], prof.cjk)
        for idx, retrieval in found:
            if in_contents(texts, idx) or idx in pointers or idx in doc.heads:
                # a title in the table of contents (the answer is in the body), or a table's
                # header (each of its rows is read with it)
                continue
            sent = sentences[idx]
            start, end = sent.start, sent.end
            if (
                idx + 1 < len(sentences)
                and idx not in doc.headers
                and needs_next(sent.text, prof.cjk)
                and not sibling_entries(sent.text, sentences[idx + 1].text)
            ):
                # a heading, a lead-in ending in a colon, a question or a table header: what
                # answers it is in the next sentence (a table's row carries its own)
                if contents_label(sentences[idx + 1].text):
                    continue  # the document's title, above its contents: no answer below it
                end = sentences[idx + 1].end
            fits = fitting(text[start:end])
            if reason and not fits and idx > 0 and follows_from(sent.text):
                # "That's the reason why the first release was 1.1.": the reason is the sentence
                # before, which _with_what_comes_before adds (not the next one, however causal)
                fits = True
            elif reason and not fits:
                # the sentence repeats the question's words but the reason it asks for is in
                # the sentence next to it ("… add Closes: #654321. This way the bug is …"); not
                # for values: a number in the next sentence is as often another number (dev set)
                start, end, fits = _with_neighbour(sentences, idx, start, end, fitting)
            elif prof.typed and not fits and _line_above_holds(sentences, idx, text, fitting):
                # the line above is this sentence's start, cut at a line break, and holds the
                # value asked for ("2012年10月01日 赵涛 <…>" / "将 vimtutor 中译版从 1.5 升级到 1.7。")
                start, fits = sentences[idx - 1].start, True
            elif names and not naming(text[start:end]):
                # the name it asks for is in the next sentence ("… you need a basic development
                # environment. Install build-essential."); the window grows, its score does not
                start, end, _ = _with_neighbour(sentences, idx, start, end, naming)
            start, end = _with_what_comes_before(
                prof, sentences, idx, start, end, names, naming, reason
            )
            window = text[start:end]
            # a table row is read with its header: the column the question names is there
            headed = f"{doc.headers.get(idx, '')}\n{window}"
            coverage, _ = key_matches(prof, headed, weight)
            is_def = (
                defines(window, term)
                or spells_out(window, term)
                or (
                    idx in doc.headers
                    and labelled(sent.text, prof.keys + prof.literals + prof.runs)
                )
            )
            choice = Choice(idx, start, end, coverage, retrieval, fits, is_def)
            if worded is not prof:
                choice.worded = key_matches(worded, headed, weight)[0]
            choice.glosses = glosses(window, asked) or explains(window, option)
            # the number may be said in the sentence before or after (a lead-in, the lines it
            # announces: "… 领导者名字和起始日期" / "Ian Murdock August 1993"); the window never
            # reaches further than those two
            around = text[
                sentences[max(0, idx - 1)].start : sentences[min(idx + 1, len(sentences) - 1)].end
            ]
            choice.numbers = names_a_number(numbers, f"{doc.headers.get(idx, '')}\n{around}")
            choices.append(choice)
        meanings = doc.index.similarities(question, [text[c.start : c.end] for c in choices])
        for choice, meaning in zip(choices, meanings or (), strict=False):
            choice.meaning = max(0.0, meaning)
        choices.sort(key=lambda c: -c.rank)
        choices = _fitting_first(prof, choices)
        choices = _saying_what_first(choices, saying, asked, option)
        return prof, _with_head_date(prof, choices, sentences, text, weight)

    def _qa(self, doc: _Doc, rendered: RenderedDoc, question: str, lang: str) -> Answer:
        prof, found = self._choices(doc, question, rendered.text)
        text = doc.ocr.text
        # a question for a phone number, an e-mail address or a URL is answered only by a
        # sentence holding one: the others are no answer, only places to look
        choices = [c for c in found if not lacks_required_value(prof, text[c.start : c.end])]
        if choices and not _answers(choices[0]) and not choices[0].glosses:
            choices = _closest_first(prof, choices)
        ways = _other_ways(prof, choices)
        if choices and not _answered(prof, choices[0], ways):
            # no answer at all: an English window of a partly English page, perhaps
            choices = _english_that_answers(prof, choices, text)
            ways = _other_ways(prof, choices)
        by_kind, by_lead, by_gloss = ways
        runner = choices[1] if len(choices) > 1 else None
        if not choices or not _answered(prof, choices[0], ways):
            self.last_decision = None
            # the best candidate is no sure answer, but it is where a person should look first
            # (on the dev documents it held the gold passage for 15 of 23 such questions)
            top = (choices or found or [None])[0]
            nearest = (
                self._span(doc, rendered, top.start, top.end, top.support)
                # a place that holds none of the question's words, found by meaning alone and
                # not close enough to answer, is no place to look ("9." on page 1 for a Chinese
                # question on an English text)
                if top is not None and top.coverage > 0
                else None
            )
            return self._not_found(lang, closest=[nearest] if nearest is not None else [])
        best = choices[0]
        value = _value_of(prof, text[best.start : best.end], best, doc.index.bm25.idf_of)
        ocr_conf = doc.ocr.confidence(best.start, best.end)
        decision = decide(prof, text, best, runner, value, ocr_conf)
        self.last_decision = decision  # for calibration (eval/qa_real/calibrate.py)
        if decision.short:
            a, b, unshown = decision.start, decision.end, False
            answer_text = " ".join(text[a:b].split())
        else:
            a, b, cut_from, unshown = _sentence_window(doc, best, decision)
            answer_text = excerpt(text, a, b, cut_from, best.end)
        conf = round(confidence(decision.features), 4)
        in_other_words = _answers_in_other_words(best, prof)
        value_span = self._span(doc, rendered, a, b, ocr_conf)
        sent_span = self._span(doc, rendered, best.start, best.end, best.coverage)
        spans = _places(value_span, sent_span, decision.short)
        if (
            not decision.short
            and value_span is not None
            and not answer_text.endswith("…")
            and goes_on(rendered.text, value_span.end)
        ):
            answer_text += "…"  # the sentence goes on past the lines read so far
        kind_zh = _kind_zh(decision.kind)
        # a Chinese question answered by an English passage, through its words' English words
        in_english = prof.cjk and glossary.in_english(text[best.start : best.end])
        # "why …?" answered by a passage that gives no reason, only the question's own words
        no_reason = asks_reason(question) and not best.fits
        # what was read there, with the footnote numbers the answer does not show
        misread = _misread_note(" ".join(text[a:b].split()), rendered, value_span)
        return Answer(
            text=answer_text,
            mode=Mode.QA,
            reader=self.name,
            confidence=conf,
            needs_review=in_other_words
            or best.dated
            or by_kind
            or by_lead
            or by_gloss
            or bool(misread)
            or unshown
            or in_english
            or no_reason
            or conf < self.settings.review_threshold,
            spans=spans,
            notes=[
                Note(
                    en=f"Read by OCR ({self.engine_name}); answer kind: {decision.kind}.",
                    zh=f"由 OCR（{self.engine_name}）读取；答案类型：{kind_zh}。",
                ),
                *_why_chosen(
                    # the kind the passage holds, also where the answer is its sentence
                    prof.kinds[0] if by_kind and not decision.short else decision.kind,
                    in_other_words=in_other_words,
                    by_kind=by_kind,
                    by_lead=by_lead,
                    dated=best.dated,
                    by_gloss=by_gloss,
                ),
                *_table_note(doc.headers.get(best.index)),
                *misread,
                *([_UNSHOWN_NOTE] if unshown else []),
                *([_IN_ENGLISH_NOTE] if in_english else []),
                *([_NO_REASON_NOTE] if no_reason else []),
            ],
        )

    def _not_found(
        self,
        lang: str,
        mode: Mode = Mode.QA,
        notes: list[Note] | None = None,
        closest: list[Span] | None = None,
    ) -> Answer:
        """The reader's "not found" answer: no evidence, flagged for a person to check, with the
        passage nearest the question (``closest``) for app.evidence to point at."""
        if notes is None and mode is Mode.QA:
            notes = [
                Note(
                    en="No sentence read on the pages answers the question for sure.",
                    zh="页面上没有能确定回答这个问题的句子。",
                )
            ]
        return Answer(
            text=NOT_FOUND[lang],
            mode=mode,
            reader=self.name,
            confidence=0.0,
            needs_review=True,
            found=False,
            notes=notes or [],
            closest=closest or [],
        )

    def _summary(self, doc: _Doc, rendered: RenderedDoc, question: str, lang: str) -> Answer:
        sentences = doc.ocr.sentences
        n = requested_length(question)
        chosen = summarize([s.text for s in sentences], n, max_chars=n * 220)
        if not chosen:
            return Answer(
                text="",
                mode=Mode.SUMMARY,
                reader=self.name,
                confidence=0.0,
                needs_review=True,
                found=False,
            )
        joiner = "" if lang == "zh" else " "
        parts, spans, confs = [], [], []
        for i in chosen:
            s = sentences[i]
            parts.append(" ".join(s.text.split()))
            conf = doc.ocr.confidence(s.start, s.end)
            confs.append(conf)
            span = self._span(doc, rendered, s.start, s.end, conf)
            if span is not None:
                spans.append(span)
        confidence = round(min(confs), 4) if confs else 0.0
        return Answer(
            text=joiner.join(parts),
            mode=Mode.SUMMARY,
            reader=self.name,
            confidence=confidence,
            needs_review=confidence < self.settings.review_threshold,
            spans=spans,
            notes=[
                Note(
                    en=f"Extractive summary: {len(chosen)} of {len(sentences)} sentences "
                    "(TextRank).",
                    zh=f"抽取式摘要：{len(sentences)} 句中选 {len(chosen)} 句（TextRank）。",
                )
            ],
        )

    def _extract(self, doc: _Doc, rendered: RenderedDoc, lang: str) -> Answer:
        items = key_information(doc.ocr.text)
        spans, confs, kept = [], [], []
        for item in items:
            conf = doc.ocr.confidence(item.start, item.end)
            span = self._span(doc, rendered, item.start, item.end, conf, label=item.kind)
            if (
                span is None
                # checked again on the document's text where it was read: OCR drops what makes
                # an item imprecise ("889 | 2408" read as "889 2408", "MTU - 40" as "MTU-40")
                or not precise(item.kind, span.text)
                # and an item misread is not shown: "www.Irde.epita.fr/-adl" where the page
                # shows "www.lrde.epita.fr/~adl", "debian-I10n-english@…" for "l10n"
                or unspaced(span.text) != unspaced(item.text)
            ):
                continue
            kept.append(item)
            spans.append(span)
            confs.append(conf)
        if not kept:
            return self._not_found(lang, Mode.EXTRACT)
        confidence = round(float(sum(confs) / len(confs)), 4)
        return Answer(
            text=format_items(kept, lang),
            mode=Mode.EXTRACT,
            reader=self.name,
            confidence=confidence,
            needs_review=confidence < self.settings.review_threshold,
            spans=spans,
        )
