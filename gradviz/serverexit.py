"""Imported only by the fork server (it is the last of ``gradviz.forkserver.PRELOAD``): when its
clients have all gone, the server leaves at once instead of tearing torch down module by module
(seconds of CPU on a busy machine, during which it looks like a fork server left behind).

Never import this module elsewhere: any process that did would skip its own clean-up at exit.
The children the server forks never run exit handlers (they leave through ``os._exit``)."""

import atexit
import os

atexit.register(os._exit, 0)
