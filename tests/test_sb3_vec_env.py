"""The stable-baselines3 VecEnv adapter: rows, auto-reset, black death, seeding, opponents, PPO."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

import sd_env
from sd_env.policy import Policy
from sd_env.sb3_vec_env import SecurityDilemmaVecEnv
from sd_env.stances import DovePolicy, HawkPolicy, RandomPolicy
from sd_env.scenarios import make_params
from sd_env.spaces import action_space, observation_layout, observation_space

# Extreme parameters under which an attack (almost) surely eliminates its victim in one year.
DEADLY = dict(
    n_states=2,
    offense_defense_balance=100.0,
    territorial_defense=0.0,
    conquest_share=1.0,
    elimination_threshold=0.5,
    contest_decisiveness=20.0,
)


def random_actions(env: SecurityDilemmaVecEnv, rng: np.random.Generator) -> np.ndarray:
    nvec = env.action_space.nvec
    return rng.integers(0, nvec, size=(env.num_envs, len(nvec)), dtype=np.int64)


def peaceful_actions(env: SecurityDilemmaVecEnv) -> np.ndarray:
    """No arms, even procurement, no attack, no commitments."""
    actions = np.zeros((env.num_envs, len(env.action_space.nvec)), dtype=np.int64)
    actions[:, 1] = env.params.n_systems
    return actions


class AlwaysAttack(Policy):
    """Scripted opponent: no arms spending, attacks rival 1 every year; records what it was shown."""

    name = "always-attack"

    def __init__(self, params, seed=None):
        super().__init__(params, seed)
        self.calls: list[np.ndarray] = []

    def act(self, observations):
        self.calls.append(observations.copy())
        actions = self.empty_actions(observations.shape[0])
        actions[:, 2] = 1
        return actions


# --- spaces, shapes, dtypes (env_checker-style) -----------------------------------------


@pytest.mark.parametrize("scenario", ["bilateral", "pre-1914", "missile-crisis"])
def test_spaces_shapes_and_dtypes(scenario):
    env = SecurityDilemmaVecEnv(num_envs=3, scenario=scenario, seed=0)
    params = env.params
    n = params.n_states
    assert isinstance(env, VecEnv)
    assert env.num_envs == 3 * n and env.num_games == 3
    assert env.observation_space == observation_space(params)
    assert env.action_space == action_space(params)
    assert env.observation_space == sd_env.parallel_env(scenario=scenario).observation_space("state_0")

    obs = env.reset()
    assert obs.shape == (3 * n, *env.observation_space.shape) and obs.dtype == np.float32
    assert all(env.observation_space.contains(row) for row in obs)
    assert len(env.reset_infos) == env.num_envs and all("greedy" in info for info in env.reset_infos)
    # Rows are environment-major: row b * N + i is state_i of environment b.
    layout = observation_layout(params)
    np.testing.assert_allclose(
        obs[:, layout.own_wealth], env.core_state.wealth.reshape(-1).astype(np.float32), rtol=1e-6
    )

    rng = np.random.default_rng(1)
    for _ in range(30):
        obs, rewards, dones, infos = env.step(random_actions(env, rng))
        assert obs.shape == (env.num_envs, *env.observation_space.shape) and obs.dtype == np.float32
        assert all(env.observation_space.contains(row) for row in obs)
        assert rewards.shape == (env.num_envs,) and rewards.dtype == np.float32 and np.isfinite(rewards).all()
        assert dones.shape == (env.num_envs,) and dones.dtype == bool
        assert isinstance(infos, list) and len(infos) == env.num_envs
        measures = env.last_measures
        assert {"military_burden", "welfare", "attacks", "victories"} <= set(measures)  # and every registered one
        assert all(values.shape == (env.num_envs,) for values in measures.values())
        assert ((0.0 <= measures["military_burden"]) & (measures["military_burden"] <= params.max_burden + 1e-12)).all()


def test_same_draws_as_the_pettingzoo_env_with_one_environment():
    """A thin adapter: one environment, same seed and actions -> the PettingZoo env's observations and rewards."""
    vec = SecurityDilemmaVecEnv(num_envs=1, scenario="jervis-1", seed=11, max_cycles=50)
    par = sd_env.parallel_env(scenario="jervis-1", max_cycles=50)
    vec_obs = vec.reset()
    par_obs, _ = par.reset(seed=11)
    rng = np.random.default_rng(0)
    for _ in range(20):
        np.testing.assert_array_equal(vec_obs, np.stack([par_obs[a] for a in par.possible_agents]))
        actions = random_actions(vec, rng)
        actions[:, 2] = 0  # no wars, so nobody leaves par.agents
        vec_obs, rewards, _, _ = vec.step(actions)
        par_obs, par_rewards, _, _, _ = par.step({a: actions[i] for i, a in enumerate(par.possible_agents)})
        np.testing.assert_array_equal(rewards, np.array([par_rewards[a] for a in par.possible_agents], np.float32))


