"""Meta-solvers of PSRO: the mixture over a population that each new best response is trained against.

The meta-game of a population of K policies in a symmetric two-state game is the K x K matrix ``payoffs``:
``payoffs[i, j]`` is the mean episode return of policy i playing against policy j. A meta-solver turns it into
a mixture over the population (Lanctot et al. 2017, "A unified game-theoretic approach to multiagent
reinforcement learning"):

- ``prd``: projected replicator dynamics, OpenSpiel's implementation, on the symmetric game (the row player's
  payoffs ``payoffs``, the column player's its transpose), from the uniform mixture; an approximate Nash
  equilibrium that keeps every member above a small floor (``gamma``), so that no member is dropped forever.
- ``uniform``: every member alike (fictitious play against the population).

Nash equilibria are unchanged by a positive affine change of payoffs, so the matrix is rescaled to [0, 1]
first, which makes the replicator's step size mean the same whatever the reward units.
"""

from __future__ import annotations

import numpy as np

from sd_env.errors import SdEnvError

#: The meta-solvers, by the config's ``meta_solver`` names.
META_SOLVERS = ("prd", "uniform")


def meta_strategy(payoffs: np.ndarray, solver: str = "prd", iterations: int = 20_000, step: float = 0.1,
                  gamma: float = 1e-6) -> np.ndarray:
    """The mixture over the population that ``solver`` gives for the symmetric meta-game ``payoffs``.

    :param payoffs: (K, K) mean returns, ``[i, j]`` of policy i against policy j (reward units).
    :param solver: ``prd`` or ``uniform`` (module docstring).
    :param iterations: steps of the projected replicator dynamics.
    :param step: their step size, on payoffs rescaled to [0, 1].
    :param gamma: the floor of every member's share (``prd``).
    :returns: (K,) shares, non-negative, summing to 1.
    :raises SdEnvError: an unknown solver (``parameter="meta_solver"``) or a payoff matrix that is not square.
    """
    payoffs = np.asarray(payoffs, dtype=np.float64)
    if payoffs.ndim != 2 or payoffs.shape[0] != payoffs.shape[1] or payoffs.shape[0] == 0:
        raise SdEnvError(f"payoffs must be a square, non-empty matrix, got shape {payoffs.shape}")
    count = payoffs.shape[0]
    if solver == "uniform" or count == 1:
        if solver not in META_SOLVERS:
            raise SdEnvError(f"meta_solver must be one of {', '.join(META_SOLVERS)}, got {solver!r}",
                             parameter="meta_solver")
        return np.full(count, 1.0 / count)
    if solver != "prd":
        raise SdEnvError(f"meta_solver must be one of {', '.join(META_SOLVERS)}, got {solver!r}",
                         parameter="meta_solver")
    from open_spiel.python.algorithms.projected_replicator_dynamics import projected_replicator_dynamics

    low, high = payoffs.min(), payoffs.max()
    scaled = (payoffs - low) / (high - low) if high > low else np.zeros_like(payoffs)
    mixture, _ = projected_replicator_dynamics([scaled, scaled.T], prd_iterations=iterations, prd_dt=step,
                                               prd_gamma=gamma, average_over_last_n_strategies=None)
    mixture = np.clip(np.asarray(mixture, dtype=np.float64), 0.0, None)
    return mixture / mixture.sum()
