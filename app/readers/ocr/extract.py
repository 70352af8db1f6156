"""Extractive QA over OCR text: from the retrieved sentences, pick the value the question asks for.

For "what is the X of Y" questions the answer is the value that follows the matched key words
("The annual subscription fee is EUR 186,400" → "EUR 186,400"; "公司实现营业收入 38.62 亿元" →
"38.62 亿元"). The question's wording says which kinds of value fit (amounts, dates, numbers,
codes, names, …); among the values in a candidate sentence the one closest after the key words
and of a fitting kind wins. Without any typed value the clause after the key words is returned.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from rapidfuzz import fuzz

from app.readers.ocr import glossary
from app.readers.ocr.patterns import Match, find_values, without_part_numbers
from app.text import (
    CJK_RUN_RE,
    STOP_AND_QUESTION_WORDS,
    cjk_phrasing,
    cjk_words,
    question_language,
)

# a Latin word: no quote or dash at its end ("'i18n'" is the word i18n)
_LATIN_WORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9'-]*[A-Za-z0-9])?")
_CJK_ASK = re.compile(
    # "是做什么用的", "是用来干嘛的", "这个命令": how a question asks, and what it points at
    r"是?(?:用来)?(?:做|干)(?:什么|嘛)用?的?|用来干嘛|这个|这些|这种|这份|那个|那些|"
    r"有什么(?:作用|用途|用处|用)?|有何(?:作用|用途)?|的(?:作用|用途|含义|意思)|是什么意思|什么意思|"
    r"(?:是)?为了什么|为什么|为何|为啥|百分之(?:多少|几)|怎么样|怎么|怎样|如何|哪[份篇本章节家种条项部款]|是多少|为多少|有多少|是什么|是谁|是哪[一个位天年里些]*|多少钱?|什么时候|什么|哪些|哪个|哪里|哪位|何时|几[个项次年月天]?|吗|呢|请问|的"
)
# words a Chinese question is phrased with, which describe nothing in the document
# ("Debian 承诺自己的…", "这个名字应该怎么读", "大概是什么时候")
_ZH_FUNCTION_WORDS = frozenset(
    [
        "自己",
        "应该",
        "应当",
        "可以",
        "能够",
        "能否",
        "是否",
        "一下",
        "大概",
        "大约",
        "某个",
        "某些",
        "我们",
        "你们",
        "他们",
        "我的",
        "你的",
        "一个",
        "一些",
        "还是",
        "或者",
        "到底",
        "究竟",
        "就是",
        "需不需要",
        "要不要",
        # how long, how often, in all: "…的时候", "一般要等几天", "一共有几种", "已经做好的"
        "时候",
        "一般",
        "平时",
        "已经",
        "一共",
        "总共",
        "要是",
        "本身",
        "这是",
    ]
)
# "文档里提到的 X", "按这份文档的说法，…", "根据本手册": the document itself, at the start of a question
_ZH_OF_THE_DOCUMENT = re.compile(
    r"^\s*(?:按照?|根据|依据|据)?\s*(?:这份|这篇|本|该)?\s*(?:文档|文件|手册|文章|指南|说明)"
    r"(?:里|中|内|上)?(?:面)?(?:所)?(?:提到|提及|说|讲|写|介绍|描述|列出|示例|例子)?(?:的|里|中)?"
    r"(?:说法|描述|介绍)?\s*[，,：:]?"
)
_ASK_WORDS = frozenset(
    [
        "much",
        "many",
        "long",
        "number",
        "value",
        "amount",
        "name",
        "figure",
        "kind",
        "type",
        "sort",
        "mentioned",
        "stated",
        "given",
        "listed",
        "say",
        "says",
        "according",
    ]
)
_OPTION = re.compile(r"(?<![\w-])--?([A-Za-z0-9][\w-]*)")
_COPULA = re.compile(
    r"^\s*(?:is|are|was|were|be|of|equals?|amounts? to|totals?|reads?|=|:|：|为|是|达|约)?\s*[:：]?\s*",
    re.I,
)

# question cue → kinds of value that answer it, best first
# where a thing is kept on disk: a directory, a path ("Where are the configuration files kept?",
# "保存在哪个目录？"); asked as a name ("which directory") too
_ASKS_PATH_EN = re.compile(
    r"\bwhere\b[^?]*\b(?:stored|kept|saved|located|installed|placed|put|go|goes|live|lives|"
    r"reside|resides|found|find|look|download|get|obtain)\b|\b(?:which|what)\s+(?:[\w-]+\s+)?(?:director(?:y|ies)|folders?|paths?)\b"
    r"|\bin which (?:director(?:y|ies)|folders?)\b",
    re.I,
)
_ASKS_PATH_ZH = re.compile(
    r"(?:哪个|哪一个|什么)(?:目录|路径|文件夹|位置)|(?:存放|保存|放|装|存储|安装|位于|存)在?(?:哪里|哪儿|何处|哪个位置)"
)
# how to do something: the answer takes a step (a menu path, "choose …", "运行…", a command)
_ASKS_STEPS_EN = re.compile(
    r"^\s*(?:[^,?]{1,60},\s*)?(?:how\s+(?:do|can|should|could|would)\s+(?:i|we|you|one)\b"
    r"(?!\s+(?:know|tell|find out)\b)|how\s+to\b|what\s+(?:steps|should\s+i\s+do)\b)",
    re.I,
)
# where to go to do something in a program ("共享功能要从哪里打开？", "在哪里填上名字？", "Where do I
# turn on …?"): a menu path or a step answers, as for "how"
_ASKS_STEPS_ZH = re.compile(
    r"(?:怎样|怎么|如何)(?!样|回事)|什么办法|哪些步骤|(?:哪里|哪儿|何处)(?:可以|能|才能|要|去)?"
    r"(?:设置|打开|开启|启用|关闭|禁用|填|输入|修改|更改|选择|选|调整|配置|激活|切换)"
)
_ASKS_PLACE_TO_DO_EN = re.compile(
    r"\bwhere\s+(?:do|can|should|could|would)\s+(?:i|we|you|one)\s+(?:go\s+to\s+)?"
    r"(?:turn|switch|enable|disable|set|change|configure|activate|select|choose|enter|type|fill|"
    r"adjust)\b",
    re.I,
)
# a web site, which its host alone may name ("security.debian.org")
_ASKS_SITE_ZH = re.compile(r"网站|网址|站点|主页|网页")
_EN_KINDS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (_ASKS_PATH_EN, ("path", "url")),
    (re.compile(r"e-?mail", re.I), ("email",)),
    (re.compile(r"\b(?:phone|telephone|fax|hotline|call cent(?:er|re))\b", re.I), ("phone",)),
    (
        re.compile(
            r"\b(?:url|website|web site|web page|web address|homepage)\b"
            r"|\b(?:a|an|the|which|what|this|that|its|download|web|direct)\s+link\b",
            re.I,
        ),
        ("url", "site"),
    ),
    (re.compile(r"\b(?:when|date|day|deadline|dated)\b|\b(?:what|which) year\b", re.I), ("date",)),
    (
        re.compile(r"\bhow long\b|\b(?:duration|term|period|days?|weeks?|months?|years?)\b", re.I),
        ("duration", "date"),
    ),
    (
        re.compile(r"\b(?:percent|percentage|rate|share|ratio|margin|growth)\b|%", re.I),
        ("percent", "amount", "number"),
    ),
    (
        re.compile(
            r"\bhow much\b|\b(?:fee|fees|price|cost|amount|revenue|paid|pay|salary|budget|profit|income|total|sum|worth|value)\b",
            re.I,
        ),
        ("amount", "percent", "number"),
    ),
    (
        re.compile(r"\b(?:code|reference|ref|id|identifier|serial|iban|number)\b", re.I),
        ("code", "number", "phone"),
    ),
    (re.compile(r"\bhow many\b|\bcount\b", re.I), ("number", "amount", "duration")),
    # whom to turn to: a name or an address to write to ("Who should we contact?", "send mail to
    # debian-legal@…")
    (re.compile(r"\b(?:contact|get in touch|turn to)\b", re.I), ("person", "email")),
    (
        re.compile(
            r"\b(?:who|whom|whose|person|officer|director|manager|signed|signatory)\b", re.I
        ),
        ("person", "org"),
    ),
    (
        re.compile(r"\b(?:company|organisation|organization|provider|client|firm|bank)\b", re.I),
        ("org", "person"),
    ),
    (_ASKS_STEPS_EN, ("action", "path")),
    (_ASKS_PLACE_TO_DO_EN, ("action", "path")),
]
# In a Chinese question an English word is a name ("date 的输出格式", "/usr/share 目录里", "time 能
# 测量什么"), except the few that Chinese writes in Latin letters for a kind of value: an e-mail
# address, a URL, an ID.
_EN_KINDS_IN_ZH: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"e-?mail", re.I), ("email",)),
    # ("URL" itself is in _ZH_KINDS, ahead of the site words: "项目主页的 URL")
    (re.compile(r"\bhomepage\b", re.I), ("url", "site")),
    (re.compile(r"\bid\b", re.I), ("code", "number")),
]
# "几" asking a count, not "好几个" (several), "这几个" (these), "几乎" (almost)
_JI = r"(?<![好这那没])几(?!乎)"
_ZH_KINDS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (_ASKS_PATH_ZH, ("path", "url")),
    (re.compile(r"邮箱|(?:电子)?邮件地址|电邮|收件(?:地址|人)"), ("email",)),
    (re.compile(r"电话|手机|热线"), ("phone",)),
    # "项目主页的 URL": a web address asked for by name, required as in English
    (re.compile(r"\burl\b", re.I), ("url", "site")),
    # a site fits, but is not required: "网站" as often names where a page is ("Debian 网站上的哪个页面")
    (_ASKS_SITE_ZH, ("site", "url")),
    (
        re.compile(rf"多长时间|多久|(?:多少|{_JI})个?(?:秒钟?|分钟|小时|天|周|星期|月|年)"),
        ("duration", "number"),
    ),
    (re.compile(r"何时|什么时候|哪天|哪一天|日期|什么时间|哪年|哪一年"), ("date",)),
    (re.compile(r"比例|比率|百分比|增长|占比|增速|率"), ("percent", "amount", "number")),
    (
        re.compile(
            r"金额|总额|应付|合计|总计|收入|利润|费用|价格|资产|净额|投入|红利|营收|成本|多少钱|多少元|股本"
        ),
        ("amount", "percent", "number"),
    ),
    (re.compile(r"(?<!源)代码|编号|号码|代号|编码"), ("code", "number", "phone")),
    (re.compile(r"联系(?:谁|哪|人|方式)|(?:找|问|向)谁|发(?:邮件|信)给谁"), ("person", "email")),
    (re.compile(r"谁|哪位|姓名|董事长|秘书|负责人|经理"), ("person", "org")),
    (re.compile(r"公司|单位|机构"), ("org",)),
    # a size or a limit: "有多大", "多长", "上限是多少" (a duration's "多长时间" is asked above)
    (re.compile(r"多[大长高宽重远深厚粗](?!时间|程度)"), ("number", "amount")),
    (re.compile(rf"多少|{_JI}"), ("number", "amount", "percent", "duration")),
    (_ASKS_STEPS_ZH, ("action", "path")),
]
# The words that name the kind of answer are in the clause that asks. A clause saying when or on
# what condition ("… when I email a new problem", "If I sue …, when …", "订阅邮件列表时，…"), a
# verb ("to link with", "I email", "call the reboot command") and a name ("debian-reference",
# "the Debian Reference") name no kind of answer.
_EN_CIRCUMSTANCE_AFTER = re.compile(
    r"(?<=\w)[\s,]+(?:when|whenever|if|once|while|because|unless|so that|in order to|"
    r"(?:after|before|since|until)(?=\s+(?:I|you|we|they|he|she|it|one|someone|the|a|an|my|your|"
    r"\w+ing)\b))\b.*$",
    re.I | re.S,
)
_EN_CIRCUMSTANCE_FIRST = re.compile(
    r"^\s*(?:when|whenever|if|once|while|after|before|since|until|because|unless)\b[^,?]*,\s*"
    r"(?=(?:how|what|which|who|whom|whose|where|when|why|can|could|may|might|do|does|did|is|are|"
    r"was|were|should|must|will|would|shall)\b)",
    re.I,
)
_EN_VERB_USE = re.compile(
    r"\b(?:I|you|we|they|to|can|could|should|must|will|would|please|just|then)\s+"
    r"(?:e-?mail|call|link|phone|fax|date|reference|number)\b",
    re.I,
)
_EN_NAME = re.compile(r"(?<=[\w,;:] )[A-Z][a-z]+\b|\b(?!e-mail\b)\w+(?:[-/._]\w+)+")
# a Latin name before the kind of thing it names ("date 命令", "call 函数"): a name, no kind of answer
_ZH_NAMED = re.compile(
    r"[A-Za-z][\w.+-]*\s*(?=(?:命令|程序|工具|软件包|软件|包|文件|目录|选项|参数|函数|模块|库|服务|字段))"
)
# the words a Chinese clause asks with
_ZH_ASKING = re.compile(rf"什么|哪|谁|{_JI}|多少|怎|如何|为何|为啥|何时|何处|吗|呢|是否|能否")
# a yes-or-no question: "…吗？", "…对吧？", or a verb asked both ways ("能不能", "是不是", "有没有")
_ZH_YES_NO = re.compile(r"(?:吗|么|吧|对不对|是不是|行不行)\s*[？?]*\s*$|(\w)不\1|(\w)没\2")
_ZH_CIRCUMSTANCE_FIRST = re.compile(
    r"^(?:如果|假如|若是?|要是|当)[^，,？?]*[，,]|^[^，,？?]*(?:时|之后|以后|后|的话)[，,]"
)


# A question that asks for a command, a tool, a file or a package asks for a name: the words
# for a kind of value elsewhere in it ("根据队列 ID … 该用什么命令", "which command shows the date",
# "把 FORTRAN 77 代码转换成 C，用哪个工具") say what the named thing works on, not what answers.
_ASKS_NAMED_THING = re.compile(
    r"\b(?:which|what)\s+(?:[\w-]+\s+){0,2}?(?:commands?|tools?|programs?|utilit(?:y|ies)|"
    r"packages?|files?|director(?:y|ies)|options?|switch(?:es)?|functions?|modules?|librar(?:y|ies)|"
    r"software|applications?|macros?|menus?|settings?)\b"
    r"|(?:什么|哪个|哪一个|哪种|哪些|哪一种)(?:命令|工具|程序|软件包|软件|包|文件|目录|选项|参数|函数|模块|库|菜单|宏)",
    re.I,
)


def asks_named_thing(question: str) -> bool:
    """Whether the question asks for a command, tool, file or the like (a name, not a value)."""
    return _ASKS_NAMED_THING.search(question) is not None


def asking_clause(question: str, cjk: bool) -> str:
    """The question without its circumstances, verbs and names: where kinds of answer are named."""
    if cjk:
        text = _ZH_NAMED.sub(" ", _ZH_CIRCUMSTANCE_FIRST.sub(" ", question, count=1))
        clauses = re.split(r"[，,；;]", text)
        if _ZH_YES_NO.search(text):
            # "我们还有几台 PA-RISC 的老机器，现在的 Debian 还支持吗？": a yes-or-no question asks in
            # its last clause, and a "几" in it is "a few" ("能不能几个人同时改"), no count
            return re.sub(_JI, "些", clauses[-1].rstrip(" ？?"))
        first = next((i for i, c in enumerate(clauses) if _ZH_ASKING.search(c)), 0)
        asking = "，".join(clauses[first:])
        if first and len(_ZH_ASKING.sub("", asking).strip(" ？?")) >= 2:
            # "…确认姓名、邮箱那一步，按 C 是干什么的？": the clauses before the first that asks set
            # the scene ("哪一年发布的，由谁发布？" asks in both)
            return asking
        return text
    text = _EN_CIRCUMSTANCE_FIRST.sub("", question, count=1)
    text = _EN_NOWADAYS.sub(" ", _EN_CIRCUMSTANCE_AFTER.sub("", text, count=1))
    text = _EN_VERB_USE.sub(" ", text)
    return _EN_NAME.sub(" ", text)


_GENERIC = (
    "amount",
    "percent",
    "date",
    "code",
    "number",
    "email",
    "phone",
    "duration",
    "person",
    "org",
    "url",
)


@dataclass(frozen=True)
class Profile:
    """What a question asks: its key words (Latin) or key bigrams (CJK) and fitting value kinds."""

    text: str
    cjk: bool
    keys: tuple[str, ...]
    kinds: tuple[str, ...]
    typed: bool  # the question named a kind of value
    runs: tuple[str, ...] = ()  # CJK key runs ("特殊魔法数字")
    literals: tuple[str, ...] = ()  # quoted commands, options, paths ("passwd -e", "$1$", ":q!")


# "under this license", "in this document": the document itself, which every sentence is about
_OF_THE_DOCUMENT = re.compile(
    r"\b(?:under|in|according to)\s+(?:this|the)\s+(?:policy\s+|user\s+|reference\s+)?"
    r"(?:licen[cs]e|agreement|contract|document|manual|guide|handbook|policy|specification|spec|"
    r"readme|faq|tutorial)\b",
    re.I,
)


# a definition asked in other ways: "What counts as a conffile?", "What is meant by 'binding'?",
# "What is the definition of a Derivative Work?", "How is a 'Contributor' defined?", "什么是
# conffile？", "什么叫孤儿包？", "Contributor 的定义是什么？" — after a circumstance or not ("In the
# policy, …", "在这份文档里，…")
_CIRCUMSTANCE = r"(?:[^,，?？]{1,40}[,，]\s*)?"
_TERM = r"[\"“'‘]?[^\s?？,，。][^?？,，。]{0,38}?[\"”'’]?"
DEFINITION_ASKED = (
    re.compile(
        rf"^\s*{_CIRCUMSTANCE}(?:what\s+(?:exactly\s+)?(?:counts|qualifies)\s+as|"
        r"what\s+(?:exactly\s+)?is\s+meant\s+by|what\s+is\s+the\s+definition\s+of|define)\s+"
        rf"(?:an?\s+|the\s+)?(?:(?:term|word|phrase)\s+)?(?P<term>{_TERM})\s*[?.]*\s*$",
        re.I,
    ),
    re.compile(
        rf"^\s*{_CIRCUMSTANCE}how\s+(?:is|are)\s+(?:an?\s+|the\s+)?(?P<term>{_TERM})\s+defined\b"
        r"[^?]{0,40}\?*\s*$",
        re.I,
    ),
    re.compile(
        rf"^\s*{_CIRCUMSTANCE}(?:究竟|到底)?(?:什么是|什么叫做?|何谓)\s*(?P<term>{_TERM})\s*[？?]?\s*$"
    ),
    re.compile(rf"^\s*{_CIRCUMSTANCE}(?P<term>{_TERM})\s*的定义是什么\s*[？?]?\s*$"),
)
# the words such a question is asked with, which a definition does not repeat
_DEFINITION_WORDS = frozenset(
    {"exactly", "counts", "qualifies", "meant", "definition", "define", "defined", "term", "word"}
)


# the adverbs of talk ("What does it actually mean when …", "Is it really …"), which describe
# nothing in the document: as keys they only lower the share of the sentence that answers
_EN_PHRASING = frozenset(
    {
        "actually",
        "really",
        "basically",
        "exactly",
        "precisely",
        "ever",
        # how exact a figure asked for may be ("Roughly how many packages …?"): the document says
        # "well over 15000", not "roughly"
        "roughly",
        "approximately",
        "nowadays",
    }
)
# "these days", "at the moment": now, no duration asked for and no key ("Roughly how many packages
# are in the archive these days?" asked for a duration)
_EN_NOWADAYS = re.compile(r"\b(?:these days|at the moment|right now)\b", re.I)


def profile(question: str) -> Profile:
    cjk = question_language(question) == "zh"
    keys: list[str] = []
    quoted = literals(question)
    # an option's letters ("e" of "-e") are no word to look for: the option is a literal
    options = {m.group(1).lower() for m in _OPTION.finditer(question)}
    options |= {w.lower() for lit in quoted for w in _LATIN_WORD.findall(lit) if len(w) <= 2}
    definition = any(p.match(question) for p in DEFINITION_ASKED)
    for word in _LATIN_WORD.findall(_EN_NOWADAYS.sub(" ", _OF_THE_DOCUMENT.sub(" ", question))):
        low = word.lower()
        if low in options or (definition and low in _DEFINITION_WORDS) or low in _EN_PHRASING:
            continue
        if low not in STOP_AND_QUESTION_WORDS and low not in _ASK_WORDS and low not in keys:
            keys.append(low)
    runs: list[str] = []
    if cjk:
        asked = _CJK_ASK.sub(" ", _ZH_OF_THE_DOCUMENT.sub(" ", question))
        found_runs = CJK_RUN_RE.findall(asked)
        if any(len(r) > 1 for r in found_runs):
            # a lone character ("元" of "多少元", "每") is a unit or particle, not a key
            found_runs = [r for r in found_runs if len(r) > 1]
        # a run is cut into words: of "比较流行的客户端", a passage saying "流行的客户端" holds two
        # of three words; as one long run it held a part of it
        found_runs = [
            w
            for r in found_runs
            for w in cjk_words(r)
            if len(w) > 1 and w not in _ZH_FUNCTION_WORDS
        ] or found_runs
        for run in found_runs:
            if run not in runs:
                runs.append(run)
            grams = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
            keys.extend(g for g in grams if g not in keys)
    table = _ZH_KINDS + _EN_KINDS_IN_ZH if cjk else _EN_KINDS
    asking = asking_clause(question, cjk)
    kinds: list[str] = []
    for pattern, ks in table:
        # a name asked for is no value, but a path is both
        if pattern.search(asking) and (ks[0] in ("path", "action") or not asks_named_thing(asking)):
            kinds.extend(k for k in ks if k not in kinds)
    typed = bool(kinds)
    kinds.extend(k for k in _GENERIC if k not in kinds)
    return Profile(question, cjk, tuple(keys), tuple(kinds), typed, tuple(runs), quoted)


def without_phrasing(prof: Profile, source: str) -> Profile:
    """``prof`` without the words of a Chinese question's everyday phrasing that the document
    never uses ("听说", "好像", "具体", "不用 … 直接"): they weigh as the rarest of keys, so a
    sentence that answers in the document's own words held too few of the question's to count.
    A noun or verb the document never has ("字号", "由谁开发") stays: it is what is asked."""
    if not prof.cjk:
        return prof
    runs = tuple(r for r in prof.runs if r in source or not cjk_phrasing(r))
    if not runs or len(runs) == len(prof.runs):
        return prof
    return replace(prof, runs=runs)


# A run of Latin letters, digits and symbols that holds a symbol: an option ("-sa"), a path
# ("/etc/shadow"), a command (":q!"), a marker ("$1$"), a version range ("1998-2002").
_LITERAL = re.compile(r"[!-~]*[-$/:.!#~%=_@+][!-~]*")


# "passwd -e", "dpkg-buildpackage -sa": a command and its option are one literal (OCR often drops
# the space between them: "passwd-e"), unless the word before the option is not a command
_COMMAND_OPTION = re.compile(r"(?<![\w-])([A-Za-z][\w.+-]*)\s+(--?[A-Za-z0-9][\w-]*)")
_NOT_COMMANDS = frozenset({"option", "options", "flag", "flags", "switch", "parameter", "argument"})


def literals(question: str) -> tuple[str, ...]:
    found = []
    options = set()
    for m in _COMMAND_OPTION.finditer(question):
        word = m.group(1).lower()
        if word not in STOP_AND_QUESTION_WORDS and word not in _ASK_WORDS | _NOT_COMMANDS:
            found.append(f"{m.group(1)} {m.group(2)}")
            options.add(m.group(2))
    for m in _LITERAL.finditer(question):
        token = m.group(0).strip("\"'“”‘’?,.;:()（）《》「」")
        if (
            len(token) >= 2
            and any(ch.isalnum() or ch in "$!:" for ch in token)
            and token not in found
            and token not in options
        ):
            found.append(token)
    return tuple(found)


# a lower-case l that OCR reads as the capital I it looks like in a sans-serif font ("dpkg -I" for
# "dpkg -l"), or as a bar; not as a 1, which is an option of its own ("ls -1")
_READ_AS = {"l": "lI|"}


def _literal_char(ch: str) -> str:
    if ch in _READ_AS:
        return "[" + re.escape(_READ_AS[ch]) + "]"
    if ch.upper() != ch:
        return "[" + re.escape(ch) + re.escape(ch.upper()) + "]"
    return re.escape(ch)


# the dashes OCR may read for an option's: a hyphen, or a dash of another width (escaped for a
# character class)
OPTION_DASHES = re.escape("-‐‑‒–—―−")
_DASH = f"[{OPTION_DASHES}]"


@functools.lru_cache(maxsize=256)
def _literal_re(literal: str) -> re.Pattern[str]:
    dashes = len(literal) - len(literal.lstrip("-"))
    option = dashes in (1, 2) and literal[dashes : dashes + 1].isalpha()
    body = literal[dashes:] if option else literal
    chars = [_literal_char(ch) for ch in body.lower() if not ch.isspace()]
    if option:
        # an option's dashes as OCR reads them: "--keep" read "-keep" or "—keep"
        chars.insert(0, _DASH + ("{1,2}" if dashes == 2 else ""))
    head = (
        r"(?<![A-Za-z0-9])"
        if chars and literal[0].isalnum()
        else rf"(?<![A-Za-z0-9{OPTION_DASHES}])"
    )
    tail = r"(?![A-Za-z0-9])" if chars and literal[-1].isalnum() else ""
    # with the spaces OCR drops or adds ("ps --pid 1 -f" read as "ps --pid1 -f"), and as a
    # whole token: the option "-e" is not the "-e" of "re-enter"
    return re.compile(head + r"\s*".join(chars) + tail)


# full-width forms OCR gives next to Chinese ("：q！" for ":q!"), one character for one
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def find_literal(literal: str, text: str) -> list[tuple[int, int]]:
    """Where ``literal`` (a quoted command, option, path) stands in ``text``, in any case,
    full-width forms read as their ASCII ones, an l as the I that OCR may read for it (in the
    text as read: lower-cased, that I could not be told from an i), and an option's dashes as
    one or two of any width ("--keep" read "-keep")."""
    if not literal.strip():
        return []
    pattern = _literal_re(literal.translate(_HALF_WIDTH))
    return [m.span() for m in pattern.finditer(text.translate(_HALF_WIDTH))]


Weight = Callable[[str], float]


@functools.cache
def _english_stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The word's Snowball (Porter 2) stem: "copies"/"copy", "distributed"/"distribute",
    "modified"/"modify", "governs"/"governed" each share one."""
    return _english_stemmer().stemWord(word.lower())


