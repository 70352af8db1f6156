"""What the built-in reader answers, and how sure it is.

The reader retrieves sentences that match the question and reads values in them
(``extract.py``); this module decides what to say:

* **not found** when no read sentence supports the question well enough;
* **a short value** (a date, an amount, a code, an e-mail …) only when the question asks for that
  kind of value and the supporting sentence holds exactly one value of that kind near the
  question's words — no guess between several;
* otherwise **the supporting sentence itself**, at most ``MAX_ANSWER`` characters cut at word
  boundaries around the question's words: never a bare fragment out of context.

Its confidence is a logistic model of the retrieval evidence (how much of the question the
sentence covers, how far it is ahead of the next candidate, how clearly it was read), fitted on
the development half of the real-document set (``eval/qa_real``, ``eval/qa_real/calibrate.py``);
the held-out half reports its calibration in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from app.readers.ocr.extract import (
    DEFINITION_ASKED,
    OPTION_DASHES,
    Candidate,
    Profile,
    find_literal,
    key_matches,
    stem,
)
from app.readers.ocr.keyinfo import precise
from app.readers.ocr.patterns import (
    FOOTNOTE_NUMBER,
    SIZE_UNIT,
    find_values,
    without_footnotes,
    without_part_numbers,
)
from app.text import CJK_RUN_RE, STOP_AND_QUESTION_WORDS, is_cjk, unspaced

MAX_ANSWER = 300
# Kinds of value that are an answer on their own when the question asks for them.
SHORT_KINDS = frozenset(
    {"date", "amount", "percent", "email", "phone", "url", "site", "code", "duration", "number"}
)
# kinds a passage must hold to fit the question: a path fits "which directory", but the answer
# is the sentence that says what is kept there ("… must reside in /etc.")
FITTING_KINDS = SHORT_KINDS | {"path", "action"}

# Fitted on the dev split on 2026-12-05 (python -m eval.qa_real.calibrate --fit: the 385 answered
# dev questions of 31 documents, the margin taken between candidates' ranks; in-sample ECE 0.024;
# leave-one-document-out on dev: ECE 0.013, and of the answers at ≥ 0.85 and not flagged for
# another reason 94.1 % of 101 correct, at ≥ 0.9 98.2 % of 55 — so the default review threshold
# is 0.9); FEATURES' order. The weights before (2026-12-04, 262 answers of 23 documents) were
# 2.261, 2.092, 0.795, 0.279 and -1.678. The retrieval score is left out: it is scaled to each
# question's top hit, so it says little across documents (its weight changed sign between fits;
# leave-one-document-out ECE 0.041 with it, 2026-12-03).
FEATURES = ("coverage", "margin", "fits", "short")
WEIGHTS = (1.684, 2.834, 0.745, 0.568)
BIAS = -1.077
MIN_SUPPORT = 0.45  # below this support no sentence answers the question
# English dev questions, whole documents read (2026-12-04): the gold window ranked first for 91
# of 127 by support alone, 96-97 for weights 0.3-0.6 of the window's cosine similarity
MEANING_WEIGHT = 0.4
# A question in other words than the document's covers few of its words, yet the window may say
# what it asks. English dev questions, whole documents read (2026-12-04): of the 30 whose best
# window fell under the word thresholds, the 13 at a cosine of 0.6 or more were 8 answers on the
# gold passage, 2 other passages and 3 unanswerable questions (0.55: 12, 3 and 4; 0.65: 6, 2, 3).
# Chinese (multilingual-e5, rescaled; 0.63 is a cosine of 0.926), dev questions whose best window
# fell under the word thresholds (2026-12-04): of 40, the 7 at 0.63 or more were 4 answers on the
# gold passage, 2 other passages and 1 unanswerable question (0.6: 4, 2 and 2).
# Such an answer is always flagged for review.
MEANING_ANSWERS = {"en": 0.6, "zh": 0.63}


@dataclass
class Choice:
    """One retrieved sentence window scored for a question."""

    index: int  # sentence index
    start: int  # window in the OCR text
    end: int
    coverage: float
    retrieval: float
    fits: bool = False  # holds a value of the kind the question asks for
    defines: bool = False  # starts with the term a "what does X mean" question asks about
    meaning: float = 0.0  # how close the window's meaning is to the question's, in [0, 1]
    numbers: bool = True  # holds one of the numbers the question names, if it names any
    spells: bool = False  # spells out the abbreviation asked about, or says what the term is
    # the share of all the question's words, its everyday phrasing too (``without_phrasing``):
    # what the confidence was fitted on, so an answer is no surer for words set aside
    worded: float | None = None
    dated: bool = False  # the title block's date, for a question about the document's own date
    glosses: bool = False  # says what the term asked about means ("lurk (that is, read …)")

    @property
    def support(self) -> float:
        bonus = (0.15 if self.fits else 0.0) + (0.15 if self.defines else 0.0)
        return 0.65 * self.coverage + 0.35 * self.retrieval + bonus

    @property
    def rank(self) -> float:
        """What orders the candidates: their support, and how close in meaning the whole window
        is to the question. The sentence's own similarity is already part of ``retrieval``; the
        window's (the sentence with the neighbour that answers it) tells which of several
        sentences sharing the question's words answers it."""
        return self.support + MEANING_WEIGHT * self.meaning


@dataclass
class Decision:
    """The answer span (offsets in the OCR text), its kind and the features of its confidence."""

    start: int
    end: int
    kind: str  # a value kind, or "sentence"
    features: dict[str, float] = field(default_factory=dict)

    @property
    def short(self) -> bool:
        return self.kind != "sentence"


# Kinds of value without which no sentence answers the question that asks for it: a phone
# number, an e-mail address or a web address is the answer itself (a date, an amount or a
# duration may be said in words: "free of charge", "after the first release")
REQUIRED_KINDS = frozenset({"phone", "email", "url"})


# A question for a price or a fee ("How much does it cost to join?", "需要支付多少费用？") is
# answered only where one is stated: an amount, or words ("free of charge", "at the cost of
# distribution", "免费"); a question for a size or a quantity ("How much disk space …?", "要占用
# 多少磁盘空间？"; not "how much time", a duration said in any words) only where a number is (a
# table's size column holds bare numbers), not a manual page's section ("mmap(2)")
# (a price by its word: "How much does the parcel weigh?" asks a quantity, "12 kg")
_ASKS_PRICE = re.compile(
    r"\b(?:cost|costs|price|prices|priced|fee|fees|charge|charged)\b|多少钱|费用|价格|收费|花费",
    re.I,
)
_ASKS_SIZE = re.compile(
    r"\bhow much\b(?!\s+(?:time|longer|later|earlier|more|less)\b)|\bhow (?:big|large)\b|"
    r"\bwhat size\b|(?:空间|内存|磁盘|大小|容量).{0,6}多少|多少.{0,4}(?:空间|内存|磁盘|容量)",
    re.I,
)
_STATES_PRICE = re.compile(
    r"\b(?:free|gratis|charges?|costs?|fees?|prices?|paid|pay|nothing|cheap|expensive)\b"
    r"|免费|收费|费用|价格|成本|付费",
    re.I,
)
_NUMBER_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"hundred|thousand|million|dozen|several|few)\b|[一二三四五六七八九十百千万两几]+\s?(?:个|元|天|周|月|年|小时|"
    r"分钟|字节|兆)",
    re.I,
)
_MANUAL_SECTION = re.compile(r"\w\(\d\w*\)")


def asks_amount(question: str) -> bool:
    """A question for a price, a fee or a size (``lacks_required_value``)."""
    return bool(_ASKS_PRICE.search(question) or _ASKS_SIZE.search(question))


