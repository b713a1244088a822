"""Every named scenario steps exactly as when the golden trajectories were frozen (see golden_trajectories.py)."""

from __future__ import annotations

import json

import pytest

from golden_trajectories import GOLDEN, SEEDS, trajectory_fingerprints
from sd_env.scenarios import SCENARIOS

FROZEN = json.loads(GOLDEN.read_text())


def test_the_golden_file_covers_every_scenario_and_seed():
    assert set(FROZEN) == {f"{scenario}/seed{seed}" for scenario in SCENARIOS for seed in SEEDS}


@pytest.mark.parametrize("key", sorted(FROZEN))
def test_trajectory_matches_the_frozen_one(key):
    scenario, seed = key.split("/seed")
    current = trajectory_fingerprints(scenario, int(seed))
    assert set(current) == set(FROZEN[key]), "fields were added or removed: rewrite the golden file on purpose"
    for field, expected in FROZEN[key].items():
        assert current[field] == pytest.approx(expected, rel=1e-9, abs=1e-9), f"{key}: {field} changed"


def test_a_changed_parameter_changes_the_fingerprints():
    # The fingerprints are sensitive: the same seed with other observation noise gives other observations.
    import numpy as np

    from golden_trajectories import _fingerprint
    from sd_env import core
    from sd_env.scenarios import make_params

    def observation_print(noise: float) -> list[float]:
        params = make_params("bilateral", observation_noise=noise)
        state = core.reset(params, 2, np.random.default_rng(0))
        return _fingerprint(core.observe(params, state, np.random.default_rng(1)), np.random.default_rng(2))

    assert observation_print(0.2) == pytest.approx(observation_print(0.2), rel=1e-12)
    assert observation_print(0.2) != pytest.approx(observation_print(0.2001), rel=1e-9)
