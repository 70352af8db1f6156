"""Value patterns shared by answer extraction and key-information mode (English and Chinese).

Each pattern names a kind of value: dates, amounts, percentages, durations, e-mails, phones,
codes/IDs, plain numbers, organisations and person names. They run on OCR text, so they accept
the spacing variants OCR produces ("38.62亿元" and "38.62 亿元").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.text import CJK_PUNCT, CJK_RANGES, CJK_RUN_RE, HAN, cjk_common_word

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])"
_NUM = r"\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CUR = r"(?:EUR|USD|GBP|CNY|RMB|JPY|CHF|HKD|€|\$|£|¥|￥)"
_SCALE = r"(?:million|billion|thousand|bn|mn|m|k)\b"
_CJK_UNIT = r"(?:万亿元|亿元|万元|千元|美元|欧元|港元|元|亿股|万股|亿|万)"
# a size's unit, which may follow a number without a space ("64KB", "512bytes")
SIZE_UNIT = r"[KMGTP]i?B|bytes?"

PATTERNS: dict[str, re.Pattern[str]] = {
    # an address's name starts with a letter or digit: "-request@…" is the tail of a template
    # ("debian-列表主题-REQUEST@…"), not an address
    "email": re.compile(
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9_][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    ),
    # an address ends at white space, a closing bracket or Chinese text ("…/documentation/ 上的")
    "url": re.compile(rf"https?://[^\s)<>\"{CJK_RANGES}{CJK_PUNCT}]+"),
    # a web site named by its host alone ("security.debian.org", "www.example.com/docs"): what
    # "which website" / "哪个网站" asks for; not the domain of an e-mail address, not a file name
    # (ASCII bounds: OCR runs it into the Chinese around it, "通过security.debian.org提供")
    "site": re.compile(
        r"(?<![A-Za-z0-9_@./:-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
        r"(?:org|com|net|edu|gov|int|info|io|cn|de|uk|fr|jp)(?![A-Za-z0-9_@-])"
        rf"(?:/[^\s)<>\"{CJK_RANGES}{CJK_PUNCT}]*)?"
    ),
    "date": re.compile(
        rf"\d{{4}}\s?年\s?\d{{1,2}}\s?月(?:\s?\d{{1,2}}\s?[日号])?"
        rf"|\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
        # a day is 1-31 and starts no longer number, a year is no hour: "4096 Oct 15 21:40" of
        # a directory listing (OCR: "4096 Oct 1521:40") holds no date
        rf"|(?<!\d){_DAY}(?:st|nd|rd|th)?\s+{_MONTHS}\.?,?\s+\d{{4}}(?![\d:])"
        rf"|{_MONTHS}\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+\d{{4}}(?![\d:])"
        rf"|{_MONTHS}\s+\d{{4}}(?![\d:])",
        re.IGNORECASE,
    ),
    "phone": re.compile(
        # not inside a code or a longer number ("HT-2024-0917", "2024-0917-3")
        r"(?<![\w.-])(?:\+\d{1,3}[\s-]?)?(?:\(?\d{2,5}\)?[\s-]){1,4}\d{3,5}(?![\w.]|-\w)"
    ),
    "percent": re.compile(rf"[-+]?(?:{_NUM})\s?(?:%|％|percent\b|个百分点)", re.IGNORECASE),
    "amount": re.compile(
        rf"{_CUR}\s?(?:{_NUM})(?:\s?{_SCALE})?"
        rf"|(?:{_NUM})\s?(?:{_SCALE}\s?)?(?:EUR|USD|GBP|CNY|RMB|dollars?|euros?|pounds?|yuan)\b"
        rf"|(?:{_NUM})\s?{_CJK_UNIT}",
        re.IGNORECASE,
    ),
    "duration": re.compile(
        rf"(?:{_NUM})(?:(?:\s?[-–~～至到]\s?|\s+(?:to|or)\s+)(?:{_NUM}))?\s?(?:-\s?)?(?:days?|weeks?|months?|years?|hours?|minutes?|seconds?|个月|天|周|小时|分钟|秒钟?|年(?!度))",
        re.IGNORECASE,
    ),
    # not \b: a CJK character counts as a word character, so "编号为BX-5104" has no boundary
    "code": re.compile(
        # a part may carry a version's decimals and "+": "MPL-2.0", "GPL-2.0+" (not "MPL-2")
        r"(?<![A-Za-z0-9])(?:[A-Z]{1,6}\d*(?:[-/][A-Z0-9]{1,10}(?:\.\d+)*\+?){1,6}"
        r"|(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{4,})(?![A-Za-z0-9+])"  # not "C/C" of "C/C++"
    ),
    # a path: absolute ("/etc", "“/var/cache/apt/archives”", "~/.config/foo/"), or relative
    # with a closing slash or three parts ("debian/patches/", "debian/patches/series"); not a
    # fraction, "and/or", "TCP/IP", "KiB/sec", "zh-tw/zh-cn" or the slashes of a URL
    "path": re.compile(
        r"(?<![A-Za-z0-9_/.:~-])(?:~?(?:/[A-Za-z0-9_.+@*{},-]+)+/?"
        r"|[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.+@*-]+)*/(?![A-Za-z0-9_.-])"
        r"|(?:[A-Za-z0-9_.-]+/){2,}[A-Za-z0-9_.+@*-]+)"
    ),
    # what a "how do I …" is answered with: a step to take — a menu path ("Tools - Protect
    # Document - Protect Fields", "「插入 - 手动分页」"), an imperative that opens a sentence or a
    # clause ("Choose …", "…, click OK", "选择…", "双击…"), or a command at a shell prompt
    "action": re.compile(
        r"[A-Z][\w.]*(?:\s[A-Za-z][\w.]*){0,3}(?:\s[-–]\s[A-Z][\w.]*(?:\s[A-Za-z][\w.]*){0,3})+"
        r"|「[^「」\n]{1,20}\s?[-–]\s?[^「」\n]{1,20}」"
        r"|(?:^|(?<=[.;:!?]\s)|(?<=,\s)|(?<=\bthen\s)|(?<=\band\s))"
        r"(?i:choose|select|click|double-click|right-click|press|type|enter|run|open|uncheck|"
        r"tick|drag|go to|install|add|edit|set)\b"
        r"|(?:选择|点击|单击|双击|右击|按下|输入|运行|执行|打开|勾选|取消勾选|取消选中|拖动|安装|设置)"
        r"(?=[「“\"\s\u4e00-\u9fffA-Za-z])"
        r"|(?:^|(?<=\n))\s*[$#]\s+[a-z][\w.+-]*",
        re.MULTILINE,
    ),
    # a number is not the head of a word: "1G", "2nd", "64bit" carry a unit or suffix (letters
    # before it stay: OCR glues "echo 10" into "echo10"), nor of a dotted run: "2.7" of a section
    # "2.7.9." or of a version "2.7.18"
    # … but a size's unit may follow without a space ("64KB"); a count in Chinese numerals is a
    # number with its measure word ("四款", "两种"; not "一个", which is how Chinese says "a",
    # nor an ordinal "第三个", nor "数十个" — dozens)
    "number": re.compile(
        rf"(?<![0-9.])[-+]?(?:{_NUM})(?:\s?(?:项|个|人|名|家|次|股))?"
        rf"(?:(?![A-Za-z0-9_]|\.\d)|(?=(?:{SIZE_UNIT})(?![A-Za-z])))"
        r"|(?<![一二三四五六七八九十两几百千万第数多])[两二三四五六七八九十]{1,3}"
        r"\s?[个种款项类条步次名位组列行页](?![一二三四五六七八九十])"
    ),
    "org": re.compile(
        # on one line: "10.1. New Versions" above "Mozilla Foundation is …" is a heading
        r"(?:[A-Z][\w&'-]*[ \t]+){0,5}[A-Z][\w&'-]*[ \t]+(?:GmbH|Ltd\.?|Inc\.?|LLC|AG|SA|plc|Co\.|"
        r"Company|Corporation|Corp\.?|Group|University|Bank|Foundation|Institute)(?![A-Za-z])"
        # CJK: a name right after a boundary, ending in an organisation word
        rf"|(?:(?<=[为是：:，。、；\s（(])|^)(?P<v>(?:(?![为是的和与])[{HAN}]){{2,16}}?"
        r"(?:股份有限公司|有限责任公司|有限公司|集团|银行|大学|研究院|研究所|委员会|协会|医院))",
        re.MULTILINE,
    ),
    "person": re.compile(
        r"(?:Dr|Mr|Mrs|Ms|Prof|Sir)\.?\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2}"
        r"|\b[A-Z][a-z]+(?:\s+[A-Z]\.)?\s+[A-Z][a-z]{2,}\b"
        # CJK: a 2-3 character name after a role ("董事长为林雨晨", "联系人：王芳")
        r"|(?:董事长|总经理|经理|秘书|负责人|联系人|法定代表人|主任|院长|校长|作者|签字人|代表|主席)"
        rf"\s?[为是：:]?\s?(?P<p>[{HAN}]{{2,3}})(?=[，。；、,;\s]|$)"
    ),
}

# "1996-2019", "2001–22": years, not a phone number (eight digits and a dash)
YEAR_RANGE = re.compile(r"(?:19|20)\d{2}\s*[-–]\s*(?:19|20)?\d{2}")

# Kinds that are spans of digits: a shorter kind inside a longer one is the same value.
NUMERIC = ("date", "amount", "percent", "duration", "phone", "code", "number")


@dataclass(frozen=True)
class Match:
    kind: str
    start: int
    end: int
    text: str


def find_values(text: str, kinds: tuple[str, ...] | None = None) -> list[Match]:
    """Non-overlapping value matches of ``kinds``, the more specific kind winning an overlap
    (PATTERNS' order: "18,773元" is an amount, not the number 18,773 and a stray 元)."""
    order = tuple(k for k in PATTERNS if kinds is None or k in kinds)
    found: list[Match] = []
    taken = [False] * (len(text) + 1)
    for kind in order:
        for m in PATTERNS[kind].finditer(text):
            # a named group marks the value inside its context ("董事长为林雨晨" → "林雨晨")
            group = next((g for g, v in m.groupdict().items() if v is not None), None)
            a, b = m.span(group) if group else m.span()
            while b > a and text[b - 1] in " ,，.":
                b -= 1
            while kind in ("url", "site") and b > a and text[b - 1] in "_;:!?'\"":
                b -= 1  # the end of a sentence, or a link's underline read as "_"
                if text[a:b].endswith(("&gt", "&lt")):  # "<https://…/&gt;" of escaped markup
                    b -= 3
            if b <= a or any(taken[a:b]):
                continue
            if kind == "phone" and (
                sum(ch.isdigit() for ch in text[a:b]) < 7 or YEAR_RANGE.fullmatch(text[a:b])
            ):
                continue
            if kind == "person" and _common_words(text[a:b]):
                continue
            if kind == "org" and not group:
                head = _org_head(text, a)
                a = a if any(taken[head:a]) else head
            for i in range(a, b):
                taken[i] = True
            found.append(Match(kind, a, b, text[a:b]))
    return sorted(found, key=lambda m: m.start)


# the capitalised words that end a line of running text: the head of a name the line wrapped
_LINE_TAIL_NAME = re.compile(r"(?<![\w&'-])(?:[A-Z][\w&'-]*[ \t]+){0,3}[A-Z][\w&'-]*[ \t]*$")
_HEADING_START = re.compile(r"\s*(?:\d+(?:\.\d+)*\.?|[-*•·])\s")


def _org_head(text: str, start: int) -> int:
    """Where an organisation's name that starts a line really starts: "… write to the Free" /
    "Software Foundation, Inc." is the Free Software Foundation. Only after a line of running
    text (it has a lower-case word and is no heading: "10.1. New Versions" above "Mozilla
    Foundation is …" is a heading)."""
    if start == 0 or text[start - 1] != "\n":
        return start
    line_start = text.rfind("\n", 0, start - 1) + 1
    line = text[line_start : start - 1]
    tail = _LINE_TAIL_NAME.search(line)
    if (
        tail is None
        or _HEADING_START.match(line)
        or not re.search(r"\b[a-z]", line[: tail.start()])
    ):
        return start
    return line_start + tail.start()


# "Section 2.2", "第 6.2.2 节", "§ 3": the number of a part of the document, not a figure it gives
# (unless the question asks for a part)
_PART_WORDS = "section|chapter|appendix|part|figure|table|step|paragraph|clause"
_PART = re.compile(rf"\b(?:{_PART_WORDS})s?\b|§|[节章条款]", re.I)
_PART_BEFORE = re.compile(rf"(?:\b(?:{_PART_WORDS}|sect\.|chap\.|fig\.)s?|§|第)\s*$", re.I)
_PART_AFTER = re.compile(r"^\s*[节章条款]")
# a heading's or a list item's number at the start of a line: "2.3. Module Path", "6.2 邮件",
# "2. Perl Packages"
_HEADING_NUMBER = re.compile(r"\d+(?:\.\d+)*")
# "2. Perl Packages", "2.3. Module Path"; a dotted number also before a title: "6.2 邮件"
_NUMBERING_AFTER = re.compile(r"\.\s+(?:[A-Z]|[\u4e00-\u9fff])")
_TITLE_AFTER = re.compile(r"\s+(?:[A-Z][a-z]|[\u4e00-\u9fff])")


def part_number(text: str, start: int, end: int) -> bool:
    """Whether the number ``text[start:end]`` names a part of the document."""
    line_start = text.rfind("\n", 0, start) + 1
    value = text[start:end]
    heading = (
        not text[line_start:start].strip()
        and _HEADING_NUMBER.fullmatch(value) is not None
        and bool(
            _NUMBERING_AFTER.match(text, end) or ("." in value and _TITLE_AFTER.match(text, end))
        )
    )
    return (
        heading
        or footnote_mark(text, start, end)
        or bool(
            _PART_BEFORE.search(text[max(0, start - 12) : start]) or _PART_AFTER.match(text[end:])
        )
    )


# A footnote's number, which the page shows raised and OCR reads in line after the sentence it
# belongs to ("… config file. 13 Here is a good example …"): one to three digits. The one notion
# of it the reader has: a value check (``part_number``), the answer shown (``without_footnotes``)
# and a sentence's start (``OPENING_FOOTNOTE``) all ask it here.
FOOTNOTE_NUMBER = r"\d{1,3}"
# a sentence that opens with one ("10 To do this, put …" after "… needed by the package.")
OPENING_FOOTNOTE = re.compile(rf"^\s*{FOOTNOTE_NUMBER}\s+(?=[^\W\d_])")
_CAPITAL_WORD = re.compile(r"\s+[A-Z][a-z]")
_SENTENCE_CLOSED = tuple('.!?"”’)')
_NUMBER_RUN = re.compile(rf"(?<!\S){FOOTNOTE_NUMBER}(?=\s)")


def _last_char_before(text: str, start: int) -> str:
    """The last character before ``start`` that is not white space ("" at the text's start),
    found without copying what comes before it."""
    i = start
    while i > 0 and text[i - 1].isspace():
        i -= 1
    return text[i - 1] if i else ""


def footnote_mark(text: str, start: int, end: int) -> bool:
    """The number ``text[start:end]`` is a footnote's (``FOOTNOTE_NUMBER``), or a heading's
    without its dot: one to three digits after a sentence's end or at the start, before a
    capitalised word."""
    last = _last_char_before(text, start)
    return (
        end - start <= 3
        and text[start:end].isdigit()
        and (not last or last in _SENTENCE_CLOSED)
        and _CAPITAL_WORD.match(text, end) is not None
    )


def without_footnotes(text: str, a: int, b: int) -> str:
    """``text[a:b]`` without the footnote numbers in it (``footnote_mark``, judged in the whole
    ``text``: one that opens ``a:b`` goes too when the sentence before ``a`` has ended; not a
    number that starts the text, a heading's)."""
    kept, at = [], a
    for m in _NUMBER_RUN.finditer(text, a, b):
        if _last_char_before(text, m.start()) and footnote_mark(text, m.start(), m.end()):
            kept.append(text[at : m.start()])
            at = m.end()
    kept.append(text[at:b])
    return "".join(kept)


def names_part(question: str) -> bool:
    """Whether the question speaks of a part of the document ("which section", "第几章")."""
    return _PART.search(question) is not None


def without_part_numbers(text: str, values: list[Match], question: str) -> list[Match]:
    """``values`` found in ``text`` less the numbers that name a part of the document, unless
    ``question`` speaks of parts ("How many packages …?" is not answered by "see Section 2.2")."""
    if names_part(question):
        return values
    return [v for v in values if v.kind != "number" or not part_number(text, v.start, v.end)]


_NOT_NAMES_TEXT = (
    "The This That These Those Each Either Any All If On In Of For And Or But When Where "
    "Client Provider Agreement License Licence Program Section Signed Data Road Street Avenue "
    "Lane Square Director Officer Manager Chief Operating Managing Executive European Economic "
    "Central Area Region General Public Free Software Foundation Court Courts Act"
)
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())


def _common_words(span: str) -> bool:
    if CJK_RUN_RE.fullmatch(span):  # "由 … 的作者维护": a verb after the role, not a name
        return cjk_common_word(span)
    words = span.replace(".", " ").split()
    return bool(words) and (words[0] in _NOT_NAMES or words[-1] in _NOT_NAMES)
