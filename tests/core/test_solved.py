"""solved_at_sequences: the training sequences seen when every one of 2560 held-out sequences was
first within the task's tolerance; in the run file, ``gradviz train``'s summary and the header."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from gradviz.cli import main
from gradviz.config import RunConfig, with_overrides
from gradviz.engine.evaluate import count_outside_tolerance, has_tolerance
from gradviz.engine.run import Run
from gradviz.engine.solved import HELD_OUT_SEQUENCES, check_every, held_out_batches
from gradviz.io.runfile import load_run
from gradviz.session.frames import frame_from_saved
from gradviz.session.headline import describe_solved, headline
from gradviz.tasks import make_task

# Measured: a 16-unit LSTM at Adam 0.03 solves adding1997 at T = 4 after 160 steps of 64 (seed 0).
EASY = {"task": "adding1997", "seq_len": 4, "hidden": 16, "lr": 0.03, "batch": 64, "device": "cpu",
        "record_every": 50}


def cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_only_the_adding_problems_have_a_tolerance() -> None:
    assert [name for name in ("adding", "adding1997", "copy", "order", "names") if
            has_tolerance(make_task(name, 20))] == ["adding", "adding1997"]


def test_the_held_out_set_is_2560_fixed_sequences_apart_from_training() -> None:
    task = make_task("adding1997", 8)
    first, again = (list(held_out_batches(task, torch.device("cpu"))) for _ in range(2))
    assert sum(len(y) for _, y in first) == HELD_OUT_SEQUENCES
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, again, strict=True))
    training = task.generate(64, torch.Generator().manual_seed(0))[0]
    assert not torch.equal(training, first[0][0][:, :64])


def test_a_model_that_outputs_the_target_is_solved_and_a_constant_one_is_not() -> None:
    task = make_task("adding", 8)
    batches = list(held_out_batches(task, torch.device("cpu")))

    class Oracle(torch.nn.Module):  # reads the two marked values off the input: exact
        def forward(self, x):
            return (x[..., :1] * x[..., 1:]).sum(0, keepdim=True).expand(x.shape[0], -1, -1), None, None

        def head(self, h):
            return h

    oracle = Oracle()
    assert count_outside_tolerance(oracle, task, batches) == 0
    oracle.head = lambda h: torch.ones_like(h)  # the memoryless mean: right only near y = 1
    wrong = count_outside_tolerance(oracle, task, batches)
    # The baseline's hit rate is P(|y - 1| < 0.04) for y the sum of two U[0, 1]: about 7.8%.
    assert abs(1 - wrong / HELD_OUT_SEQUENCES - task.baseline().metric) < 0.02


def test_long_sequences_are_checked_in_small_chunks_of_the_same_sequences() -> None:
    task = make_task("adding", 1000)
    small = list(held_out_batches(task, torch.device("cpu"), hidden=64))  # 2^22 / (1000 x 64): 65
    assert max(len(y) for _, y in small) == 65 and sum(len(y) for _, y in small) == HELD_OUT_SEQUENCES
    whole = torch.cat([y for _, y in held_out_batches(task, torch.device("cpu"), hidden=1)])
    torch.testing.assert_close(torch.cat([y for _, y in small]), whole)


def test_check_cadence_is_about_1024_sequences() -> None:
    assert [check_every(b) for b in (1, 16, 64, 100, 4096)] == [1024, 64, 16, 10, 1]


def test_train_writes_prints_and_heads_solved_at(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.npz"
    code, stdout, _ = cli(capsys, "train", "--task", "adding1997", "--seq-len", "4", "--hidden", "16", "--lr", "0.03",
                          "--device", "cpu", "--steps", "300", "--record-every", "50", "--quiet", "--out", out)
    assert code == 0
    solved = load_run(out).arrays["solved_at_sequences"]
    assert solved.shape == (1,) and math.isfinite(solved[0])
    # A check every 16 steps of 64: the number is a multiple of 1024 sequences, within the run.
    assert solved[0] % 1024 == 0 and 0 < solved[0] <= 300 * 64
    assert f"solved_at_sequences: LSTM {int(solved[0]):,} (every one of 2560 held-out" in stdout
    assert "checked every 16 steps, so at most 1,024 sequences late" in stdout
    assert describe_solved(solved[0]) in stdout  # the headline the window shows, printed by train
    # Replayed: the header says it only from the recorded step that had seen that many sequences.
    saved = load_run(out)
    steps = saved.arrays["step"]
    for index, step in enumerate(steps):
        view = frame_from_saved(saved, index).models[0]
        assert math.isfinite(view.solved_at) == ((step + 1) * 64 >= solved[0])


def test_the_run_is_checked_against_held_out_sequences_not_its_batches() -> None:
    config = with_overrides(RunConfig(), EASY)
    run = Run(config)
    for _ in range(300):
        run.train_step(record=False)
        if math.isfinite(run.solved.solved_at[0]):
            break
    solved = run.solved.solved_at[0]
    assert math.isfinite(solved) and solved == (run.step) * 64
    # Right then: every held-out sequence within 0.04.
    batches = held_out_batches(run.task, run.device)
    assert count_outside_tolerance(run.learners[0].model, run.task, batches) == 0


def test_tasks_without_a_tolerance_write_no_field(tmp_path: Path, capsys) -> None:
    out = tmp_path / "copy.npz"
    code, stdout, _ = cli(capsys, "train", "--task", "copy", "--seq-len", "4", "--hidden", "4", "--batch", "4",
                          "--device", "cpu", "--steps", "3", "--quiet", "--out", out)
    assert code == 0 and "solved_at_sequences" not in load_run(out).arrays
    assert "solved_at" not in stdout


def test_an_older_run_file_without_the_field_opens(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.npz"
    assert cli(capsys, "train", "--task", "adding", "--seq-len", "6", "--hidden", "4", "--batch", "4",
               "--device", "cpu", "--steps", "4", "--record-every", "2", "--quiet", "--out", out)[0] == 0
    arrays = dict(np.load(out))
    del arrays["solved_at_sequences"]
    np.savez(tmp_path / "old.npz", **arrays)
    view = frame_from_saved(load_run(tmp_path / "old.npz")).models[0]
    assert math.isnan(view.solved_at)


@pytest.mark.parametrize("value,words", [(121_536.0, "solved at 121k sequences"),
                                         (9_984.0, "solved at 9,984 sequences"), (math.nan, None)])
def test_the_header_says_solved_at(value: float, words: str | None) -> None:
    assert describe_solved(value) == words


def test_the_headline_carries_solved_at(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run.npz"
    assert cli(capsys, "train", "--task", "adding", "--seq-len", "6", "--hidden", "4", "--batch", "4",
               "--device", "cpu", "--steps", "4", "--record-every", "2", "--quiet", "--out", out)[0] == 0
    saved = load_run(out)
    saved.arrays["solved_at_sequences"] = np.array([8.0])  # as if solved after 2 steps of 4
    view = frame_from_saved(saved).models[0]
    losses = saved.arrays["train_loss"][0]
    assert "solved at 8 sequences" in headline(view, losses, 0.1).facts
    saved.arrays["solved_at_sequences"] = np.array([np.nan])
    assert not any("solved" in fact for fact in headline(frame_from_saved(saved).models[0], losses, 0.1).facts)


def test_live_frames_carry_solved_at_and_a_continued_run_keeps_it() -> None:
    from gradviz.probes.history import RunHistory
    from gradviz.session.frames import frame_from_history

    config = with_overrides(RunConfig(), {**EASY, "record_every": 1})
    run = Run(config)
    history = RunHistory(1)
    history.add(run.train_step())
    latest = [history.latest_probed(0)]
    assert math.isnan(frame_from_history(history, config, latest, 0, 1, "done", 0.0).models[0].solved_at)
    frame = frame_from_history(history, config, latest, 0, 1, "done", 0.0, [4096.0])
    assert frame.models[0].solved_at == 4096.0
    run.solved.restore(np.array([4096.0]))  # what the window's learner does with a reopened run
    assert run.solved.solved_at == [4096.0] and run.solved.reported() == [4096.0]
    run.solved.restore(np.array([1.0, 2.0]))  # another run's length: ignored
    assert run.solved.solved_at == [4096.0]
