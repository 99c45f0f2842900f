"""Key B: the backward pass of one step, animated on every model's gradient plot at once; the
drawn values are the ones the training probe measured at that step."""

import numpy as np
from PySide6.QtCore import Qt

from tests.gui.conftest import steps_done, trainer_frame


def test_key_b_animates_the_probed_backward_pass_and_exports_it(qtbot, make_window, tmp_path):
    window = make_window()  # paused: B trains the one step it shows
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=30000)
    arrived = []
    window.session.waveReady.connect(lambda step, waves: arrived.append(step))
    qtbot.keyClick(window, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: bool(arrived) and window.wave_animation.running, timeout=30000)
    assert arrived == [1] and steps_done(window) == 2

    first = [overlay.drawn() for overlay in window.wave_animation.overlays]
    assert all(np.isnan(values[:-1]).any() for values in first)  # it starts at the loss, t = T
    window.wave_animation.finish_now()
    probes = [view.latest.probes for view in trainer_frame(qtbot, window).models]  # step 1's probes
    rnn, lstm = window.wave_animation.overlays
    np.testing.assert_allclose(rnn.drawn(), probes[0].top_grad_h, rtol=1e-4)
    np.testing.assert_allclose(lstm.drawn(), probes[1].grad_c[-1], rtol=1e-4)  # the LSTM's cell path
    waves = window.session.last_wave.per_model
    # The front's label: what multiplies the gradient there (at t = 1 nothing is left to reach).
    assert rnn.label.toPlainText() == f"x{waves[0].gain[1]:.2g} · t = 1" and np.isnan(waves[0].factor[0])
    np.testing.assert_allclose(waves[1].factor[1:], probes[1].gate_means["forget"][-1][1:], rtol=1e-5)

    window.export_backward_pass(tmp_path / "wave.gif")
    window.wave_export.wait()
    assert (tmp_path / "wave.gif").read_bytes().startswith(b"GIF8")
    qtbot.waitUntil(lambda: not window.wave_animation.running, timeout=10000)
    assert not any(overlay.shown for overlay in (rnn, lstm))  # the live plot is back


def test_the_label_names_each_models_factor_as_the_wave_travels(qtbot, make_window):
    window = make_window()
    qtbot.keyClick(window, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: window.wave_animation.running, timeout=30000)
    waves = window.session.last_wave.per_model
    rnn, lstm = window.wave_animation.overlays
    rnn.show(waves[0], 3)
    lstm.show(waves[1], 3)
    t = waves[0].steps - 3  # the third step back from the loss
    # The gain the gradient took from t + 1 to t, and the measured factor of step t.
    assert rnn.label.toPlainText() == f"x{waves[0].gain[t + 1]:.2g} · ||dh_t/dh_{{t-1}}|| {waves[0].factor[t]:.2f}"
    lstm_factor = f"mean f_t (cell path alone) {waves[1].factor[t]:.2f}"
    assert lstm.label.toPlainText() == f"x{waves[1].gain[t + 1]:.2g} · {lstm_factor}"
    assert np.isnan(rnn.drawn()[: t]).all() and np.isfinite(rnn.drawn()[t:]).all()


def test_b_pauses_a_running_trainer_on_the_step_it_shows(qtbot, make_window):
    from gradviz.session.protocol import PAUSED

    window = make_window(autostart=True)
    qtbot.waitUntil(lambda: steps_done(window) >= 3, timeout=30000)
    qtbot.keyClick(window, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: window.wave_animation.running, timeout=30000)
    qtbot.waitUntil(lambda: window.session.trainer_state == PAUSED, timeout=10000)
    qtbot.waitUntil(lambda: steps_done(window) == window.wave_animation.step + 1, timeout=10000)
    # The plot under the wave is the same step's profile: it holds still beneath it.
    window.paint_now()
    window.wave_animation.finish_now()
    _, profile = window.columns[0].profile_h.getData()
    np.testing.assert_allclose(window.wave_animation.overlays[0].drawn(), 10.0 ** profile, rtol=1e-4)


