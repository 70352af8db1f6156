"""Evaluation sets that are not part of the app (see eval/qa_real)."""
