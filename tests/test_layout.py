"""The shape of the code: packages import only downwards, no two files import each other, files stay small."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("core", "training", "embeddings", "explorer", "pipeline", "synthetic")
#: What each package may import from the project (lazily inside a function or not): the floors below it.
ALLOWED = {"core": set(), "training": {"core"}, "embeddings": {"core", "training"}, "explorer": {"core"},
           "pipeline": {"core", "training", "embeddings", "explorer"},
           "synthetic": {"core"}}  # the tests' and benchmarks' caches
MAX_LINES = 400
#: The notebook's front door: ``explorer/__init__.py`` forwards ``from_arrays``/``from_model`` to
#: ``pipeline.notebook`` on first use; no other explorer module imports an upper floor.
FRONT_DOORS = {("explorer", "pipeline.notebook")}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Project modules a file imports, anywhere in it (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # "from pkg import module"
    return {m for m in out if m.split(".")[0] in PACKAGES}


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    modules = {_module(p): p for p in files}
    return {name: {m for m in _imports(p) if m in modules and m != name} for name, p in modules.items()}


def test_packages_import_only_the_floors_below_them():
    graph = _graph()
    # the explorer split by job (tests/test_explorer.py holds its own rules, e.g. no dataset names)
    assert {"explorer.ids", "explorer.checks", "explorer.panels", "explorer.page", "explorer.tabs.explore",
            "explorer.tabs.datasets", "explorer.tabs.projections", "explorer.tabs.dynamics"} <= set(graph)
    wrong = [(a, b) for a, deps in graph.items() for b in deps
             if b.split(".")[0] != a.split(".")[0] and b.split(".")[0] not in ALLOWED[a.split(".")[0]]
             and (a, b) not in FRONT_DOORS]
    assert wrong == []


def test_no_two_files_import_each_other():
    graph = _graph()
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycles.append(path[path.index(dep):] + [dep] if dep in path else [node, dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ importing its own modules is no cycle
    cycles = [c for c in cycles if not any(len(m.split(".")) == 1 for m in c)]
    assert cycles == []


def test_source_files_stay_small():
    big = {str(p.relative_to(ROOT)): n for pkg in (*PACKAGES, "benchmarks", "scripts")
           for p in (ROOT / pkg).rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert big == {}


def test_no_benchmark_or_script_reads_the_tests():
    """The synthetic caches are a package of their own (``synthetic/``): benchmarks and scripts import no test."""
    readers = [p for pkg in ("benchmarks", "scripts", *PACKAGES) for p in (ROOT / pkg).rglob("*.py")]
    wrong = sorted(str(p.relative_to(ROOT)) for p in readers
                   if any(m == "tests" or m.startswith("tests.") or m in _test_modules() for m in _all_imports(p)))
    assert wrong == []


def _test_modules() -> set[str]:
    return {p.stem for p in (ROOT / "tests").glob("*.py")}


def _all_imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            out.add(node.module or "")
    return out