def states_amount(question: str, window: str) -> bool:
    """``window`` states what an amount question asks for (see ``_ASKS_PRICE``)."""
    if _STATES_PRICE.search(window) or _NUMBER_WORDS.search(window):
        return True
    kinds = ("amount",) if _ASKS_PRICE.search(question) else ("amount", "percent", "number")
    return any(v.kind in kinds for v in find_values(_MANUAL_SECTION.sub("", window), kinds))


def lacks_required_value(prof: Profile, window: str) -> bool:
    """The question asks for a phone number, an e-mail address or a URL, or for a price, fee or
    size, and ``window`` holds none: it cannot answer, however many of the question's words it
    shares (dev: "How much does it cost to join the maintenance team?" was answered "You are
    welcomed to join the maintenance team …")."""
    if asks_amount(prof.text):
        return not states_amount(prof.text, window)
    if not prof.typed or prof.kinds[0] not in REQUIRED_KINDS:
        return False
    # a web site may be named by its host alone ("security.debian.org")
    kinds = ("url", "site") if prof.kinds[0] == "url" else (prof.kinds[0],)
    return not any(v.kind in kinds for v in find_values(window, kinds))


def fitting_values(prof: Profile, text: str) -> list:
    """Values in ``text`` of the kinds the question asks for (its first two, when it named any)."""
    if not prof.typed:
        return []
    wanted = set(prof.kinds[:2]) & FITTING_KINDS
    found = [v for v in find_values(text, tuple(wanted)) if v.kind in wanted]
    return without_part_numbers(text, found, prof.text)


def decide(
    prof: Profile,
    text: str,
    best: Choice,
    runner_up: Choice | None,
    value: Candidate | None,
    ocr_conf: float,
) -> Decision:
    """The answer for the best sentence: a short value when unambiguous, else the sentence."""
    window = text[best.start : best.end]
    kind, a, b = "sentence", best.start, best.end
    if value is not None and prof.typed and value.kind in prof.kinds[:2] and _short(value, window):
        kind, a, b = value.kind, best.start + value.start, best.start + value.end
        if kind == "number":
            a = with_label(text, a, prof)
            b = with_unit(text, b)
            b = with_counted(text, b, prof)
        if kind in QUALIFIED_KINDS:
            a, b = with_qualifier(text, a, b)
    else:
        a, b = clip(text, best.start, best.end, prof)
    margin = best.rank - (runner_up.rank if runner_up is not None else 0.0)
    features = {
        "coverage": best.coverage if best.worded is None else best.worded,
        "retrieval": best.retrieval,
        "margin": max(0.0, margin),
        "short": 1.0 if kind != "sentence" else 0.0,
        "typed": 1.0 if prof.typed else 0.0,
        "fits": 1.0 if (best.fits or not prof.typed) else 0.0,
        "ocr": ocr_conf,
        "meaning": best.meaning,
        "defines": 1.0 if best.defines else 0.0,
    }
    return Decision(a, b, kind, features)


_LEAD_IN = re.compile(r"(?:[:：]|\bat|\bis|\bare|\bas follows|如下|为|是)\s*$", re.I)
_HEADING = re.compile(r"^\s*(?:#+|\d+(?:\.\d+)*\.?|[A-Z]\.)\s")


_SENTENCE_CLOSE = tuple(".。!！;；:：)）\"”’'")
CAPTION = re.compile(r"^\s*(?:表|图|Table|Figure|Fig\.)\s*\d", re.I)


# a numbered heading starts with words after its number ("10.3. What …", "5.23 下一节"); a value
# such as "3.0 (native)" does not. "# Title" is Markdown's heading, and "# dpkg-reconfigure
# tzdata" a command typed at root's prompt.
_SECTION = re.compile(
    r"^\s*(?:#+\s(?!\s*[a-z][\w.+-]*(?:\s|$))|\d+(?:\.\d+)*\.?\s+[^\W\d_]|[A-Z]\.\s)"
)


# a table of contents: entries that start with a section number ("• 1.2.6. duck", "2.2.5. aptitude
# 软件包视图", "4.4 rules ........ 31"), short, several in a row
_ENTRY_NUMBER = re.compile(r"^\W{0,3}\s*\d+(?:\.\d+)+\.?(?=\s|$|[^\W\d_])")
_LEADERS = re.compile(r"(?:\.\s*){3,}|…+|·{3,}")
CONTENTS_REACH = 3  # sentences looked at on each side
CONTENTS_ENTRIES = 3  # numbered entries among them that make a contents list
CONTENTS_ENTRY_CHARS = 40  # at most this many characters per numbered entry, on average


# entries of a table of contents read as one run: a page number and the next entry's section
# number ("… GOSTHASH94CP 19 7.1.4 The struct nettle_hash abstraction"), or dot leaders (six
# dots or more: not an ellipsis) and a page number ("MD4 . . . . . . 17")
_LEADERS_AND_PAGE = r"(?:\.\s?){6,}\s*\d{1,4}"
# the page number stands after a space, or glued to a Chinese title or to the last of its
# leaders as OCR reads a Chinese contents page ("无LTSP 客户端的设76 15.4.2 有…", "配.79 17.1.5")
_ENTRY_JOINT = re.compile(
    r"(?<![^\s\u4e00-\u9fff.…·])\d{1,4}\s+\d+(?:\.\d+)+\.?(?:\s+[A-Z\u4e00-\u9fff]|[\u4e00-\u9fff])"
    rf"|{_LEADERS_AND_PAGE}\b"
)
_PAGE_AT_END = re.compile(rf"{_LEADERS_AND_PAGE}\s*$")  # "… abstraction . . . . . . 20"


def in_contents(texts: list[str], i: int) -> bool:
    """``texts[i]`` is a line of a table of contents (the titles there are only pointers: the
    answer is under the heading in the body). Found by its neighbourhood: at least three of the
    sentences around it start with a section number, and together they are as short as titles
    are; a body heading is followed by its paragraphs, which are longer. Or by itself: entries
    run together into one sentence, two joints between them at least (a first look that read a
    few lines of the contents has no neighbours to judge by), or one whole entry: a section
    number, its title, dot leaders and a page number."""
    line = texts[i]
    joints = _ENTRY_JOINT.findall(line)
    if len(joints) >= 2 or (_ENTRY_NUMBER.match(line) and (joints or _PAGE_AT_END.search(line))):
        return True
    if len(_LEADERS.sub(" ", line)) > 60:
        return False
    if _ENTRY_JOINT.match(line.lstrip(".…· ")):
        return True  # the page number of the entry before, then an entry ("79 17.1.3 增添…")
    near = texts[max(0, i - CONTENTS_REACH) : i + CONTENTS_REACH + 1]
    numbered = sum(1 for t in near if _ENTRY_NUMBER.match(t))
    length = len(_LEADERS.sub(" ", " ".join(near)))
    return numbered >= CONTENTS_ENTRIES and length <= numbered * CONTENTS_ENTRY_CHARS


# the label of a table of contents, on a line of its own
_CONTENTS_LABEL = re.compile(r"^\W*(?:目\s*录|(?:table\s+of\s+)?contents)\W*$", re.I)


def contents_label(line: str) -> bool:
    """``line`` is the label of a table of contents ("目 录", "Contents"): a heading above it
    is the document's title, which answers nothing."""
    return bool(_CONTENTS_LABEL.match(line))


