"""The README's main job: ``sd-env quickstart`` trains a policy that beats random play on welfare."""

from __future__ import annotations

import json

import pytest

from sd_env.experiments.cli import main
from sd_env.experiments.lab.measures import summarize
from sd_env.experiments.lab.rollout import rollout
from sd_env.stances import RandomPolicy
from sd_env.scenarios import make_params


@pytest.mark.slow
def test_quickstart_policy_beats_random_on_welfare_in_its_own_scenario(tmp_path, capsys):
    # The real quickstart config (3M agent-steps, about 80 s on 2 cores): the test checks what users run.
    assert main(["quickstart", "--output-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "learned self-play" in out and "random self-play" in out

    metrics = json.loads((tmp_path / "quickstart-bilateral-seed0" / "metrics.json").read_text())
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
