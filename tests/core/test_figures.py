"""File figures (gradviz/figures): exact sizes, model names and labels as text, vector files that
other renderers draw like the PNG, and ``gradviz export`` without Qt."""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from PIL import Image

from gradviz.cli import main
from gradviz.figures import FORMATS, PLOT_NAMES, figure_bytes, plot_data, run_view, write_figure
from gradviz.io.runfile import load_run

SVG = "{http://www.w3.org/2000/svg}"


def _train(tmp_path, name, *flags):
    path = tmp_path / f"{name}.npz"
    assert main(["train", "--quiet", "--out", str(path), *flags]) == 0
    return path


@pytest.fixture(scope="module")
def tiny_view(tmp_path_factory):
    """Both models of the default demo, small: a few recorded steps."""
    folder = tmp_path_factory.mktemp("tiny")
    path = _train(folder, "tiny", "--preset", "vanishing", "--steps", "12", "--hidden", "8", "--batch", "8",
                  "--seq-len", "20", "--record-every", "4")
    return run_view(load_run(path))


def _png_size(data: bytes) -> tuple[int, int]:
    import io

    return Image.open(io.BytesIO(data)).size


def _svg_text(data: bytes) -> str:
    root = ElementTree.fromstring(data)
    return " ".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


@pytest.mark.parametrize("plot", PLOT_NAMES)
def test_every_plot_has_exactly_the_size_asked_and_names_its_models(tiny_view, plot):
    assert _png_size(figure_bytes(tiny_view, "png", plot, size=(1200, 500))) == (1200, 500)
    assert _png_size(figure_bytes(tiny_view, "png", plot, size=(1200, 500), scale=2)) == (2400, 1000)
    words = _svg_text(figure_bytes(tiny_view, "svg", plot, size=(1200, 500)))
    assert "tanh RNN" in words and "LSTM" in words  # as text, in a legend or a title
    assert ("training step" in words) or ("timestep t" in words)


@pytest.mark.parametrize("fmt", FORMATS)
def test_formats_have_their_sizes_and_text(tiny_view, fmt):
    form = FORMATS[fmt]
    assert _png_size(figure_bytes(tiny_view, "png", fmt=fmt)) == form.size
    assert _png_size(figure_bytes(tiny_view, "png", "gradient", fmt=fmt)) == form.plot_size
    root = ElementTree.fromstring(figure_bytes(tiny_view, "svg", "gradient", fmt=fmt))
    width_in = float(root.get("width").removesuffix("pt")) / 72
    assert width_in == pytest.approx(form.plot_size[0] / form.dpi, abs=1e-3)
    sizes = {float(style.split("font-size:")[1].split("px")[0])
             for node in root.iter(f"{SVG}text") if "font-size:" in (style := node.get("style", ""))}
    # matplotlib writes font sizes in pt (as px of a 72-dpi canvas)
    assert min(sizes) >= (7.9 if fmt == "paper" else form.font_pt * 0.85) and max(sizes) <= form.font_pt + 3.1
    if fmt == "paper":
        assert form.plot_size[0] / form.dpi == 3.5 and form.dpi == 300 and 8 <= min(sizes) and max(sizes) <= 9.1
    if fmt == "slide":
        assert form.size[0] * 9 == form.size[1] * 16 and min(sizes) >= 13


