"""Packaging promises: what ``sd_env`` imports, the console command, the version."""

from __future__ import annotations

import subprocess
import sys

# yaml is not listed: numba reads an optional config file with it when it is installed.
HEAVY = ["torch", "stable_baselines3", "pandas", "matplotlib", "ray", "agents", "experiments", "tensorboard"]


def test_sd_env_imports_only_numpy_numba_gymnasium_and_pettingzoo():
    code = (
        "import sys, sd_env\n"
        "env = sd_env.parallel_env(); env.reset(seed=0)\n"
        f"print(','.join(sorted(name for name in {HEAVY!r} if name in sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "", f"sd_env pulled in: {completed.stdout.strip()}"


def test_console_command_is_installed():
    completed = subprocess.run(["sd-env", "--version"], capture_output=True, text=True)
    assert completed.returncode == 0
    assert completed.stdout.startswith("sd-env ")


def test_the_base_install_is_the_environment_alone():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
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