def _unit(_: str) -> float:
    return 1.0


def _run_weight(run: str, weight: Weight) -> float:
    grams = [run] if len(run) < 2 else [run[i : i + 2] for i in range(len(run) - 1)]
    return float(sum(weight(g) for g in grams) / len(grams)) * len(run) ** 0.5


def key_matches(
    prof: Profile, text: str, weight: Weight | None = None
) -> tuple[float, list[tuple[int, int]]]:
    """(weighted share of the question's keys found in ``text``, where they were found).

    Latin keys are words (an OCR slip in a long word still counts); Chinese keys are the
    question's runs of CJK characters, aligned fuzzily so that one misread character ("特殊面法
    数字" for "特殊魔法数字") costs a little, not the whole key. ``weight`` (e.g. the document's
    inverse document frequency) makes a rare key — the city a needle is about — count more than
    the words every similar sentence shares.
    """
    weight = weight or _unit
    low = text.lower()
    spans: list[tuple[int, int]] = []
    got = total = 0.0
    words = [(m.start(), m.end(), m.group(0).lower()) for m in _LATIN_WORD.finditer(text)]
    # a Chinese question's words, in an English passage, are their dictionary's English words
    english = prof.cjk and prof.runs and glossary.in_english(text)
    for key in prof.keys:
        if CJK_RUN_RE.fullmatch(key):
            continue  # CJK keys are scored as runs below
        w = weight(key)
        total += w
        key_stem = stem(key)
        hits = [
            (a, b)
            for a, b, word in words
            # same stem ("governs"/"governed"), or an OCR slip in a long word
            if stem(word) == key_stem or (len(key) >= 5 and fuzz.ratio(word, key) >= 85)
        ]
        if hits:
            got += w
            spans.extend(hits)
    for lit in prof.literals:
        w = max(weight(lit.lower()), 2.0)
        total += w
        hits = find_literal(lit, text)
        if hits:
            got += w
            spans.append(hits[0])
    for run in prof.runs:
        if english:
            found, w, hits = _english_words(run, words, weight)
            got, total = got + found, total + w
            spans.extend(hits)
            continue
        w = _run_weight(run, weight)
        total += w
        start = low.find(run)
        if start >= 0:
            got += w
            while start >= 0:
                spans.append((start, start + len(run)))
                start = low.find(run, start + 1)
            continue
        if len(run) >= 3:
            align = fuzz.partial_ratio_alignment(run, low, score_cutoff=60)
            if align is not None:
                got += w * align.score / 100
                spans.append((align.dest_start, align.dest_end))
                continue
        # pieces of a run (its bigrams) still place the key, for free
        for gram in (run[i : i + 2] for i in range(len(run) - 1)):
            start = low.find(gram)
            if start >= 0:
                got += w * 0.5 / max(1, len(run) - 1)
                spans.append((start, start + 2))
    return (got / total if total else 0.0), sorted(spans)


