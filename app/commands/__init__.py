"""Entry points above the pipeline: the ``python -m app`` sub-commands' bodies (``app.cli``
parses the arguments and calls them)."""