POINTER_SIMILARITY = 90  # rapidfuzz ratio of two headings' letters that makes them one heading


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def contents_pointers(texts: list[str], candidates: list[int], cjk: bool) -> set[int]:
    """Of the ``candidates``, the headings (questions, titles) whose text comes again in a later
    candidate: an earlier copy of a heading is its entry in a table of contents, a pointer to
    the part below the later one, where the answer is. A FAQ's contents list its questions, too
    long for ``in_contents`` ("我编译程序时为什么会出现 …错误？为什么 … 文件？" / "5.7.")."""
    heads = sorted(i for i in set(candidates) if needs_next(texts[i], cjk))
    keys = {i: _letters(texts[i]) for i in heads}
    return {
        i
        for n, i in enumerate(heads)
        if len(keys[i]) >= 6
        and any(fuzz.ratio(keys[i], keys[j]) >= POINTER_SIMILARITY for j in heads[n + 1 :])
    }


_NUMBER = re.compile(r"\d+(?:\.\d+)*")


def question_numbers(prof: Profile) -> list[str]:
    """The numbers a question names ("Debian 13", "从 1.5 升级到 1.7", "127.0.1.1")."""
    return [k for k in (*prof.keys, *prof.literals) if _NUMBER.fullmatch(k)]


def names_a_number(numbers: list[str], window: str) -> bool:
    """``window`` holds one of ``numbers`` as a number of its own ("13" is not in "2013" or
    "1.13", "1.0" not in "1.0.8"), or the question names none. A passage without the number the
    question is about (the release, the version, the address) is about something else."""
    return not numbers or any(
        re.search(rf"(?<![\d.]){re.escape(n)}(?!\.?\d)", window) for n in numbers
    )


LOST_CHARS = 2  # letters or digits in a row that the page shows and the reading lacks


def _alnum(text: str) -> tuple[str, list[int]]:
    """``text``'s letters and digits (NFKC, lower case), and where each stands in ``text``."""
    chars, where = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if c.isalnum():
                chars.append(c)
                where.append(i)
    return "".join(chars), where


def lost_in_reading(read: str, typeset: str) -> str | None:
    """What the page shows in an answer's passage that its reading lost: the longest run of at
    least ``LOST_CHARS`` letters or digits of ``typeset`` (the text drawn there) missing or read
    as something else in ``read`` (the OCR), with the symbols around it ("“.so”" where the
    reading has "使用后缀 4.5.2"). A single character ("一" read as "—", "I" as "l") is the
    usual slip and says nothing. Only flags: the answer stays what was read."""
    mine, _ = _alnum(read)
    theirs, where = _alnum(typeset)
    runs = [
        (j1, j2)
        for tag, _i1, _i2, j1, j2 in Levenshtein.opcodes(mine, theirs)
        if tag in ("insert", "replace") and j2 - j1 >= LOST_CHARS
    ]
    if not runs:
        return None
    best = max(runs, key=lambda run: run[1] - run[0])
    a, b = where[best[0]], where[best[1] - 1] + 1
    while a > 0 and not typeset[a - 1].isspace() and not typeset[a - 1].isalnum():
        a -= 1
    while b < len(typeset) and not typeset[b].isspace() and not typeset[b].isalnum():
        b += 1
    return typeset[a:b].rstrip(".,;:!?。，、；：！？")


# symbols that begin a name (a shell variable, an address, a comment) and that OCR may read as a
# letter: "$XAUTHORITY" as "SXAUTHORITY"
NAME_SYMBOLS = "$@#%"
_TOKEN_END = re.compile(r"[\s\"'“”‘’()（）,，。;；:：]")


def symbol_read_as_letter(read: str, typeset: str) -> tuple[str, str] | None:
    """(the word drawn, the word read) when the reading of an answer's passage has a letter or
    digit where the page shows a symbol that begins a name ("$XAUTHORITY" read "SXAUTHORITY"):
    the word looks right and is not. Only flags: the answer stays what was read."""
    mine = [(i, ch) for i, ch in enumerate(read) if not ch.isspace()]
    theirs = [(i, ch) for i, ch in enumerate(typeset) if not ch.isspace()]
    ops = Levenshtein.opcodes("".join(c for _, c in mine), "".join(c for _, c in theirs))
    pairs = (
        (mine[i1 + k], theirs[j1 + k])
        for tag, i1, i2, j1, j2 in ops
        if tag == "replace" and i2 - i1 == j2 - j1  # character for character
        for k in range(i2 - i1)
    )
    for (b, got), (a, shown) in pairs:
        if shown in NAME_SYMBOLS and got.isalnum():
            end_t = _TOKEN_END.search(typeset, a + 1)
            end_r = _TOKEN_END.search(read, b + 1)
            return (
                typeset[a : end_t.start() if end_t else len(typeset)],
                read[b : end_r.start() if end_r else len(read)],
            )
    return None


# a command-line option as drawn ("-k", "--keep"); OCR may read other dashes in front of its
# name (``extract.OPTION_DASHES``: "—keep", "–keep")
_OPTION_DRAWN = re.compile(r"(?<![\w-])(-{1,2})([A-Za-z][\w-]*)")


def option_dashes_misread(read: str, typeset: str) -> tuple[str, str] | None:
    """(the option drawn, the option read) when the reading of an answer's passage gives a
    command-line option other dashes than the page shows ("--keep" read "-keep" or "—keep"): the
    option looks right and does not work when typed. Only when the reading never has the option
    as drawn. Only flags: the answer stays what was read."""
    for m in _OPTION_DRAWN.finditer(typeset):
        dashes, name = m.groups()
        read_as = [
            r.group(1)
            for r in re.finditer(
                rf"(?<![\w{OPTION_DASHES}])([{OPTION_DASHES}]+)({re.escape(name)})(?![\w-])",
                read,
                re.I,
            )
        ]
        if read_as and dashes not in read_as:
            return m.group(0), f"{read_as[0]}{name}"
    return None


def unmentioned_options(literals: tuple[str, ...], text: str) -> list[str]:
    """The command-line options a question quotes ("--keep", the "-sa" of "dpkg-buildpackage
    -sa") when the document's text has none of them, however its dashes are drawn: then it does
    not say what they do. Empty when the question quotes no option or one is there."""
    options = []
    for lit in literals:
        option = lit.rsplit(" ", 1)[-1]
        if _OPTION_DRAWN.fullmatch(option):
            options.append(option)
    if any(find_literal(option, text) for option in options):
        return []
    return options


# the label of a note, tip or warning box, on a line of its own
_ADMONITION = re.compile(r"(?:注意|提示|警告|小心|重要|Note|Tip|Warning|Caution|Important)", re.I)


def opens_part(line: str) -> bool:
    """The line starts a part of its own, no more of the answer above it: a numbered heading
    ("10.3. What special provisions …"), a caption, the label of a note or tip ("提示"), a
    question, another lead-in (a colon)."""
    s = line.strip()
    return bool(_SECTION.match(s) or CAPTION.match(s) or _ADMONITION.fullmatch(s)) or s.endswith(
        ("?", "？", ":", "：")
    )


# what announces the lines after it even where the sentence ends in a full stop, as it often
# does in translations ("你能够通过如下命令用 iconv(1) 来检查……。", "是按下面的方式标记。")
_ANNOUNCING = re.compile(r"如下|下面的?|下列|以下|\bas follows\b|\bthe following\b|\bbelow\b", re.I)


# a definition list's term on a line of its own, its description on the next ("65534:" / "User
# nobody. …", "-k, --keep:"): a few words ending in a colon, no sentence
_TERM_LABEL = re.compile(r"^[^\s.。!！?？]+(?:\s+[^\s.。!！?？]+){0,2}\s*[:：]$")


def term_label(line: str) -> bool:
    """The line is a term whose description is the line after it: up to three words and a
    colon ("65534:", "Reserved for:"), not a lead-in that announces a list ("as follows:")."""
    s = line.strip()
    return bool(_TERM_LABEL.match(s)) and not _ANNOUNCING.search(s)


