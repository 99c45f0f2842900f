"""The window's handle on the trainer process: start it, send commands, collect events and
frames, notice its death, and end it.

The child never inherits the window's process: it comes from a fork server or from ``spawn``
(``gradviz/forkserver.py``). Either way it has no Qt, no threads of the window's and no CUDA context
from it, so torch and, on a GPU, CUDA live only in the trainer.
"""

from __future__ import annotations

import os
import queue
import threading

from gradviz.config import RunConfig
from gradviz.forkserver import START_METHOD, context, describe_exit, torch_threads
from gradviz.session import protocol as p
from gradviz.session.framebuf import FrameReader

STOP_TIMEOUT_S = 2.0


def _serve(*args) -> None:
    """The child's entry point: the trainer module, and torch with it, is imported in the child
    (or its fork server), never in the window's process."""
    from gradviz.session.trainer import serve

    serve(*args)


class TrainerProcess:
    """One trainer child process; a new one for every fresh start (after a death, say)."""

    def __init__(self, config: RunConfig, threads: int | None = None, method: str = START_METHOD):
        chosen = context(method)
        self._commands = chosen.Queue()
        self._events = chosen.Queue()
        self._frame_wanted = chosen.Event()
        self.threads = threads or torch_threads()
        self._process = chosen.Process(
            target=_serve,
            args=(config, self._commands, self._events, self._frame_wanted, os.getpid(), self.threads),
            name="gradviz-trainer",
            daemon=True,  # ended by multiprocessing at the window's exit, should stop() not run
        )
        self._reader = FrameReader()
        self._stopped = False
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None

    def start(self) -> None:
        """Start the child without blocking: the first start waits for the fork server to
        import torch (seconds), which must not freeze the window. Commands sent meanwhile wait
        in the queue."""
        self._frame_wanted.set()
        self._starter = threading.Thread(target=self._start, name="gradviz-trainer-start", daemon=True)
        self._starter.start()

    def _start(self) -> None:
        try:
            self._process.start()
        except BaseException as exc:  # noqa: BLE001 - reported as the cause of death
            self._start_error = exc
            return
        if self._stopped:  # closed while starting: end it at once
            self._process.kill()
            self._process.join(1.0)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def starting(self) -> bool:
        return self._starter is not None and self._starter.is_alive()

    @property
    def alive(self) -> bool:
        """Running, or still starting."""
        return self.starting or (self._process.pid is not None and self._process.is_alive())

    def send(self, command: p.Command) -> None:
        if not self._stopped:
            self._commands.put(command)

    def events(self) -> list[p.Event]:
        """Every event that arrived, oldest first (never blocks)."""
        out: list[p.Event] = []
        while not self._stopped:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out
            except (EOFError, OSError):  # the child died mid-message
                return out
        return out

    def read_frame(self, ready: p.FrameReady):
        """The frame a FrameReady names, copied out; then ask for the next one."""
        try:
            frame = self._reader.read(ready.block, ready.size)
        except FileNotFoundError:  # the trainer replaced the block since (a reset): a newer one comes
            frame = None
        self._frame_wanted.set()
        return frame

    def settle(self, timeout_s: float = 60.0) -> None:
        """After ``stop``: wait for a start still under way (its starter kills the child once
        it exists). Call it before the window's process exits: exiting unlinks the queues'
        semaphores, and a child still reading them would die with a traceback."""
        if self._starter is not None:
            self._starter.join(timeout_s)
        if self._process.pid is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(1.0)

    def cause_of_death(self) -> str:
        """Why the process ended, in words."""
        if self._start_error is not None:
            return f"the trainer process could not start ({self._start_error})"
        return f"the trainer process {describe_exit(self._process.exitcode)}"

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """End the child within ``timeout_s``: asked first, then terminated, then killed."""
        if not self._stopped:
            self._commands.put(p.Quit())
        self._stopped = True
        if self._starter is not None:
            self._starter.join(timeout_s * 0.3)  # a child still starting is ended by its starter
        if self._process.pid is not None:
            self._process.join(timeout_s * 0.6)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout_s * 0.2)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout_s * 0.2)
        # A killed child cannot unlink its frame block: the window does.
        self._reader.close(unlink=self._process.exitcode not in (0, None))
        for channel in (self._commands, self._events):
            channel.cancel_join_thread()  # never block the window on a pipe nobody reads
            channel.close()
        return not self.alive