@functools.lru_cache(maxsize=4096)
def english_stems(run: str) -> frozenset[str]:
    """The stems of a Chinese word's English words (``glossary.english``)."""
    return frozenset(stem(e) for e in glossary.english(run))


def _english_words(
    run: str, words: list[tuple[int, int, str]], weight: Weight
) -> tuple[float, float, list[tuple[int, int]]]:
    """A Chinese key ``run`` looked for in English ``words`` by its English words
    (``glossary``): the same stem, or a word made from one ("solver" of "solve"). (Its weight
    where found, its weight, where it was found). A key the dictionary has no word for is left
    out, not counted as missing: (0, 0, [])."""
    english = glossary.english(run)
    if not english:
        return 0.0, 0.0, []
    stems = english_stems(run)
    made = tuple(e for e in english if len(e) >= 5)
    hits = [(a, b, word) for a, b, word in words if stem(word) in stems or word.startswith(made)]
    if not hits:
        return 0.0, min(weight(e) for e in english), []
    # weighed as an English key is: by how rare the word it was found as is in the document
    w = min(weight(word) for _, _, word in hits)
    return w, w, [(a, b) for a, b, _ in hits]


def _digits_overlap(text: str, value: Match, a: int, b: int) -> bool:
    """A key covers the value's figures ("2024" of "2024 年"), not just its unit ("days")."""
    lo, hi = max(a, value.start), min(b, value.end)
    return any(ch.isdigit() for ch in text[lo:hi]) or (lo < hi and value.kind in ("person", "org"))


