"""Documents with many checkable values, and single-character errors injected into values.

``CONTRACT_ZH`` is a Chinese service contract written for these tests, ``CONTRACT_ZH_VALUES``
the values in it (as written there). ``values_of`` picks the values of any text with a
selector independent of ``app.evidence.checks`` (the OCR reader's value patterns, identifiers,
dotted numbers and quoted strings) and keeps those that stand in the text as whole values.
``mutations`` makes one error of each kind — substitute, OCR confusion, transpose, delete,
insert — in one value.
"""

from __future__ import annotations

import random
import re

from app.evidence.checks import flatten
from app.readers.ocr.patterns import find_values as ocr_values

CONTRACT_ZH = """技术服务合同

合同编号：HT-2024-0917
签订日期：2024年9月17日
签订地点：上海市浦东新区张江路 665 号

甲方：上海明远数据服务有限公司
统一社会信用代码：91310115MA1K4B2X7Q
联系人：陈思远，电话 021-6485 1234，传真 021-6485 1299
电子邮箱：legal@mingyuan-data.example

乙方：杭州青禾软件有限公司
统一社会信用代码：91330106MA2H7C5L3N
联系人：王晓岚，电话 0571-8826 3190
电子邮箱：contract@qinghe-soft.example

第一条 服务内容
乙方为甲方部署“智能票据识别系统”（以下简称“系统”），系统版本为 v2.3.1，项目编号 PRJ-SH-0042。
系统接口地址为 https://api.qinghe-soft.example/v2/orders ，设备序列号 SN8842-7731-XK。
许可证标识为 7f3c9a2e-5b1d-4c8e-9a6f-2d4e8b1c3f70，配置参数 MAX_BATCH_SIZE 设为 512。

第二条 合同金额及支付方式
合同总金额为人民币 186,400 元（含增值税 6%）。
首付款为 ¥55,920，即合同总金额的 30%，甲方应于 2024年9月30日 前支付。
二期款为 93,200元，于系统验收合格后 15 个工作日内支付。
尾款为 37,280 元，于质保期满后支付，质保期为 12 个月。
乙方开户银行：中国建设银行上海张江支行，账号 31050161373600002345。

第三条 交付与验收
乙方应于 2024-10-31 17:30 前完成部署，验收报告编号为 YS-2024-1108。
服务时间为工作日 9:00–18:00，运维热线 400-820-1234。
系统识别准确率不低于 98.5%，平均响应时间不超过 1.2 秒。

第四条 违约责任
任何一方逾期履行的，每日按合同总金额的 0.05% 支付违约金，累计不超过 10%。

第五条 其他
本合同有效期为 2024年9月17日 至 2027年9月16日。
本合同一式肆份，甲乙双方各执贰份，附件《系统需求规格说明书 V1.4》为本合同不可分割的组成部分。
"""

CONTRACT_ZH_VALUES = [
    "HT-2024-0917",
    "2024年9月17日",
    "665",
    "91310115MA1K4B2X7Q",
    "021-6485 1234",
    "021-6485 1299",
    "legal@mingyuan-data.example",
    "91330106MA2H7C5L3N",
    "0571-8826 3190",
    "contract@qinghe-soft.example",
    "智能票据识别系统",
    "v2.3.1",
    "PRJ-SH-0042",
    "https://api.qinghe-soft.example/v2/orders",
    "SN8842-7731-XK",
    "7f3c9a2e-5b1d-4c8e-9a6f-2d4e8b1c3f70",
    "MAX_BATCH_SIZE",
    "512",
    "186,400 元",
    "6%",
    "¥55,920",
    "30%",
    "2024年9月30日",
    "93,200元",
    "15 个工作日",
    "37,280 元",
    "12 个月",
    "31050161373600002345",
    "2024-10-31",
    "17:30",
    "YS-2024-1108",
    "9:00–18:00",
    "400-820-1234",
    "98.5%",
    "1.2",
    "0.05%",
    "10%",
    "2027年9月16日",
    "V1.4",
]

_OCR_KINDS = ("date", "amount", "percent", "phone", "code", "number", "email", "url", "duration")
_IDENT = re.compile(
    r"(?<![\w.])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?!\w)|(?<![\w.])\d+(?:\.\d+){1,4}(?![\w.])"
)
_QUOTE = re.compile(r"‘([^’\n]{4,60})’|“([^”\n]{4,60})”|\"([^\"\n]{4,60})\"")