def test_dark_figure_has_no_light_band(tiny_view):
    import io

    for plot in (None, "gates"):
        image = np.asarray(Image.open(io.BytesIO(figure_bytes(tiny_view, "png", plot, theme="dark"))).convert("L"))
        light = image > 128
        assert light[: image.shape[0] // 20].mean(axis=1).max() < 0.5, "a light band behind the title"
        assert image[0, 0] < 40 and image[-1, -1] < 40


def test_plot_data_is_what_the_run_recorded(tiny_view):
    data = plot_data(tiny_view, "gradient")
    lstm = tiny_view.models[1]
    np.testing.assert_array_equal(data["LSTM/grad_h"], np.where(lstm.grad_h[-1, -1] > 0, lstm.grad_h[-1, -1], np.nan))
    loss = plot_data(tiny_view, "loss")
    np.testing.assert_array_equal(loss["tanh RNN/loss"], tiny_view.models[0].loss)


def test_csv_and_npz_and_no_half_written_file(tiny_view, tmp_path):
    csv_path = write_figure(tiny_view, tmp_path / "loss.csv", plot="loss")
    header = csv_path.read_text().splitlines()[0].split(",")
    assert header[:2] == ["tanh RNN/step", "tanh RNN/loss"]
    with np.load(write_figure(tiny_view, tmp_path / "h.npz", plot="history")) as npz:
        assert npz["LSTM/log10_grad_h"].shape == tiny_view.models[1].grad_h[:, -1].shape
    existing = tmp_path / "keep.svg"
    existing.write_text("mine")
    with pytest.raises(FileExistsError):
        write_figure(tiny_view, existing)
    assert existing.read_text() == "mine"


def _differing(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels more than 64 apart in some channel."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 64).mean())


def _rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The issue's figure: the default demo after 60 steps."""
    return _train(tmp_path_factory.mktemp("demo"), "demo", "--preset", "vanishing", "--steps", "60")


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (Debian: librsvg2-bin) not installed")
def test_svg_drawn_by_librsvg_matches_the_png(demo_run, tmp_path):
    png, svg = tmp_path / "f.png", tmp_path / "f.svg"
    for out in (png, svg):
        assert main(["export", "--run", str(demo_run), "--theme", "light", "--out", str(out)]) == 0
    reference = _rgb(png)
    height, width = reference.shape[:2]
    drawn = tmp_path / "svg.png"
    subprocess.run(["rsvg-convert", "-w", str(width), "-h", str(height), "-b", "white", str(svg), "-o", str(drawn)],
                   check=True, timeout=120)
    assert _differing(reference, _rgb(drawn)) < 0.05
    assert "<text" in svg.read_text()  # text as text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (Debian: poppler-utils) not installed")
def test_pdf_drawn_by_poppler_matches_the_png(demo_run, tmp_path):
    png, pdf = tmp_path / "f.png", tmp_path / "f.pdf"
    for out in (png, pdf):
        assert main(["export", "--run", str(demo_run), "--theme", "light", "--out", str(out)]) == 0
    reference = _rgb(png)
    height, width = reference.shape[:2]
    subprocess.run(["pdftoppm", "-png", "-singlefile", "-scale-to-x", str(width), "-scale-to-y", str(height),
                    str(pdf), str(tmp_path / "pdf")], check=True, timeout=120)
    assert _differing(reference, _rgb(tmp_path / "pdf.png")) < 0.05
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "LSTM" in text and "training step" in text  # text as text


def test_export_needs_no_qt(tmp_path):
    """``gradviz export`` draws with matplotlib only: it works where PySide6 cannot be imported."""
    run = _train(tmp_path, "run", "--preset", "vanishing", "--steps", "3", "--hidden", "4", "--batch", "4",
                 "--seq-len", "10", "--record-every", "2")
    args = ["export", "--run", str(run), "--plot", "gradient", "--out", str(tmp_path / "g.pdf")]
    code = ("import sys; sys.modules['PySide6'] = None; sys.modules['pyqtgraph'] = None\n"
            f"from gradviz.cli import main; sys.exit(main({args!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


def test_export_refuses_bad_input_in_one_line(tmp_path, capsys):
    assert main(["export", "--preset", "vanishing", "--out", str(tmp_path / "x.txt")]) == 2
    assert main(["export", "--preset", "vanishing", "--plot", "nope", "--out", str(tmp_path / "x.png")]) == 2
    assert main(["export", "--preset", "vanishing", "--size", "10x10", "--out", str(tmp_path / "x.png")]) == 2
    assert main(["export", "--preset", "vanishing", "--out", str(tmp_path / "x.csv")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4 and all(line.startswith("gradviz: error:") for line in errors)
    assert not list(tmp_path.iterdir())


def test_flat_records_are_marked_on_the_half_life_plot(tiny_view):
    """A flat profile's half-life is infinite: the line ended there, hiding the LSTM's result.
    The records are marked along the top, named in the key, and written with the data."""
    import dataclasses

    from gradviz.figures.plots import FLAT_LABEL
    from gradviz.figures.render import full_figure
    from gradviz.figures.style import FIGURE_THEMES, FORMATS

    lstm = tiny_view.models[1]
    half_life = np.asarray(lstm.half_life, dtype=np.float64).copy()
    half_life[1:] = np.inf
    view = dataclasses.replace(tiny_view, models=(tiny_view.models[0], dataclasses.replace(lstm, half_life=half_life)))
    data = plot_data(view, "half_life")
    np.testing.assert_array_equal(data[f"{lstm.label}/flat"], np.isposinf(half_life))
    assert np.isnan(data[f"{lstm.label}/half_life"][1:]).all()
    figure, fitting = full_figure(view, FORMATS["screen"].size, FORMATS["screen"], FIGURE_THEMES["light"])
    fitting.fit()
    marked = [line for ax in figure.axes for line in ax.get_lines() if line.get_label().endswith(FLAT_LABEL)]
    assert len(marked) == 1 and marked[0].get_label() == f"{lstm.label}{FLAT_LABEL}"
    np.testing.assert_array_equal(marked[0].get_xdata(), lstm.step[1:])
    assert "flat" in marked[0].axes.get_title()


def test_a_diverged_model_shows_its_last_finite_step_not_empty_plots(tmp_path):
    """Found exporting the exploding preset past its divergence: at the last recorded step the
    unclipped RNN's probes are NaN, and its gradient, hidden-state and gate-mean plots were
    empty. As the window does, they show its last finite record and say which step that is."""
    from gradviz.figures.render import full_figure, render
    from gradviz.figures.style import FIGURE_THEMES, FORMATS

    path = tmp_path / "exploding.npz"
    assert main(["train", "--quiet", "--out", str(path), "--preset", "exploding", "--steps", "60"]) == 3
    view = run_view(load_run(path))
    diverged, clipped = view.models
    assert diverged.diverged and not clipped.diverged and view.step == 50
    assert diverged.shown_step < view.step and clipped.shown_step == view.step
    assert not np.isfinite(diverged.grad_h[-1, -1]).all()  # what was drawn before
    profile = diverged.grad_h[diverged.shown, -1]
    assert np.isfinite(profile).all() and (profile > 0).any()
    assert all(np.isfinite(values).all() for values in diverged.gates.values())
    assert all(np.isfinite(values).all() for values in diverged.gate_means.values())
    data = plot_data(view, "gradient", [0])  # its plot alone
    np.testing.assert_array_equal(data[f"{diverged.label}/step"], [diverged.shown_step])
    assert np.isfinite(data[f"{diverged.label}/grad_h"]).any()
    figure, fitting = full_figure(view, FORMATS["screen"].size, FORMATS["screen"], FIGURE_THEMES["light"])
    fitting.fit()
    said = [ax.get_title() for ax in figure.axes] + [ax.get_xlabel() for ax in figure.axes]
    at = f"step {diverged.shown_step}"
    assert sum(at in text for text in said) >= 3, said  # the gradient, the hidden state, the gate means
    assert not any(at in text for text in said if clipped.label in text)
    # One plot of both: the diverged model's 1e35 would set the one y axis and flatten the
    # clipped model's decay; it is named, not drawn, and the clipped model's range is its own.
    figure, data, _ = render(view, "gradient", FIGURE_THEMES["light"], FORMATS["screen"], FORMATS["screen"].plot_size)
    (ax,) = figure.axes
    assert ax.get_ylim()[1] < 1e10 and not np.isfinite(data[f"{diverged.label}/grad_h"]).any()
    assert any("diverged" in text.get_text() for text in ax.get_legend().get_texts())
    # Its own plot of one record says which step that is, in the title and in the data.
    figure, data, _ = render(view, "gate_means", FIGURE_THEMES["light"], FORMATS["screen"],
                             FORMATS["screen"].plot_size, models=[0])
    assert at in figure.axes[0].get_title()
    np.testing.assert_array_equal(data[f"{diverged.label}/step"], [diverged.shown_step])


def test_a_diverged_model_keeps_its_own_scales_and_leaves_the_others_readable(tmp_path):
    """Found exporting the exploding preset: the unclipped RNN's 1e35 set the shared loss axis and
    the history's one colour scale, so the clipped RNN's loss lay flat on the axis and its whole
    history was black. As in the window, a diverged model's plots now have scales of their own."""
    from gradviz.figures.plots import gradient_levels
    from gradviz.figures.render import full_figure
    from gradviz.figures.style import FIGURE_THEMES as THEMES
    from gradviz.figures.style import FORMATS as STYLES

    path = tmp_path / "exploding.npz"
    assert main(["train", "--quiet", "--out", str(path), "--preset", "exploding", "--steps", "40"]) == 3  # diverged
    view = run_view(load_run(path))
    assert [series.diverged for series in view.models] == [True, False]
    assert gradient_levels(view, 0)[1] > 30 > 20 > gradient_levels(view, 1)[1]  # 1e35 vs about 1e8
    # Its record at the step shown (30, before it diverged at 31) is finite and is what one plot
    # of both draws for it: the key must not say it was left out.
    from gradviz.figures.render import render

    assert view.models[0].shown_step == view.step == 30
    figure, _, _ = render(view, "gradient", THEMES["light"], STYLES["screen"], STYLES["screen"].plot_size)
    assert not any("full figure" in text.get_text() for text in figure.axes[0].get_legend().get_texts())
    assert gradient_levels(view) == gradient_levels(view, 1)  # the shared scale: the models still training
    figure, fitting = full_figure(view, STYLES["slide"].size, STYLES["slide"], THEMES["dark"])
    owner = {id(entry.ax): entry.model for entry in fitting.plots}
    shared = [{owner[id(ax)] for ax in group} for group in fitting.shared]
    assert shared and all(view.models[0].label not in group for group in shared)
