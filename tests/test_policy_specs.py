"""Policy specs name every kind of policy the same way in every command."""

from __future__ import annotations

import numpy as np
import pytest

from sd_env.experiments.lab.specs import PolicySpecError, load_policy, spec_kind
from sd_env.experiments.lab.rollout import rollout
from sd_env.scenarios import make_params
from sd_env.spaces import observation_layout

PARAMS = make_params("bilateral", max_cycles=6)


def observations(count: int = 3) -> np.ndarray:
    return np.random.default_rng(0).random((count, observation_layout(PARAMS).length)).astype(np.float32)


def test_baseline_specs_are_the_scripted_stances():
    policy = load_policy("baseline:hawk/dove", PARAMS)
    assert policy.name == "hawk/dove"
    assert spec_kind("baseline:defender:burden=0.3") == "baseline"


@pytest.mark.parametrize("spec", ["tests.policy_factories:AlwaysArm", "tests.policy_factories:always_arm"])
def test_importable_factories_and_classes_are_called_with_the_parameters(spec):
    policy = load_policy(spec, PARAMS)
    actions = policy.act(observations())
    assert actions.shape == (3, PARAMS.action_length) and (actions[:, 0] == PARAMS.burden_levels - 1).all()
    result = rollout(PARAMS, [policy, load_policy("baseline:dove", PARAMS)], episodes=2, seed=0)
    assert result.burden[:, :, 0].max() == pytest.approx(PARAMS.max_burden)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("baseline:eagle", "unknown baseline 'eagle'"),
        ("missing.zip", "checkpoint 'missing.zip' not found"),
        ("no_such_module_xyz:factory", "cannot import 'no_such_module_xyz'"),
        ("tests.policy_factories:nothing", "has no 'nothing'"),
        ("tests.policy_factories:NOT_A_POLICY", "has no act(observations) method"),
        ("just words", "is not a policy spec"),
        ("", "non-empty string"),
    ],
)
def test_bad_specs_are_one_line_errors(spec, fragment):
    with pytest.raises(PolicySpecError) as error:
        load_policy(spec, PARAMS)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_an_imported_policy_with_wrong_actions_is_caught_on_use():
    """load_policy gives the policy itself; the one action check wraps it where it is played."""
    from sd_env.errors import PolicyError
    from sd_env.experiments.lab.seating import PolicyCache

    raw = load_policy("tests.policy_factories:wrong_shape", PARAMS)
    assert raw.act(observations()).shape[1] == 1  # unchecked
    policy = PolicyCache(PARAMS).get("tests.policy_factories:wrong_shape", 0)
    with pytest.raises(PolicyError, match="^policy 'tests.policy_factories:wrong_shape': act\\(\\) returned .* expected "
                                          "integers of shape"):
        policy.act(observations())


def test_a_folder_that_holds_no_policy_is_refused(tmp_path):
    with pytest.raises(PolicySpecError, match="neither an RLlib checkpoint nor a run directory"):
        load_policy(str(tmp_path), PARAMS)


def test_checkpoints_and_run_directories_load_the_trained_policy(tmp_path):
    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.train import train

    config = load_config(None, ["name=run", f"output_dir={tmp_path}", "total_timesteps=512", "num_envs=4",
                                "ppo.n_steps=64", "ppo.batch_size=256", "ppo.n_epochs=1", "eval_episodes=2",
                                "progress_bar=false", "env.max_cycles=6", "opponents=[dove]"])
    train(config)
    run = tmp_path / "run"
    from_zip = load_policy(str(run / "policy.zip"), PARAMS, deterministic=True)
    from_run = load_policy(str(run), PARAMS, deterministic=True)
    assert spec_kind(str(run)) == "run" and spec_kind(str(run / "policy.zip")) == "sb3"
    np.testing.assert_array_equal(from_zip.act(observations()), from_run.act(observations()))
    with pytest.raises(PolicySpecError, match="trained on observations"):
        load_policy(str(run / "policy.zip"), make_params("pre-1914"))


@pytest.mark.slow
def test_rllib_checkpoints_load_their_shared_module(tmp_path, monkeypatch):
    from sd_env.agents.policy_files import TRUST_VARIABLE
    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.train import train

    config = load_config(None, ["name=rl", f"output_dir={tmp_path}", "backend=rllib", "total_timesteps=1",
                                "num_envs=1", "ppo.n_steps=32", "eval_episodes=2", "progress_bar=false",
                                "env.max_cycles=6"])
    train(config)
    checkpoint = tmp_path / "rl" / "checkpoints" / "rllib"
    assert spec_kind(str(checkpoint)) == "rllib" and spec_kind(str(tmp_path / "rl")) == "run"
    # Without the opt-in, sd-env builds the module from the checkpoint read as data (RLlib would unpickle it) ...
    safe = [load_policy(str(spec), PARAMS, deterministic=True).act(observations())
            for spec in (checkpoint, tmp_path / "rl")]
    # ... and it acts as the module RLlib itself restores (trusted).
    monkeypatch.setenv(TRUST_VARIABLE, "1")
    actions = load_policy(str(checkpoint), PARAMS, deterministic=True).act(observations())
    for acted in safe:
        np.testing.assert_array_equal(acted, actions)
    assert actions.shape == (3, PARAMS.action_length)
    np.testing.assert_array_equal(actions, load_policy(str(tmp_path / "rl"), PARAMS, deterministic=True).act(
        observations()))
    sampled = [load_policy(str(checkpoint), PARAMS), load_policy(str(tmp_path / "rl"), PARAMS)]
    for policy in sampled:  # sampled actions from the same seed are the same draws
        policy.reset(5)
    np.testing.assert_array_equal(sampled[0].act(observations()), sampled[1].act(observations()))
