"""Presentation mode (F5) and the window's style: full screen, the settings, menus, toolbar's
desk part and status bar hidden, text a fraction of the screen's height, thick lines; back at
the desk, the window as it was (the description open or closed as it was left).

``Presentation`` acts on the window's widgets; the style itself (fonts, colours, line widths)
is ``theme.style_for``'s.
"""

from __future__ import annotations

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from gradviz.gui.theme import apply_theme, apply_widget_palette, style_for
from gradviz.session.protocol import IDLE, PAUSED


class Presentation:
    """Presentation mode and the style of ``window`` (a MainWindow)."""

    def __init__(self, window):
        self.window = window
        self.on = False
        self.full_screen = True  # presentation fills the screen (a --screenshot stays at its --size)
        self.desk_description_open = False  # the description as the desk left it
        self.styled_height = 0
        self.theme_actions: dict = {}

    def fill_theme_menu(self, menu: QMenu) -> None:
        """View > Theme: dark or light."""
        group = QActionGroup(menu)
        for name in ("dark", "light"):
            action = menu.addAction(name.capitalize())
            action.setCheckable(True)
            action.setChecked(name == self.window.theme_name)
            action.triggered.connect(lambda checked=False, n=name: self.set_theme(n))
            group.addAction(action)
            self.theme_actions[name] = action

    def set_theme(self, name: str) -> None:
        window = self.window
        window.theme_name = name
        self.theme_actions[name].setChecked(True)
        window.settings.setValue("theme", name)
        self.apply_style()

    def toggle(self) -> None:
        window = self.window
        self.on = on = not self.on
        window.presentation_action.setChecked(on)
        if not on:  # before the dock is back: the table's projector width must not widen the window
            window.reviews.set_font_size(style_for(window.theme_name).font_px)
        window.settings_dock.setVisible(not on)
        window.menuBar().setVisible(not on)
        window.toolbar.setVisible(not on)  # its height goes to the plots; the keys stay
        window.toolbar.set_desk(not on)
        window.statusBar().setVisible(not on)
        window.central.set_presentation(on)
        self.show_pause_badge()
        window.sweep.set_lecture(on)
        if on:
            self.desk_description_open = window.description.open
        window.description.set_open(False if on else self.desk_description_open)
        if on:
            window.board.hide_readouts()
            if self.full_screen:
                window.showFullScreen()
        elif self.full_screen:
            window.showNormal()
        self.apply_style()

    def show_pause_badge(self) -> None:
        """In presentation mode, a run that is not training says so, and which key trains on;
        a slow start says what it is doing (the status bar does at the desk)."""
        badge, session = self.window.pause_badge, self.window.session
        state, note = session.trainer_state, session.progress()
        text = note or ("paused · Space trains on" if state == PAUSED else "not training · Space starts")
        if text != badge.text():
            badge.setText(text)
        badge.setVisible(self.on and (note is not None or state in (PAUSED, IDLE)))

    def apply_style(self) -> None:
        window = self.window
        self.styled_height = window.height()
        style = style_for(window.theme_name, self.on, window.height())
        apply_theme(style.theme)
        app = QApplication.instance()
        apply_widget_palette(app, style.theme, style.font_px)
        # Widgets with a style sheet keep the font they were polished with: set theirs too.
        window.banner.setStyleSheet("QLabel { background: #a01818; color: white; padding: 6px; font-weight: bold; "
                                    f"font-size: {style.font_px}px; }}")
        window.description.setStyleSheet(f"QLabel, QToolButton {{ font-size: {style.font_px}px; }}")
        window.pause_badge.setStyleSheet("QLabel { background: #f0b000; color: black; padding: 0px 8px; "
                                         f"font-weight: bold; font-size: {style.font_px}px; }}")
        # Widgets hidden while the font changed (the toolbar in presentation mode) keep their
        # old size hints: hand them the font again.
        for widget in window.toolbar.findChildren(QWidget):
            widget.setFont(app.font())
            widget.updateGeometry()
        window.board.screen_height = window.height()
        window.board.apply_style(style)
        window.sweep.apply_style(style)
        window.explanation.set_font_size(style.font_px)
        window.central.equations.set_font_size(style.font_px)  # Q's pane: the room reads it
        window.central.equations.fit(window.central.width())
        window.reviews.apply_style(style)  # panels: the word views follow the style too
        window.paint_now()
        window.board.arrange()
        # A backward pass (B) on screen follows too, placed in the plots as they are laid out now.
        window.wave_animation.apply_style(style)

    def resized(self) -> None:
        # Presentation text is a fraction of the screen's height: restyle when it changes
        # (full screen arrives after the toggle, as a resize).
        if self.on and abs(self.window.height() - self.styled_height) > 1:
            self.apply_style()
