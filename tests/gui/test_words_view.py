"""The word view: the plotted arrays are the measured ones, every word is in the shaded text,
and the widget paints something (checked on a PNG of it)."""

from __future__ import annotations

import html

import numpy as np
import pytest
from PySide6.QtGui import QImage

from gradviz.gui.panels.words import WordGradientView
from gradviz.gui.theme import DARK, apply_theme

TOKENS = ["the", "film", "was", "<long>", "and", "brilliant", ",", "really", "."]


@pytest.fixture
def view(qtbot):
    apply_theme(DARK)
    widget = WordGradientView()
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.show()
    return widget


def test_plotted_arrays_are_the_input(view):
    norms = np.logspace(-8, -1, len(TOKENS))
    norms[2] = 0.0  # an underflowed step: no point, no colour
    gates = {"forget": np.linspace(0.7, 0.9, len(TOKENS)), "input": np.full(len(TOKENS), 0.4)}
    view.show(TOKENS, norms, gates)  # the brief's call; show_review is the same
    x, y = view.curve.getData()
    expected = np.log10(np.where(norms > 0, norms, np.nan))
    assert np.array_equal(x, np.arange(1, len(TOKENS) + 1))
    assert np.array_equal(y, expected, equal_nan=True)
    assert np.array_equal(view.data["log10_grad"], expected, equal_nan=True)
    for name, values in gates.items():
        gx, gy = view.gate_curves[name].getData()
        assert np.array_equal(gy, values) and np.array_equal(gx, x)
    assert view.gate_plot.isVisibleTo(view)
    assert view.levels == pytest.approx((-8.0, -1.0))


def test_html_holds_every_word_shaded(view):
    norms = np.logspace(-6, 0, len(TOKENS))
    view.show_review(TOKENS, norms)
    for token in TOKENS:
        assert html.escape(token) in view.html
    assert view.html.count("background-color:") >= len(TOKENS)  # every word, plus the legend swatches
    assert "<long>" not in view.html, "words are escaped, not read as HTML tags"
    # Dark for little gradient, bright for much (inferno): the first word darker than the last.
    first, last = view._colours(view.data["log10_grad"])[0], view._colours(view.data["log10_grad"])[-1]
    assert first[:3].sum() < last[:3].sum()
    assert not view.gate_plot.isVisibleTo(view), "no gates, no gate plot"


def test_many_words_thin_the_labels_and_size_must_match(view):
    tokens = [f"word{i}" for i in range(200)]
    view.show_review(tokens, np.logspace(-9, 0, 200))
    assert view.tick_stride > 1
    ticks = view.plot.getAxis("bottom")._tickLevels[0]
    assert len(ticks) == len(range(0, 200, view.tick_stride)) and ticks[0] == (1.0, "word0")
    with pytest.raises(ValueError, match="3 tokens but 2 gradient norms"):
        view.show_review(["a", "b", "c"], np.ones(2))


def test_shared_levels_and_a_png_that_is_not_blank(view, qtbot, tmp_path):
    norms = np.logspace(-7, -2, len(TOKENS))
    gates = {"forget": np.linspace(0.6, 0.95, len(TOKENS)), "cell": np.linspace(-0.5, 0.5, len(TOKENS))}
    view.show_review(TOKENS, norms, gates, levels=(-10.0, 0.0), caption="<b>LSTM</b>: positive")
    assert view.levels == (-10.0, 0.0)
    qtbot.wait(50)
    path = tmp_path / "words.png"
    assert view.grab().save(str(path))
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1000, 600)
    step = 7
    colours = {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}
    assert len(colours) > 20, "the picture should hold plots and shaded words, not one flat colour"


def test_a_steady_scale_widens_at_once_and_narrows_slowly():
    from gradviz.gui.panels.reviews import NARROW_PER_REFRESH, SteadyLevels

    scale = SteadyLevels()
    assert scale.update(np.array([-8.0, -2.0])) == (-8.0, -2.0)
    assert scale.update(np.array([-8.0, -2.0])) == (-8.0, -2.0)  # the same words, the same shades
    assert scale.update(np.array([-9.0, -2.0])) == (-9.0, -2.0)  # a new low: at once, no word off the scale
    low, high = scale.update(np.array([-5.0, -4.0]))  # a much narrower review: one step at a time
    assert (low, high) == (-9.0 + NARROW_PER_REFRESH, -2.0 - NARROW_PER_REFRESH)
    assert scale.update(np.array([np.nan, -np.inf])) == (low, high)  # nothing measurable: unchanged
    for _ in range(20):
        levels = scale.update(np.array([-5.0, -4.0]))
    assert levels == (-5.0, -4.0)  # it settles on the review's own span


def test_the_deciding_word_is_always_labelled(view):
    tokens = [f"w{i}" for i in range(200)]
    for marked in (0, 57, 101, 199):
        view.show_review(tokens, np.logspace(-9, 0, 200), marked=marked)
        assert view.tick_stride > 1
        assert (marked + 1.0, tokens[marked]) in view.ticks
        positions = [x for x, _ in view.ticks]
        gaps = np.diff(positions)
        assert gaps.min() >= view.tick_stride  # its neighbours made room: no labels overprint
        assert view.marker.isVisible() and view.marker.value() == marked + 1.0


@pytest.mark.parametrize(("probabilities", "verdict"), [((0.501, 0.499), "at chance"), ((0.46, 0.54), "at chance"),
                                                        ((0.9, 0.1), "right"), ((0.2, 0.8), "wrong")])
def test_a_prediction_at_chance_is_not_called_right(probabilities, verdict):
    # The walk saw "predicts positive (p = 0.50), truth positive: right" for an RNN at chance.
    from gradviz.engine.text_reports import WordGradients, WordReport
    from gradviz.gui.panels.reviews import describe

    words = WordGradients(tokens=TOKENS, grad_norms=np.ones(len(TOKENS)), grad_c=None, gates={}, label=0,
                          probabilities=np.array(probabilities))
    report = WordReport(step=1, example=0, labels=["tanh RNN"], words=[words], classes=("positive", "negative"),
                        decisive=None)
    assert describe(report, 0).endswith(f"truth positive: {verdict}")
