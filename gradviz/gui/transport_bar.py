"""The transport toolbar: the commands marked ``toolbar`` in commands.py (start/pause, step,
reset, backward pass), then the preset box, the third plot's box, and at the desk only the
training speed and the gate the heatmaps show.

The bar holds no state of the run: it says what was chosen through its signals, and the
window decides (a preset switch may be refused, see ``show_preset``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFontMetrics
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QStyle, QStyleOptionComboBox, QStylePainter, QToolBar

from gradviz.gui.plots.column_plots import GATE_TITLES
from gradviz.gui.plots.rows import EXTRA_VIEWS, LECTURE_EXTRAS
from gradviz.presets import load_preset, preset_names

SLOWEST_DELAY_S = 1.0
GATE_CHOICES = ("forget", "input", "output", "cell", "cell_state", "update", "reset", "new", "hidden")
EXTRA_TITLES = {"history": "history heatmap", "gates": "gates", "gate_means": "gate means",
                "diagnostics": "norms, radius, half-life"}


def delay_for(value: int) -> float:
    """The speed slider's seconds between steps: exponential between full speed (100) and one
    step a second (0), so slow motion is where the slider has room."""
    return 0.0 if value >= 100 else SLOWEST_DELAY_S * (0.002 / SLOWEST_DELAY_S) ** (value / 100)


PRESET_TIP = "Load a preset: it resets and starts training"


def fitted_title(title: str, metrics: QFontMetrics, room: int) -> str:
    """``title`` as it fits in ``room`` pixels: whole, else its name before the colon
    ("Vanishing gradients"), else that cut at the end with an ellipsis (never mid-word
    without one: "Vanishing gradients: ta" read as a typo)."""
    if metrics.horizontalAdvance(title) <= room:
        return title
    name = title.split(":")[0].strip()
    if metrics.horizontalAdvance(name) <= room:
        return name
    return metrics.elidedText(name, Qt.TextElideMode.ElideRight, room)


class PresetBox(QComboBox):
    """The preset box: its title fitted to the box's width (``fitted_title``), the whole title
    in its tooltip and its list."""

    def __init__(self):
        super().__init__()
        self.currentIndexChanged.connect(self._tell_title)

    def _text_room(self) -> tuple[QStyleOptionComboBox, int]:
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        return option, field.width()

    def shown_text(self) -> str:
        """The words the box shows now."""
        option, room = self._text_room()
        return fitted_title(self.currentText(), self.fontMetrics(), room)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QStylePainter(self)
        option, room = self._text_room()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = fitted_title(option.currentText, self.fontMetrics(), room)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.view().setMinimumWidth(self.view().sizeHintForColumn(0) + 24)  # the list shows whole titles
        super().showPopup()

    def _tell_title(self) -> None:
        title = self.currentText()
        self.setToolTip(f"{title}. {PRESET_TIP}" if title else PRESET_TIP)


class TransportBar(QToolBar):
    """The toolbar under the menus; presentation mode hides it (the keys stay)."""

    presetChosen = Signal(str)  # a preset's name
    extraChosen = Signal(str)  # the third plot's view
    gateChosen = Signal(str)  # the gate (or state) the heatmaps show
    delayChosen = Signal(float)  # seconds between training steps

    def __init__(self, buttons: list[QAction]):
        super().__init__("Transport")
        self.setObjectName("transport")
        self.setMovable(False)
        for action in buttons:
            self.addAction(action)
        self.addSeparator()
        self.preset_box = PresetBox()
        for name in preset_names():
            self.preset_box.addItem(load_preset(name).title, name)
        self.preset_box.activated.connect(lambda index: self.presetChosen.emit(self.preset_box.itemData(index)))
        self.addWidget(self.preset_box)
        # Long preset titles would push the rest of the bar off a 1024-pixel screen (whose window
        # is 1008 px wide: at 18 characters "Gate shown" went into the bar's overflow menu).
        self.preset_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_box.setMinimumContentsLength(14)
        self.addWidget(QLabel(" Third plot "))
        self.extra_box = QComboBox()
        for name in EXTRA_VIEWS:
            self.extra_box.addItem(EXTRA_TITLES[name], name)
        self.extra_box.setToolTip("The plot under the gradient profile and the loss (H)")
        self.extra_box.currentIndexChanged.connect(lambda _: self.extraChosen.emit(self.extra_box.currentData()))
        self.addWidget(self.extra_box)
        self._build_desk_part()

    def _build_desk_part(self) -> None:
        """What presentation mode hides: the bar keeps start/pause, step, reset, preset."""
        self.desk_only: list[QAction] = [self.addSeparator(), self.addWidget(QLabel(" Speed "))]
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, 100)
        self.speed.setValue(100)
        self.speed.setFixedWidth(90)
        self.speed.setToolTip("Training speed: full speed at the right, slow motion (one step a second) at the left")
        self.speed.valueChanged.connect(lambda value: self.delayChosen.emit(delay_for(value)))
        self.desk_only.append(self.addWidget(self.speed))
        self.desk_only.append(self.addWidget(QLabel(" Gate shown ")))
        self.gate_box = QComboBox()
        for name in GATE_CHOICES:
            self.gate_box.addItem(GATE_TITLES[name], name)
        self.gate_box.setToolTip("Which gate (or state) the gate heatmaps show, for the models that have it")
        self.gate_box.currentIndexChanged.connect(lambda _: self.gateChosen.emit(self.gate_box.currentData()))
        self.desk_only.append(self.addWidget(self.gate_box))

    def set_desk(self, desk: bool) -> None:
        for action in self.desk_only:
            action.setVisible(desk)

    def show_preset(self, name: str | None) -> None:
        """The preset box says ``name`` (None: a custom run, no entry)."""
        self.preset_box.setCurrentIndex(self.preset_box.findData(name) if name else -1)

    def next_extra(self, current: str, presentation: bool) -> None:
        """H: the next choice of third plot after ``current`` (history and gates only, in presentation mode)."""
        choices = LECTURE_EXTRAS if presentation else EXTRA_VIEWS
        following = choices[(choices.index(current) + 1) % len(choices)] if current in choices else choices[0]
        self.extra_box.setCurrentIndex(self.extra_box.findData(following))
