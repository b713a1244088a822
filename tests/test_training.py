"""Training runs: config validation, run directories, checkpoints, resume, algorithms, RLlib."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import yaml

from sd_env.experiments.cli import main
from sd_env.experiments.training.config import ConfigError, load_config
from sd_env.experiments.training.sb3_backend import latest_checkpoint
from sd_env.experiments.training.train import train

TINY = [
    "total_timesteps=2048",
    "num_envs=4",
    "ppo.n_steps=64",
    "ppo.batch_size=256",
    "ppo.n_epochs=2",
    "checkpoint_every=1024",
    "eval_episodes=4",
    "progress_bar=false",
    "opponents=[random, dove]",
    "env.max_cycles=20",
]


def tiny_config(tmp_path, *extra: str):
    return load_config(None, TINY + [f"output_dir={tmp_path}", *extra])


# --- config validation --------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (["colour=blue"], "unknown config key 'colour'; known keys: name,"),
        (["ppo.lr=0.1"], "unknown config key 'ppo.lr'; known keys: ppo.learning_rate"),
        (["ppo.n_step=64"], "unknown config key 'ppo.n_step'; did you mean 'ppo.n_steps'? known keys: "),
        (["n_envs=4"], "unknown config key 'n_envs'; did you mean 'num_envs'? known keys: name,"),
        (["learning_rate=0.1"], "unknown config key 'learning_rate'; did you mean 'ppo.learning_rate'?"),
        (["opponents=[hawkk]"], "opponents: unknown policy 'hawkk'; did you mean 'hawk'? known:"),
        (["total_timesteps=0"], "total_timesteps must be > 0"),
        (["total_timesteps=many"], "total_timesteps must be an integer"),
        (["algorithm=dqn"], "algorithm must be one of"),
        (["backend=torchrl"], "backend must be one of"),
        (["env.distinguishability=1.5"], "env: distinguishability must be in [0, 1]"),
        (["env.weapons=3"], "env: unknown parameter(s) ['weapons']"),
        (["opponents=[eagle]"], "opponents: unknown policy 'eagle'"),
        (["ppo.gamma=1.5"], "ppo.gamma must be in (0, 1]"),
        (["progress_bar=maybe"], "progress_bar must be true or false"),
        (["scenario=atlantis"], "unknown scenario 'atlantis'"),
        (["nonsense"], "an override must be key=value"),
    ],
)
def test_bad_config_values_raise_one_line_errors(overrides, fragment):
    with pytest.raises(ConfigError) as error:
        load_config(None, overrides)
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)


def test_config_file_errors(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(listing)


def test_shipped_configs_are_valid():
    from pathlib import Path

    from sd_env.experiments.studies.sweep import load_sweep_config

    configs = sorted(Path("experiments/configs").glob("*.yaml"))
    sweeps = [path for path in configs if "grid" in yaml.safe_load(path.read_text())]
    assert {path.name for path in sweeps} >= {"jervis_worlds.yaml", "balance_observability.yaml"}
    assert len(configs) - len(sweeps) >= 4
    for path in configs:
        load_sweep_config(path) if path in sweeps else load_config(path)


def test_yaml_scientific_notation_and_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("name: sci\nppo:\n  learning_rate: 1e-3\nenv:\n  offense_defense_balance: 2\n")
    config = load_config(path, ["ppo.learning_rate=5e-4", "env.observation_noise=0.4"])
    assert config.ppo.learning_rate == pytest.approx(5e-4)
    assert config.env == {"offense_defense_balance": 2, "observation_noise": 0.4}


def test_cli_train_bad_config_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nlearning_rate: 0.1\n")
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'learning_rate'" in err and len(err.strip().splitlines()) == 1


# --- a run directory -------------------------------------------------------------------


def test_shared_ppo_run_writes_a_complete_run_directory(tmp_path):
    config = tiny_config(tmp_path, "name=shared")
    metrics = train(config)
    run = tmp_path / "shared"
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["total_timesteps"] == 2048 and saved["ppo"]["batch_size"] == 256
    info = json.loads((run / "run.json").read_text())
    assert info["seed"] == 0 and info["versions"]["stable-baselines3"] and info["versions"]["torch"]
    checkpoints = sorted((run / "checkpoints").glob("ppo_*_steps.zip"))
    assert len(checkpoints) >= 2, "checkpoints at intervals show how behaviour drifts"
    for checkpoint in checkpoints:
        assert zipfile.is_zipfile(checkpoint)
    assert not list(run.rglob("*.tmp")), "no temporary files left behind"
    events = list((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert events
    # Every per-step measure of the environment is logged, as security/<name>.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from sd_env.measures import STEP_MEASURES

    accumulator = EventAccumulator(str(events[0].parent))
    accumulator.Reload()
    logged = {tag for tag in accumulator.Tags()["scalars"] if tag.startswith("security/")}
    assert logged == {f"security/{measure.name}" for measure in STEP_MEASURES}
    # Drift: every episode measure of the registry at every checkpoint, in drift.csv and as measures/<name>.
    from sd_env.experiments.training.drift import read_drift
    from sd_env.experiments.lab.measures import EPISODE_MEASURES

    drift = read_drift(run)
    steps = sorted(int(checkpoint.name.split("_")[1]) for checkpoint in checkpoints)
    assert drift["timesteps"].tolist() == steps
    assert list(drift.columns) == ["timesteps", *EPISODE_MEASURES]
    assert drift["military_burden"].between(0, 1).all() and drift["war_years"].between(0, 1).all()
    logged = {tag for tag in accumulator.Tags()["scalars"] if tag.startswith("measures/")}
    assert {"measures/military_burden", "measures/war_years", "measures/welfare"} <= logged
    assert len(accumulator.Scalars("measures/military_burden")) == len(steps)
    assert (run / "policy.zip").is_file()
    on_disk = json.loads((run / "metrics.json").read_text())
    assert on_disk["timesteps"] == metrics["timesteps"] == [2048]
    assert set(on_disk["evaluation"]) == {"self-play", "vs random", "vs dove"}


def test_existing_run_directory_is_not_overwritten(tmp_path):
    train(tiny_config(tmp_path, "name=once", "total_timesteps=256", "checkpoint_every=256"))
    with pytest.raises(ConfigError, match="already holds a run"):
        train(tiny_config(tmp_path, "name=once", "total_timesteps=256", "checkpoint_every=256"))


def test_interrupted_then_resumed_run_ends_with_the_same_steps(tmp_path):
    from stable_baselines3.common.callbacks import BaseCallback

    class Interrupt(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps >= 1500:
                raise KeyboardInterrupt
            return True

    uninterrupted = train(tiny_config(tmp_path, "name=straight"))
    config = tiny_config(tmp_path, "name=interrupted")
    with pytest.raises(KeyboardInterrupt):
        train(config, extra_callbacks=[Interrupt()])
    last = latest_checkpoint(tmp_path / "interrupted" / "checkpoints")
    assert last is not None and "000001024" in last.name
    assert not (tmp_path / "interrupted" / "metrics.json").exists()
    resumed = train(config, resume=True)
    assert resumed["timesteps"] == uninterrupted["timesteps"] == [2048]
    # The drift rows of the resumed run are those of an uninterrupted one: one per checkpoint, none twice.
    from sd_env.experiments.training.drift import read_drift

    assert read_drift(tmp_path / "interrupted")["timesteps"].tolist() == \
        read_drift(tmp_path / "straight")["timesteps"].tolist()


def test_resume_refuses_a_changed_config(tmp_path):
    train(tiny_config(tmp_path, "name=fixed", "total_timesteps=256", "checkpoint_every=256"))
    with pytest.raises(ConfigError, match="differs from the saved run in scenario"):
        train(tiny_config(tmp_path, "name=fixed", "total_timesteps=256", "checkpoint_every=256", "scenario=jervis-1"), resume=True)
    with pytest.raises(ConfigError, match="no run to resume"):
        train(tiny_config(tmp_path, "name=never"), resume=True)


def test_two_identical_runs_give_identical_policies(tmp_path):
    import torch
    from stable_baselines3 import PPO

    train(tiny_config(tmp_path, "name=a", "total_timesteps=512"))
    train(tiny_config(tmp_path, "name=b", "total_timesteps=512"))
    first = PPO.load(tmp_path / "a" / "policy.zip", device="cpu").policy.state_dict()
    second = PPO.load(tmp_path / "b" / "policy.zip", device="cpu").policy.state_dict()
    assert all(torch.equal(first[key], second[key]) for key in first)


# --- algorithms ------------------------------------------------------------------------


def test_independent_ppo_trains_one_policy_per_state_and_resumes(tmp_path):
    config = tiny_config(tmp_path, "name=independent", "algorithm=independent_ppo", "rounds=2")
    metrics = train(config)
    run = tmp_path / "independent"
    assert (run / "policy_state_0.zip").is_file() and (run / "policy_state_1.zip").is_file()
    assert len(metrics["timesteps"]) == 2
    progress = json.loads((run / "checkpoints" / "independent_progress.json").read_text())
    assert progress["completed"] == 4  # 2 rounds x 2 states
    from sd_env.experiments.training.drift import read_drift

    assert len(read_drift(run)) == 4  # one drift row per chunk learned
    again = train(config, resume=True)  # everything done: resuming trains nothing more
    assert again["timesteps"] == metrics["timesteps"]


def test_independent_ppo_keeps_to_its_budget_in_whole_rollouts(tmp_path, capsys):
    """Each learner trains its share of total_timesteps in whole rollouts and never beyond it (0.4.0 rounded every
    chunk up to a rollout, 15% over budget), and each chunk's progress says which round and state it is."""
    config = tiny_config(tmp_path, "name=budget", "algorithm=independent_ppo", "rounds=4", "num_envs=8",
                         "ppo.n_steps=64", "total_timesteps=10000", "progress_bar=true")
    metrics = train(config)
    rollout, share = 8 * 64, 10000 // 2
    assert all(share - rollout < steps <= share and steps % rollout == 0 for steps in metrics["timesteps"])
    printed = capsys.readouterr().out
    assert "round 1 of 4: state_0 learns" in printed and "round 4 of 4: state_1 learns" in printed


