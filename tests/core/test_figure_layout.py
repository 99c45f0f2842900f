"""File figures show their data: the layout report (``gradviz export --layout``) of every format,
plot kind and theme holds the data inside its range, 3+ labelled ticks per axis, no texts over
each other and nothing outside the image; titles of at most two lines; legends cover no line.

The run drawn is the issue's situation, made quickly: a small real training run whose arrays are
then given what the default demo shows after ~800 steps (the LSTM's loss falls 3.5 decades below
the baseline, the RNN's gradient underflows to 0), saved and read back through the normal path.
One test draws a real run, unchanged, through ``gradviz export --layout``.
"""

import json

import numpy as np
import pytest
from matplotlib import rc_context

from gradviz.cli import main
from gradviz.figures import FORMATS, PLOT_NAMES, run_view
from gradviz.figures.fit import MAX_TITLE_LINES, covers
from gradviz.figures.layout import layout_report
from gradviz.figures.render import render
from gradviz.figures.style import FIGURE_THEMES, rc_params
from gradviz.io.runfile import load_run, read_npz, save_arrays
from gradviz.probes.causes import UNDERFLOW

STEPS = 600  # training steps of the made run
FALL_DECADES = 3.5  # how far the LSTM's loss falls below the baseline


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """The default demo (tanh RNN vs LSTM, adding problem), small: a real run."""
    path = tmp_path_factory.mktemp("real") / "real.npz"
    assert main(["train", "--quiet", "--out", str(path), "--preset", "vanishing", "--steps", "16", "--hidden", "8",
                 "--batch", "8", "--seq-len", "20", "--record-every", "5"]) == 0
    return path


@pytest.fixture(scope="module")
def issue_view(real_run, tmp_path_factory):
    """The real run with the issue's numbers: STEPS training steps; the LSTM's loss leaves the
    baseline at step 250 and ends FALL_DECADES below it; the RNN's gradient falls 10^2 per
    timestep back, so its first timesteps underflow to exact zeros."""
    arrays = dict(read_npz(real_run))
    rng = np.random.default_rng(0)
    baseline = float(arrays["baseline"])
    steps = np.arange(STEPS)
    noise = np.exp(rng.normal(0, 0.15, (2, STEPS)))
    rnn = baseline * (1 + 4 * np.exp(-steps / 5)) * noise[0]
    fall = np.clip((steps - 250) / (STEPS - 250), 0, 1) * FALL_DECADES
    lstm = baseline * 10.0 ** -fall * noise[1]
    arrays["train_step"] = steps
    arrays["train_loss"] = np.stack([rnn, lstm]).astype(np.float32)
    for name in ("train_metric", "train_grad_norm"):
        arrays[name] = np.resize(arrays[name], (2, STEPS)).astype(np.float32)
    recorded = len(arrays["step"])
    arrays["step"] = np.linspace(0, STEPS - 1, recorded).astype(arrays["step"].dtype)
    grad = arrays["model0/grad_h"].astype(np.float64)  # (N, L, T)
    t = np.arange(1, grad.shape[-1] + 1)
    profile = 10.0 ** (-1 - 2.0 * (grad.shape[-1] - t))  # 10^-39 at t = 1: below float32's range
    grad[:, -1] = np.where(profile < 1.2e-38, 0.0, profile)
    arrays["model0/grad_h"] = grad.astype(np.float32)
    underflow = grad[:, -1] == 0
    arrays["model0/grad_cause"] = np.where(underflow, UNDERFLOW, 0).astype(np.int8)
    arrays["model0/underflow_steps"] = underflow.sum(axis=1).astype(arrays["model0/underflow_steps"].dtype)
    path = tmp_path_factory.mktemp("issue") / "issue.npz"
    save_arrays(path, arrays)
    return run_view(load_run(path))


def _report(view, plot, fmt, theme):
    form, colours = FORMATS[fmt], FIGURE_THEMES[theme]
    with rc_context(rc_params(colours, form)):
        figure, _, fitting = render(view, plot, colours, form, form.plot_size if plot else form.size)
        return layout_report(fitting), figure, fitting


def _overlapping(texts, slack=0.5):
    boxes = [(entry["text"], entry["rect"]) for entry in texts]
    pairs = []
    for i, (text, (x, y, w, h)) in enumerate(boxes):
        for other, (u, v, p, q) in boxes[i + 1:]:
            if x + slack < u + p and u + slack < x + w and y + slack < v + q and v + slack < y + h:
                pairs.append((text, other))
    return pairs


