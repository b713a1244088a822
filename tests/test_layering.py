"""The architecture, held: rooms and their order, no cycles, no private names, no flags outside the CLI.

Every module of the project belongs to a *room* (``ROOMS``: the longest prefix of its name that is a room);
a module may import its own room and rooms of a lower rank, never a higher one, and never another room of
the same rank. Studies are jobs built from the rooms below them: no study imports another. The folders
``agents/`` and ``experiments/`` install as ``sd_env.agents`` and ``sd_env.experiments``; the old top-level
names ``agents`` and ``experiments`` must not be imported anywhere.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Folder of the repository -> the import name its modules have.
PACKAGES = {"sd_env": "sd_env", "agents": "sd_env.agents", "experiments": "sd_env.experiments",
            "benchmarks": "benchmarks", "tools": "tools"}
#: Room -> rank. A room is a package prefix; a module is in the room of its longest matching prefix.
ROOMS = {
    "sd_env": 0,                          # the model, its core and adapters
    "sd_env.agents": 1,                   # learned-policy wrappers, learners
    "sd_env.experiments": 2,              # the package itself (CONFIGS)
    "sd_env.experiments.output": 2,       # files, numbers, figures, generated blocks
    "sd_env.experiments.lab": 3,          # rollouts, specs and seating, measures, series, evaluation
    "sd_env.experiments.training": 4,     # configs, backends, drift, final metrics
    "sd_env.experiments.history": 4,      # the historical record
    "sd_env.experiments.studies": 5,      # sweeps, benchmark, exploit, Jervis pairs, scenario runs, quickstart
    "sd_env.experiments.reporting": 6,    # reports, evaluation text and figures, cards, docs tables
    "sd_env.experiments.cli": 7,          # the command line
    "benchmarks": 8,                      # speed measurements (a folder of the repository, not installed)
    "tools": 8,                           # maintenance scripts (not installed)
}
#: Rooms whose modules must not import one another.
INDEPENDENT = {"sd_env.experiments.studies"}


def module_files() -> dict[str, Path]:
    """Every project module by its import name."""
    modules = {}
    for folder, name in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            if path.is_symlink() or any(part.is_symlink() for part in path.parents):
                continue
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            modules[".".join((name, *parts)).removesuffix(".__init__")] = path
    return modules


def room(module: str) -> str:
    return max((prefix for prefix in ROOMS if module == prefix or module.startswith(prefix + ".")), key=len)


def project_imports() -> dict[str, set[str]]:
    """Module -> project modules it imports (at module level or inside functions), resolved to known modules."""
    files = module_files()
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from sd_env.experiments.lab import series`` imports the module ...lab.series, not the package.
                names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in files else node.module
                         for alias in node.names]
            imported.update(name for name in names if name.split(".")[0] in ("sd_env", "benchmarks", "tools",
                                                                             "agents", "experiments"))
        graph[module] = imported
    return graph


def test_every_module_is_in_a_room():
    assert all(room(module) for module in module_files())


def test_no_module_imports_the_old_top_level_names():
    offences = [f"{module} imports {target}" for module, targets in project_imports().items() for target in targets
                if target.split(".")[0] in ("agents", "experiments")]
    assert offences == []


def test_rooms_import_only_lower_rooms_and_studies_import_no_study():
    offences = []
    for module, targets in project_imports().items():
        own = room(module)
        for target in targets:
            other = room(target)
            if other == own:
                if own in INDEPENDENT and target != own and module != own:
                    offences.append(f"{module} imports {target} (a study imports another study)")
            elif ROOMS[other] >= ROOMS[own]:
                offences.append(f"{module} ({own}) imports {target} ({other})")
    assert offences == []


def test_no_import_cycles():
    graph = project_imports()
    known = set(graph)

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    # A submodule touching a package above it (its __init__) is how packages work, not a cycle between modules.
    edges = {
        module: {resolve(target) for target in targets} - {None, module}
        - {module.rsplit(".", k)[0] for k in range(1, module.count(".") + 1)}
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
    for module, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                    and node.module.split(".")[0] in ("sd_env", "benchmarks", "tools"):
                offences += [f"{module} imports {node.module}.{alias.name}" for alias in node.names
                             if alias.name.startswith("_") and not alias.name.endswith("__")]
    assert offences == []


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def raised_texts(path: Path) -> list[tuple[int, str]]:
    """The string parts of every exception a module raises (``raise X(...)``, ``_fail(...)``, ``parser.error``)."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text())):
        calls = []
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            calls.append(node.exc)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_fail":
            calls.append(node)
        for call in calls:
            for argument in [*call.args, *(keyword.value for keyword in call.keywords)]:
                for part in ast.walk(argument):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        texts.append((node.lineno, part.value))
    return texts


def test_no_module_but_the_cli_names_a_flag_in_an_error():
    """Library errors name parameters (``episodes``); the command line adds its flags (``--episodes``)."""
    offences = []
    for module, path in module_files().items():
        if module == "sd_env.experiments.cli" or room(module) in ("benchmarks", "tools"):
            continue
        offences += [f"{path.relative_to(ROOT)}:{line}: {text!r}" for line, text in raised_texts(path)
                     if FLAG.search(text)]
    assert offences == []


def test_the_flag_check_sees_a_flag_in_an_error(tmp_path):
    """The check above can fail: a raise naming a flag, in an f-string or through _fail, is found."""
    sample = tmp_path / "sample.py"
    sample.write_text('def f(x):\n    raise ValueError(f"--episodes must be >= 1, got {x}")\n'
                      'def g():\n    _fail("give --wars FILE")\n')
    assert [line for line, text in raised_texts(sample) if FLAG.search(text)] == [2, 4]
