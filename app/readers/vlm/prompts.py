"""Prompts of the VLM readers: templates per mode and language from ``configs/prompts``.

Glyph is prompted like GLM-4.1V: one user turn holding the page images followed by the text.
Putting the question *after* the images makes every prompt about one document share a prefix
(``[gMASK]<sop><|user|>\\n<|begin_of_image|>…<|end_of_image|>``) whose KV cache is reused by
follow-up questions; only the question part is new.
"""

from __future__ import annotations

import functools

import yaml

from app.datamodel import Mode
from app.errors import ConfigError
from app.readers.vlm.quant import configs_dir
from app.text import Lang

IMAGE_END = "<|end_of_image|>"


@functools.cache
def load_templates(lang: Lang) -> dict[str, str]:
    path = configs_dir() / "prompts" / f"{lang}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(
            f"Prompt templates {path} are missing.", f"缺少提示模板 {path}。", detail=repr(err)
        ) from err
    missing = [m.value for m in Mode if not isinstance(data.get(m.value), str)]
    if missing:
        raise ConfigError(
            f"Prompt templates {path} lack the modes: {', '.join(missing)}.",
            f"提示模板 {path} 缺少模式：{', '.join(missing)}。",
        )
    return {k: v for k, v in data.items() if isinstance(v, str)}


def instruction(mode: Mode, question: str, pages: int, lang: Lang) -> str:
    """The text after the images: the mode's template filled with the question."""
    template = load_templates(lang)[Mode(mode).value]
    return template.format(question=question.strip(), pages=pages).strip()


def build_messages(n_images: int, text: str) -> list[dict]:
    """One user turn: ``n_images`` images, then ``text`` (GLM-4.1V / Glyph chat format)."""
    content: list[dict] = [{"type": "image"} for _ in range(n_images)]
    content.append({"type": "text", "text": text})
    return [{"role": "user", "content": content}]


def split_prompt(prompt: str) -> tuple[str, str]:
    """(document prefix up to the last image's end marker, the rest).

    The end-of-image marker is a special token, so tokenizing the two parts separately gives
    exactly the tokens of the whole prompt (checked in the tests).
    """
    cut = prompt.rfind(IMAGE_END)
    if cut < 0:
        raise ValueError("the prompt holds no image")
    cut += len(IMAGE_END)
    return prompt[:cut], prompt[cut:]


def chat_prompt(processor, n_images: int, text: str) -> tuple[str, str]:
    """(prefix, suffix) of the chat-template prompt for ``n_images`` pages and ``text``."""
    prompt = processor.apply_chat_template(
        build_messages(n_images, text), tokenize=False, add_generation_prompt=True
    )
    return split_prompt(prompt)
