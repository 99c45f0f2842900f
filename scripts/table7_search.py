"""Measure how many training sequences an LSTM needs to solve the 1997 adding problem (Table 7).

One run per invocation, printed as one JSON line: the sequences seen when every one of 2560
held-out sequences (lengths drawn from [T, T + T/10], as the paper's) was first within 0.04,
checked every ``--check`` sequences (so the number is at most that late), and when the paper's
own stop rule first held (mean training error below 0.01 and the 2000 most recent training
sequences within 0.04). Run it alone for timings; one torch thread.

    python scripts/table7_search.py --optimizer sgd --lr 0.5 --batch 1 --hidden 4 --no-forget
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import time

import torch

from gradviz.config import ModelConfig
from gradviz.models import build_model
from gradviz.tasks.adding import Adding1997Task


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--hidden", type=int, default=4)
    p.add_argument("--no-forget", action="store_true")
    p.add_argument("--forget-bias", type=float, default=1.0)
    p.add_argument("--input-bias", default="", help="comma list cycled over units, e.g. -3,-3,-6,-6")
    p.add_argument("--output-bias", default="")
    p.add_argument("--init", type=float, default=0.0, help="if > 0: every weight U(-a, a) (paper: 0.1)")
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--fixed-length", action="store_true", help="every sequence exactly T long")
    p.add_argument("--max", type=int, default=256_000)
    p.add_argument("--check", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    task = Adding1997Task(a.T)
    config = ModelConfig(kind="lstm", hidden=a.hidden, forget_gate=not a.no_forget, forget_bias=a.forget_bias)
    model = build_model(config, task.input_size, task.output_size, a.seed)
    H = a.hidden
    with torch.no_grad():
        if a.init > 0:
            for param in model.parameters():
                param.uniform_(-a.init, a.init)
            if not a.no_forget:
                model.rnn.bias_ih_l0[H:2 * H] = a.forget_bias
                model.rnn.bias_hh_l0[H:2 * H] = 0.0
        for text, start in ((a.input_bias, 0), (a.output_bias, 3 * H)):
            if text:
                values = [float(v) for v in text.split(",")]
                for unit in range(H):
                    model.rnn.bias_ih_l0[start + unit] = values[unit % len(values)]
                    model.rnn.bias_hh_l0[start + unit] = 0.0
    if a.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    train_gen = torch.Generator().manual_seed(a.seed)
    test_gen = torch.Generator().manual_seed(10_000 + a.seed)
    test = []  # the paper's 2560 test sequences, grouped by length
    lengths = torch.randint(a.T, task.longest + 1, (2560,), generator=test_gen)
    for length in sorted(set(lengths.tolist())):
        count = int((lengths == length).sum())
        test.append(task.generate_length(count, test_gen, a.T if a.fixed_length else length))

    def wrong() -> int:
        with torch.no_grad():
            bad = 0
            for x, y in test:
                out, _, _ = model(x)
                bad += int(((model.head(out[-1]) - y).abs() >= task.tolerance).sum())
            return bad

    recent = collections.deque(maxlen=2000)
    errors = collections.deque(maxlen=2000)
    seen, solved_at, paper_at, next_check, checks = 0, math.nan, math.nan, a.check, 0
    start = time.perf_counter()
    best_wrong = 2560
    while seen < a.max:
        length = a.T if a.fixed_length else task.draw_length(train_gen)
        x, y = task.generate_length(a.batch, train_gen, length)
        out, _, _ = model(x)
        pred = model.head(out[-1])
        loss = torch.nn.functional.mse_loss(pred, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        err = (pred.detach() - y).abs().squeeze(1)
        recent.extend((err < task.tolerance).tolist())
        errors.extend((0.5 * err**2).tolist())  # the paper's error: (target - output)^2 / 2
        seen += a.batch
        if math.isnan(paper_at) and len(recent) == 2000 and all(recent) and sum(errors) / 2000 < 0.01:
            paper_at = seen
        if seen >= next_check:
            next_check += a.check
            if sum(recent) >= 0.9 * len(recent):  # far from solved: skip the 2560-sequence check
                checks += 1
                bad = wrong()
                best_wrong = min(best_wrong, bad)
                if bad == 0:
                    solved_at = seen
                    break
    print(json.dumps({**vars(a), "solved_at": solved_at, "paper_stop_at": paper_at, "seen": seen,
                      "best_wrong": best_wrong, "checks": checks,
                      "seconds": round(time.perf_counter() - start, 1)}), flush=True)


if __name__ == "__main__":
    main()
