"""Tests of the synthetic tasks: batch layout, seeding, statistics and baselines.

Each generator is checked against its published definition, recomputing targets from the
inputs; each closed-form baseline is checked against a simulated memoryless predictor
scored with the task's own ``loss`` and ``metric``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from gradviz.tasks import (
    GENERATED_TASKS,
    MANY_TO_MANY,
    MANY_TO_ONE,
    TASKS,
    Adding1997Task,
    AddingTask,
    CopyTask,
    NamesTask,
    Task,
    TemporalOrderTask,
    make_task,
)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def symbols_of(x: torch.Tensor) -> torch.Tensor:
    """Decode one-hot inputs (T, B, V) to ids (T, B), checking they are one-hot."""
    assert torch.all(x.sum(-1) == 1) and torch.all((x == 0) | (x == 1))
    return x.argmax(-1)


def assert_near(actual: torch.Tensor, expected: torch.Tensor | float, atol: float) -> None:
    """Elementwise |actual - expected| <= atol (cheaper to import than torch.testing)."""
    error = (actual - expected).abs().max().item()
    assert error <= atol, f"max |error| {error:.3g} > {atol:g} in {actual.tolist()}"


# --- the contract shared by every task --------------------------------------------------


def test_registry_order_and_names() -> None:
    assert list(TASKS) == ["adding", "adding1997", "copy", "order", "names", "reviews", "text"]
    assert list(GENERATED_TASKS) == [name for name in TASKS if name != "text"]
    for name, cls in TASKS.items():
        assert cls.name == name
        assert cls.title and cls.description.endswith(".")
        assert cls.description.count(". ") == 0, "description should be one sentence"


@pytest.mark.parametrize("name", GENERATED_TASKS)
@pytest.mark.parametrize("seq_len", [20, 2000])
def test_shapes_and_dtypes(name: str, seq_len: int) -> None:
    task = make_task(name, seq_len)
    x, y = task.generate(8, seeded(0))
    if task.vocab_size is not None:  # token ids, embedded by the model
        assert x.shape == (task.total_steps, 8) and x.dtype == torch.int64
        assert 0 <= int(x.min()) and int(x.max()) < task.vocab_size
    else:
        assert x.shape == (task.total_steps, 8, task.input_size)
        assert x.dtype == torch.float32
    if task.loss_name == "MSE":
        assert y.shape == (8, 1) and y.dtype == torch.float32
    elif task.kind == MANY_TO_ONE:
        assert y.shape == (8,) and y.dtype == torch.long
    else:
        assert y.shape == (task.total_steps, 8) and y.dtype == torch.long
    if y.dtype == torch.long:
        assert 0 <= int(y.min()) and int(y.max()) < task.output_size


@pytest.mark.parametrize("name", GENERATED_TASKS)
def test_model_outputs_fit_readout_loss_and_metric(name: str) -> None:
    task = make_task(name, 30)
    _, y = task.generate(5, seeded(1))
    outputs = torch.randn(task.total_steps, 5, task.output_size, requires_grad=True)
    prediction = task.readout(outputs)
    expected = (5, task.output_size) if task.kind == MANY_TO_ONE else outputs.shape
    assert prediction.shape == expected
    loss = task.loss(prediction, y)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()  # the loss must be differentiable w.r.t. the model's outputs
    metric = task.metric(prediction, y)  # on the prediction's device: copied with the loss
    assert metric.ndim == 0 and metric.dtype == torch.float32 and 0.0 <= float(metric) <= 1.0


@pytest.mark.parametrize("name", GENERATED_TASKS)
def test_same_seed_same_batch_other_seed_other_batch(name: str) -> None:
    task = make_task(name, 40)
    x1, y1 = task.generate(16, seeded(7))
    x2, y2 = task.generate(16, seeded(7))
    x3, y3 = task.generate(16, seeded(8))
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)
    assert not torch.equal(y1, y3)


@pytest.mark.parametrize("name", GENERATED_TASKS)
def test_generate_moves_batch_to_device(name: str) -> None:
    # The meta device needs no accelerator but proves the tensors are moved.
    x, y = make_task(name, 20).generate(4, seeded(0), device="meta")
    assert x.device.type == "meta" and y.device.type == "meta"


@pytest.mark.parametrize("name", GENERATED_TASKS)
def test_too_short_sequences_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="seq_len"):
        make_task(name, 1)


def test_make_task_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"unknown task 'adder'; choose one of adding, "):
        make_task("adder", 50)


def test_make_task_passes_distance_only_to_names() -> None:
    names = make_task("names", 50, distance=7)
    assert isinstance(names, NamesTask) and names.distance == 7
    # Other tasks ignore distance, even one that would be invalid for names.
    assert isinstance(make_task("adding", 50, distance=500), AddingTask)


# --- baselines against a simulated memoryless predictor ---------------------------------


def memoryless_prediction(task: Task, reference: torch.Tensor, batch: int) -> torch.Tensor:
    """The best predictor that ignores the inputs, fitted on a reference batch of targets.

    Regression: the mean target. Classification: log of the class frequencies, per step for
    many-to-many tasks (it may know the position, not the inputs).
    """
    if reference.dtype != torch.long:
        return reference.mean(0, keepdim=True).expand(batch, -1)
    classes = torch.nn.functional.one_hot(reference, task.output_size).float()
    if task.kind == MANY_TO_ONE:
        frequency = classes.mean(0).expand(batch, -1)  # (B, C)
    else:
        frequency = classes.mean(1, keepdim=True).expand(-1, batch, -1)  # (T, B, C)
    return frequency.clamp_min(1e-12).log()


def estimate(
    score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor | float],
    prediction: torch.Tensor,
    target: torch.Tensor,
    batch_dim: int,
    chunks: int = 20,
) -> tuple[float, float]:
    """Mean score over equal batch chunks and its standard error."""
    values = torch.tensor(
        [
            float(score(p, t))
            for p, t in zip(
                prediction.chunk(chunks, batch_dim), target.chunk(chunks, batch_dim), strict=True
            )
        ],
        dtype=torch.float64,
    )
    return values.mean().item(), values.std().item() / math.sqrt(chunks)


BASELINE_CASES = {
    "adding T=11": lambda: AddingTask(11),
    "adding T=100": lambda: AddingTask(100),
    "adding1997 T=4": lambda: Adding1997Task(4),
    "adding1997 T=8": lambda: Adding1997Task(8),
    "adding1997 T=20": lambda: Adding1997Task(20),
    "adding1997 T=100": lambda: Adding1997Task(100),
    "copy T=10": lambda: CopyTask(10),
    "copy T=50": lambda: CopyTask(50),
    "order T=30": lambda: TemporalOrderTask(30),
    "names T=40": lambda: NamesTask(40),
    "names T=30 d=20 p=0.3": lambda: NamesTask(30, distance=20, title_probability=0.3),
}


@pytest.mark.parametrize("make", BASELINE_CASES.values(), ids=list(BASELINE_CASES))
def test_baseline_matches_simulated_memoryless_predictor(make: Callable[[], Task]) -> None:
    task = make()
    # One-hot copy batches are large; its baseline metric is also the least noisy.
    batch = 8000 if isinstance(task, CopyTask) else 20_000
    _, reference = task.generate(batch, seeded(100))
    _, target = task.generate(batch, seeded(101))
    prediction = memoryless_prediction(task, reference, batch)
    batch_dim = 0 if task.kind == MANY_TO_ONE else 1
    baseline = task.baseline()
    # 5 standard errors, plus a little slack for fitting the predictor on a finite batch.
    loss, loss_se = estimate(task.loss, prediction, target, batch_dim)
    assert loss == pytest.approx(baseline.loss, abs=5 * loss_se + 2e-3 * baseline.loss)
    metric, metric_se = estimate(task.metric, prediction, target, batch_dim)
    assert metric == pytest.approx(baseline.metric, abs=5 * metric_se + 1e-3)
    assert baseline.explanation


def test_published_baseline_values() -> None:
    adding = AddingTask(50).baseline()
    assert adding.loss == pytest.approx(1 / 6, abs=1e-12)
    assert adding.metric == pytest.approx(1 - 0.96**2, abs=1e-12)
    for steps in (10, 100, 1000):
        copy = CopyTask(steps).baseline()
        assert copy.loss == pytest.approx(10 * math.log(8) / (steps + 20), abs=1e-12)
        assert copy.metric == pytest.approx(1 / 8)
    order = TemporalOrderTask(100).baseline()
    assert (order.loss, order.metric) == (pytest.approx(math.log(4)), pytest.approx(0.25))
    names = NamesTask(100, distance=10).baseline()
    entropy = -(0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    assert names.loss == pytest.approx(0.9 * entropy, abs=1e-12)
    assert names.metric == pytest.approx((10 + 90 * 0.9) / 100, abs=1e-12)


def test_adding1997_baseline_accounts_for_a_zeroed_first_pair() -> None:
    task = Adding1997Task(100)
    p_zeroed = 1 / 10 + (9 / 10) / 49
    assert task.first_pair_marked_probability() == pytest.approx(p_zeroed)
    # Var(X) = 1/3 per random summand; y = 0.5 + (X1 + X2)/4.
    assert task.baseline().loss == pytest.approx((2 - p_zeroed) / 3 / 16, abs=1e-12)
    # |y - 0.5| < 0.04 means |X1 + X2| < 0.16: uniform or triangular sum.
    expected = p_zeroed * 0.16 + (1 - p_zeroed) * (1 - 0.92**2)
    assert task.baseline().metric == pytest.approx(expected, abs=1e-12)


# --- adding problems --------------------------------------------------------------------


def test_adding_layout_and_target() -> None:
    steps, batch = 11, 20_000
    x, y = AddingTask(steps).generate(batch, seeded(3))
    values, markers = x[..., 0], x[..., 1]
    assert torch.all((values >= 0) & (values < 1))
    assert abs(values.mean().item() - 0.5) < 0.01
    assert torch.all((markers == 0) | (markers == 1))
    half = steps // 2
    assert torch.all(markers[:half].sum(0) == 1) and torch.all(markers[half:].sum(0) == 1)
    assert_near(y[:, 0], (values * markers).sum(0), atol=1e-6)
    # Each marker is uniform over its half.
    first = markers[:half].argmax(0).bincount(minlength=half) / batch
    second = markers[half:].argmax(0).bincount(minlength=steps - half) / batch
    assert_near(first, 1 / half, atol=0.02)
    assert_near(second, 1 / (steps - half), atol=0.02)


@pytest.mark.parametrize("steps", [4, 8, 20, 100])
def test_adding1997_layout_and_target(steps: int) -> None:
    batch = 20_000
    task = Adding1997Task(steps)
    x, y = task.generate(batch, seeded(4))
    values, markers = x[..., 0], x[..., 1]
    assert torch.all((values >= -1) & (values <= 1))
    marked = markers == 1
    assert torch.all(marked.sum(0) == 2)
    # -1 on the first and final pair unless marked, 0 everywhere else.
    for end in (0, -1):
        assert torch.all(torch.where(marked[end], markers[end] == 1, markers[end] == -1))
    assert torch.all(torch.where(marked[1:-1], True, markers[1:-1] == 0))
    positions = marked.float().argsort(dim=0, descending=True, stable=True)[:2].sort(0).values
    # One mark among the first min(10, T) pairs, the other among the first T//2 - 1
    # unmarked pairs, so at index T//2 - 1 at most.
    assert torch.all(positions[0] < min(10, steps))
    assert torch.all(positions[0] <= steps // 2 - 1)
    assert torch.all(positions[1] < max(min(10, steps), steps // 2))
    # A marked first pair has its value zeroed, and that happens as often as predicted.
    assert torch.all(values[0][marked[0]] == 0)
    p_zeroed = marked[0].float().mean().item()
    assert abs(p_zeroed - task.first_pair_marked_probability()) < 0.015
    assert_near(y[:, 0], 0.5 + (values * marked).sum(0) / 4, atol=1e-6)


def test_adding1997_needs_four_steps() -> None:
    with pytest.raises(ValueError, match="adding1997 needs seq_len of at least 4 .*got 3"):
        Adding1997Task(3)


# --- copy ---------------------------------------------------------------------------------


def test_copy_layout_and_target() -> None:
    steps, batch = 30, 8000
    task = CopyTask(steps)
    assert task.total_steps == steps + 20
    x, y = task.generate(batch, seeded(5))
    symbols = symbols_of(x)
    data = symbols[:10]
    assert torch.all((data >= 1) & (data <= 8))
    assert torch.all(symbols[10 : steps + 9] == 0)
    assert torch.all(symbols[steps + 9] == 9)
    assert torch.all(symbols[steps + 10 :] == 0)
    assert torch.all(y[: steps + 10] == 0)
    assert torch.equal(y[steps + 10 :], data)
    frequency = data.flatten().bincount(minlength=9)[1:] / data.numel()
    assert_near(frequency, 1 / 8, atol=0.01)


def test_copy_metric_scores_only_the_answer_steps() -> None:
    task = CopyTask(10)
    _, y = task.generate(64, seeded(6))
    perfect = torch.nn.functional.one_hot(y, task.output_size).float()
    assert task.metric(perfect, y) == 1.0
    perfect[:-10] = 0  # wrong or tied anywhere before the answer: recall unaffected
    perfect[:-10, :, 5] = 1
    assert task.metric(perfect, y) == 1.0
    perfect[-1] = perfect[-1].roll(1, dims=-1)
    assert float(task.metric(perfect, y)) == pytest.approx(0.9)


# --- temporal order -----------------------------------------------------------------------


def test_temporal_order_layout_classes_and_balance() -> None:
    steps, batch = 100, 8000
    task = TemporalOrderTask(steps)
    x, y = task.generate(batch, seeded(7))
    symbols = symbols_of(x)
    start, end, sym_x, sym_y = (task.symbols.index(s) for s in "EBXY")
    assert torch.all(symbols[0] == start) and torch.all(symbols[-1] == end)
    relevant = (symbols == sym_x) | (symbols == sym_y)
    assert torch.all(relevant.sum(0) == 2)
    inner = symbols[1:-1][~relevant[1:-1]]
    assert set(inner.unique().tolist()) == {task.symbols.index(s) for s in "abcd"}
    t1 = relevant.float().argmax(0)
    t2 = steps - 1 - relevant.flip(0).float().argmax(0)
    # The paper's windows for T = 100, each position used.
    assert set(t1.tolist()) == set(range(10, 21)) and set(t2.tolist()) == set(range(50, 61))
    columns = torch.arange(batch)
    first_is_y = symbols[t1, columns] == sym_y
    second_is_y = symbols[t2, columns] == sym_y
    names = [task.classes[int(c)] for c in y[:50]]
    expected = ["XY"[int(a)] + "XY"[int(b)] for a, b in zip(first_is_y[:50], second_is_y[:50], strict=True)]
    assert names == expected
    assert torch.equal(y, 2 * first_is_y.long() + second_is_y.long())
    balance = y.bincount(minlength=4) / batch
    assert_near(balance, 0.25, atol=0.02)


def test_temporal_order_shortest_sequence() -> None:
    x, _ = TemporalOrderTask(10).generate(500, seeded(8))
    symbols = symbols_of(x)
    assert torch.all(((symbols == 2) | (symbols == 3)).sum(0) == 2)
    with pytest.raises(ValueError, match=r"order needs seq_len of at least 10 .*got 9"):
        TemporalOrderTask(9)


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(("distance", "p"), [(10, 0.1), (1, 0.3), (39, 0.5)])
def test_names_label_is_the_shifted_title_indicator(distance: int, p: float) -> None:
    steps, batch = 40, 5000
    task = NamesTask(steps, distance=distance, title_probability=p)
    x, y = task.generate(batch, seeded(9))
    words = symbols_of(x)
    is_title = words == 0
    assert torch.all(y[:distance] == 0)
    assert torch.equal(y[distance:].bool(), is_title[:-distance])
    assert abs(is_title.float().mean().item() - p) < 0.01
    others = words[~is_title].bincount(minlength=8)[1:] / (~is_title).sum()
    assert_near(others, 1 / 7, atol=0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"distance": 0}, "distance must be at least 1 and smaller than seq_len \\(20\\), got 0"),
        ({"distance": 20}, "got 20"),
        ({"title_probability": 0.0}, "title_probability must lie strictly between 0 and 1"),
        ({"title_probability": 1.0}, "got 1.0"),
    ],
)
def test_names_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NamesTask(20, **kwargs)


def test_many_to_many_kinds() -> None:
    assert {n for n, c in TASKS.items() if c.kind == MANY_TO_MANY} == {"copy", "names"}
