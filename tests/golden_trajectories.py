"""Golden trajectories: fingerprints of whole episodes in every named scenario, frozen as data.

The dynamics are written once, in compiled kernels; a refactor of them (or of
the code around them) must not change a single trajectory. This module steps
every named scenario from fixed seeds with seeded random actions (fewer
attacks than uniform, so games go on) and reduces every array of every year
(state, outcome, observation) to two numbers per field: its sum and a sum
weighted by fixed pseudo-random weights, which any change to any entry moves.
The numbers are stored in ``tests/golden/trajectories.json`` and compared with
a relative tolerance of 1e-9, which absorbs last-bit differences between
machines but nothing else.

    python tests/golden_trajectories.py --write    # after an intended change of the dynamics, and say so

A change of the model on purpose (a new mechanism, a new default) rewrites the
file in the same commit; a refactor must leave it as it is.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sd_env import core
from sd_env.scenarios import SCENARIOS, make_params

GOLDEN = Path(__file__).parent / "golden" / "trajectories.json"
SEEDS = (0, 1)
BATCH = 4
YEARS = 40


def _fingerprint(array: np.ndarray, weights_rng: np.random.Generator) -> list[float]:
    values = np.asarray(array, dtype=np.float64).ravel()
    weights = weights_rng.random(values.size)
    return [float(values.sum()), float(values @ weights)]


def trajectory_fingerprints(scenario: str, seed: int) -> dict[str, list[float]]:
    """Fingerprints of ``YEARS`` years of ``BATCH`` games of ``scenario`` from ``seed``, per field."""
    params = make_params(scenario)
    rng = np.random.default_rng(seed)
    state = core.reset(params, BATCH, rng)
    upper = core.action_upper_bounds(params)
    totals: dict[str, list[float]] = {}
    weights_rng = np.random.default_rng(12345)

    def add(name: str, array: np.ndarray) -> None:
        first, second = _fingerprint(array, weights_rng)
        total = totals.setdefault(name, [0.0, 0.0])
        total[0] += first
        total[1] += second

    for _ in range(YEARS):
        observation = core.observe(params, state, rng)
        add("observation", observation)
        actions = rng.integers(0, upper, size=(BATCH, params.n_states, len(upper)))
        actions[:, :, 2] *= rng.random((BATCH, params.n_states)) < 0.3
        state, outcome = core.step(params, state, actions, rng)
        for name in core.CoreState._fields:
            add(f"state.{name}", getattr(state, name))
        for name in core.StepOutcome._fields:
            add(f"outcome.{name}", getattr(outcome, name))
        finished = outcome.truncated | (state.alive.sum(axis=1) < 2)
        state = core.reset_where(params, state, finished, rng)
    add("global_state", core.global_state(params, state))
    return totals


def all_fingerprints() -> dict[str, dict[str, list[float]]]:
    return {f"{scenario}/seed{seed}": trajectory_fingerprints(scenario, seed)
            for scenario in SCENARIOS for seed in SEEDS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {GOLDEN.name} from the current code")
    args = parser.parse_args()
    if not args.write:
        parser.error("nothing to do: pass --write to freeze the current trajectories")
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(all_fingerprints(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