def whole_in(flat: str, value: str) -> bool:
    """``value`` stands in ``flat`` (white-space-normalised text) as a whole value: not inside
    a longer word or number. What "the document has this value" means."""
    value = flatten(value)[0]
    left = r"(?<![A-Za-z0-9_])(?<!\d[.,:])" if value[0].isalnum() else ""
    right = r"(?![A-Za-z0-9_])(?![.,:]\d)" if value[-1].isalnum() else ""
    return re.search(left + re.escape(value) + right, flat) is not None


def values_of(text: str) -> list[str]:
    """Values of at least four characters that stand in ``text`` as whole values."""
    found = [m.text for m in ocr_values(text, _OCR_KINDS)]
    found += [m.group() for m in _IDENT.finditer(text)]
    found += [next(g for g in m.groups() if g) for m in _QUOTE.finditer(text)]
    flat, out = flatten(text)[0], []
    for value in found:
        value = " ".join(value.split()).rstrip(">).,;")
        if len(value) >= 4 and value not in out and "\\" not in value and whole_in(flat, value):
            out.append(value)
    return out


def is_quote(value: str) -> bool:
    """Values without a digit, underscore or @ are checked as quoted strings."""
    return not any(ch.isdigit() or ch in "_@" for ch in value)


# a few hundred common Han characters: substitutes inside quoted Chinese strings
_HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往"
CONFUSIONS = {"0": "O", "O": "0", "1": "l", "l": "1", "I": "1", "5": "S", "S": "5", "8": "B"}
SEPARATORS = ".,-/:_"
_NUMBER = re.compile(r"\d[\d,.:]*\d|\d")


def _other(ch: str, rng: random.Random) -> str | None:
    """Another character of the same class (digit, lower, upper, separator, Han)."""
    for pool in ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        if ch in pool:
            return rng.choice(pool.replace(ch, ""))
    if ch in SEPARATORS:
        return rng.choice(SEPARATORS.replace(ch, ""))
    if "\u4e00" <= ch <= "\u9fff":
        return rng.choice(_HAN.replace(ch, ""))
    return None


def _positions(value: str) -> list[int]:
    """Where an error goes: anywhere in a quoted string; the digits and separators of a phone
    number; the number of a value with a unit or words (amount, percentage, duration, date);
    else the ASCII letters, digits and separators (codes, identifiers, versions, e-mails, URLs)."""
    if is_quote(value):
        return list(range(len(value)))
    if re.fullmatch(r"[+\d() -]+", value):
        return [i for i, ch in enumerate(value) if ch != " "]
    if re.search(r"[\s%¥$€£\u4e00-\u9fff]", value):
        return [i for m in _NUMBER.finditer(value) for i in range(m.start(), m.end())]
    return [i for i, ch in enumerate(value) if ch.isascii() and (ch.isalnum() or ch in SEPARATORS)]


def _well_formed(mutated: str, value: str) -> bool:
    """Still a value of the same kind: it does not start or end with a separator (that moves the
    value's edge, not a character in it) and keeps a digit or underscore if it had one."""
    if mutated == value or not mutated.strip():
        return False
    if is_quote(value):
        return len(mutated) >= 3
    if not (mutated[0].isalnum() or mutated[0] in "+¥$€£") or mutated[-1] in SEPARATORS + " ":
        return False
    marks = [any(ch.isdigit() or ch == "_" for ch in s) for s in (value, mutated)]
    return marks[1] or not marks[0]


def _mutate(value: str, op: str, i: int, rng: random.Random) -> str | None:
    ch = value[i]
    if op == "substitute":
        new = _other(ch, rng)
        return None if new is None else value[:i] + new + value[i + 1 :]
    if op == "confuse":
        return value[:i] + CONFUSIONS[ch] + value[i + 1 :] if ch in CONFUSIONS else None
    if op == "transpose":
        if i + 1 >= len(value) or value[i] == value[i + 1]:
            return None
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    if op == "delete":
        return value[:i] + value[i + 1 :]
    new = _other(ch, rng)  # insert a character of the same class next to this one
    return None if new is None or ch in SEPARATORS else value[:i] + new + value[i:]


def mutations(value: str, rng: random.Random) -> dict[str, str]:
    """One single-character error of each kind (when the value allows it), by kind."""
    positions = _positions(value)
    out: dict[str, str] = {}
    for op in ("substitute", "confuse", "transpose", "delete", "insert"):
        for _ in range(40):
            i = rng.choice(positions)
            if op == "transpose" and i + 1 not in positions:
                continue
            mutated = _mutate(value, op, i, rng)
            if mutated is not None and _well_formed(mutated, value):
                out[op] = mutated
                break
    return out
