"""A run: one task, 1 to 3 models trained on identical batches, as a generator of records.

``Run.steps()`` yields a ``StepRecord`` after every training step and can be stopped or
paused cooperatively through a ``RunControl`` (checked between steps, never mid-step). The
CLI, the tests and the GUI's worker thread all drive training through this one class.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import torch

from gradviz import threads
from gradviz.allocator import keep_freed_memory, release_freed_memory
from gradviz.budget import check_run
from gradviz.config import RunConfig, TrainConfig
from gradviz.engine.device import (
    choose_device,
    describe_device,
    device_fault,
    device_free_bytes,
    prepare_device,
    prepare_thread,
)
from gradviz.engine.learner import Learner
from gradviz.engine.solved import SolvedTracker
from gradviz.probes.records import StepRecord
from gradviz.tasks import Task, task_from_config
from gradviz.tasks.textdata import Progress


class RunControl:
    """Thread-safe stop and pause flags, checked between training steps."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused loop so it can see the stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> None:
        while not self._running.wait(0.1):
            pass


def build_task(config: RunConfig, progress: Progress | None = None) -> Task:
    """The run's task; the text task reads (or reuses) its file, reporting ``progress``, and
    splits it with the run's seed."""
    return task_from_config(config.task, config.seed, progress)


class Run:
    """Trains the models of ``config`` side by side, step by step."""

    def __init__(self, config: RunConfig, progress: Progress | None = None):
        self.device = choose_device(config.device)
        # What the last run freed goes back to the system, and this run's freed blocks are kept
        # for its next step (gradviz/allocator.py: page faults cost a fused step up to 40%).
        release_freed_memory()
        keep_freed_memory()
        # MemoryRefused before anything is allocated: the host's memory, and a GPU's.
        check_run(config, device_free=device_free_bytes(self.device), device_name=describe_device(self.device))
        self.config = config
        prepare_device(self.device)
        self.task = build_task(config, progress)  # progress: reading a text task's file
        self.learners = [Learner(setup, self.task, config.seed, self.device, threads.batch_parts(config, setup))
                         for setup in config.models]
        # Batches come from their own seeded CPU generator: the same on every device.
        self.generator = torch.Generator().manual_seed(config.seed)
        self.step = 0
        # solved_at_sequences (issue 23): a held-out check every ~1024 sequences (engine/solved.py)
        self.solved = SolvedTracker(self.task, config.task.batch, len(config.models), self.device)

    @property
    def labels(self) -> list[str]:
        return [setup.label for setup in self.config.models]

    def train_step(self, record: bool | None = None, extras: frozenset[str] = frozenset()) -> StepRecord:
        """One step for every model on one shared batch; records probes every record_every,
        and at once when ``extras`` asks for more of this step (``Learner.step``)."""
        if extras:
            record = True
        if record is None:
            record = self.step % self.config.record_every == 0
        # Flushing subnormals is a per-thread CPU flag: set it in the thread that trains, which
        # need not be the one that built the Run (the GUI's worker thread, say).
        prepare_thread(self.device)
        threads.tick()  # the adaptive thread policy looks at the machine (about once a second)
        x, y = self.task.generate(self.config.task.batch, self.generator, self.device)
        sample = self.config.probe_sample
        models = []
        for label, learner in zip(self.labels, self.learners, strict=True):
            try:
                models.append(learner.step(x, y, record, sample, extras))
            except RuntimeError as exc:  # NotImplementedError and torch's OutOfMemoryError too
                during = f"{label}'s {'recorded' if record else 'fused'} step {self.step}"
                fault = device_fault(exc, self.device, during)
                if fault is None:
                    raise
                raise fault from exc
        result = StepRecord(self.step, tuple(models))
        self.solved.after_step(result, self.learners)  # issue 23: solved_at_sequences
        self.step += 1
        return result

    def steps(self, count: int | None = None, control: RunControl | None = None) -> Iterator[StepRecord]:
        """Yield a record per step until ``count`` steps, a stop, or every model diverged."""
        done = 0
        while count is None or done < count:
            if control is not None:
                control.wait_while_paused()
                if control.stopped:
                    return
            record = self.train_step()
            done += 1
            yield record
            if self.all_diverged:
                return

    def divergence_message(self, record: StepRecord) -> str | None:
        """A line naming the models that diverged at this step, or None. The other models
        train on: only a diverged model stops (its later records are NaN)."""
        names = [
            f"{self.labels[index]} (gradient norm {record.models[index].grad_norm:.3g})"
            for index in record.newly_diverged
        ]
        if not names:
            return None
        going_on = [t for t in self.learners if not t.diverged]
        rest = "; the others train on" if going_on else ""
        return f"diverged at step {record.step}: {', '.join(names)}{rest}"

    @property
    def all_diverged(self) -> bool:
        return all(learner.diverged for learner in self.learners)

    def set_train(self, index: int, train: TrainConfig) -> None:
        """Apply learning rate / clipping / optimiser changes to model ``index`` between steps."""
        self.learners[index].set_train(train)