# numeric questions (多少, 几) are left to the value patterns, which keep the unit ("3.60 元")
_CJK_WH = re.compile(r"什么时候|什么地方|哪里|哪儿|何处|何时|哪位|哪个|哪家|哪天|什么|谁")
_GAP_STOP = re.compile(r"[。！？；，、\n]")


def _cloze_contexts(question: str) -> tuple[str, str] | None:
    """The question's words right before and after its question word ("合同由" 谁 "签署")."""
    m = _CJK_WH.search(question)
    if m is None:
        return None
    before = CJK_RUN_RE.findall(question[: m.start()])
    after = CJK_RUN_RE.findall(question[m.end() :])
    left = before[-1][-6:] if before and question[: m.start()].endswith(before[-1]) else ""
    right = after[0][:6] if after and question[m.end() :].startswith(after[0]) else ""
    return (left, right) if len(left) >= 2 and right else None


def cloze(question: str, text: str) -> tuple[int, int] | None:
    """Chinese fill-in-the-blank: the words between the question's left and right context in
    ``text`` ("合同由谁签署？" on "合同由刘洋签署。" → "刘洋"). None unless both sides are found
    close together with a short gap between them."""
    contexts = _cloze_contexts(question)
    if contexts is None:
        return None
    left, right = contexts
    for lhs in dict.fromkeys((left, left[-3:], left[-2:])):
        start = text.find(lhs)
        while start >= 0:
            a = start + len(lhs)
            window = text[a : a + 24]
            for rhs in dict.fromkeys((right, right[:2], right[:1])):
                r = window.find(rhs)
                if r > 0:
                    gap_a, gap_b = a, a + r
                    while gap_a < gap_b and text[gap_a] in " 为是：:":
                        gap_a += 1
                    while gap_b > gap_a and text[gap_b - 1] == " ":
                        gap_b -= 1
                    gap = text[gap_a:gap_b]
                    if 0 < len(gap) <= 20 and not _GAP_STOP.search(gap):
                        return gap_a, gap_b
                    break
            start = text.find(lhs, start + 1)
    return None


