"""Same seed, same trajectories, bit for bit; different seeds, different trajectories."""

from __future__ import annotations

import numpy as np

import sd_env


def trajectory(scenario: str, seed: int, steps: int = 500) -> list:
    """Record observations, rewards and flags of ``steps`` years with seeded random actions."""
    env = sd_env.parallel_env(scenario=scenario, max_cycles=steps)
    observations, _ = env.reset(seed=seed)
    action_rng = np.random.default_rng(seed + 1000)
    record = [observations]
    for _ in range(steps):
        if not env.agents:
            break
        actions = {
            agent: action_rng.integers(0, env.action_space(agent).nvec).astype(np.int64) for agent in env.agents
        }
        step = env.step(actions)
        record.append(step)
    return record


def flatten(record: list) -> np.ndarray:
    values = []
    for entry in record:
        items = entry if isinstance(entry, tuple) else (entry,)
        for mapping in items[:4]:
            for agent in sorted(mapping):
                values.append(np.asarray(mapping[agent], dtype=np.float64).ravel())
    return np.concatenate(values)


def test_same_seed_same_500_step_trajectory_bit_for_bit(scenario):
    first_record = trajectory(scenario, seed=7)
    assert len(first_record) == 501, "the trajectory must really last 500 years"
    first = flatten(first_record)
    second = flatten(trajectory(scenario, seed=7))
    assert first.shape == second.shape
    assert first.tobytes() == second.tobytes()


def test_different_seeds_give_different_trajectories(scenario):
    first = flatten(trajectory(scenario, seed=7, steps=50))
    second = flatten(trajectory(scenario, seed=8, steps=50))
    assert first.shape != second.shape or first.tobytes() != second.tobytes()


def test_reset_without_seed_continues_the_seeded_stream():
    env = sd_env.parallel_env()
    env.reset(seed=5)
    after_first = env.reset()[0]["state_0"]
    env.reset(seed=5)
    again = env.reset()[0]["state_0"]
    np.testing.assert_array_equal(after_first, again)