def announces(answer: str) -> bool:
    """The answer's last sentence announces what follows it: it ends in a colon ("… run the
    following command:"), or it says so and ends in a full stop."""
    s = answer.rstrip()
    if s.endswith((":", "：")):
        return True
    if not s.endswith((".", "。")):
        return False
    last = re.split(r"(?<=[.。!！?？])\s*", s[:-1])[-1]
    return bool(_ANNOUNCING.search(last))


# the number of a footnote at the start of a sentence that goes on in the same line ("… needed by
# the package. 10 To do this, put …"); on a line of its own, such a number starts a heading
_FOOTNOTE = rf"{FOOTNOTE_NUMBER}\s+"


def continues(sentence: str) -> bool:
    """``sentence`` can go on with the answer before it: it ends as a sentence ends, and is no
    heading, caption, footnote mark or question ("6.3. 那 sid 呢？", "表 3.3.", "Definitions",
    "1" are where the next part of the document starts)."""
    text = sentence.strip()
    return (
        len(text) >= 8
        and text.endswith(_SENTENCE_CLOSE)
        and not _HEADING.match(text)
        and not CAPTION.match(text)
    )


def needs_next(sentence: str, cjk: bool) -> bool:
    """The sentence does not carry its own answer: a heading, a short lead-in ending in a colon
    or "… at", a question, a table header — the next sentence does."""
    s = sentence.strip()
    short = len(s) < (24 if cjk else 50)
    ends = s.endswith((".", "。", "!", "！"))
    # a numbered heading ("4.5.3 “为什么 GNU su 不支持 wheel 组”") may be longer than a lead-in
    numbered = bool(_HEADING.match(s)) and len(s) < (48 if cjk else 90) and not ends
    return bool(
        _LEAD_IN.search(s)
        or s.endswith(("?", "？"))
        or numbered
        or (short and (_HEADING.match(s) or "|" in s or not ends))
    )


# a line that is one entry of a list of labelled lines: a short label, its separator, what it
# labels ("lvm.conf(5)：LVM2 的配置文件", "Version: 2.1"); a URL's or a time's colon is none
_ENTRY = re.compile(r"^\s*[^\s:：][^:：\n]{0,39}?(?:：|:(?=\s))\s*\S")


def sibling_entries(line: str, nxt: str) -> bool:
    """``line`` and ``nxt`` are two entries of one list of labelled lines (each its own label and
    what it labels): the entry answers alone, the next is another's. (The OCR may read a
    full-width colon as ":", so the two kinds are not told apart.)"""
    return bool(_ENTRY.match(line) and _ENTRY.match(nxt) and not _HEADING.match(line))


# A figure is said with how exact it is: "over 1000", "up to 40 euros", "约 30 天", "30 字符以内".
# Without it the short answer says something else ("1000").
QUALIFIED_KINDS = frozenset({"number", "amount", "percent", "duration"})
_QUALIFIER_BEFORE = re.compile(
    r"(?:\b(?:(?:more|less|fewer|greater|larger|smaller|higher|lower) than|over|under|about|around|approximately|roughly|nearly|"
    r"almost|up to|at least|at most|no more than|not more than|some|exactly|only)"
    r"|超过|大约|约|将近|接近|近|多达|至少|最多|不到|不超过|不足|逾|仅)\s*$",
    re.I,
)
_QUALIFIER_AFTER = re.compile(
    r"^\s*(?:(?:or (?:more|less|fewer|so)|and (?:more|up|above))\b|\+"
    r"|(?:[^\W\d_]{1,3}\s*)?(?:以上|以下|以内|左右|多|余))",
    re.I,
)


# A measure's unit: "64 KB", "8192 bytes", "300 dpi", "10 毫米". Without it the figure alone
# ("64") answers "how big" with less than the document says.
_UNIT_AFTER = re.compile(
    rf"\s?(?:{SIZE_UNIT}|[KMGT]bit|bits?|dpi|px|pt|mm|cm|km|kg|ms|[kMG]?Hz"
    r"|字节|像素|毫米|厘米|公里|公斤|千克|毫秒|比特)(?![A-Za-z])"
)


# A number's name right before it, as the question says it: "类型 2" for "应该选第几种类型？",
# "Type 2" for "Which type …?". Alone, "2" does not say what it numbers.
_LABEL_BEFORE = re.compile(r"(?:(?<![A-Za-z])([A-Za-z][A-Za-z-]*)|([\u4e00-\u9fff]{1,8}))[ \t]?$")


def with_label(text: str, a: int, prof: Profile) -> int:
    """The start of the number starting at ``a`` with the question's word that names it."""
    label = _LABEL_BEFORE.search(text, max(0, a - 12), a)
    if label is None:
        return a
    latin, cjk = label.groups()
    if latin is not None:
        named = not prof.cjk and stem(latin.lower()) in {stem(k) for k in prof.keys}
        return label.start() if named else a
    run = next((r for r in prof.runs if len(r) >= 2 and cjk.endswith(r)), None)
    return a if run is None else label.end(2) - len(run)


def with_unit(text: str, b: int) -> int:
    """The end of the number ending at ``b`` with its unit of measure right after it."""
    unit = _UNIT_AFTER.match(text, b)
    return b if unit is None else unit.end()


def with_qualifier(text: str, a: int, b: int) -> tuple[int, int]:
    """The value ``text[a:b]`` with the words right next to it that say how exact it is."""
    before = _QUALIFIER_BEFORE.search(text[max(0, a - 24) : a])
    if before is not None:
        a -= len(before.group(0))
    after = _QUALIFIER_AFTER.match(text[b : b + 12])
    if after is not None:
        b += len(after.group(0).rstrip())
    return a, b


# The thing a count counts, as the question names it: "how many characters" → "50 characters",
# "几位的代码" → "7位". Without it the figure alone ("50", "7") says less than the document.
_COUNTED_ZH = re.compile(r"(?:几|多少)\s*([^\W\d_]{1,2}?)(?=的|[^\W\d_]|\s|[？?，,。]|$)")
_COUNTED_NOUN_ZH = re.compile(r"(?:几|多少)\s*[^\W\d_]\s*((?:(?!的)[\u4e00-\u9fff]){1,4})")
_LATIN_NOUN = re.compile(r"\s*([A-Za-z][A-Za-z-]*)")
_CJK_UNIT = re.compile(r"\s*([^\W\d_A-Za-z])")


def with_counted(text: str, b: int, prof: Profile) -> int:
    """The end of the number ending at ``b`` with the noun or measure word right after it, when
    the question names that noun ("characters") or asks "几位"/"多少个" with that measure word."""
    if prof.cjk:
        asked = {m.group(1)[0] for m in _COUNTED_ZH.finditer(prof.text)}
        if b and text[b - 1] in asked:  # the number holds its measure word ("两个", "8192个")
            end = b
        else:
            unit = _CJK_UNIT.match(text, b)
            if unit is None or unit.group(1) not in asked:
                return b
            end = unit.end()
        # and the noun after the measure word, as far as the text says it as the question does
        # ("几个字符" → "5 个字符")
        rest = text[end:]
        at = end + len(rest) - len(rest.lstrip())
        for counted in _COUNTED_NOUN_ZH.finditer(prof.text):
            if prof.text[counted.end(1) : counted.end(1) + 1] == "的":
                continue  # a word that describes the noun ("几种主要的版本": "主要" is no noun)
            noun, same = counted.group(1), 0
            while same < len(noun) and text[at + same : at + same + 1] == noun[same]:
                same += 1
            if same >= min(2, len(noun)):
                return at + same
        return end
    keys = {stem(k) for k in prof.keys}
    end = b
    for _ in range(3):  # "80 common lintian problems": the words of the question that follow
        noun = _LATIN_NOUN.match(text, end)
        if noun is None or stem(noun.group(1)) not in keys:
            break
        end = noun.end()
    return end


