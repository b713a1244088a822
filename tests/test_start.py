"""Where learning starts: PPO's random network or a stance cloned into it (config key ``start``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sd_env.agents.learned import SB3Policy
from sd_env.experiments.lab.rollout import rollout
from sd_env.experiments.training.config import ConfigError, load_config
from sd_env.experiments.training.start import TARGET_AGREEMENT, clone_stance, demonstration_partners, demonstrations
from sd_env.experiments.training.train import train
from sd_env.scenarios import make_params
from sd_env.stances import make_policy

PARAMS = make_params("jervis-1", max_cycles=30, elimination_threshold=0.0)


def _new_model(params, seed=0):
    from stable_baselines3 import PPO

    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    return PPO("MlpPolicy", SecurityDilemmaVecEnv(4, params=params, seed=seed), seed=seed, device="cpu", verbose=0)


@pytest.fixture(scope="module")
def cloned_grim():
    model = _new_model(PARAMS)
    report = clone_stance(model, PARAMS, "grim", [0, 1], seed=3)
    return model, report


def test_demonstrations_cover_peace_and_the_years_after_an_attack():
    observations, actions = demonstrations(PARAMS, "grim", [0], seed=0, games=4)
    from sd_env.layout import ActionLayout, ObservationLayout

    attack = ActionLayout(2, False).attack
    layout = ObservationLayout(2, PARAMS.n_systems)
    assert observations.shape == (len(demonstration_partners(PARAMS)) * 4 * 30, layout.length)
    assert actions.shape == (len(demonstration_partners(PARAMS)) * 4 * 30, PARAMS.action_length)
    was_attacked = layout.rival_flag(observations, "attacked_me")[:, 0] > 0
    punishing = layout.rival_flag(observations, "attacked_by_me")[:, 0] > 0
    alive = layout.rival_flag(observations, "alive")[:, 0] > 0
    assert (was_attacked & alive).any() and (~was_attacked & alive).any()
    # Grim's own rule in the demonstrations: it attacks a living rival exactly when attacked or already punishing.
    assert np.array_equal(actions[alive, attack] > 0, (was_attacked | punishing)[alive])


def test_cloning_reaches_its_agreement_target_and_records_it(cloned_grim):
    _, report = cloned_grim
    assert min(report.agreement.values()) >= TARGET_AGREEMENT
    assert set(report.agreement) == {"burden level", "procurement", "attack"}
    assert report.state_years == 2 * len(demonstration_partners(PARAMS)) * 64 * 30
    # The network's attack probability over the demonstrations matches the stance's attack share.
    assert report.attack_probability == pytest.approx(report.demonstrated_attack_share, abs=0.03)


def test_the_cloned_network_acts_as_grim_never_first_and_never_forgiving(cloned_grim):
    """The mechanism test of grim, run on the network cloned from it (its most likely actions)."""
    model, _ = cloned_grim
    learned = SB3Policy(model, PARAMS, deterministic=True)
    peaceful = rollout(PARAMS, [learned, make_policy("dove", PARAMS)], 16, seed=5)
    assert not peaceful.attacks.any(), "never strikes first against a dove"
    struck = rollout(PARAMS, [make_policy("striker:year=5:burden=0.1", PARAMS), learned], 16, seed=5)
    answered = struck.attacks[:, :, 1, 0]
    assert not answered[:6].any()
    assert answered[6:].all(), "strikes back in every year after the striker's attack"


def test_cloning_is_reproducible_from_its_seed():
    first, second = _new_model(PARAMS, seed=1), _new_model(PARAMS, seed=1)
    clone_stance(first, PARAMS, "dove", [0], seed=7)
    clone_stance(second, PARAMS, "dove", [0], seed=7)
    for a, b in zip(first.policy.parameters(), second.policy.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        (["start=gim"], "start: unknown stance 'gim'; did you mean 'grim'?"),
        (["start=grim:burden=3"], "start: stance grim: burden must be in [0, 0.5]"),
        (["start=grim", "backend=rllib"], "start 'grim' (cloning a stance) is available with backend sb3 only"),
    ],
)
def test_a_start_that_cannot_be_used_is_one_line(overrides, fragment):
    with pytest.raises(ConfigError) as error:
        load_config(None, overrides)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_a_run_started_from_a_stance_records_it_and_a_resume_does_not_clone_again(tmp_path):
    overrides = [f"output_dir={tmp_path}", "name=run", "start=tit-for-tat", "scenario=bilateral",
                 "env={max_cycles: 10}", "total_timesteps=512", "num_envs=4", "checkpoint_every=256",
                 "eval_episodes=2", "ppo.n_steps=32", "ppo.batch_size=128", "ppo.n_epochs=1",
                 "progress_bar=false", "algorithm=independent_ppo", "rounds=1"]
    train(load_config(None, overrides))
    recorded = (tmp_path / "run" / "start.json").read_text()
    assert set(json.loads(recorded)) == {"state_0", "state_1"}
    assert json.loads(recorded)["state_1"]["stance"] == "tit-for-tat"
    (tmp_path / "run" / "start.json").write_text("{}")
    train(load_config(None, [*overrides[:-3], "total_timesteps=1024", "progress_bar=false",
                             "algorithm=independent_ppo", "rounds=1"]), resume=True)
    assert (tmp_path / "run" / "start.json").read_text() == "{}", "a resumed run starts from its checkpoints"
