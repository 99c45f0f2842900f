"""The window's handle on the trainer process: start it, send commands, collect events and
frames, notice its death, and end it.

The child never inherits the window's process: it comes from a fork server or from ``spawn``
(``gradviz/forkserver.py``). Either way it has no Qt, no threads of the window's and no CUDA context
from it, so torch and, on a GPU, CUDA live only in the trainer. This module imports no torch:
the child's first act (``_child_main``) imports the trainer, so that a child that cannot (a
broken install under spawn) says why instead of dying with a traceback nobody sees.
"""

from __future__ import annotations

import queue
import threading
from multiprocessing import util as mp_util

from gradviz.config import ConfigError, RunConfig
from gradviz.forkserver import child_setup, context, death_signal_safe, describe_exit, start_method, unpicklable
from gradviz.session import protocol as p
from gradviz.session.framebuf import FrameReader
from gradviz.threads import threads_override

STOP_TIMEOUT_S = 2.0
# After its window has gone, the trainer finishes the step under way (and unlinks its frame
# block) for at most this long before its parent watch ends it.
PARENT_GONE_GRACE_S = 2.0


# Trainers whose start is under way in a starter thread. The child opens its queues'
# semaphores by name once the fork server has forked it, and the window's process unlinks them
# as it exits: a window closed 0.1-1 s after opening, its process exiting while the trainer
# still started, left a child that died with a SemLock FileNotFoundError traceback on stderr.
# At exit every start still under way is settled (the child ended) before the semaphores are
# unlinked: their finalizers run at priority 0, higher priorities first.
_STARTING: set[TrainerProcess] = set()


def _settle_starting() -> None:
    for trainer in list(_STARTING):
        trainer.settle()


mp_util.Finalize(None, _settle_starting, exitpriority=10)


def _child_main(failure, config: RunConfig, commands, events, frame_wanted, threads: int | None,
                death_signal: bool) -> None:
    """The trainer process's entry point (module level, so that spawn can pickle it). The
    window is watched before torch is imported (seconds, in a spawned child)."""
    parent = child_setup(None, death_signal, PARENT_GONE_GRACE_S)
    try:
        from gradviz.session.trainer import serve
    except BaseException as exc:  # noqa: BLE001 - told to the window, which shows it
        failure.send(f"it could not import the trainer ({type(exc).__name__}: {exc})")
        failure.close()
        raise SystemExit(1) from None
    failure.close()
    serve(config, commands, events, frame_wanted, threads, None if parent is None else parent.is_set)


def _threads_override() -> int | None:
    try:
        return threads_override()
    except ConfigError:  # refused by the command line already; the policy chooses
        return None


class TrainerProcess:
    """One trainer child process; a new one for every fresh start (after a death, say).

    ``threads`` fixes torch's threads (a test, a benchmark; ``GRADVIZ_TRAINER_THREADS``, read
    here: a fork server's children see the environment the server started with); by default the
    trainer chooses them for each run it builds (``gradviz.threads``), leaving the window a core.
    """

    def __init__(self, config: RunConfig, threads: int | None = None, method: str | None = None):
        self.method = method or start_method()
        self._context = context(self.method)
        self._commands = self._context.Queue()
        self._events = self._context.Queue()
        self._frame_wanted = self._context.Event()
        self._failure, self._failure_end = self._context.Pipe(duplex=False)
        self.config = config
        self.threads = threads if threads is not None else _threads_override()
        self._process = None
        self._reader = FrameReader()
        self._stopped = False
        self._starter: threading.Thread | None = None
        self._start_error: str | None = None

    def start(self) -> None:
        """Start the child without blocking: under forkserver the first start waits for the
        server to import torch (seconds), which must not freeze the window, so a thread does it;
        spawn returns at once (the new interpreter imports torch on its own), and starting in
        the caller's thread lets a child started from the main thread use the kernel's
        parent-death signal. Commands sent meanwhile wait in the queue."""
        self._frame_wanted.set()
        self._process = self._context.Process(
            target=_child_main,
            args=(self._failure_end, self.config, self._commands, self._events, self._frame_wanted, self.threads,
                  death_signal_safe(self.method)),
            name="gradviz-trainer",
            daemon=True,  # ended by multiprocessing at the window's exit, should stop() not run
        )
        if self.method == "spawn":
            self._start()
            return
        self._starter = threading.Thread(target=self._start, name="gradviz-trainer-start", daemon=True)
        _STARTING.add(self)
        self._starter.start()

    def _start(self) -> None:
        try:
            self._process.start()
        except Exception as exc:  # noqa: BLE001 - reported as the cause of death
            why = unpicklable(self.config, "its run settings") or f"{type(exc).__name__}: {exc}"
            self._start_error = why
            _STARTING.discard(self)
            return
        finally:
            self._failure_end.close()  # the child's copy is now the only one: its death ends the pipe
        if self._stopped:  # closed while starting: end it at once
            self._process.kill()
            self._process.join(1.0)
        _STARTING.discard(self)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def starting(self) -> bool:
        return self._starter is not None and self._starter.is_alive()

    @property
    def alive(self) -> bool:
        """Running, or still starting."""
        return self.starting or (self.pid is not None and self._process.is_alive())

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
        if self.pid is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(1.0)

    def cause_of_death(self) -> str:
        """Why the process ended, in words."""
        if self._start_error is not None:
            return f"the trainer process could not start: {self._start_error}"
        failure = self._child_failure()
        if failure is not None:
            return f"the trainer process could not start: {failure}"
        return f"the trainer process {describe_exit(None if self._process is None else self._process.exitcode)}"

    def _child_failure(self) -> str | None:
        """What the child said before it gave up starting, if it said anything."""
        try:
            if self._failure.poll():
                return self._failure.recv()
        except (EOFError, OSError):  # it started (closed its end) or died: nothing to say
            pass
        return None

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """End the child within ``timeout_s``: asked first, then terminated, then killed."""
        if not self._stopped:
            self._commands.put(p.Quit())
        self._stopped = True
        if self._starter is not None:
            self._starter.join(timeout_s * 0.3)  # a child still starting is ended by its starter
        if self.pid is not None:
            self._process.join(timeout_s * 0.6)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout_s * 0.2)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout_s * 0.2)
        # A killed child cannot unlink its frame block: the window does.
        self._reader.close(unlink=self._process is None or self._process.exitcode not in (0, None))
        for channel in (self._commands, self._events):
            channel.cancel_join_thread()  # never block the window on a pipe nobody reads
            channel.close()
        return not self.alive
