"""A generated question-answering set: facts hidden in filler text, in English and Chinese.

Each document is filler sentences with five facts (an invoice number, a signer, an amount, a
city, a date) placed at random; each row asks about one fact and its answer is the value exactly
as written in the document. Deterministic for a seed. Used to give every reader a comparable score
(``scripts/eval_inference.py``; docs/BENCHMARKS.md) and as tiny SFT data in the tests.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

_EN_FILLER = (
    "The committee reviewed the quarterly figures and asked for a clearer breakdown of costs.",
    "Shipping schedules were adjusted after the supplier changed its warehouse hours.",
    "All parties agreed to keep the technical annex confidential until the final review.",
    "The previous version of this document is no longer valid and should be archived.",
    "Questions about the delivery terms should be sent to the project office in writing.",
    "A summary of the risks was attached to the minutes of the last meeting.",
    "The maintenance window starts after the end of the regular business day.",
    "Staff training on the new procedures will be completed before the next audit.",
    "The budget for the second phase depends on the results of the pilot study.",
    "Each department submitted its estimates before the planning deadline.",
    "The legal team requested minor changes to the wording of the liability clause.",
    "Updated safety rules apply to every visitor entering the production area.",
    "The report compares this year's results with the average of the last five years.",
    "Late changes to the order may lead to additional handling fees.",
)
_ZH_FILLER = (
    "委员会审阅了季度数据，并要求提供更清晰的成本明细。",
    "供应商调整仓库营业时间后，发货计划随之变更。",
    "各方同意在最终审查前对技术附件保密。",
    "本文件的旧版本已失效，应予以归档。",
    "有关交付条款的问题请以书面形式发送至项目办公室。",
    "风险摘要已附在上次会议的纪要之后。",
    "系统维护时间安排在正常工作日结束之后。",
    "新流程的员工培训将在下一次审计前完成。",
    "第二阶段的预算取决于试点研究的结果。",
    "各部门均在规划截止日期前提交了预算估算。",
    "法务团队要求对责任条款的措辞作少量修改。",
    "新的安全规定适用于进入生产区域的所有访客。",
    "报告将今年的结果与过去五年的平均水平进行了比较。",
    "订单的临时变更可能产生额外的处理费用。",
)
_EN_NAMES = (
    "Laura Becker",
    "Daniel Moreau",
    "Priya Raman",
    "Tomas Novak",
    "Grace Liu",
    "Omar Haddad",
)
_ZH_NAMES = ("王建国", "李晓梅", "张伟", "陈静", "刘洋", "赵敏")
_EN_CITIES = ("Rotterdam", "Lyon", "Osaka", "Toronto", "Valencia", "Gdansk")
_ZH_CITIES = ("杭州", "成都", "青岛", "南京", "厦门", "武汉")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _values(rng: random.Random, lang: str) -> dict[str, str]:
    year, month, day = rng.randint(2021, 2027), rng.randint(1, 12), rng.randint(1, 28)
    amount = f"{rng.randint(1, 98)},{rng.randint(0, 999):03d}"
    invoice = f"{rng.choice('ABCDEFGHJK')}{rng.choice('LMNPRSTVWX')}-{rng.randint(1000, 9999)}"
    if lang == "zh":
        return {
            "invoice": invoice,
            "name": rng.choice(_ZH_NAMES),
            "amount": f"{amount}元",
            "city": rng.choice(_ZH_CITIES),
            "date": f"{year}年{month}月{day}日",
        }
    return {
        "invoice": invoice,
        "name": rng.choice(_EN_NAMES),
        "amount": f"{amount} dollars",
        "city": rng.choice(_EN_CITIES),
        "date": f"{_MONTHS[month - 1]} {day}, {year}",
    }


_FACTS = {
    "en": {
        "invoice": ("The invoice number is {v}.", "What is the invoice number?"),
        "name": ("The contract was signed by {v}.", "Who signed the contract?"),
        "amount": ("The total amount due is {v}.", "What is the total amount due?"),
        "city": (
            "The annual meeting will take place in {v}.",
            "Where will the annual meeting take place?",
        ),
        "date": ("The payment is due on {v}.", "When is the payment due?"),
    },
    "zh": {
        "invoice": ("发票号码为{v}。", "发票号码是多少？"),
        "name": ("合同由{v}签署。", "合同由谁签署？"),
        "amount": ("应付总额为{v}。", "应付总额是多少？"),
        "city": ("年度会议将在{v}举行。", "年度会议将在哪里举行？"),
        "date": ("付款截止日期为{v}。", "付款截止日期是哪天？"),
    },
}


def make_document(rng: random.Random, lang: str, sentences: int = 12) -> tuple[str, dict[str, str]]:
    """(document text, fact values) — filler with the five facts inserted at random places."""
    filler = list(_ZH_FILLER if lang == "zh" else _EN_FILLER)
    rng.shuffle(filler)
    body = [filler[i % len(filler)] for i in range(sentences)]
    values = _values(rng, lang)
    for key, value in values.items():
        body.insert(rng.randint(0, len(body)), _FACTS[lang][key][0].format(v=value))
    per_line = 3
    joiner = "" if lang == "zh" else " "
    lines = [joiner.join(body[i : i + per_line]) for i in range(0, len(body), per_line)]
    return "\n".join(lines), values


def make_qa_rows(
    n: int, *, lang: str = "mix", seed: int = 0, sentences: int = 12, per_document: int = 2
) -> list[dict[str, Any]]:
    """``n`` rows ``{"id", "text", "question", "answer", "lang"}``, ``per_document`` per document."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    doc = 0
    while len(rows) < n:
        doc_lang = lang if lang != "mix" else ("en", "zh")[doc % 2]
        text, values = make_document(rng, doc_lang, sentences)
        for key in rng.sample(sorted(values), k=min(per_document, len(values))):
            if len(rows) == n:
                break
            rows.append(
                {
                    "id": f"{doc_lang}-{doc:03d}-{key}",
                    "text": text,
                    "question": _FACTS[doc_lang][key][1],
                    "answer": values[key],
                    "lang": doc_lang,
                }
            )
        doc += 1
    return rows


def write_qa_set(
    out: str | Path, *, n: int = 40, lang: str = "mix", seed: int = 0, sentences: int = 12
) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = make_qa_rows(n, lang=lang, seed=seed, sentences=sentences)
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out
