"""``python -m smainer``: the CLI, as ``smainer up`` starts its parts (the same interpreter)."""

import sys

from smainer.cli import main

sys.exit(main())
