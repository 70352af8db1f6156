"""OpenAI-compatible reader: Glyph served by vLLM / SGLang (the scale-out path).

``OpenAIReader(settings)`` talks to ``GLYPH_OPENAI_BASE_URL`` with ``GLYPH_OPENAI_MODEL`` and
``GLYPH_OPENAI_API_KEY``. Inside this package ``import openai`` still means the PyPI SDK (imports
are absolute). See docs/DEPLOY.md for the ``vllm serve`` command.
"""

from app.readers.openai.reader import OpenAIReader

__all__ = ["OpenAIReader"]
