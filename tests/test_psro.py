"""PSRO: the meta-solver finds known equilibria, the population grows by best responses, runs resume exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sd_env.agents.learned import PoolPolicy
from sd_env.errors import SdEnvError
from sd_env.experiments.training.meta_solvers import meta_strategy
from sd_env.scenarios import make_params
from sd_env.stances import make_policy


@pytest.mark.parametrize("payoffs, expected, tolerance", [
    ([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], [1 / 3, 1 / 3, 1 / 3], 1e-3),   # rock-paper-scissors: uniform
    ([[4, 0], [3, 3]], [0, 1], 1e-2),                                      # stag hunt: the risk-dominant hare
    ([[3, 0], [5, 1]], [0, 1], 1e-2),                                      # prisoner's dilemma: defect
    ([[0, 2], [1, 0]], [2 / 3, 1 / 3], 1e-2),                              # a symmetric game with a mixed equilibrium
])
def test_the_meta_solver_finds_the_known_equilibrium(payoffs, expected, tolerance):
    mixture = meta_strategy(np.array(payoffs, dtype=float))
    assert mixture.sum() == pytest.approx(1.0) and (mixture >= 0).all()
    assert np.abs(mixture - expected).max() < tolerance
    # Nash equilibria do not move under a positive affine change of payoffs (reward units).
    assert np.allclose(meta_strategy(3 * np.array(payoffs, dtype=float) + 7), mixture)


def test_the_uniform_meta_solver_and_bad_input():
    assert np.allclose(meta_strategy(np.eye(4), "uniform"), 0.25)
    with pytest.raises(SdEnvError, match="meta_solver must be one of prd, uniform"):
        meta_strategy(np.eye(2), "nash")
    with pytest.raises(SdEnvError, match="square"):
        meta_strategy(np.ones((2, 3)))


def test_a_weighted_pool_gives_each_member_its_share_of_the_games():
    params = make_params("bilateral")
    members = [make_policy(name, params) for name in ("dove", "hawk", "grim")]
    pool = PoolPolicy(params, members, weights=[0.5, 0.25, 0.25])
    assert [len(rows) for rows in pool.chunks(40)] == [20, 10, 10]
    assert [len(rows) for rows in PoolPolicy(params, members).chunks(40)] == [14, 13, 13]  # equal, as before


TINY = ["algorithm=psro", "psro_iterations=2", "total_timesteps=2048", "num_envs=8", "ppo.n_steps=64",
        "ppo.batch_size=256", "eval_episodes=8", "opponents=[hawk,grim]", "env.max_cycles=15", "scenario=jervis-1",
        "progress_bar=false"]


def test_psro_grows_its_population_and_records_every_iteration(tmp_path, cli):
    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.train import train

    metrics = train(load_config(None, [*TINY, f"output_dir={tmp_path}", "name=p"]))
    state = json.loads((tmp_path / "p" / "psro.json").read_text())
    assert [member["name"] for member in state["members"]] == ["hawk", "grim", "best_response_1",
                                                                "best_response_2"]
    assert np.asarray(state["payoffs"]).shape == (4, 4)
    assert sum(state["mixture"]) == pytest.approx(1.0)
    for record, size in zip(state["iterations"], (2, 3)):
        assert len(record["mixture"]) == size and np.isfinite(record["gain"]) and record["timesteps"] == 1024
    assert metrics["timesteps"] == [2048] and set(metrics["evaluation"]) == {"self-play", "vs hawk", "vs grim"}
    # The run directory is a policy spec: its final mixture plays.
    code, _, _ = cli(["evaluate", "--policy", str(tmp_path / "p"), "--opponent", "baseline:grim", "--episodes", "4"])
    assert code == 0


def test_a_killed_psro_run_resumes_and_ends_as_an_uninterrupted_one(tmp_path, monkeypatch):
    from sd_env.experiments.training import psro
    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.train import train

    straight = train(load_config(None, [*TINY, f"output_dir={tmp_path}", "name=a"]))
    calls = []
    record = psro.record_drift

    def killed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # iteration 2: its learner saved, psro.json not yet written
            raise KeyboardInterrupt
        return record(*args, **kwargs)

    monkeypatch.setattr(psro, "record_drift", killed)
    config = load_config(None, [*TINY, f"output_dir={tmp_path}", "name=b"])
    with pytest.raises(KeyboardInterrupt):
        train(config)
    assert len(json.loads((tmp_path / "b" / "psro.json").read_text())["iterations"]) == 1
    monkeypatch.setattr(psro, "record_drift", record)
    resumed = train(config, resume=True)
    first, second = (json.loads((tmp_path / name / "psro.json").read_text()) for name in ("a", "b"))
    assert first == second and resumed["evaluation"] == straight["evaluation"]


def test_psro_refuses_a_scenario_it_cannot_train(tmp_path):
    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.train import train

    with pytest.raises(SdEnvError, match="psro trains symmetric two-state scenarios"):
        train(load_config(None, [*TINY, "scenario=pre-1914", f"output_dir={tmp_path}", "name=x"]))