_WHERE = re.compile(r"\bwhere\b", re.I)
_PLACE_PREP = re.compile(r"(?:in|at|near|inside|outside)\s+(?:the\s+)?(?=(?-i:[A-Z]))", re.I)


@dataclass(frozen=True)
class Candidate:
    start: int  # offsets in the text given to ``extract``
    end: int
    kind: str
    score: float


def _trim_phrase(text: str, start: int, limit: int = 90) -> tuple[int, int] | None:
    m = _COPULA.match(text[start:])
    a = start + (m.end() if m else 0)
    stop = re.search(r"[,;.。，；!?！？\n]\s|[。，；！？\n]|$", text[a : a + limit])
    b = a + (stop.start() if stop else min(limit, len(text) - a))
    while b > a and text[b - 1] in " ,.;:，。；：":
        b -= 1
    return (a, b) if b > a else None


def extract(prof: Profile, text: str, weight: Weight | None = None) -> Candidate | None:
    """The best answer value inside ``text`` (a sentence, maybe with its neighbour)."""
    _, keys = key_matches(prof, text, weight)
    if not keys:
        return None
    if prof.cjk:
        gap = cloze(prof.text, text)
        if gap is not None:
            return Candidate(gap[0], gap[1], "cloze", 0.9)
    key_spans = keys
    question_low = prof.text.lower()
    best: Candidate | None = None
    values = [
        v
        for v in find_values(text, prof.kinds)
        # not part of the key itself ("2024" in "2024 年营业收入"), not the question's own words
        if not any(_digits_overlap(text, v, a, b) for a, b in key_spans)
        and not (len(v.text) > 2 and v.text.lower() in question_low)
    ]
    values = without_part_numbers(text, values, prof.text)  # "Section 2.2" gives no figure
    for value in values:
        # keys between the previous value of the same kind and this one: "董事长为林雨晨，董事会
        # 秘书为周文博" pairs 董事长 with 林雨晨 although 董事 occurs again before 周文博
        same = [v for v in values if v.kind == value.kind]
        k = same.index(value)
        seg_start = same[k - 1].end if k else 0
        seg_end = same[k + 1].start if k + 1 < len(same) else len(text)
        score = _value_score(prof, value, key_spans, text, seg_start, seg_end, weight)
        if best is None or score > best.score:
            best = Candidate(value.start, value.end, value.kind, score)
    if best is not None and (best.kind in prof.kinds[:3] or not prof.typed):
        return best
    # no fitting typed value: the clause right after the last key word
    last_key_end = max(b for _, b in key_spans)
    phrase = _trim_phrase(text, last_key_end)
    if phrase is not None and _WHERE.search(prof.text):
        # "Where …?" is answered by the place, not by "in Gdansk"
        lead = _PLACE_PREP.match(text, phrase[0], phrase[1])
        if lead is not None and lead.end() < phrase[1]:
            phrase = (lead.end(), phrase[1])
    if phrase is not None and (best is None or best.score < 0.5):
        return Candidate(phrase[0], phrase[1], "phrase", 0.45)
    if best is None:  # the keys end the sentence ("… have exclusive jurisdiction."): quote it
        stripped = text.strip()
        lead = len(text) - len(text.lstrip())
        return Candidate(lead, lead + len(stripped), "sentence", 0.4)
    return best


def _value_score(
    prof: Profile,
    value: Match,
    keys: list[tuple[int, int]],
    text: str,
    seg_start: int,
    seg_end: int,
    weight: Weight | None = None,
) -> float:
    rank = prof.kinds.index(value.kind) if value.kind in prof.kinds else len(prof.kinds)
    # a question that names what it wants puts its first kind clearly ahead of the rest
    typed_w = (1.0, 0.75, 0.65)[rank] if rank < 3 else 0.5
    kind_w = typed_w if prof.typed else 0.8
    before = [b for _, b in keys if b <= value.start]
    if before:
        dist = value.start - max(before)
        position = 1.0 / (1.0 + dist / 30.0)
        own = key_matches(prof, text[seg_start : value.start], weight)[0]
    else:  # the value precedes its key ("EUR 5 is the fee"): possible, less likely
        dist = min(a for a, _ in keys) - value.end
        position = 0.6 / (1.0 + dist / 30.0)
        own = 0.5 * key_matches(prof, text[value.end : seg_end], weight)[0]
    return kind_w * (0.4 + 0.6 * position) * (0.5 + 0.5 * own)
