"""The README's main job: ``sd-env quickstart`` trains a policy that beats random play on welfare."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sd_env.experiments.cli import main
from sd_env.experiments.lab.measures import summarize
from sd_env.experiments.lab.rollout import rollout
from sd_env.stances import RandomPolicy
from sd_env.scenarios import make_params


@pytest.mark.slow
def test_the_quickstart_from_the_wheel_in_a_fresh_environment_beats_random_on_welfare(tmp_path):
    """The README's main job as a user gets it: the wheel alone, installed into a new virtual environment, and
    the installed ``sd-env quickstart`` with the real config (3M agent-steps), run outside the source tree.

    The environment sees the machine's site-packages for the dependencies (torch and the rest: no download),
    but sd_env itself must come from the wheel, not from this source tree; the config is package data."""
    import subprocess
    import venv

    from tests.test_packaging import build_wheel

    wheel = build_wheel(tmp_path / "wheel")
    environment = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(environment)
    python = environment / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--quiet", str(wheel)], check=True, capture_output=True, text=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import sd_env, sd_env.experiments.cli; print(sd_env.__file__)"],
                           cwd=elsewhere, check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where).is_relative_to(environment), f"sd_env imported from {where}, not from the wheel"
    quickstart = subprocess.run([str(environment / "bin" / "sd-env"), "quickstart", "--output-dir", "runs"],
                                cwd=elsewhere, capture_output=True, text=True, timeout=900)
    assert quickstart.returncode == 0, quickstart.stderr[-2000:]
    assert "learned self-play" in quickstart.stdout and "random self-play" in quickstart.stdout

    metrics = json.loads((elsewhere / "runs" / "quickstart-bilateral-seed0" / "metrics.json").read_text())
    evaluation = metrics["evaluation"]
    params = make_params("bilateral")
    random_play = summarize(rollout(params, [RandomPolicy(params, seed=0)] * 2, episodes=128, seed=1))
    # Against random opponents the learned policy earns more than random play earns against them ...
    assert evaluation["vs random"]["welfare"] > random_play["welfare"] + 10.0
    # ... and it has learned to defend itself: against the hawk it earns far more than restraint would.
    # (Its self-play is not asserted: since 0.2.0 self-play learners can fall into mutual attack, the
    # security dilemma the quickstart reports, and whether they do depends on the seed.)
    from sd_env.stances import make_policy

    restraint = summarize(rollout(params, [make_policy("dove", params), make_policy("hawk", params)], 128, 1),
                          seats=[0])
    assert evaluation["vs hawk"]["welfare"] > restraint["welfare"] + 10.0


def test_quickstart_rerun_resumes_instead_of_retraining(tmp_path, capsys):
    argv = ["quickstart", "--output-dir", str(tmp_path), "--timesteps", "8192", "--set", "max_cycles=20"]
    assert main(argv) == 0
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "(resuming)" in out
    # Other parameters are another experiment: a new run directory, not a clash with the saved config.
    assert main(argv[:-1] + ["max_cycles=30"]) == 0
    assert len(list(tmp_path.iterdir())) == 2