def test_pool_ppo_trains_against_scripted_opponents(tmp_path):
    from stable_baselines3 import PPO

    config = tiny_config(tmp_path, "name=pool", "algorithm=pool_ppo", "opponents=[hawk, hawk/dove]")
    metrics = train(config)
    assert metrics["timesteps"] == [2048]
    # The learner's rows are state_0 only (one per game); shared PPO learns from every state of every game.
    pool = PPO.load(tmp_path / "pool" / "policy.zip", device="cpu")
    shared_config = tiny_config(tmp_path, "name=shared", "algorithm=shared_ppo")
    train(shared_config)
    shared = PPO.load(tmp_path / "shared" / "policy.zip", device="cpu")
    n_states = config.env_params().n_states
    assert pool.n_envs == config.num_envs and shared.n_envs == config.num_envs * n_states


@pytest.mark.slow
def test_rllib_backend_trains_one_iteration(tmp_path):
    config = tiny_config(
        tmp_path, "name=rllib", "backend=rllib", "total_timesteps=1", "num_envs=1", "ppo.n_steps=32"
    )
    metrics = train(config)
    assert metrics["iterations"] == 1
    assert metrics["timesteps"][0] >= 32
    assert (tmp_path / "rllib" / "checkpoints" / "rllib").is_dir()
    evaluation = metrics["evaluation"]
    assert np.isfinite(evaluation["self-play"]["welfare"])
    from sd_env.experiments.training.drift import read_drift

    drift = read_drift(tmp_path / "rllib")
    assert drift["timesteps"].tolist() == metrics["timesteps"]  # the one checkpoint
    assert np.isfinite(drift["military_burden"]).all()


