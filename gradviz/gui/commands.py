"""Every command of the window, declared once as data: its name, text, keys, menu, toolbar
place, when it is enabled, the window method it calls and its tooltip.

The menus, the transport toolbar's buttons, the keyboard shortcuts (which work with the menu
bar hidden, in presentation mode) and the F1 list are all built from ``COMMANDS`` by
``CommandSet``, so a new command is one entry here and one method on the window (napari's
declarative actions are the model: an action is data, menus and key bindings refer to it).
Presets are commands too, one per preset file, generated in ``preset_commands``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

from gradviz.presets import load_preset, preset_names

MENUS = ("&File", "&Run", "&View", "&Presets", "&Help")
HELP_ORDER = ("&Run", "&View", "&File", "&Help")  # the F1 list: training's keys first, the presets last


@dataclass(frozen=True)
class Command:
    """One thing the user can ask of the window."""

    name: str  # the window keeps the action as ``<name>_action``
    text: str  # the menu's words
    handler: str  # the window method it calls, with no argument
    tip: str  # tooltip and status tip (the keys are added to the tooltip)
    keys: str | None = None
    menu: str | None = None  # one of MENUS; None: keys only
    group: int = 0  # a separator falls between groups of one menu
    toolbar: bool = False  # a button on the transport bar (in this order)
    icon_text: str | None = None  # the toolbar's shorter label
    checkable: bool = False
    enabled_when: Callable | None = None  # f(window) -> bool, asked on every change of the run's state
    help: str | None = None  # the F1 line, when it should say more (or less) than ``text``
    argument: object = None  # handed to the handler when not None (a preset's name)
    more_keys: tuple[str, ...] = ()  # further keys for it ("?" beside F1), named in the F1 line


@dataclass(frozen=True)
class Submenu:
    """A submenu the window fills itself: its place in a menu and the window method that fills it."""

    title: str
    menu: str
    group: int
    builder: str  # window method, called with the new QMenu


COMMANDS: tuple[Command | Submenu, ...] = (
    Command("open", "Open run...", "files.open_run_dialog", "Open a saved run and replay it", "Ctrl+O", "&File",
            help="open a run"),
    Command("save", "Save run", "files.save_run", "Save the run: settings, history and model", "Ctrl+S", "&File",
            help="save the run"),
    Command("save_as", "Save run as...", "files.save_run_as", "Save the run under a new name", "Ctrl+Shift+S", "&File",
            help="save the run under a new name"),
    Submenu("Recent runs", "&File", 0, "files.recent.fill_menu"),
    Command("open_config", "Open configuration...", "files.open_config_dialog",
            "Load settings from a JSON or TOML file", menu="&File", group=1),
    Command("save_config", "Save configuration...", "files.save_config_dialog",
            "Save the settings as an editable JSON file", menu="&File", group=1),
    Command("last_config", "Last configuration", "files.load_last_config",
            "The settings of the last Reset, from the previous session too", menu="&File", group=1),
    Command("export", "Export...", "exporter.open_dialog",
            "Export the window or a plot to PNG/SVG, or its data to CSV/NPZ", "Ctrl+E", "&File", 2,
            help="export a figure or data"),
    Command("export_wave", "Export backward pass...", "exporter.export_backward_pass",
            "The last backward pass (B) as an animated GIF or a PNG sequence, for slides", menu="&File", group=2,
            enabled_when=lambda window: window.session.last_wave is not None),  # B shows one first
    Command("copy", "Copy plot", "exporter.copy_plot", "Copy the last clicked plot to the clipboard", "Ctrl+Shift+C",
            "&File", 2, help="copy the current plot"),
    Command("quit", "Quit", "close", "Close gradviz", "Ctrl+Q", "&File", 3, help="quit"),
    Command("start", "Start", "toggle_running", "Start or pause training", "Space", "&Run", toolbar=True,
            help="start / pause"),
    Command("step", "Step", "step_once", "Train exactly one step and show it", "Right", "&Run", toolbar=True,
            help="train exactly one step"),
    Command("reset", "Reset", "reset", "Rebuild the models from the settings", "R", "&Run", toolbar=True,
            help="reset: apply the settings"),
    Command("wave", "Backward pass", "step_views.animate_backward_pass",
            "Train one step, pause, and animate its backward pass: the gradient travelling back from the "
            "loss to t = 1 in every model at once, with what multiplies it at each step", "B", "&Run",
            toolbar=True, icon_text="Backward",  # the toolbar's label: room for the rest at 1024 px
            help="the backward pass of one step, animated: the gradient travelling back from the loss"),
    Command("evaluate", "Evaluate on the held-out set", "tabs.evaluate", "Text tasks: accuracy, precision, recall, "
            "F1 and confusion matrix", "E", "&Run", help="text tasks: evaluate on the held-out set"),
    Command("presentation", "Presentation mode", "toggle_presentation",
            "Full screen, large fonts, thick lines, high contrast", "F5", "&View", checkable=True,
            help="presentation mode (F5 or Esc leaves)"),
    Command("extra", "Next third plot", "next_extra_view", "Third plot under the gradient profile and the loss: "
            "history heatmap, gates (at the desk also gate means, norms)", "H", "&View",
            help="third plot: history heatmap / gates (/ gate means / norms at the desk)"),
    Command("description", "Description", "toggle_description", "Open or close the description above the plots",
            "D", "&View", help="open or close the description"),
    Command("equations", "Equations", "toggle_equations", "Show or hide the equations with their live values "
            "beside the plots, in presentation mode too", "Q", "&View", checkable=True,
            help="the equations with their live values, beside the plots (in presentation mode too)"),
    Command("connectivity", "Which step teaches which", "step_views.show_connectivity",
            "Train one step, pause, and show for each model how much gradient the loss at each output "
            "step sends back to each earlier timestep (itemized gradients)", "C", "&View",
            help="which step teaches which: each output step's gradient reaching each timestep"),
    Command("sweep", "How far back? (trainability map)", "show_sweep_tab",
            "Switch between the training plots and the trainability map: success rate against sequence length, "
            "from a sweep of runs", "T", "&View",
            help="how far back? the trainability map: success rate against T, filled in as a sweep's runs finish"),
    Command("words", "Words of a review", "show_words_tab",
            "Text tasks: switch between the training plots and a review's words", "W", "&View",
            help="text tasks: the words of a review"),
    Submenu("Backward pass length", "&View", 0, "step_views.fill_speed_menu"),
    Submenu("Theme", "&View", 0, "presentation_room.fill_theme_menu"),
    Command("shortcuts", "Keyboard shortcuts", "show_shortcuts", "List the shortcuts", "F1", "&Help",
            help="this list", more_keys=("?",)),  # "?" is where a new user looks for help
    Command("about", "About gradviz", "show_about", "What gradviz is", menu="&Help"),
)


def preset_commands() -> tuple[Command, ...]:
    """One command per preset, in the presets' order; the first nine on the digit keys."""
    commands = []
    for number, name in enumerate(preset_names(), start=1):
        preset = load_preset(name)
        commands.append(Command(f"preset_{name}", preset.title, "load_preset", preset.description,
                                str(number) if number <= 9 else None, "&Presets", argument=name))
    return tuple(commands)


