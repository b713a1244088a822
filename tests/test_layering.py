"""Package roles: sd_env < agents < experiments < benchmarks, no import cycles, no private names imported."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: benchmarks/ is a package of the repository (not installed) that may import all the others.
LAYERS = {"sd_env": 0, "agents": 1, "experiments": 2, "benchmarks": 3}


def project_imports() -> dict[str, set[str]]:
    """Module -> project modules it imports (at module level or inside functions)."""
    graph: dict[str, set[str]] = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            imported = set()
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    # ``from sd_env import core`` imports the module sd_env.core, not just the package.
                    names = [f"{node.module}.{alias.name}" if (ROOT / node.module.replace(".", "/") / f"{alias.name}.py")
                             .is_file() else node.module for alias in node.names]
                imported.update(name for name in names if name.split(".")[0] in LAYERS)
            graph[module] = imported
    return graph


def test_no_module_imports_a_higher_layer():
    offences = [
        f"{module} imports {target}"
        for module, targets in project_imports().items()
        for target in targets
        if LAYERS[target.split(".")[0]] > LAYERS[module.split(".")[0]]
    ]
    assert offences == []


def test_no_import_cycles():
    graph = project_imports()
    known = set(graph)

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    # A submodule touching its own package's __init__ is how packages work, not a cycle between modules.
    edges = {
        module: {resolve(target) for target in targets} - {None, module, module.split(".")[0]}
        for module, targets in graph.items()
    }
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(module: str, path: list[str]) -> bool:
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycle.extend(path + [module, target])
                return True
            if state.get(target) is None and visit(target, path + [module]):
                return True
        state[module] = 2
        return False

    for module in sorted(edges):
        if state.get(module) is None and visit(module, []):
            break
    assert cycle == [], " -> ".join(cycle)


def test_no_module_imports_a_private_name_of_another():
    """``from module import _name`` reaches into another module's internals: make the name public instead."""
    offences = []
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                        and node.module.split(".")[0] in LAYERS:
                    offences += [f"{path.relative_to(ROOT)} imports {node.module}.{alias.name}" for alias in node.names
                                 if alias.name.startswith("_") and not alias.name.endswith("__")]
    assert offences == []
