"""Moved: preparing a text file for the text task (read, tokenise, vocabulary, split, encode)
is not I/O and lives beside that task, in ``gradviz.tasks.textdata``. This name stays for old
imports and is the very same module (patching one patches the other)."""

import sys

from gradviz.tasks import textdata

sys.modules[__name__] = textdata
