"""The house's rules for gradviz/gui, checked on the source (no window needed): no module over
MAX_LINES lines, no function over MAX_FUNCTION_LINES; and every command of the window is
declared once, as data, from which the menus, the toolbar, the shortcuts and the F1 list come."""

from __future__ import annotations

import ast
from pathlib import Path

import gradviz

GUI = Path(gradviz.__file__).parent / "gui"
MAX_LINES = 500
MAX_FUNCTION_LINES = 60
# Modules over a limit, with the size they may not grow past, while they wait to be split by idea
# (none now: every gui module and function fits). Lower a number when a file shrinks; delete the
# entry when it fits.
NOT_YET: dict[str, int] = {}


def _functions(tree: ast.AST, prefix: str = ""):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}{node.name}", node.end_lineno - node.lineno + 1
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def test_no_gui_module_or_function_is_too_long_to_read():
    too_long = []
    for path in sorted(GUI.rglob("*.py")):
        name = path.relative_to(GUI).as_posix()
        source = path.read_text(encoding="utf-8")
        lines = len(source.splitlines())
        if lines > NOT_YET.get(name, MAX_LINES):
            too_long.append(f"{name}: {lines} lines (at most {NOT_YET.get(name, MAX_LINES)})")
        for function, length in _functions(ast.parse(source)):
            key = f"{name}:{function}"
            if length > NOT_YET.get(key, MAX_FUNCTION_LINES):
                too_long.append(f"{key}: {length} lines (at most {NOT_YET.get(key, MAX_FUNCTION_LINES)})")
    assert too_long == []


def test_the_main_window_is_within_the_limits_with_no_exception():
    assert not any(key.startswith("main_window.py") for key in NOT_YET)
    assert len((GUI / "main_window.py").read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_menus_toolbar_shortcuts_and_the_f1_list_come_from_the_commands(qtbot, make_window):
    from gradviz.gui.commands import COMMANDS, Command, preset_commands

    window = make_window()
    commands = [c for c in COMMANDS + preset_commands() if isinstance(c, Command)]
    keys = [c.keys for c in commands if c.keys]
    assert len(keys) == len(set(keys)), "two commands on one key"
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    lines = window.commands.shortcut_lines()
    for command in commands:
        action = getattr(window, f"{command.name}_action")
        assert action in window.actions()  # its keys work with the menu bar hidden (presentation)
        assert action.shortcut().toString() == (command.keys or "")
        assert (action in menus[command.menu].actions()) if command.menu else True
        assert (action in window.toolbar.actions()) == command.toolbar
        if command.keys:
            assert any(line.startswith(f"{command.keys}: ") for line in lines), command.name
    file_menu = [a.text() for a in menus["&File"].actions()]
    assert file_menu == ["Open run...", "Save run", "Save run as...", "Recent runs", "", "Open configuration...",
                         "Save configuration...", "Last configuration", "", "Export...", "Export backward pass...",
                         "Copy plot", "", "Quit"]
    assert [a.text() for a in window.toolbar.actions()[:4]] == ["Start", "Step", "Reset", "Backward pass"]


def test_a_command_that_cannot_run_yet_is_greyed_out_until_it_can(qtbot, make_window):
    window = make_window()
    assert not window.export_wave_action.isEnabled()  # no backward pass shown yet: nothing to export
    arrived = []
    window.session.waveReady.connect(lambda step, waves: arrived.append(step))
    window.animate_backward_pass()
    qtbot.waitUntil(lambda: bool(arrived), timeout=30000)
    assert window.export_wave_action.isEnabled()
