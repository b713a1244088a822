"""Learners with memory (config key ``memory: lstm``, sb3-contrib's RecurrentPPO): trained, loaded and evaluated
through the same policy specs as every learned policy, their memory cleared at the start of every game."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sd_env.agents.learned import SB3Policy, is_recurrent_checkpoint
from sd_env.experiments.lab.rollout import rollout
from sd_env.experiments.training.config import ConfigError, load_config
from sd_env.experiments.training.train import train
from sd_env.scenarios import make_params


@pytest.fixture(scope="module")
def recurrent_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("memory")
    config = load_config(None, [f"output_dir={root}", "name=lstm", "memory=lstm", "scenario=bilateral",
                                "env={max_cycles: 12}", "total_timesteps=768", "num_envs=4", "checkpoint_every=384",
                                "eval_episodes=4", "ppo.n_steps=48", "ppo.batch_size=96", "ppo.n_epochs=1",
                                "progress_bar=false"])
    train(config)
    return root / "lstm"


def test_a_recurrent_run_saves_recurrent_checkpoints_and_resumes_them(recurrent_run):
    assert is_recurrent_checkpoint(recurrent_run / "policy.zip")
    checkpoints = sorted((recurrent_run / "checkpoints").glob("ppo_*_steps.zip"))
    assert checkpoints and all(is_recurrent_checkpoint(path) for path in checkpoints)
    assert SB3Policy.load(recurrent_run / "policy.zip", make_params("bilateral", max_cycles=12)).recurrent
    config = load_config(recurrent_run / "config.yaml", ["total_timesteps=1152"])
    train(config, resume=True)
    assert json.loads((recurrent_run / "metrics.json").read_text())["timesteps"] == [1152]
    assert is_recurrent_checkpoint(recurrent_run / "policy.zip")


def test_a_plain_checkpoint_is_not_recurrent(tmp_path):
    assert not is_recurrent_checkpoint(tmp_path / "missing.zip")
    (tmp_path / "not.zip").write_text("not a zip")
    assert not is_recurrent_checkpoint(tmp_path / "not.zip")


def test_a_recurrent_run_evaluates_through_its_run_directory_and_checkpoint_reproducibly(recurrent_run, cli, tmp_path):
    def evaluate(spec, name, *extra):
        out = tmp_path / f"{name}.json"
        code, _, _ = cli(["evaluate", "--policy", str(spec), "--episodes", "6", "--json", str(out), *extra])
        assert code == 0
        return json.loads(out.read_text())

    first, second = evaluate(recurrent_run, "a"), evaluate(recurrent_run, "b")
    assert first["actions"] == "stochastic" and first["measures"] == second["measures"]
    # Acting on their most likely actions, the run directory (one policy object per seat) and its policy.zip
    # (one object for both seats, both seats' rows in one call) play the same games: each row keeps its memory.
    by_run = evaluate(recurrent_run, "c", "--actions", "deterministic")
    by_file = evaluate(recurrent_run / "policy.zip", "d", "--actions", "deterministic")
    assert by_run["measures"] == by_file["measures"]


def test_memory_is_cleared_at_the_start_of_every_game_and_carries_earlier_years(recurrent_run):
    params = make_params("bilateral", max_cycles=12)
    policy = SB3Policy.load(recurrent_run / "policy.zip", params, deterministic=False)
    fresh = SB3Policy.load(recurrent_run / "policy.zip", params, deterministic=False)
    policy.reset(3)
    first = rollout(params, [policy, policy], 5, seed=11)
    # The same object, reset, plays the same games again: nothing of the first games is remembered.
    policy.reset(3)
    again = rollout(params, [policy, policy], 5, seed=11)
    fresh.reset(3)
    other = rollout(params, [fresh, fresh], 5, seed=11)
    for result in (again, other):
        assert np.array_equal(first.attacks, result.attacks) and np.array_equal(first.arms, result.arms)
    # Without a reset, rows at year 0 start a new game: the memory is cleared there by the observation's clock
    # (most likely actions, so that only the memory could make the second game differ).
    steady = SB3Policy.load(recurrent_run / "policy.zip", params, deterministic=True)
    once = rollout(params, [steady, steady], 5, seed=11)
    twice = rollout(params, [steady, steady], 5, seed=11)
    assert np.array_equal(once.arms, twice.arms) and np.array_equal(once.attacks, twice.attacks)
    from sd_env import core

    opening = core.observe(params, core.reset(params, 5, np.random.default_rng(4)), np.random.default_rng(4))
    opening = opening.reshape(10, -1)  # the rows of the games above: 5 games x 2 seats
    steady.act(opening)  # after two whole games, year 0 of a third
    fresh.reset(0)
    fresh.act(opening)
    assert np.allclose(steady._memory[0].numpy(), fresh._memory[0].numpy())
    assert np.allclose(steady._memory[1].numpy(), fresh._memory[1].numpy())
    # The memory carries what came before: one observation after two different years gives two states.
    state = core.reset(params, 4, np.random.default_rng(0))
    observations = core.observe(params, state, np.random.default_rng(0))[:, 0]
    later = observations.copy()
    later[:, policy.layout.time_elapsed] = 0.5
    memories = []
    for history in (observations, observations * 0.5):
        policy.reset(0)
        policy.act(history)
        policy.act(later)
        memories.append(policy._memory[0].numpy().copy())
    assert not np.allclose(memories[0], memories[1])


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (["memory=gru"], "memory must be none or lstm, got 'gru'"),
        (["memory=lstm", "backend=rllib"], "memory lstm is available with backend sb3 only"),
        (["memory=lstm", "start=grim"], "start 'grim' (cloning a stance) is not available with memory lstm"),
    ],
)
def test_a_memory_that_cannot_be_used_is_one_line(overrides, fragment):
    with pytest.raises(ConfigError) as error:
        load_config(None, overrides)
    assert fragment in str(error.value) and "\n" not in str(error.value)
