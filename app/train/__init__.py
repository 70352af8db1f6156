"""Fine-tuning (SFT) of Glyph / GLM-4.1V checkpoints and evaluation of any reader.

``python -m app.train sft`` (also ``scripts/train_sft.sh``) trains LoRA adapters (default), QLoRA
adapters or the whole language model on JSONL rows of page images / texts, questions and answers;
``python -m app.train merge`` folds an adapter into a full checkpoint; ``scripts/eval_inference.py``
scores a reader (ocr, vlm, openai) on such rows. torch, transformers and peft are imported only
when a command runs.
"""
