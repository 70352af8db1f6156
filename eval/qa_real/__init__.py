"""Real-document QA set (issue 17): documents from Debian packages, questions, gold passages.

* ``documents.jsonl`` — one document a line: where it comes from (Debian package + path), how the
  file the pipeline opens is derived from it (none / gunzip / docx / scan), split, licence.
* ``questions.jsonl`` — questions with gold answers (aliases), the gold passage (an exact quote of
  the ingested text, whitespace aside) and a reference free-form answer.
* ``build.py`` materialises the documents into a cache dir; ``score.py`` holds the metrics;
  ``validate.py`` checks the set. The bench is ``bench/qa_real.py``.
"""
