"""The compiled core against the whole-array NumPy core it replaced, on the same inputs.

The NumPy implementation of ``sd_env/core.py`` (and its ``contest.py``) is read
from git history (default: commit ``86ac426``, the last one with it), loaded
beside the current package, and both are stepped from the same states with the
same actions and the same generator seeds:

* every named scenario at batch 1, 7 and 64, ``--years`` years each;
* ``--random-sets`` random parameter sets (2 to 5 states, alliances on and off,
  surprise deployments, no observation noise) at batch 1, 5 and 33, 60 years each.

Every array of ``CoreState``, ``StepOutcome`` and the observation is compared. Since sd-env 0.2 a
security seeker values only its home wealth (``seeker_conquest_value``); at ``seeker_conquest_value=1``
its reward is the old one, so every comparison runs with that value, and the quantities the old core
lacks (``home_wealth`` in the state, its column in the observation) are carried along and left out.
It prints the number of boolean and integer entries that differ, the largest relative
difference between floating-point entries and the share that are bit-identical.
Run from the repository root (a git checkout):

    python benchmarks/compare_numpy_core.py
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from sd_env import core
from sd_env.scenarios import SCENARIOS, make_params

REPO = Path(__file__).resolve().parents[1]


def load_reference(commit: str, folder: Path):
    """Write the NumPy core of ``commit`` as package ``numpy_core_reference`` in ``folder`` and import it."""
    package = folder / "numpy_core_reference"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("core.py", "contest.py"):
        source = subprocess.run(["git", "show", f"{commit}:sd_env/{name}"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout
        source = source.replace("from sd_env.contest import", "from numpy_core_reference.contest import")
        (package / name).write_text(source)
    sys.path.insert(0, str(folder))
    return importlib.import_module("numpy_core_reference.core")


class Tally:
    def __init__(self) -> None:
        self.steps = self.floats = self.identical = self.boolean_mismatches = 0
        self.max_relative = 0.0

    def compare(self, old: np.ndarray, new: np.ndarray, name: str) -> None:
        if old.shape != new.shape or old.dtype != new.dtype:
            raise AssertionError(f"{name}: {old.shape} {old.dtype} against {new.shape} {new.dtype}")
        if old.dtype.kind in "biu":  # flags and counts (the year) must match exactly
            self.boolean_mismatches += int((old != new).sum())
            return
        if not (np.isfinite(old).all() and np.isfinite(new).all()):
            raise AssertionError(f"{name}: non-finite values")
        self.floats += old.size
        self.identical += int((old == new).sum())
        scale = np.maximum(np.abs(old.astype(np.float64)), np.finfo(np.float64).tiny)
        self.max_relative = max(self.max_relative, float(np.max(np.abs(old - new) / scale, initial=0.0)))


def as_new_state(state, home_wealth: np.ndarray) -> core.CoreState:
    """The reference core's state as a ``CoreState`` (it has no home wealth: the carried one is used)."""
    fields = {name: getattr(state, name) for name in core.CoreState._fields if name != "home_wealth"}
    return core.CoreState(**fields, home_wealth=home_wealth)


def without_home_wealth(params, observation: np.ndarray) -> np.ndarray:
    """The observation without the own home-wealth entry, which the reference core does not have."""
    from sd_env.spaces import observation_layout

    return np.delete(observation, observation_layout(params).own_home_wealth, axis=-1)


def run(reference, params, batch: int, years: int, rng: np.random.Generator, tally: Tally) -> None:
    params = params.replace(seeker_conquest_value=1.0)
    state = reference.reset(params, batch, rng)
    home_wealth = state.wealth.copy()
    upper = reference.action_upper_bounds(params)
    for _ in range(years):
        actions = rng.integers(0, upper, size=(batch, params.n_states, len(upper)))
        actions[:, :, 2] *= rng.random((batch, params.n_states)) < 0.3  # fewer attacks, so games go on
        seed = int(rng.integers(1 << 30))
        old_state, old_outcome = reference.step(params, state, actions, np.random.default_rng(seed))
        new_state, new_outcome = core.step(params, as_new_state(state, home_wealth), actions,
                                           np.random.default_rng(seed))
        for name in core.CoreState._fields:
            if name == "home_wealth":
                continue
            tally.compare(getattr(old_state, name), getattr(new_state, name), f"state.{name}")
        for name in core.StepOutcome._fields:
            tally.compare(getattr(old_outcome, name), getattr(new_outcome, name), f"outcome.{name}")
        tally.compare(reference.observe(params, old_state, np.random.default_rng(seed + 1)),
                      without_home_wealth(params, core.observe(params, as_new_state(old_state, new_state.home_wealth),
                                                               np.random.default_rng(seed + 1))), "observation")
        tally.steps += 1
        finished = old_outcome.truncated | (old_state.alive.sum(axis=1) < 2)
        state = reference.reset_where(params, old_state, finished, rng)
        home_wealth = np.where(finished[:, None], state.wealth, new_state.home_wealth)


def random_params(rng: np.random.Generator):
    n_states = int(rng.integers(2, 6))
    alliances = bool(rng.random() < 0.6)
    return make_params(
        "bilateral", n_states=n_states, alliances=alliances,
        alliance_blocs=((0, 1),) if alliances and n_states > 2 else (),
        observation_noise=float(rng.choice([0.0, 0.3])), distinguishability=float(rng.random()),
        offense_defense_balance=float(rng.uniform(0.2, 4.0)), greedy_prior=0.5,
        conquest_share=float(rng.uniform(0.1, 0.9)), elimination_threshold=float(rng.uniform(0.1, 0.6)),
        surprise_deployment=(0, 1, 0.5, 3) if rng.random() < 0.5 else None, max_cycles=50,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", default="86ac426", help="a commit whose sd_env/core.py is the NumPy core")
    parser.add_argument("--years", type=int, default=300, help="years per scenario and batch size")
    parser.add_argument("--random-sets", type=int, default=60, help="random parameter sets")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        reference = load_reference(args.commit, Path(folder))
        tally = Tally()
        for scenario in sorted(SCENARIOS):
            for batch in (1, 7, 64):
                run(reference, make_params(scenario), batch, args.years, np.random.default_rng(1), tally)
        for trial in range(args.random_sets):
            rng = np.random.default_rng(trial)
            params = random_params(rng)
            run(reference, params, int(rng.choice([1, 5, 33])), 60, rng, tally)
    print(f"steps compared: {tally.steps:,} (NumPy core of commit {args.commit} against the compiled core)")
    print(f"boolean and integer entries that differ: {tally.boolean_mismatches}")
    print(f"floating-point entries: {tally.floats:,}; bit-identical: {tally.identical / tally.floats:.2%}; "
          f"largest relative difference: {tally.max_relative:.1e}")


if __name__ == "__main__":
    main()
