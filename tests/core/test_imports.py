"""The import contract: the layers of the house only point down, and nothing imports in a
circle, function-level imports included (read from the source, not by importing it).

    cli, bench, doctor    entry points: may import anything below
    gui                   the views: never cli or bench
    session               the trainer process and the Session: no Qt, no gui
    engine, io, probes, models, tasks, config, ...   the core: no Qt, no gui, no session
"""

from __future__ import annotations

import ast
from pathlib import Path

import gradviz

ROOT = Path(gradviz.__file__).parent
ENTRY = ("gradviz.cli", "gradviz.bench", "gradviz.__main__", "gradviz.doctor", "gradviz.selfcheck")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports, at any level of the file (functions included)."""
    found: set[str] = set()
    name = module_name(path, root)
    package = name.rsplit(".", 1)[0] if path.name != "__init__.py" else name
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return found


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = {module_name(path, root): path for path in root.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        edges[name] = {target for target in imports_of(path, root) if target in modules and target != name}
    return edges


def layer(name: str) -> str:
    if name in ENTRY:
        return "entry"
    for part in ("gui", "session"):
        if name == f"gradviz.{part}" or name.startswith(f"gradviz.{part}."):
            return part
    return "core"


ALLOWED = {"entry": {"entry", "gui", "session", "core"}, "gui": {"gui", "session", "core"},
           "session": {"session", "core"}, "core": {"core"}}


def test_layers_only_import_down():
    wrong = [(source, target) for source, targets in graph().items() for target in targets
             if layer(target) not in ALLOWED[layer(source)]]
    assert wrong == []


def cycles_in(edges: dict[str, set[str]]) -> list[list[str]]:
    # Package __init__ files are imported by their own modules' imports: not a cycle of ideas.
    edges = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in edges.items()}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(edges.get(name, ())):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name)
    return cycles


def test_no_import_cycles():
    assert cycles_in(graph()) == []


def test_the_contract_sees_a_cycle_through_a_function_level_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import g\n")
    (package / "b.py").write_text("def g():\n    from pkg import a  # late, but still a cycle\n    return a\n")
    assert cycles_in(graph(package)) == [["pkg.a", "pkg.b", "pkg.a"]]