def test_file_menu_exports_the_backward_pass_it_asks_a_path_for(qtbot, make_window, tmp_path, monkeypatch):
    """The menu's action once handed its checked flag (False) to the export as the path."""
    from PySide6.QtWidgets import QFileDialog

    window = make_window()
    arrived = []
    window.session.waveReady.connect(lambda step, waves: arrived.append(step))
    window.animate_backward_pass()
    qtbot.waitUntil(lambda: bool(arrived), timeout=30000)
    asked = []
    target = tmp_path / "slides.gif"

    def save_name(*args, **kwargs):
        asked.append(args)
        return str(target), "Animated GIF (*.gif)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    export = next(a for a in file_menu.actions() if a.text() == "Export backward pass...")
    export.trigger()
    assert asked, "the menu must ask where to write the animation"
    window.wave_export.wait()
    assert target.read_bytes().startswith(b"GIF8")


def test_b_and_h_bring_the_training_plots_to_the_front(qtbot, make_window):
    """Found in a walk: on the sweep tab, B paused training and drew its pass on a hidden tab,
    and H changed a plot nobody could see."""
    from gradviz.gui.central import SWEEP_TAB, TRAINING_TAB

    window = make_window()
    window.step_once()
    qtbot.waitUntil(lambda: steps_done(window) == 1, timeout=30000)
    for key in (Qt.Key.Key_B, Qt.Key.Key_H):
        window.views.setCurrentIndex(SWEEP_TAB)
        qtbot.keyClick(window, key)
        assert window.views.currentIndex() == TRAINING_TAB, key


def test_the_finished_waves_label_covers_none_of_its_markers(qtbot, make_window):
    """The label at the wave's front sat above the front at t = 1, over the markers of t = 2, 3,
    ... (the wave rises towards the loss): the lesson's scene 2 at every size. It goes where it
    covers no marker, inside the plot, at the desk and in presentation."""
    from PySide6.QtCore import QPointF

    window = make_window()
    window.resize(1280, 800)
    qtbot.keyClick(window, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: window.wave_animation.running, timeout=30000)
    for presentation in (False, True):
        if window.presentation != presentation:
            window.full_screen = False
            window.toggle_presentation()
            qtbot.wait(100)
        window.wave_animation._started -= 100.0  # the whole wave, then held
        window.wave_animation._tick()
        window.wave_animation._hold.stop()
        waves = window.session.last_wave.per_model
        for overlay, wave in zip(window.wave_animation.overlays, waves, strict=True):
            overlay.show(wave, wave.steps)  # again, in this mode's sizes
            vb = overlay.panel.plot.vb
            ts, logs = overlay.curve.getData()
            box = overlay.label.sceneBoundingRect()
            radius = overlay.curve.opts["symbolSize"] / 2
            covered = [t for t, v in zip(ts, logs, strict=True) if np.isfinite(v)
                       and box.adjusted(-radius, -radius, radius, radius).contains(vb.mapViewToScene(QPointF(t, v)))]
            assert covered == [], (presentation, overlay.label.toPlainText(), covered)
            assert vb.sceneBoundingRect().contains(box), presentation


def test_a_wave_on_screen_follows_a_theme_and_presentation_switch(qtbot, make_window):
    """Found by reading: the wave's curve, markers and label took the style of the moment B
    was pressed, so switching to the light theme meanwhile left a light curve on a light plot,
    and F5 left the label at the desk's size, placed for the desk's plots."""
    from PySide6.QtGui import QColor

    window = make_window()  # the dark theme
    window.resize(1024, 768)
    qtbot.wait(100)
    qtbot.keyClick(window, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: window.wave_animation.running, timeout=30000)
    window.wave_animation.finish_now()
    window.wave_animation._hold.start(60_000)  # held on screen while the style changes
    rnn, lstm = window.wave_animation.overlays
    whole = rnn.drawn()
    desk_px = rnn.label.textItem.font().pixelSize()
    window.full_screen = False
    window.toggle_presentation()
    qtbot.wait(100)
    assert rnn.label.textItem.font().pixelSize() == window.board.style.header_px > desk_px
    assert rnn.shown
    np.testing.assert_array_equal(rnn.drawn(), whole)  # still the whole wave, redrawn
    for overlay in (rnn, lstm):  # placed in the plots as presentation lays them out, not as before
        assert overlay.panel.plot.vb.sceneBoundingRect().contains(overlay.label.sceneBoundingRect())
    before = rnn.curve.opts["pen"].color().name()
    window.set_theme("light")
    theme = window.board.style.theme
    assert before != QColor(theme.foreground).name()
    for overlay in (rnn, lstm):
        assert overlay.curve.opts["pen"].color().name() == QColor(theme.foreground).name()
        assert overlay.curve.opts["symbolPen"].color().name() == QColor(theme.foreground).name()
        assert overlay.label.fill.color().name() == QColor(theme.background).name()
