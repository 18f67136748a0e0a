"""The shape of the code: no import circle between tracker modules, no oversized module.

The import graph is read from the source with ``ast``, not by importing: every
``import`` statement counts, at the top of a module or inside a function (an
import inside a function only hides a circle until the function runs). Its edges:

- ``import tracker.a.b`` and ``from tracker.a import b`` (``b`` a submodule) go to
  ``tracker.a.b``; ``from tracker.a import name`` goes to ``tracker.a`` itself;
- importing ``tracker.a.b`` also runs the package ``tracker.a`` first, so there is
  an edge to each enclosing package the importing module is not already inside
  (every module is inside ``tracker``: importing a submodule is no edge to the
  ``tracker`` package, importing a name from it is);
- imports under ``if TYPE_CHECKING:`` never run and do not count.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tracker"

#: the packages whose modules must stay small enough to read
SMALL_MODULE_PACKAGES = ("imports", "dashboard")
MAX_LINES = 400


def _modules() -> dict[str, tuple[Path, bool]]:
    """Return {dotted name: (file, is a package)} of every module of tracker/."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Yield every Import and ImportFrom node that can run, wherever it is."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules) -> set:
    """Return the tracker modules an import statement names."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join(anchor + ([node.module] if node.module else []))
    return {
        f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
        for alias in node.names
    }


def import_graph() -> dict[str, set[str]]:
    """Return {module: the tracker modules its import statements run}."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for module, (path, is_package) in modules.items():
        own = module if is_package else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_nodes(tree):
            for target in _imported(node, module, is_package, modules):
                if target not in modules:
                    continue  # a third-party module, or a name that is not a module
                parts = target.split(".")
                enclosing = {".".join(parts[:i]) for i in range(1, len(parts))}
                # the packages the importing module is inside have already run
                enclosing = {p for p in enclosing if own != p and not own.startswith(p + ".")}
                graph[module] |= ({target} | enclosing) - {module}
    return graph


def _shortest_path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])
            return path[::-1]
        for nxt in sorted(graph[node]):
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return None


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the shortest circle through each edge that closes one, shortest first."""
    circles, seen = [], set()
    for source in sorted(graph):
        for target in sorted(graph[source]):
            back = _shortest_path(graph, target, source)
            if back is None:
                continue
            circle = [source, *back]
            key = frozenset(zip(circle, circle[1:], strict=False))
            if key not in seen:
                seen.add(key)
                circles.append(circle)
    return sorted(circles, key=lambda c: (len(c), c))


def _report(circles: list[list[str]]) -> str:
    return "import circles, shortest first:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_the_graph_holds_top_level_function_level_and_package_imports():
    graph = import_graph()
    assert "tracker.commands" in graph["tracker.cli"]  # at the top of the module
    assert "tracker.participants.views" in graph["tracker"]  # inside create_app
    assert "tracker.participants" in graph["tracker"]  # its package runs first
    assert "tracker.participants" in graph["tracker.participants.views"]  # bp from it
    assert "tracker" not in graph["tracker.cli"]  # a submodule import is no edge to tracker
    circles = import_circles({"a": {"b"}, "b": {"c", "a"}, "c": {"a"}})
    assert circles == [["a", "b", "a"], ["b", "c", "a", "b"]]


def test_no_import_circle():
    circles = import_circles(import_graph())
    assert not circles, _report(circles)


def test_imports_and_dashboard_modules_stay_small():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for package in SMALL_MODULE_PACKAGES
        for path in sorted((PACKAGE / package).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"
