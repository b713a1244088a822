"""Packaging promises: one top-level import name, what ``sd_env`` imports, the console command, the version."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# yaml is not listed: numba reads an optional config file with it when it is installed.
HEAVY = ["torch", "stable_baselines3", "pandas", "matplotlib", "ray", "sd_env.agents", "sd_env.experiments",
         "tensorboard"]
#: Folders of the repository and the package each installs as.
INSTALLED_AS = {"sd_env": "sd_env", "agents": "sd_env/agents", "experiments": "sd_env/experiments"}


@pytest.fixture(scope="module")
def wheel_path(tmp_path_factory) -> Path:
    """A wheel built from the working tree, as ``pip install sd-env`` would get it."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def build_wheel(out: Path) -> Path:
    """Build the wheel of the working tree into ``out``; its path (tests/test_quickstart.py installs it)."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(out), str(ROOT)], check=True, capture_output=True, text=True)
    (path,) = out.glob("sd_env-*.whl")
    return path


@pytest.fixture(scope="module")
def wheel(wheel_path) -> zipfile.ZipFile:
    return zipfile.ZipFile(wheel_path)


def test_the_wheel_installs_exactly_one_top_level_package(wheel):
    names = wheel.namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"sd_env"}
    (top_level,) = [name for name in names if name.endswith(".dist-info/top_level.txt")] or [None]
    if top_level is not None:
        assert wheel.read(top_level).decode().split() == ["sd_env"]


def test_the_wheel_holds_every_module_and_config_of_the_tree(wheel):
    """Every .py file of sd_env/, agents/ and experiments/ (and the example configs) is in the wheel, where the
    one top-level name puts it: a subpackage missing from pyproject.toml's list would be left out."""
    expected = set()
    for folder, installed in INSTALLED_AS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".yaml") and "__pycache__" not in path.parts and not path.is_symlink():
                expected.add(f"{installed}/{path.relative_to(ROOT / folder).as_posix()}")
    assert expected - set(wheel.namelist()) == set()


def test_sd_env_imports_only_numpy_numba_gymnasium_and_pettingzoo():
    code = (
        "import sys, sd_env\n"
        "env = sd_env.parallel_env(); env.reset(seed=0)\n"
        f"print(','.join(sorted(name for name in {HEAVY!r} if name in sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "", f"sd_env pulled in: {completed.stdout.strip()}"


def test_console_command_is_installed_and_the_version_is_written_once():
    import tomllib

    import sd_env

    completed = subprocess.run(["sd-env", "--version"], capture_output=True, text=True)
    assert completed.returncode == 0
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert completed.stdout.strip() == f"sd-env {version}" and sd_env.__version__ == version
    assert version not in (ROOT / "sd_env" / "__init__.py").read_text()  # read from the metadata, not written twice


def test_the_base_install_is_the_environment_alone():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {requirement.split(">")[0].split("=")[0].split("[")[0].strip() for requirement in project["dependencies"]}
    assert names == {"numpy", "numba", "gymnasium", "pettingzoo"}
    assert {"train", "rllib", "test", "bench"} <= set(project["optional-dependencies"])


def test_a_command_without_the_training_packages_says_what_to_install():
    code = (
        "import sys\n"
        "sys.modules['pandas'] = None  # as if the train extra were not installed\n"
        "from sd_env.experiments.cli import main\n"
        "sys.exit(main(['dilemma', '--episodes', '2']))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 2
    assert "pip install 'sd-env[train]'" in completed.stderr and "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_the_old_top_level_names_say_where_the_code_went():
    """From a checkout's root the folders are importable by their pre-0.5.0 names; that is refused, naming the
    new ones, instead of loading a second copy of every module."""
    for old, new in (("experiments", "sd_env.experiments"), ("agents", "sd_env.agents")):
        completed = subprocess.run([sys.executable, "-c", f"import {old}"], capture_output=True, text=True, cwd=ROOT)
        assert completed.returncode == 1 and f"installs as {new} since sd-env 0.5.0" in completed.stderr

