"""The package's import graph: no cycles, and the layers import only downwards.

The graph is read from the source (every `import` and `from … import`, at module level
or inside a function, except under `if TYPE_CHECKING:`), so an import moved into a
function to dodge a cycle still counts: it is the same cycle, only found later.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sbm_engine"

#: Front ends: what people and other programs call. Nothing else may import them, so
#: the library works without any of them and they cannot tie the layers into a knot.
FRONT_ENDS = ("sbm_engine.cli", "sbm_engine.serve", "sbm_engine.lsp")

#: The language core: parsing, checking and compiling a standard. It must not reach up
#: into reading data, the batch backend, the analytics or the front ends.
CORE = (
    "sbm_engine.nodes",
    "sbm_engine.keywords",
    "sbm_engine.parser",
    "sbm_engine.diagnostics",
    "sbm_engine.sources",
    "sbm_engine.messages",
    "sbm_engine.resources",
    "sbm_engine.cache",
    "sbm_engine.functions",
    "sbm_engine.runtime",
    "sbm_engine.timestamps",
    "sbm_engine.field_types",
    "sbm_engine.model",
    "sbm_engine.loader",
    "sbm_engine.placement",
    "sbm_engine.expand",
    "sbm_engine.checker",
    "sbm_engine.checking",
    "sbm_engine.ir",
    "sbm_engine.builtins",
    "sbm_engine.codegen",
    "sbm_engine.compiler",
    "sbm_engine.interpret",
    "sbm_engine.fmt_expr",
    "sbm_engine.formatter",
)
ABOVE_CORE = (
    "sbm_engine.io",
    "sbm_engine.batch",
    "sbm_engine.pipeline",
    "sbm_engine.analytics",
    "sbm_engine.plugins",
    "sbm_engine.builtin_plugin",
    "sbm_engine.standard",
    "sbm_engine.api",
    "sbm_engine.dask",
    *FRONT_ENDS,
)


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _type_checking_only(tree: ast.Module) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return hidden


def _imported(module: str, path: Path, node: ast.AST, modules: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                yield name
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            package = module.split(".")
            if path.name != "__init__.py":
                package.pop()
            base = package[: len(package) - node.level + 1]
            target = ".".join([*base, node.module] if node.module else base)
        else:
            target = node.module or ""
        for alias in node.names:
            submodule = f"{target}.{alias.name}"
            if submodule in modules:
                yield submodule
            elif target in modules:
                yield target


def import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports (outside `if TYPE_CHECKING:`)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        hidden = _type_checking_only(tree)
        graph[module] = {
            target
            for node in ast.walk(tree)
            if id(node) not in hidden
            for target in _imported(module, path, node, modules)
            if target != module
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_cycle_finder_finds_a_cycle_and_only_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_local_and_relative_imports() -> None:
    graph = import_graph()
    # `sbm_engine.cli.__init__` imports `common` inside `main`, relatively.
    assert "sbm_engine.cli.common" in graph["sbm_engine.cli"]
    assert "sbm_engine.nodes" in graph["sbm_engine.parser"]


def test_the_package_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in found)


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        (lambda m: not _within(m, FRONT_ENDS), FRONT_ENDS),
        (lambda m: _within(m, CORE), ABOVE_CORE),
    ],
    ids=["only front ends import front ends", "the language core imports no layer above it"],
)
def test_layers_import_only_downwards(lower: object, upper: tuple[str, ...]) -> None:
    graph = import_graph()
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if lower(module)  # type: ignore[operator]
        for target in targets
        if _within(target, upper) and not _within(module, upper)
    )
    assert wrong == []
