"""``python -m gradviz`` is the ``gradviz`` command."""

import sys

from gradviz.cli import main

if __name__ == "__main__":  # not when the trainer process (spawn) imports this module again
    sys.exit(main())
