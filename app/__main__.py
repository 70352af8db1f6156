"""``python -m app``: the command line (see app/cli.py)."""

from app.cli import main

main()