def _short(value: Candidate, window: str) -> bool:
    """The value answers on its own: a kind that means something alone (a person only when named
    with a title or after a role word) and no other value of its kind in the sentence."""
    text = window[value.start : value.end]
    if value.kind == "person":
        return precise("person", text)
    if value.kind not in SHORT_KINDS:
        return False
    same = {
        " ".join(v.text.split()) for v in find_values(window, (value.kind,)) if v.kind == value.kind
    }
    return same <= {" ".join(text.split())}


_QUOTED = re.compile(r"[“\"'「《]([^”\"'」》]{1,40})[”\"'」》]")
_EN_MEANING = re.compile(
    r"what (?:does|do|is)\s+(?:the\s+)?(.+?)\s+(?:mean|stand for|refer to|represent)\b", re.I
)
_ZH_MEANING = re.compile(
    r"(.+?)(?:是什么意思|是啥意思|什么意思|啥意思|表示什么|代表什么|是指什么|指的是什么|指的是啥|指什么|"
    r"是什么的缩写|的含义)"
)
# the Latin words or signs a Chinese phrase ends with ("一串 ###", "选项 Learning Cycles")
_NAMED_LAST = re.compile(r"(?<=[\u3000-\u9fff\s])[!-~]+(?:\s+[!-~]+)*\s*$")
_NUMBERING = re.compile(r"^\s*(?:[#*•-]+|\d+(?:\.\d+)*\.?|[（(]?\w[)）])\s*")


# "What is a Combined Work under this license?", "What are build dependencies?", "BTS 是什么？":
# a definition asked without "mean" (a short noun phrase, not "what is the default port")
_EN_WHAT_IS = re.compile(
    r"^\s*what\s+(?:is|are)\s+(?:an?\s+)?(?P<term>[\"“'‘]?[A-Za-z][\w\"”'’-]*(?:\s+[\w\"”'’-]+){0,3}?)"
    r"(?:\s+(?:under|in|according to|for)\s+(?:this|the)\s+\w+)?\s*\?*\s*$",
    re.I,
)
_ZH_WHAT_IS = re.compile(r"^\s*(?P<term>[^，,。？?\s]{2,12}?)\s*是什么[？?]?\s*$")


# the noun a question puts after the marker it asks about: "the @ sign", "“●”符号"
_MARKER_NOUN = re.compile(
    r"(?<=\S)\s+(?:sign|symbol|character|mark|marker|prefix|suffix|letter)s?$"
    r"|(?<=\S)\s*(?:符号|字符|标记|前缀|后缀|字母)$",
    re.I,
)


# the word a Chinese question points at its term with ("这个 HEX 是什么意思", "所谓的 FHS")
_POINTING_ZH = re.compile(r"^(?:这个|那个|这些|那些|这种|那种|所谓的?)\s*(?=\S)")


def _bare_term(term: str) -> str | None:
    term = _MARKER_NOUN.sub("", _POINTING_ZH.sub("", term.strip("\"“”'‘’ ")))
    return term.strip("\"“”'‘’ ") or None


# a key pressed at a prompt or in a program, asked what it does ("按 C 是干什么的？", "按 F6 键有什么
# 用", "What does pressing Q do?", "What does the F5 key do?"): the entry that starts with it says
_KEY_ASKED = re.compile(
    r"按下?\s*(?P<zh>[A-Za-z0-9]|F\d{1,2}|Esc|Tab)\s*键?\s*(?:是|会|能|可以|有|起)?\s*"
    r"(?:干什么|做什么|什么用|有什么用|有何用|什么作用|有什么作用|怎样|怎么样|的作用)"
    r"|\bwhat\s+(?:does|do|will)\s+(?:pressing|typing|hitting|the)\s+"
    r"(?P<en>[A-Za-z0-9]|F\d{1,2})(?:\s+key)?\s+do\b",
    re.I,
)


def pressed_key(question: str) -> str | None:
    """The key a question asks what pressing does ("按 C 是干什么的？" → "C"), or None."""
    key = _KEY_ASKED.search(question)
    return None if key is None else key.group("zh") or key.group("en")


def keys_entry(sentence: str, key: str | None) -> bool:
    """The sentence is a list's entry for the key: the key alone, then what it does ("C  修改注
    释。", "Q: quits the viewer"), not a sentence that only opens with the letter ("C is …" is
    ``states_meaning``'s, "Calc …" a word)."""
    if not key:
        return False
    head = _NUMBERING.sub("", sentence.strip(), count=1)
    if not head.startswith(key):
        return False
    rest = head[len(key) :]
    return re.match(r"(?:\s*[:：=]\s*|\s+)(?:[^\W\d_]|[\u4e00-\u9fff])", rest) is not None


def defined_term(question: str) -> str | None:
    """The term a "what does X mean / what is an X / X 是什么意思" question asks about, or None."""
    key = pressed_key(question)
    if key is not None:
        return key
    quoted = _QUOTED.search(question)
    bare = (
        next((m for p in DEFINITION_ASKED if (m := p.match(question))), None)
        or _EN_WHAT_IS.match(question)
        or _ZH_WHAT_IS.match(question)
    )
    if bare is not None and not bare.group("term").lower().startswith(("the ", "this ", "that ")):
        return _bare_term(bare.group("term"))
    meaning = _EN_MEANING.search(question) or _ZH_MEANING.search(question)
    if meaning is None:
        return None
    if quoted is not None:
        return _bare_term(quoted.group(1))
    # "XML 里的 &lt; 代表什么", "systemctl status 输出中红色的“●”": the last thing named, and of
    # "单元格里显示一串 ### 是啥意思" the sign or Latin words it ends with
    term = re.split(r"[，,。；]|中的|里的|中", meaning.group(1))[-1].strip(" 的")
    named = _NAMED_LAST.search(term) if CJK_RUN_RE.search(term) else None
    term = named.group(0) if named else term
    return _bare_term(term) if term else None


def marker(term: str | None) -> str | None:
    """The term when it is a sign or a short code ("$1$", "●", "@", "K", "&lt;"), which word
    retrieval does not see, so the sentences holding it are looked for as written."""
    if not term:
        return None
    if len(term) <= 2 or any(not (ch.isalnum() or ch.isspace()) for ch in term):
        return term
    return None


# what a sentence says right after the term it explains: "`@` stands for …", "lurk (that is,
# read without posting)", "开头的 “$1$” 表示使用 MD5 加密", "红色的 "●"表示“失败”"
_GLOSS = re.compile(
    r"^[\s\"“”'‘’`」》)）]*(?:(?:sign|symbol|character)\s+)?"
    r"(?:[(（]\s*(?:that is|i\.\s?e\.|meaning|即|也就是)"
    r"|stands?\s+for\b|means?\b|denotes?\b|indicates?\b|represents?\b|refers?\s+to\b"
    r"|is\s+(?:short|an\s+abbreviation)\s+for\b|is\s+defined\s+as\b"
    r"|表示|代表|意味着|是指|指的是|的意思是|就是|也就是|即)",
    re.I,
)
# or names it after saying what it is: "… is called a daemon", "……，简称 BTS"
_NAMED = re.compile(
    r"(?:\b(?:is|are)\s+(?:called|known\s+as|referred\s+to\s+as)|称为|叫做|叫作|称作|简称)"
    r"(?:\s+(?:an?|the))?[\s\"“'‘`「《(（]*$",
    re.I,
)