def test_population_ppo_meets_its_own_past_checkpoints_beside_the_scripted_stances(tmp_path, monkeypatch):
    from sd_env.experiments.training import sb3_backend

    pools = []
    original_add = sb3_backend.Population.add

    def add(self, checkpoint):
        original_add(self, checkpoint)
        pools.append([policy.name for policy in self.pool.policies])

    monkeypatch.setattr(sb3_backend.Population, "add", add)
    config = tiny_config(tmp_path, "name=population", "algorithm=population_ppo", "population_size=2",
                         "checkpoint_every=512", "opponents=[hawk, hawk/dove]")
    metrics = train(config)
    assert metrics["timesteps"] == [2048]
    # Every checkpoint joins the pool; the oldest leaves beyond population_size; the stances stay.
    assert pools[0] == ["hawk", "hawk/dove", "ppo_000000512_steps"]
    assert pools[-1][:2] == ["hawk", "hawk/dove"] and len(pools[-1]) == 4
    assert pools[-1][2:] == ["ppo_000001536_steps", "ppo_000002048_steps"]
    # A resumed run rebuilds the pool from the latest checkpoints on disk.
    from sd_env.stances import make_policy

    population = sb3_backend.Population(config.env_params(), [make_policy("dove", config.env_params())], 2)
    population.restore(tmp_path / "population" / "checkpoints")
    assert [policy.name for policy in population.pool.policies] == ["dove", "ppo_000001536_steps",
                                                                     "ppo_000002048_steps"]
    with pytest.raises(ConfigError, match="population_ppo is available with backend sb3 only"):
        tiny_config(tmp_path, "algorithm=population_ppo", "backend=rllib")


def test_a_pool_acts_for_rows_of_equal_rules_together_with_the_actions_each_member_would_choose():
    from sd_env.agents.learned import PoolPolicy
    from sd_env import core
    from sd_env.scenarios import make_params
    from sd_env.stances import make_policy

    for scenario in ("bilateral", "pre-1914"):
        params = make_params(scenario)
        names = ["hawk", "hawk/dove", "hawk/defender:burden=0.3", "hawk/deterrer", "reciprocator", "random",
                 "defender:burden=0.3", "richardson"]
        pool = PoolPolicy(params, [make_policy(name, params, seed=1) for name in names])
        rng = np.random.default_rng(0)
        state = core.reset(params, 64, rng)
        for _ in range(5):
            observations = core.observe(params, state, rng).reshape(-1, core.observation_length(params))
            # Each member acting for its own chunk of rows, as a pool without merging does; the random member's
            # twin draws from the same stream.
            expected = np.zeros((observations.shape[0], params.action_length), dtype=np.int64)
            twins = [make_policy(name, params, seed=1) for name in names]
            for member, twin in zip(pool.policies, twins):
                member.rng, twin.rng = np.random.default_rng(5), np.random.default_rng(5)
            for member, rows in zip(twins, np.array_split(np.arange(observations.shape[0]), len(names))):
                expected[rows] = member.act(observations[rows])
            np.testing.assert_array_equal(pool.act(observations), expected)
            actions = rng.integers(0, core.action_upper_bounds(params), size=(64, params.n_states, params.action_length))
            state, _ = core.step(params, state, actions, rng)
