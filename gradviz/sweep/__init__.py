"""The trainability map: how often each cell learns a task, against the length T it spans.

``gradviz sweep`` trains every (model, T, seed) of a grid in a process of its own, J at a
time, and calls a run a success when its final loss (the mean of its last 5% of steps) is
below a threshold, by default a tenth of the task's memoryless baseline. The result is the
classic figure of Bengio, Simard and Frasconi (1994): success rate against T, a line per cell.

    grid.py     SweepConfig: the grid, the threshold, one RunConfig per (model, T, seed)
    results.py  SweepResults: the arrays of a sweep file, its atomic save, load and resume
    job.py      one run, trained in a child process: its final loss
    runner.py   the runs' processes (SweepPool), the progress bar, Ctrl-C
    plot.py     the figure (matplotlib): PNG, SVG or PDF
    command.py  the ``gradviz sweep`` subcommand (imports nothing heavy until it runs)

Nothing is imported here, so that the command line can register the subcommand without
loading torch.
"""