# what a sentence says right after an option it explains: "the -i option provides …", "加上
# "--verbose" 参数来找到第一个 non-UTF-8 字符"; not "-i is …", "-k option:"
_ACTS = re.compile(
    r"^[\s\"“”'‘’`」》)）]*(?:(?:option|switch|flag|parameter|argument)\s+|参数|选项)?\s*"
    r"(?:(?:also|only|then|will|can|may)\s+)?"
    r"(?:(?!(?:is|was|has|as|its|this|does|options|switches|flags)\b)[a-z]{3,}s\b"
    r"|用来|用于|来|可以|会|将|表示|使|让)",
    re.I,
)


def explains(window: str, option: str | None) -> bool:
    """The window says what the option asked about does, with the option as its subject."""
    if not option:
        return False
    return any(_ACTS.match(window[end : end + 40]) for _, end in find_literal(option, window))


def glosses(window: str, term: str | None) -> bool:
    """The window says what ``term`` means where it uses it, not only at its start."""
    if not term:
        return False
    return any(
        _GLOSS.match(window[end : end + 40]) or _NAMED.search(window[max(0, start - 40) : start])
        for start, end in find_literal(term, window)
    )


def defines(window: str, term: str | None) -> bool:
    """The sentence is a definition of ``term``: the term stands at its start, and something is
    said of it (a heading "4. Combined Works." names the term and defines nothing), or the
    sentence says what it means where it uses it (``glosses``)."""
    if not term:
        return False
    if glosses(window, term):
        return True
    # a list's bullet goes, but not an option's own dash ("-k --keep" / "Keep …")
    head = window.strip() if term.startswith("-") else _NUMBERING.sub("", window.strip(), count=1)
    squeeze = unspaced(head).lower()
    target = unspaced(term).lower()
    at = squeeze.find(target)
    if at not in range(0, 4):
        return False
    if len(target) <= 2 and any(ch.isalnum() for ch in squeeze[:at]):
        return False  # a sign or letter after a word ("用 “U” 命令…") is not what the sentence is about
    said = [ch for ch in squeeze[at + len(target) :] if ch.isalnum()]
    return len(said) >= (4 if any(is_cjk(ch) for ch in said) else 12)


# what says what a term is, right after it: "HEX 是十六进制…", "FHS stands for …"
_IS_SAID = re.compile(
    r"\s*(?:[（(][^）)]{1,40}[）)]\s*)?(?:是|即|指|意为|意思是|表示|代表|就是|"
    r"(?:is|are|means|stands\s+for|refers\s+to)\b)",
    re.I,
)


def states_meaning(sentence: str, term: str | None) -> bool:
    """The sentence opens with the term as a word of its own and says what it is ("HEX 是十六进制
    英文 hexadecimal 首字母缩略词", "An upstream is the …"), not a sentence that opens with a longer
    word ("hexedit …") or only uses the term; not for a pronoun ("What does it mean when …")."""
    if not term or term.lower() in STOP_AND_QUESTION_WORDS:
        return False
    head = _NUMBERING.sub("", sentence.strip(), count=1)
    head = re.sub(r"^(?:an?|the)\s+", "", head, flags=re.I)
    if not head.lower().startswith(term.lower()):
        return False
    rest = head[len(term) :]
    if rest[:1].isalnum() and not is_cjk(rest[:1]):
        return False  # a longer word (Chinese has no spaces: what follows must say "是", below)
    return _IS_SAID.match(rest) is not None


_ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{1,7}(?![A-Za-z0-9])")
_LATIN_INITIALS = re.compile(r"[A-Za-z][\w'-]*")
EXPANSION_CHARS = 60  # at most this many characters of words an abbreviation stands for


def _initials_match(acronym: str, words: str) -> bool:
    """``words`` begin with the abbreviation's letters, in order ("Name Service Switch" for
    NSS, "bug tracking system" for BTS); written in Chinese, any two characters will do."""
    if sum(is_cjk(ch) for ch in words) >= 2:
        return True
    initials = [w[0].lower() for w in _LATIN_INITIALS.findall(words)]
    letters = [ch.lower() for ch in acronym if ch.isalpha()]
    if not letters:
        return False
    # the words may be the end of a longer phrase ("This is the Filesystem Hierarchy Standard")
    for start in (i for i, first in enumerate(initials) if first == letters[0]):
        it = iter(initials[start:])
        if all(any(i == ch for i in it) for ch in letters) and (
            len(initials) - start <= 2 * len(letters)
        ):
            return True
    return False


@functools.lru_cache(maxsize=64)
def _spellings(acronym: str) -> tuple[re.Pattern[str], ...]:
    """Where the words an abbreviation stands for are written beside it: after it in brackets,
    inside the brackets that end with it, or before it in brackets."""
    a = re.escape(acronym)
    return (
        re.compile(rf"(?<![A-Za-z0-9]){a}\s*[（(]([^（()）]{{2,{EXPANSION_CHARS}}})[)），,]"),
        re.compile(rf"[（(]([^（()）]{{2,{EXPANSION_CHARS}}}?)[,，]?\s*{a}\s*[)）]"),
        re.compile(rf"([^（()）。.]{{2,{EXPANSION_CHARS}}}?)\s*[（(]\s*{a}\s*[)）]"),
    )


def abbreviation(term: str | None) -> str | None:
    """The abbreviation a question's term is ("NSS", the "BTS" of "文档里提到的 BTS"), or None."""
    found = _ACRONYM.findall(term or "")
    return found[-1] if found else None


def spells_out(window: str, term: str | None) -> bool:
    """The window gives the words the abbreviation a question asks about stands for: "NSS（Name
    Service Switch，名称服务切换）", "缺陷跟踪系统（bug tracking system, BTS）", "Filesystem Hierarchy
    Standard (FHS)". A window that only uses the abbreviation, or gives it another reading in
    passing, does not."""
    acronym = abbreviation(term)
    return acronym is not None and any(
        _initials_match(acronym, m.group(1))
        for pattern in _spellings(acronym)
        for m in pattern.finditer(window)
    )


_ASKS_REASON = re.compile(
    r"\bwhy\b|\bwhat for\b|\bfor what (?:reason|purpose)\b|\b(?:reason|purpose) (?:of|for)\b|"
    r"为什么|为何|为啥|何故|原因|目的|用意|是为了",
    re.I,
)
_REASON = re.compile(
    r"\b(?:because|since|so that|in order to|otherwise|due to|as a result|therefore|thus|"
    r"(?:in )?(?:this|that) way|by doing (?:this|that|so)|which (?:means|makes|lets|allows)|"
    r"to (?:avoid|prevent|ensure|allow|make sure|keep)|would|will (?:break|fail|cause|be)|"
    r"breaks?|causes?|means? that)\b|"
    r"因为|由于|所以|因此|以便|为了|否则|这样|从而|以免|导致|便于|使得|用于|会|"
    # "…——这就是它叫做“不稳定版”的原因！", "之所以…": a reason said by naming it
    r"的原因|原因是|之所以|的缘故",
    re.I,
)


