"""Which view the window shows: the training plots, a text task's words of one review (W, and
its evaluation table, E), or the trainability map (T); and what each asks of the session when
it shows (the words are measured only while they are on screen).
"""

from __future__ import annotations

from gradviz.config import RunConfig
from gradviz.gui.central import SWEEP_TAB, TRAINING_TAB, WORDS_TAB
from gradviz.session.protocol import RUNNING


class Tabs:
    """The tabs of ``window`` (a MainWindow) and the requests that go with them."""

    def __init__(self, window):
        self.window = window

    def set_text_mode(self, config: RunConfig) -> None:
        """Enable the Words tab for a task over words, with a view per model."""
        window, session = self.window, self.window.session
        text = session.text_mode
        window.central.set_text_mode(text)
        if text:
            window.reviews.set_models(len(config.models), session.example_count)
        session.words_visible = text and window.views.currentIndex() == WORDS_TAB

    def show_words_tab(self) -> None:
        """W: between the training plots and the words of a review (text tasks)."""
        if not self.window.session.text_mode:
            self.window.statusBar().showMessage("Words are shown for the text tasks (reviews, text file)", 4000)
            return
        self.window.central.toggle_tab(WORDS_TAB)

    def show_sweep_tab(self) -> None:
        """T: between the training plots and the trainability map."""
        self.window.central.toggle_tab(SWEEP_TAB)

    def show_training_tab(self) -> None:
        """The training plots in front: what B and H change is drawn there."""
        self.window.views.setCurrentIndex(TRAINING_TAB)

    def view_changed(self, index: int) -> None:
        window, session = self.window, self.window.session
        window.central.saw_tab(index)
        window.central.show_history_row(window.presentation)
        session.words_visible = index == WORDS_TAB and session.text_mode
        session.ask_words()

    def sweep_started(self) -> None:
        """The sweep's runs want every core: the window's own training pauses (Space resumes it)."""
        session = self.window.session
        if session.trainer_state == RUNNING:
            session.pause()
            self.window.statusBar().showMessage(
                "Training paused while the sweep runs (Space trains on, sharing the cores)", 8000)

    def example_changed(self, example: int) -> None:
        session = self.window.session
        session.words_example = example
        session.ask_words(force=True)

    def evaluate(self) -> None:
        """E: the held-out evaluation table of a text task, on the Words tab."""
        window, session = self.window, self.window.session
        if not session.text_mode or not session.has_run:
            window.statusBar().showMessage("Evaluation tables are for the text tasks (reviews, text file)", 4000)
            return
        window.views.setCurrentIndex(WORDS_TAB)
        window.reviews.request_evaluation()

    def report_failed(self, name: str, message: str) -> None:
        what = "measure the words of the review" if name == "words" else "evaluate the models"
        self.window.reviews.show_failure(f"Could not {what}: {message}")