# --- auto-reset at max_cycles --------------------------------------------------------------


def test_auto_reset_terminal_observation_and_time_limit_at_max_cycles():
    env = SecurityDilemmaVecEnv(num_envs=3, seed=0, max_cycles=5)
    layout = observation_layout(env.params)
    env.reset()
    returns = np.zeros(env.num_envs)
    for year in range(1, 6):
        obs, rewards, dones, infos = env.step(peaceful_actions(env))
        returns += rewards
        if year < 5:
            assert not dones.any()
            assert not any("terminal_observation" in info or "episode" in info for info in infos)
            np.testing.assert_allclose(obs[:, layout.time_elapsed], year / 5)
    assert dones.all()
    for row, info in enumerate(infos):
        assert info["TimeLimit.truncated"] is True
        terminal = info["terminal_observation"]
        assert terminal.shape == env.observation_space.shape and terminal.dtype == np.float32
        assert terminal[layout.time_elapsed] == pytest.approx(1.0)  # the final observation, year 5 of 5
        assert info["episode"]["l"] == 5
        assert info["episode"]["r"] == pytest.approx(returns[row], rel=1e-5)
    # The returned observations are the first of the new episode.
    np.testing.assert_array_equal(obs[:, layout.time_elapsed], 0.0)
    assert (env.core_state.year == 0).all()
    np.testing.assert_allclose(obs[:, layout.own_wealth], env.core_state.wealth.reshape(-1), rtol=1e-6)
    assert not np.allclose(obs, np.stack([info["terminal_observation"] for info in infos]))
    assert [info["greedy"] for info in env.reset_infos] == env.core_state.greedy.reshape(-1).tolist()
    # And the next episode runs its full length again.
    for _ in range(4):
        _, _, dones, _ = env.step(peaceful_actions(env))
        assert not dones.any()
    _, _, dones, _ = env.step(peaceful_actions(env))
    assert dones.all()


# --- elimination: real termination, then black death ---------------------------------------


def test_elimination_terminates_the_row_then_black_death_until_truncation():
    env = SecurityDilemmaVecEnv(num_envs=3, seed=0, max_cycles=6, **DEADLY)
    env.reset()
    attack = peaceful_actions(env)
    attack[0::2, 2] = 1  # state_0 of every environment attacks its rival, state_1
    obs, rewards, dones, infos = env.step(attack)
    assert env.core_state.alive[:, 1].sum() == 0, "the extreme parameters must eliminate state_1 at once"
    victims, survivors = np.arange(1, 6, 2), np.arange(0, 6, 2)
    assert dones[victims].all() and not dones[survivors].any()
    for row in victims:
        info = infos[row]
        assert info["TimeLimit.truncated"] is False  # a real termination: no bootstrapping
        np.testing.assert_array_equal(info["terminal_observation"], 0.0)
        assert info["episode"]["l"] == 1
        assert info["episode"]["r"] == pytest.approx(float(rewards[row]))
        assert rewards[row] < -env.params.elimination_penalty + 2.0
    np.testing.assert_array_equal(obs[victims], 0.0)

    # Black death: zero observations, zero reward, not done, actions ignored.
    for year in range(2, 6):
        actions = peaceful_actions(env)
        actions[1::2] = [env.params.burden_levels - 1, 0, 1]  # the dead try to arm and attack
        wealth_before = env.core_state.wealth[:, 0].copy()
        obs, rewards, dones, infos = env.step(actions)
        np.testing.assert_array_equal(obs[victims], 0.0)
        np.testing.assert_array_equal(rewards[victims], 0.0)
        assert not dones.any()
        assert not env.core_state.attacks[:, 1].any() and not env.core_state.stocks[:, 1].any()
        np.testing.assert_allclose(env.core_state.wealth[:, 0], wealth_before * (1 + env.params.growth_rate[0]))
        assert all("episode" not in info for info in infos)

    # Truncation: everyone is done; the dead restart cleanly with the living.
    obs, rewards, dones, infos = env.step(peaceful_actions(env))
    assert dones.all()
    for row in victims:
        assert infos[row]["TimeLimit.truncated"] is True
        np.testing.assert_array_equal(infos[row]["terminal_observation"], 0.0)
        assert "episode" not in infos[row]  # its episode was reported when it was eliminated
    for row in survivors:
        assert infos[row]["TimeLimit.truncated"] is True
        assert infos[row]["episode"]["l"] == 6
    assert env.core_state.alive.all() and (env.core_state.year == 0).all()
    assert (obs[victims].sum(axis=1) > 0).all()


