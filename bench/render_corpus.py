"""Deterministic text corpora for the renderer benchmarks (no downloads).

English: the licence texts Debian installs under /usr/share/common-licenses (real prose with
punctuation, numbering and indentation), else the repository's README and docs.
Chinese: sentences written for this benchmark, shuffled into paragraphs with a fixed seed.
"""

from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_LICENSES = ("GPL-3", "Apache-2.0", "LGPL-3", "GPL-2", "MPL-2.0", "Artistic", "GFDL-1.3")

ZH_SENTENCES = (
    "长文档问答的难点在于上下文太长，模型一次读不完全部内容。",
    "视觉文本压缩把文字排版成图片，再让视觉语言模型阅读这些图片。",
    "在每英寸七十二点的分辨率下，一页纸大约能容纳四千多个汉字。",
    "与直接输入文本相比，图片形式通常只需要三到四分之一的词元。",
    "渲染器必须保证同样的文本和参数总能得到完全相同的页面。",
    "为了给出可靠的证据，系统会记录每个字符在页面上的位置。",
    "回答问题时，阅读器会指出答案来自哪一页的哪几行文字。",
    "红色的方框标出了支持答案的段落，方便人工核对。",
    "如果置信度低于阈值，界面会提示这条回答需要人工确认。",
    "中文排版有一些特殊规则，比如句号和逗号不能出现在行首。",
    "左括号和左引号不应该留在一行的末尾，而要与后面的文字在一起。",
    "混合排版时，英文单词只能在空格处换行，过长的单词才允许强制断开。",
    "代码文件需要保留行首的缩进，制表符会展开到下一个制表位。",
    "今年第三季度公司营业收入为一百二十三亿元，同比增长百分之十五。",
    "合同约定乙方应在二〇二五年十二月三十一日之前完成全部交付。",
    "会议纪要显示，项目预算已经获得批准，下个月正式启动。",
    "这份报告共分为五个部分：背景、方法、实验、结果和讨论。",
    "研究人员在三个公开数据集上验证了该方法的有效性。",
    "实验结果表明，适当提高分辨率可以明显改善识别的准确率。",
    "但是分辨率越高，每页图片消耗的视觉词元也就越多。",
    "因此需要在压缩率和准确率之间找到一个合适的平衡点。",
    "春天来了，公园里的桃花和樱花陆续开放，吸引了很多游客。",
    "他每天早上七点起床，先跑步半小时，然后吃早饭去上班。",
    "图书馆的三楼是安静的自习区，二楼可以借阅杂志和报纸。",
    "这座古城已有两千多年的历史，城墙保存得相当完整。",
    "如果您在使用过程中遇到问题，请联系技术支持团队。",
    "所有数据都保存在本地服务器上，不会上传到任何第三方。",
    "用户可以通过网页界面上传文件，也可以直接粘贴文字。",
    "系统支持PDF、Word、纯文本、Markdown和网页等多种格式。",
    "处理长文档时，任务会进入后台队列，完成后再通知用户。",
    "第一章介绍了项目的总体设计，第二章说明各个模块的接口。",
    "请注意：本文件中的金额单位均为人民币元，除非另有说明。",
)


def english_text(n_chars: int) -> str:
    """About ``n_chars`` of English prose (licence texts repeated as needed)."""
    parts = []
    for name in _LICENSES:
        path = Path("/usr/share/common-licenses") / name
        if path.is_file():
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    if not parts:
        parts = [
            p.read_text(encoding="utf-8")
            for p in (ROOT / "README.md", ROOT / "docs").parent.glob("docs/*.md")
        ] or [(ROOT / "README.md").read_text(encoding="utf-8")]
    text = "\n".join(parts)
    while len(text) < n_chars:
        text += "\n" + text
    return text[:n_chars]


def chinese_text(n_chars: int, seed: int = 0) -> str:
    """About ``n_chars`` of Chinese: the sentences above shuffled into paragraphs."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < n_chars:
        paragraph = "".join(rng.sample(ZH_SENTENCES, k=rng.randint(3, 7)))
        out.append(paragraph)
        size += len(paragraph) + 1
    return "\n".join(out)[:n_chars]
