"""Measures computed on simulated episodes (a :class:`experiments.rollout.Rollout`).

Efficiency, equality and peace follow Perolat et al. (2017): mean total
welfare per year, one minus the Gini coefficient of episode returns, and the
share of years without war.
"""

from __future__ import annotations

import numpy as np

from experiments.rollout import Rollout


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values in [0, 1]; 0 = perfect equality. Negative values are shifted."""
    values = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if values.size == 0:
        raise ValueError("gini needs at least one value")
    values = values - min(values[0], 0.0)
    total = values.sum()
    if total == 0.0:
        return 0.0
    ranks = np.arange(1, values.size + 1)
    return float(((2 * ranks - values.size - 1) * values).sum() / (values.size * total))


def summarize(result: Rollout, seats: list[int] | None = None) -> dict[str, float]:
    """Headline measures of a rollout; ``seats`` restricts the per-state measures to those states.

    Returns military burden (mean share of wealth spent on arms, over living
    state-years), final arms (mean total stock in the last year), welfare
    (mean episode return per state), war years (share of years with at least
    one attack), spiral war years (share of years in which a security seeker
    attacked another security seeker: the security dilemma proper, which only
    a simulation, where types are known, can count), the military burden of
    security seekers alone (NaN if the seats hold none), the seeker attack
    rate (share of living (security seeker, living rival) pair-years in which
    the seeker attacked that rival) and the spiral attack rate (the same with
    a security seeker as the victim too; both NaN where no such pair lived),
    attacks per episode, eliminations per episode, efficiency,
    equality and peace.
    """
    n_states = result.rewards.shape[2]
    seats = list(range(n_states)) if seats is None else list(seats)
    alive = result.alive[:, :, seats]
    burden = result.burden[:, :, seats]
    war_years = result.attacks.any(axis=(2, 3))  # (T, B)
    seeker = ~result.greedy  # (B, N)
    # Spiral wars: an attack by one security seeker on another, the security dilemma proper (types known here).
    spiral = (result.attacks & seeker[None, :, :, None] & seeker[None, :, None, :]).any(axis=(2, 3))
    seeker_alive = alive & seeker[None, :, seats]
    # Attack rates per living (attacker, victim) pair-year, so a war that ends in elimination does not
    # lower them the way it lowers the share of years at war.
    pair_alive = result.alive[:, :, seats, None] & result.alive[:, :, None, :]  # (T, B, S, N)
    pair_alive[:, :, np.arange(len(seats)), seats] = False
    launched = result.attacks[:, :, seats, :]
    seeker_pair = pair_alive & seeker[None, :, seats, None]
    spiral_pair = seeker_pair & seeker[None, :, None, :]
    return {
        "military_burden": float(burden[alive].mean()) if alive.any() else 0.0,
        "final_arms": float(result.arms[-1][:, seats].mean()),
        "welfare": float(result.returns[:, seats].mean()),
        "war_years": float(war_years.mean()),
        "spiral_war_years": float(spiral.mean()),
        "seeker_military_burden": float(burden[seeker_alive].mean()) if seeker_alive.any() else float("nan"),
        "seeker_attack_rate": float(launched[seeker_pair].mean()) if seeker_pair.any() else float("nan"),
        "spiral_attack_rate": float(launched[spiral_pair].mean()) if spiral_pair.any() else float("nan"),
        "attacks_per_episode": float(result.attacks[:, :, seats].sum(axis=(0, 2, 3)).mean()),
        "eliminations_per_episode": float(result.eliminated[:, :, seats].sum(axis=(0, 2)).mean()),
        "efficiency": float(result.welfare.sum(axis=2).mean()),
        "equality": 1.0 - float(np.mean([gini(row) for row in result.returns])),
        "peace": 1.0 - float(war_years.mean()),
    }