_CONSEQUENCE = (
    r"(?:therefore|thus|hence|consequently|for (?:this|that) reason)\b|"
    r"(?:that|this)(?:'s|’s|\s+is|\s+was)\s+(?:why|the reason)\b"
)
_CONSEQUENCE_ZH = r"(?:因此|所以|因而|于是|正因如此|这就是为什么|这也是为什么|这就是.{0,6}原因)"
# where a sentence's words start: after blanks, the bracket or quote it may open in, and the number
# of a footnote it follows ("… needed by the package. 10 To do this, put …")
_OPENS = rf"^[\s(（\[“\"'‘]*(?:{_FOOTNOTE})?"
# the act the sentence before described ("… use your key for the signature. You do that with the
# -k option:", "To do this, run …", "This is done by …", "为此，…")
_DOES_IT = (
    r"(?:to\s+|(?:you|we|one)\s+(?:(?:can|could|may|should|must|will|would)\s+)?)?"
    r"do\s+(?:this|that|so)\b|(?:this|that)\s+(?:is|can\s+be|may\s+be)\s+(?:done|achieved)\b"
)
_DOES_IT_ZH = r"(?:为此[，,]|要做到这一?点|这样做|这可以通过|这是通过)"
_REFERS_BACK = re.compile(
    _OPENS + r"(?:(?:this|these|that|those|such)\s+(?:file|files|one|ones|option|command|field|"
    r"value|package|section|program|tool|directory|method|setting|case|document|list|table|"
    r"policy|standard|rule)\b|it\s+(?:is|was|contains|describes|holds|lists|defines|explains|"
    r"specifies)\b|they\s+(?:are|were|contain)\b|(?:these|those)\s+(?:are|were)\b|"
    + rf"{_DOES_IT}|"
    # a consequence: its cause is said just before ("… compromised. Therefore, we need to …")
    + rf"{_CONSEQUENCE})"
    + rf"|{_OPENS}(?:这个|这些|该|此|它|它们|其)(?:文件|文档|手册|规范|标准|列表|选项|命令|字段|值|软件包|包|"
    r"程序|工具|目录|方法|设置)?(?:是|为|包含|描述|记录|用于|会|可以|将|定义|规定|说明|列出|介绍)"
    + rf"|{_OPENS}{_CONSEQUENCE_ZH}"
    + rf"|{_OPENS}{_DOES_IT_ZH}",
    re.I,
)
_DOES_WHAT_IT_SAYS = re.compile(rf"{_OPENS}(?:{_DOES_IT}|{_DOES_IT_ZH})", re.I)
# "So …" opens a consequence too, but only a "why" question is sure to want what came before it
# ("So after you changed your password at the login prompt, you should also …": the reason is the
# sentence before); not "so that", "so-called"
_SO = r"so(?:,|\s+(?!-|that\b))"
_FOLLOWS_FROM = re.compile(rf"{_OPENS}(?:{_CONSEQUENCE}|{_SO}|{_CONSEQUENCE_ZH})", re.I)


_PROMPT = re.compile(r"^\s*[$#>]?\s*")
COMMAND_LINE = 80  # at most this many characters on a line that shows a command


def shown_command(sentence: str, literals: tuple[str, ...]) -> bool:
    """``sentence`` is a line showing a command the question quotes ("dpkg -l", "$ debuild
    -us -uc"): it starts with the command, after a shell prompt, and is no longer than a command
    line."""
    line = _PROMPT.sub("", sentence, count=1)
    return len(line) <= COMMAND_LINE and any(
        start == 0 for lit in literals for start, _ in find_literal(lit, line)
    )


def introduces(sentence: str) -> bool:
    """``sentence`` ends with a colon: it says what the line below it is for ("To list the
    installed packages, run:")."""
    return sentence.rstrip().endswith((":", "："))


def follows_from(sentence: str) -> bool:
    """``sentence`` opens with a consequence ("That's the reason why …", "Therefore …", "这就是为什么
    …"): the reason a "why" question asks for is the sentence before it."""
    return bool(_FOLLOWS_FROM.match(sentence))


def does_what_it_says(sentence: str) -> bool:
    """The sentence opens by doing the act the sentence before described ("To do this, put a
    call to …", "You do that with the -k option:", "为此，…"): it is the "how" of that one."""
    return bool(_DOES_WHAT_IT_SAYS.match(sentence))


def refers_back(sentence: str) -> bool:
    """The sentence opens by pointing back ("This file describes …", "It contains …", "该文件记录
    …"): what it talks about was named in the sentence or line before it."""
    return bool(_REFERS_BACK.match(sentence))


_THE_DOCUMENT = re.compile(
    r"\b(?:this|the)\s+(?:document|file|readme|manual|guide|handbook|specification|spec|report|"
    r"licen[cs]e|agreement|contract|memo|letter|tutorial|minutes|notice|release|paper|article|"
    r"book|booklet|thesis|study|white ?paper|policy|proposal|brochure)\b|"
    r"at the top\b|本文|本手册|本文档|该文档|此文档|本指南|手册中|文档中|本教程|这份|这篇|本报告|本合同|本协议|"
    r"本论文|该论文|这本书",
    re.I,
)
_DATED = re.compile(
    r"\bdated?\b|\b(?:written|published|released|issued|updated|revised|signed|created|"
    r"modified)\b|日期|编写|撰写|发布|更新|修订|签订|签署",
    re.I,
)
HEAD_SENTENCES = 30  # where a document states its own date (title block, first lines)


def asks_document_date(prof: Profile) -> bool:
    """ "When was this manual written / what date is at the top of this README / 手册中记录的编写
    日期": the date the document gives for itself, which its title block states without the
    question's words."""
    q = prof.text
    return (
        prof.typed
        and prof.kinds[0] == "date"
        and bool(_THE_DOCUMENT.search(q) and _DATED.search(q))
    )


def asks_only_document_date(prof: Profile) -> bool:
    """ "When was the paper written?": the document's own date and nothing else (every key word
    names the document or its dating). A dated sentence sharing those words ("Intel White Paper
    323405, February 2010" in the references) is no answer to it; the title block is."""
    return (
        asks_document_date(prof)
        and not prof.cjk
        and all(_THE_DOCUMENT.fullmatch(f"the {k}") or _DATED.fullmatch(k) for k in prof.keys)
    )


def asks_reason(question: str) -> bool:
    """A "why / what for / 为什么 / 目的" question: its answer is a reason, often in the sentence
    next to the one that repeats the question's words."""
    return bool(_ASKS_REASON.search(question))


def gives_reason(text: str) -> bool:
    return bool(_REASON.search(text))


# "which package / what command / 哪个文件 / 谁": the answer is a name — a package, command, file,
# directory, group, licence, person — that the question does not contain
_TERM_NOUNS = (
    r"packages?|commands?|files?|director(?:y|ies)|folders?|groups?|tools?|programs?|utilit"
    r"(?:y|ies)|licen[cs]es?|fields?|sections?|variables?|shells?|formats?|protocols?|"
    r"addresse?s?|pages?|kernels?|clients?|plugins?|modules?|librar(?:y|ies)|branch(?:es)?|"
    r"lists?|servers?|keys?|tags?|headers?|keywords?|names?|restrictions?|subsections?|"
    r"sites?|urls?|documents?|manuals?"
)
_ASKS_TERM = re.compile(
    rf"\b(?:which|what)\s+(?!(?:type|kind|sort)s?\b)(?:[a-z-]+\s+)?(?:{_TERM_NOUNS})\b|\bwho\b|"
    r"(?:哪个|哪些|哪一个|哪种|哪款|哪份|哪一|哪家|什么)(?:软件包|包|命令|文件|目录|组|程序|工具|"
    r"软件|内核|客户端|插件|参数|选项|字段|变量|文档|名字|名称|格式|协议|地址|邮件列表|列表|网址|"
    r"网页|页面|服务器|分支|关键字|标签|出版社)|谁",
    re.I,
)
# a name in running text: a path or address, a token with a symbol or digit inside ("build-
# essential", "lsb_release", "ip addr"), or a capitalised word ("Expat", "FreeBSD")
_NAME_TOKEN = re.compile(
    r"[~/.$]?[A-Za-z0-9][A-Za-z0-9_.+~@:/-]*[A-Za-z0-9_/]|(?<![A-Za-z0-9_])[A-Za-z](?![A-Za-z0-9_])"
)
_SENTENCE_START = frozenset('.!?:;\n"“(|#*-')  # a capital after these starts a sentence or item


