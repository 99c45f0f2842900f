"""``python -m gradviz`` is the ``gradviz`` command.

Ctrl-C while the interpreter is still importing the command line ends the process at once
(nothing has started yet); ``main`` then sets the handling each command needs.
"""

import os
import signal
import sys


def _stopped_while_starting(number: int, frame) -> None:
    os.write(2, f"\ngradviz: {signal.Signals(number).name}: stopped while starting\n".encode())
    os._exit(128 + number)


if __name__ == "__main__":  # not in a spawned child, which imports this module as __mp_main__
    for _number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(_number, _stopped_while_starting)

from gradviz.cli import main  # noqa: E402 - after the handlers, on purpose

if __name__ == "__main__":  # not when the trainer process (spawn) imports this module again
    sys.exit(main())
