"""Check a package's own imports: no import cycles, and no unexplained function-level imports.

    python tools/check_imports.py python/websocket_streaming

Every module of the package (``*.py`` under the directory, subpackages included) is parsed,
not imported.  Each ``import`` / ``from ... import`` that names a module of the same package
(absolute or relative) is an edge of the import graph, whether it sits at module level (in
``try``/``if`` blocks and class bodies too) or inside a function.  ``from pkg import name``
is an edge to ``pkg.name`` when that is a module, else to ``pkg`` itself (its ``__init__``).
Importing ``pkg.sub`` also runs ``pkg/__init__.py``; that implicit edge is left out, as every
cycle checker does, or every re-exporting ``__init__`` would make a cycle.  Imports under
``if TYPE_CHECKING:`` never run and are left out too.

Two kinds of problem are reported, each with file and line, and make the exit status 1:

* a cycle in the graph (function-level imports included: a lazy import that only hides a
  cycle is still a cycle);
* an intra-package import inside a function whose line carries no comment containing
  ``lazy-import:`` saying why it is not at the top of the module.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

MARKER = re.compile(r"#.*lazy-import:")


@dataclass(frozen=True)
class Edge:
    """One import of ``target`` by ``source``, at ``path``:``line``."""

    source: str
    target: str
    path: Path
    line: int
    text: str
    in_function: bool
    marked: bool


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``*.py`` of the package rooted at ``root``."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement that runs, with whether it is inside a function."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append((child, in_function))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit_one(other, in_function)
            else:
                inner = in_function or isinstance(
                    child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                )
                visit(child, inner)

    def visit_one(node: ast.stmt, in_function: bool) -> None:
        wrapper = ast.Module(body=[node], type_ignores=[])
        visit(wrapper, in_function)

    visit(tree, False)
    return found


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: dict[str, Path]
) -> list[str]:
    """The package's modules that ``node`` (in ``module``) imports."""
    package = module.split(".")[0]
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return [name for name in names if name in modules]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        if node.level > 1:
            base = base[: len(base) - (node.level - 1)]
        prefix = ".".join([*base, node.module] if node.module else base)
    else:
        prefix = node.module or ""
    if prefix.split(".")[0] != package:
        return []
    targets = []
    for alias in node.names:
        sub = f"{prefix}.{alias.name}"
        if sub in modules:
            targets.append(sub)
        elif prefix in modules:
            targets.append(prefix)
    return list(dict.fromkeys(targets))


def edges(root: Path) -> list[Edge]:
    """Every intra-package import of the package rooted at ``root``."""
    modules = module_names(root)
    found = []
    for module, path in modules.items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source, filename=str(path))
        for node, in_function in _imports(tree):
            statement = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
            marked = any(MARKER.search(line) for line in statement)
            for target in _targets(node, module, path.name == "__init__.py", modules):
                text = lines[node.lineno - 1].strip()
                found.append(Edge(module, target, path, node.lineno, text, in_function, marked))
    return found


def cycles(graph: list[Edge]) -> list[list[Edge]]:
    """One cycle (as the edges that make it) per strongly connected component that has one."""
    out: dict[str, list[Edge]] = {}
    for edge in graph:
        out.setdefault(edge.source, []).append(edge)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in out.get(node, []):
            if edge.target not in index:
                connect(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted({e.source for e in graph} | {e.target for e in graph}):
        if node not in index:
            connect(node)

    found = []
    for component in components:
        start = min(component)
        # Shortest path back to `start` inside the component (breadth-first).
        paths: dict[str, list[Edge]] = {start: []}
        queue = [start]
        cycle: list[Edge] | None = None
        while queue and cycle is None:
            node = queue.pop(0)
            for edge in out.get(node, []):
                if edge.target not in component:
                    continue
                if edge.target == start:
                    cycle = [*paths[node], edge]
                    break
                if edge.target not in paths:
                    paths[edge.target] = [*paths[node], edge]
                    queue.append(edge.target)
        if cycle is not None:
            found.append(cycle)
    return found


def problems(root: Path) -> list[str]:
    """Human-readable problems of the package rooted at ``root`` (empty: all is well)."""
    graph = edges(root)
    messages = []
    for cycle in cycles(graph):
        chain = " -> ".join([cycle[0].source, *(edge.target for edge in cycle)])
        lines = [f"import cycle: {chain}"]
        for edge in cycle:
            where = " (in a function)" if edge.in_function else ""
            lines.append(f"    {edge.path}:{edge.line}: {edge.text}{where}")
        messages.append("\n".join(lines))
    for edge in graph:
        if edge.in_function and not edge.marked:
            messages.append(
                f"function-level import: {edge.path}:{edge.line}: {edge.text}\n"
                "    move it to the top of the module, or say why it cannot be there with a "
                "comment on that line containing 'lazy-import:'"
            )
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", type=Path, help="the package's directory")
    args = parser.parse_args(argv)
    if not (args.package / "__init__.py").is_file():
        parser.error(f"{args.package} is not a package (no __init__.py)")
    found = problems(args.package)
    for message in found:
        print(message, file=sys.stderr)
    if found:
        print(f"check_imports: {len(found)} problem(s) in {args.package}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