def resolve(window, path: str):
    """The window's method named by ``path``: 'reset', or a room's, 'files.open_run_dialog'."""
    target = window
    for name in path.split("."):
        target = getattr(target, name)
    return target


class CommandSet:
    """The QActions of ``COMMANDS`` (and the presets') on ``window``: its menus, the toolbar's
    buttons, the shortcuts, the enabled states and the F1 list."""

    def __init__(self, window: QMainWindow, commands: tuple = COMMANDS):
        self.window = window
        self.commands = commands + preset_commands()
        self.actions: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        for command in self.commands:
            if isinstance(command, Command):
                self.actions[command.name] = self._action(command)
                setattr(window, f"{command.name}_action", self.actions[command.name])
        self._build_menus()
        # Esc leaves presentation mode, and is no menu's: a bare shortcut.
        escape = QShortcut(QKeySequence("Esc"), window)
        escape.activated.connect(lambda: window.presentation and window.toggle_presentation())

    def _action(self, command: Command) -> QAction:
        action = QAction(command.text, self.window)
        if command.keys:
            action.setShortcuts([QKeySequence(keys) for keys in (command.keys, *command.more_keys)])
        action.setToolTip(f"{command.tip} ({command.keys})" if command.keys else command.tip)
        action.setStatusTip(command.tip)
        action.setCheckable(command.checkable)
        if command.icon_text:
            action.setIconText(command.icon_text)
        handler = resolve(self.window, command.handler)
        # triggered(checked) would hand its flag to a handler's first optional argument (the
        # path of export_backward_pass, once): every handler is called bare, or with its argument.
        if command.argument is None:
            action.triggered.connect(lambda checked=False: handler())
        else:
            action.triggered.connect(lambda checked=False, argument=command.argument: handler(argument))
        self.window.addAction(action)  # shortcuts work with the menu bar hidden (presentation mode)
        return action

    def _build_menus(self) -> None:
        bar = self.window.menuBar()
        for title in MENUS:
            self.menus[title] = bar.addMenu(title)
        last_group: dict[str, int] = {}
        for command in self.commands:
            if command.menu is None:
                continue
            menu = self.menus[command.menu]
            if command.menu in last_group and command.group != last_group[command.menu]:
                menu.addSeparator()
            last_group[command.menu] = command.group
            if isinstance(command, Submenu):
                resolve(self.window, command.builder)(menu.addMenu(command.title))
            else:
                menu.addAction(self.actions[command.name])

    def toolbar_actions(self) -> list[QAction]:
        """The transport bar's buttons, in declaration order."""
        return [self.actions[c.name] for c in self.commands if isinstance(c, Command) and c.toolbar]

    def refresh_enabled(self) -> None:
        """Enable each command whose condition holds now (asked on every change of the run)."""
        for command in self.commands:
            if isinstance(command, Command) and command.enabled_when is not None:
                self.actions[command.name].setEnabled(bool(command.enabled_when(self.window)))

    def shortcut_lines(self) -> list[str]:
        """The F1 list: every command with keys, then the presets by number."""
        lines = [f"{c.keys}: {c.help or c.text}" + "".join(f" (also {keys})" for keys in c.more_keys)
                 for menu in (*HELP_ORDER, None) for c in self.commands
                 if isinstance(c, Command) and c.keys and c.menu == menu]
        presets = [f"{c.keys}: {c.text}" for c in self.commands if isinstance(c, Command) and c.menu == "&Presets"
                   and c.keys]
        return [*lines, "Esc: leave presentation mode", "", "Presets:", *presets]

    def show_shortcuts(self) -> None:
        QMessageBox.information(self.window, "Keyboard shortcuts", "\n".join(self.shortcut_lines()))
