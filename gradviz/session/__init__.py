"""The app's state and its trainer process, with no Qt: the window is a view over a Session.

- ``protocol``: the typed commands and events between the window and the trainer process;
- ``trainer``: the trainer process's loop;
- ``process``: the window's handle on that process;
- ``framebuf``: frames through shared memory;
- ``frames``: what a frame holds;
- ``state``: the ``Session``.
"""