def test_environment_restarts_early_when_no_learning_state_is_left():
    params = make_params("bilateral", max_cycles=50, **DEADLY)
    attacker = AlwaysAttack(params)
    env = SecurityDilemmaVecEnv(num_envs=4, params=params, seed=0, opponents={0: attacker})
    assert env.num_envs == 4 and env.learner_seats.tolist() == [1]
    env.reset()
    obs, rewards, dones, infos = env.step(peaceful_actions(env))
    assert dones.all()
    for info in infos:
        assert info["TimeLimit.truncated"] is False
        np.testing.assert_array_equal(info["terminal_observation"], 0.0)
        assert info["episode"]["l"] == 1
    # Reset at once: the learner's new episode begins.
    assert env.core_state.alive.all() and (env.core_state.year == 0).all()
    assert (obs.sum(axis=1) > 0).all()


# --- seeding -----------------------------------------------------------------------------


def rollout(env: SecurityDilemmaVecEnv, steps: int = 200, action_seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(action_seed)
    record = [env.reset()]
    for _ in range(steps):
        obs, rewards, dones, infos = env.step(random_actions(env, rng))
        terminal = [info["terminal_observation"] for info in infos if "terminal_observation" in info]
        record += [obs, rewards, dones.astype(np.float32)] + terminal
    return record


def assert_same(first: list[np.ndarray], second: list[np.ndarray]) -> None:
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_same_seed_same_trajectory_different_seed_different():
    kwargs = dict(num_envs=4, scenario="pre-1914", max_cycles=30)
    first = rollout(SecurityDilemmaVecEnv(seed=5, **kwargs))
    assert_same(first, rollout(SecurityDilemmaVecEnv(seed=5, **kwargs)))
    # seed() seeds the next reset, as SB3 does it.
    env = SecurityDilemmaVecEnv(seed=123, **kwargs)
    assert env.seed(5)[0] == 5
    assert_same(first, rollout(env))
    other = rollout(SecurityDilemmaVecEnv(seed=6, **kwargs))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_seed_is_used_once_then_the_generator_runs_on():
    env = SecurityDilemmaVecEnv(num_envs=2)
    env.seed(3)
    first = env.reset()
    second = env.reset()
    env.seed(3)
    np.testing.assert_array_equal(env.reset(), first)
    assert not np.array_equal(first, second)


def test_random_opponents_are_reseeded_with_the_environment():
    def run():
        params = make_params("pre-1914", max_cycles=10)
        opponents = {1: RandomPolicy(params), 3: RandomPolicy(params)}
        return rollout(SecurityDilemmaVecEnv(num_envs=2, params=params, seed=9, opponents=opponents), steps=25)

    assert_same(run(), run())


# --- PPO --------------------------------------------------------------------------------------


@pytest.fixture
def one_torch_thread():
    """PPO on one torch thread: small networks gain nothing from more, and on shared cores lose a lot."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train(seed: int) -> PPO:
    env = SecurityDilemmaVecEnv(num_envs=4, scenario="jervis-1", max_cycles=20)
    model = PPO("MlpPolicy", env, seed=seed, n_steps=64, batch_size=128, n_epochs=2, device="cpu")
    return model.learn(total_timesteps=1024)


def test_ppo_runs_are_bit_identical_with_the_same_seed(one_torch_thread):
    first, second = train(0), train(0)
    assert first.num_timesteps == 1024
    state_first, state_second = first.policy.state_dict(), second.policy.state_dict()
    assert state_first.keys() == state_second.keys()
    for name in state_first:
        assert torch.equal(state_first[name], state_second[name]), name
    # Episodes (max_cycles=20 within 64-step rollouts) reach SB3's episode buffer without a Monitor.
    assert len(first.ep_info_buffer) > 0
    assert {"r", "l"} <= set(first.ep_info_buffer[0])
    third = train(1)
    assert any(not torch.equal(state_first[name], third.policy.state_dict()[name]) for name in state_first)


# --- opponents ------------------------------------------------------------------------------


def test_opponent_seats_are_not_rows():
    params = make_params("pre-1914")
    attacker = AlwaysAttack(params)
    env = SecurityDilemmaVecEnv(num_envs=3, params=params, seed=0, opponents={1: attacker, 3: attacker})
    assert env.learner_seats.tolist() == [0, 2]
    assert env.num_envs == 3 * 2
    assert env.row_of(2, 2) == 5
    with pytest.raises(ValueError, match="opponent"):
        env.row_of(0, 1)
    layout = observation_layout(params)
    obs = env.reset()
    assert obs.shape == (6, layout.length)
    np.testing.assert_allclose(obs[:, layout.own_wealth], env.core_state.wealth[:, [0, 2]].reshape(-1), rtol=1e-6)
    obs, rewards, dones, infos = env.step(peaceful_actions(env))
    assert obs.shape == (6, layout.length) and rewards.shape == (6,) and len(infos) == 6
    # One policy object for two seats is called once, with both seats of every environment.
    assert len(attacker.calls) == 1 and attacker.calls[0].shape == (3 * 2, layout.length)
    attacks = env.core_state.attacks
    assert attacks[:, 1, 2].all() and attacks[:, 3, 0].all()  # seat i attacked rival 1 = seat i + 1
    assert not attacks[:, 0].any() and not attacks[:, 2].any()  # the learners did not


def test_training_against_a_pool_of_scripted_opponents(one_torch_thread):
    params = make_params("bilateral", max_cycles=16)
    env = SecurityDilemmaVecEnv(num_envs=4, params=params, seed=0, opponents={1: HawkPolicy(params)})
    model = PPO("MlpPolicy", env, seed=0, n_steps=32, batch_size=64, n_epochs=1, device="cpu")
    model.learn(total_timesteps=256)
    assert model.num_timesteps == 256 and len(model.ep_info_buffer) > 0


def test_invalid_opponent_raises():
    params = make_params("bilateral")
    with pytest.raises(ValueError, match="seat"):
        SecurityDilemmaVecEnv(params=params, opponents={2: DovePolicy(params)})
    with pytest.raises(ValueError, match="at least one"):
        SecurityDilemmaVecEnv(params=params, opponents={0: DovePolicy(params), 1: DovePolicy(params)})
    with pytest.raises(ValueError, match="act"):
        SecurityDilemmaVecEnv(params=params, opponents={1: object()})


# --- action validation -----------------------------------------------------------------------


def test_invalid_action_names_environment_state_and_space():
    env = SecurityDilemmaVecEnv(num_envs=2, seed=0)
    env.reset()
    actions = peaceful_actions(env)
    actions[3, 2] = 2  # row 3: environment 1, state_1; attack must be in [0, 1]
    with pytest.raises(ValueError, match=r"row 3 \(environment 1, state_1\).*MultiDiscrete"):
        env.step(actions)
    actions = peaceful_actions(env)
    actions[0, 0] = -1
    with pytest.raises(ValueError, match=r"environment 0, state_0"):
        env.step(actions)
    with pytest.raises(ValueError, match="shape"):
        env.step(peaceful_actions(env)[:3])
    with pytest.raises(ValueError, match="integers"):
        env.step(peaceful_actions(env).astype(np.float32))


def test_invalid_action_with_opponents_names_the_learner_seat():
    params = make_params("pre-1914")
    env = SecurityDilemmaVecEnv(num_envs=2, params=params, seed=0, opponents={0: DovePolicy(params)})
    env.reset()
    actions = peaceful_actions(env)
    actions[4, 1] = params.n_systems + 1  # row 4 = environment 1, learner seats (1, 2, 3) -> state_2
    with pytest.raises(ValueError, match=r"environment 1, state_2"):
        env.step(actions)


# --- the rest of the VecEnv interface ------------------------------------------------------


def test_attributes_methods_render_and_close():
    env = SecurityDilemmaVecEnv(num_envs=2, seed=0, max_cycles=7)
    env.reset()
    assert env.get_attr("n_states") == [2] * 4
    assert env.get_attr("num_games", indices=[0, 3]) == [2, 2]
    assert env.has_attr("params") and not env.has_attr("no_such_attribute")
    assert env.env_is_wrapped(VecMonitor) == [False] * 4
    assert env.env_is_wrapped(VecMonitor, indices=1) == [False]
    assert env.env_method("row_of", 1, 1) == [3] * 4
    env.set_attr("params", env.params.replace(max_cycles=3))
    assert env.params.max_cycles == 3
    with pytest.raises(ValueError, match="spaces"):
        env.set_attr("params", make_params("bilateral", n_states=3))
    with pytest.raises(ValueError, match="every row"):
        env.set_attr("params", env.params, indices=[0])
    text = env.render()
    assert isinstance(text, str) and "state_0" in text and "state_1" in text
    image = env.render("rgb_array")
    assert image.ndim == 3 and image.dtype == np.uint8
    env.close()
    assert env.closed


def test_parameters_and_params_are_exclusive():
    with pytest.raises(ValueError, match="either"):
        SecurityDilemmaVecEnv(params=make_params("bilateral"), n_states=3)
    with pytest.raises(ValueError, match="num_envs"):
        SecurityDilemmaVecEnv(num_envs=0)
    assert SecurityDilemmaVecEnv(num_envs=2, scenario="cold-war").num_envs == 8