def asks_term(question: str) -> bool:
    """The question asks for a name (which package, what command, 哪个文件, who …)."""
    return bool(_ASKS_TERM.search(question))


def new_terms(prof: Profile, text: str) -> list[str]:
    """Names in ``text`` the question does not contain: in Chinese text every Latin token (a
    package, command, path, person), in English text tokens with a symbol or digit inside, and
    capitalised words that do not start a sentence."""
    asked = {w.lower() for w in _NAME_TOKEN.findall(prof.text)}
    found: list[str] = []
    for m in _NAME_TOKEN.finditer(text):
        token = m.group(0).strip(".:-")
        low = token.lower()
        if (
            len(token) < 2
            or low in asked
            or low in STOP_AND_QUESTION_WORDS
            or token.replace(".", "").isdigit()
        ):
            continue
        if not prof.cjk:
            symbol = any(not ch.isalpha() for ch in token)
            before = text[: m.start()].rstrip()
            capital = token[0].isupper() and bool(before) and before[-1] not in _SENTENCE_START
            if not (symbol or capital):
                continue
        found.append(token)
    return found


def confidence(features: dict[str, float]) -> float:
    z = BIAS + sum(w * features[name] for name, w in zip(FEATURES, WEIGHTS, strict=True))
    return 1.0 / (1.0 + math.exp(-z))


_BREAK = re.compile(r"[\s,;，；、]")
# where a sentence ends inside a window: its closing mark, with the quote or bracket that closes
# round it, before a blank ("… compilers.\" Package …") or anywhere after a Chinese one
_ENDS = re.compile(r"[.!?][\"”’')）\]]*(?=\s|$)|[。！？][”’」』）)]*")
_ENDS_IN = 0.4  # the end is moved back to the last sentence end only to keep this much


def clip(
    text: str, start: int, end: int, prof: Profile, limit: int = MAX_ANSWER
) -> tuple[int, int]:
    """``start:end`` without surrounding blanks, at most ``limit`` characters: a window around
    the question's words that ends at the last whole sentence holding them, else at white space
    or punctuation (``excerpt`` marks such a cut)."""
    start, end = _trimmed(text, start, end)
    if end - start <= limit:
        return start, end  # a short table is given whole: its header says what the cells mean
    row = _table_row(text, start, end, prof, limit)
    if row is not None:
        return row
    limit -= 2  # room for the marks of a cut at either end
    _, keys = key_matches(prof, text[start:end])
    middle = sorted(keys)[len(keys) // 2] if keys else (0, 0)
    centre, reach = start + middle[0], start + middle[1]
    a = max(start, min(centre - limit // 3, end - limit))
    b = min(end, a + limit)
    if a > start:
        m = _BREAK.search(text, a, b)
        a = m.end() if m and m.end() < b else a
    if b < end:
        ends = [m.end() for m in _ENDS.finditer(text, a, b)]
        whole = max((e for e in ends if e >= reach and e - a >= _ENDS_IN * limit), default=0)
        cut = max((m.start() for m in _BREAK.finditer(text, a, b)), default=b)
        b = whole or (cut if cut > a else b)
    return _trimmed(text, a, b)


_CLOSED = tuple(".!?。！？\"”’')）」』]")


def excerpt(text: str, a: int, b: int, start: int, end: int) -> str:
    """``text[a:b]`` on one line, with "…" where it was cut out of ``start:end`` mid-sentence,
    without the numbers of footnotes between its sentences (also the one of the sentence before
    it, where the answer starts with it)."""
    cut_before = a > start and not text[start:a].rstrip().endswith(_CLOSED)
    shown = " ".join(without_footnotes(text, a, b).split())
    if cut_before:
        shown = "…" + shown
    if b < end and not shown.endswith(_CLOSED):
        shown += "…"
    return shown


def goes_on(text: str, end: int) -> bool:
    """The sentence that ends at ``end`` in ``text`` (the rendered text) goes on after it: an
    answer read from a few lines only (the first look) can stop where reading stopped ("… the
    4.1.4 version of the Debian pol"), and is then shown with "…"."""
    if text[:end].rstrip().endswith(_CLOSED):
        return False
    after = text[end : end + 2].lstrip(" \t")[:1]
    return bool(after) and after != "\n" and after not in _CLOSED and after not in ",，:：;；"


# a sentence broken by a line shown on its own (a command, a path): "The default linker options
# produced by" / "perl -MExtUtils::Embed -e ldopts" / "will link against the dynamic libperl."
_RESUMES = re.compile(
    r"[ \t]*\n(?:[ \t]*\n)?(?:[ \t]*(?P<shown>\S[^\n]{0,79})\n(?:[ \t]*\n)?)?"
    r"[ \t]*(?=[a-z])"
)
_SENTENCE_ENDS = re.compile(r"[.!?](?=[\s\"”’')A-Z]|$)")  # OCR may drop the blank after
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def resumed_end(text: str, start: int, end: int, limit: int = MAX_ANSWER) -> int:
    """The end of the answer ``start:end``, carried to the end of its sentence when the sentence
    stops without its full stop and goes on after a line shown on its own (a command, a path),
    in a line that starts with a lower-case word; else ``end``. An English sentence does not
    start in lower case, so that line is the rest of this one, and the answer without it stops
    mid-thought ("The default linker options produced by perl -MExtUtils::Embed -e ldopts")."""
    if text[start:end].rstrip().endswith((*_CLOSED, ":", "：", ";", "；", ",", "，")):
        return end
    m = _RESUMES.match(text, end)
    if (
        m is None
        or not _BLANK_LINE.search(m.group(0))  # the line shown is a paragraph of its own
        or (m.group("shown") and m.group("shown").rstrip().endswith(_CLOSED))
    ):
        return end
    blank = _BLANK_LINE.search(text, m.end())  # the sentence ends in its paragraph
    stop = min(blank.start() if blank else len(text), start + limit)
    close = _SENTENCE_ENDS.search(text, m.end(), stop)
    if close is None or len(text[m.end() : close.end()].split()) < 3:
        return end  # no end in the paragraph, or no prose (a list of names, "Notes 1.")
    return close.end()


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``start:end`` without the white space at either end."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _table_row(
    text: str, start: int, end: int, prof: Profile, limit: int = MAX_ANSWER
) -> tuple[int, int] | None:
    """In a table too long to give whole ("exim4-daemon-light | V:264 | 1493 | Exim4 邮件传输代理
    (MTA: Debian 默认的)" and the rows around it), the row holding most of the question's words,
    whole: a window centred on the words starts and ends mid-row, without the row's name."""
    rows = [m for m in re.finditer(r"[^\n]+", text[start:end]) if m.group(0).strip()]
    if sum("|" in m.group(0) for m in rows) < 2:
        return None
    # a table's header ("软件包 | 流行度 | 大小 | 说明") holds the question's words but no answer;
    # of rows holding as many of them, the first
    scored = [
        (key_matches(prof, m.group(0))[0], -i, m)
        for i, m in enumerate(rows)
        if not needs_next(m.group(0), prof.cjk)
    ]
    if not scored:
        return None
    best, _, row = max(scored, key=lambda item: item[:2])
    if best <= 0:
        return None
    a, b = _trimmed(text, start + row.start(), start + row.end())
    return (a, b) if b - a <= limit else None
