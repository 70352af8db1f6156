"""``python -m app.train`` — see ``app/train/cli.py``."""

import sys

from app.train.cli import main

sys.exit(main())
