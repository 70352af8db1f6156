"""A GLM-4.1V processor that works without torchvision.

The stock ``Glm4vProcessor`` declares a video processor, and transformers' ``Glm4vVideoProcessor``
needs torchvision, which this project does not install (it would pin a second torch build). Page
images are all we feed, so this subclass drops the video sub-processor and always uses the PIL
image processor (``Glm4vImageProcessorPil``), whatever class name the checkpoint's
``preprocessor_config.json`` records.
"""

from __future__ import annotations

import logging
from typing import Any

from transformers import Glm4vImageProcessorPil, Glm4vProcessor
from transformers.processing_utils import ProcessorMixin

log = logging.getLogger(__name__)


class GlyphGlm4vProcessor(Glm4vProcessor):
    """``Glm4vProcessor`` for images only (no video processor, no torchvision)."""

    def __init__(
        self,
        image_processor: Any = None,
        tokenizer: Any = None,
        chat_template: Any = None,
        **kwargs,
    ) -> None:
        # The attributes ProcessorMixin manages come from this signature: image_processor and
        # tokenizer only, so loading never looks for (or imports) a video processor.
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video|>"
        self.image_token_id = getattr(
            tokenizer, "image_token_id", None
        ) or tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = getattr(
            tokenizer, "video_token_id", None
        ) or tokenizer.convert_tokens_to_ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)
        self.video_start_id = tokenizer.convert_tokens_to_ids("<|begin_of_video|>")
        self.video_end_id = tokenizer.convert_tokens_to_ids("<|end_of_video|>")

    @classmethod
    def _get_arguments_from_pretrained(
        cls, pretrained_model_name_or_path: Any, processor_dict: Any = None, **kwargs: Any
    ) -> list[Any]:
        from transformers import AutoTokenizer

        kwargs.pop("subfolder", None)
        image_processor = Glm4vImageProcessorPil.from_pretrained(
            pretrained_model_name_or_path, **kwargs
        )
        tokenizer = AutoTokenizer.from_pretrained(pretrained_model_name_or_path, **kwargs)
        return [image_processor, tokenizer]

    def image_tokens(self, width: int, height: int) -> int:
        """Visual tokens one image of ``width``×``height`` px becomes (after smart resize)."""
        data = self._get_num_multimodal_tokens(image_sizes=[(height, width)])
        return int(data.num_image_tokens[0])
