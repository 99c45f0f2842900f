"""Work split into parts (gradviz/workers.py): every part with one intra-op thread and the
caller's subnormal flushing, results in order, errors raised once nothing runs, no waiting on
the pool from inside it."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from gradviz import workers


def _subnormal_kept() -> bool:
    return bool((torch.tensor([1e-39], dtype=torch.float32) * 1.0).item() != 0.0)


def _state() -> tuple[int, bool, int]:
    return threading.get_ident(), _subnormal_kept(), torch.get_num_threads()


@pytest.mark.parametrize("flush", [True, False])
def test_every_part_computes_in_the_callers_arithmetic(flush: bool) -> None:
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    before = torch.get_num_threads()
    try:
        workers.flush_subnormals(flush)
        torch.set_num_threads(2)
        states = workers.run_parts([_state, _state, _state])
    finally:
        workers.flush_subnormals(True)
        torch.set_num_threads(before)
    assert states[0][0] == threading.get_ident() and states[2][0] != threading.get_ident()
    assert [kept for _, kept, _ in states] == [not flush] * 3  # the pool's threads too
    assert [count for _, _, count in states] == [1, 1, 1]


def test_results_come_back_in_the_parts_order_whichever_finishes_first() -> None:
    def part(index: int, delay: float) -> int:
        time.sleep(delay)
        return index

    results = workers.run_parts([lambda: part(0, 0.0), lambda: part(1, 0.05), lambda: part(2, 0.0)])
    assert results == [0, 1, 2]


def test_a_parts_error_is_raised_once_no_part_runs_and_the_count_is_restored() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.1)
        finished.set()

    def failing() -> None:
        raise ValueError("a part failed")

    before = torch.get_num_threads()
    with pytest.raises(ValueError, match="a part failed"):
        workers.run_parts([failing, slow])
    assert finished.is_set()  # the other part had finished before the error came out
    assert torch.get_num_threads() == before


def test_work_split_on_a_worker_runs_there_and_never_waits_on_its_own_pool() -> None:
    def nested() -> list:
        return workers.run_parts([_state, _state])  # from a pool thread

    results = workers.run_parts([lambda: None, nested])
    inner = results[1]
    assert len({thread for thread, _, _ in inner}) == 1  # both on that worker, one after another
    assert inner[0][0] != threading.get_ident()