def check_report(report, where):
    """What a figure owes its reader, from its layout report."""
    width, height = report["size"]
    for plot in report["plots"]:
        name = f"{where} {plot['kind']} {plot['model']}"
        assert plot["visible"], name
        x, y, w, h = plot["rect"]
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= width + 0.5 and y + h <= height + 0.5, name
        if plot["data"] is not None:
            low, high = plot["ylim"]
            assert low <= plot["data"][0] and plot["data"][1] <= high, f"{name}: {plot['data']} outside {low, high}"
            if plot["kind"] == "gradient":  # from the data's decade (the row's), not decades of nothing below
                lowest = min(other["data"][0] for other in report["plots"] if other["kind"] == "gradient")
                assert low >= lowest / 10**0.5, f"{name}: starts at {low}, the data at {lowest}"
        assert len(plot["xticks"]) >= 3 and len(plot["yticks"]) >= 3, f"{name}: {plot['xticks']} {plot['yticks']}"
        assert len(plot["xticks"]) <= 6 and len(plot["yticks"]) <= 6, name
    for entry in report["texts"]:
        x, y, w, h = entry["rect"]
        assert x >= -0.5 and y >= -0.5 and x + w <= width + 0.5 and y + h <= height + 0.5, f"{where}: {entry}"
    assert not _overlapping(report["texts"]), f"{where}: {_overlapping(report['texts'])}"


def check_figure(figure, fitting, where):
    """Titles of at most two lines; no legend inside a plot over any of its lines."""
    renderer = fitting.renderer()
    titles = [figure._suptitle] + [ax.title for ax in figure.axes] + [ax.xaxis.label for ax in figure.axes]
    for title in titles:
        if title is not None:
            assert title.get_text().count("\n") < MAX_TITLE_LINES, f"{where}: {title.get_text()!r}"
    for ax in figure.axes:
        legend = ax.get_legend()
        if legend is not None and legend.get_visible() and legend.get_bbox_to_anchor() is ax.bbox:
            assert not covers(legend, ax, renderer), f"{where}: a legend covers a line of {ax.get_title()!r}"


@pytest.mark.parametrize("theme", FIGURE_THEMES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_plot_shows_its_data_readably(issue_view, fmt, theme):
    for plot in (None, *PLOT_NAMES):
        report, figure, fitting = _report(issue_view, plot, fmt, theme)
        where = f"{fmt} {theme} {plot or 'all plots'}"
        check_report(report, where)
        check_figure(figure, fitting, where)


def test_the_loss_row_holds_the_lstm_below_the_baseline_and_the_gradient_its_zeros(issue_view):
    """The issue's figure: the LSTM's loss line ended where it fell below the baseline, and the
    gradient row spanned 10^-38..10^1 with two labels."""
    report, _, _ = _report(issue_view, None, "slide", "light")
    lstm_loss = issue_view.models[1].loss
    baseline = issue_view.baseline_loss
    assert lstm_loss.min() < baseline * 10 ** -(FALL_DECADES - 0.5)
    for plot in report["plots"]:
        low, high = plot["ylim"]
        if plot["kind"] == "loss":  # every model's loss, both plots of the row
            assert low <= lstm_loss.min() and high >= baseline
        if plot["kind"] == "gradient":
            rnn = issue_view.models[0].grad_h[-1, -1]
            smallest = rnn[rnn > 0].min()
            assert low <= smallest <= low * 10 ** 0.5, "the axis starts at the data, not decades below it"
            assert len(plot["yticks"]) >= 3


def _frame_drawn_where_reported(png, report):
    """The report is in the image's pixels, top-left origin: each plot's frame (its spines, in
    the theme's grey on white) lies on the edges of its rect."""
    from PIL import Image

    image = np.asarray(Image.open(png).convert("L")).astype(int)
    for plot in report["plots"]:
        x, y, w, h = plot["rect"]
        middle_row, middle_column = int(y + h / 2), int(x + w / 2)
        for column in (x, x + w):
            assert image[middle_row, int(column) - 2:int(column) + 3].min() < 160, (plot, "left/right edge")
        for row in (y, y + h):
            assert image[int(row) - 2:int(row) + 3, middle_column].min() < 160, (plot, "top/bottom edge")
        assert image[int(y + 4):int(y + h - 4), int(x + 4):int(x + w - 4)].size > 0


def test_export_writes_the_layout_report_of_a_real_run(real_run, tmp_path, capsys):
    for fmt in ("screen", "paper"):
        out, layout = tmp_path / f"{fmt}.png", tmp_path / f"{fmt}.json"
        assert main(["export", "--run", str(real_run), "--format", fmt, "--out", str(out),
                     "--layout", str(layout)]) == 0
        report = json.loads(layout.read_text())
        from PIL import Image

        assert report["size"] == list(Image.open(out).size) == list(FORMATS[fmt].size)
        check_report(report, f"real {fmt}")
        _frame_drawn_where_reported(out, report)
        assert {plot["model"] for plot in report["plots"]} == {"tanh RNN", "LSTM"}
    out = tmp_path / "loss2x.png"
    assert main(["export", "--run", str(real_run), "--plot", "loss", "--scale", "2", "--out", str(out),
                 "--layout", str(tmp_path / "loss2x.json")]) == 0
    report = json.loads((tmp_path / "loss2x.json").read_text())
    assert report["size"] == [2 * s for s in FORMATS["screen"].plot_size]
    check_report(report, "loss at scale 2")
    _frame_drawn_where_reported(out, report)
    capsys.readouterr()
    assert main(["export", "--run", str(real_run), "--plot", "loss", "--out", str(tmp_path / "x.csv"),
                 "--layout", str(tmp_path / "x.json")]) == 2
    assert "--layout" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.json").exists()
