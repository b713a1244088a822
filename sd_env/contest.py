"""The contest success function: who wins a war.

Tullock (1980) / Hirshleifer (1989) ratio form, with the attacker's offence
multiplied by the offence-defence balance (Glaser & Kaufmann 1998)::

    p = (theta * O)^m / ((theta * O)^m + D^m)

where ``O`` is the attacker's offence, ``D`` the defender's total defence
(arms plus territory plus joining allies), ``theta`` the offence-defence
balance and ``m`` the decisiveness. Written in logistic form so that large
stocks or a large ``m`` never overflow.

One Python function, :func:`_success_probability`, defines it; it is compiled
twice from that source: as a scalar function for the kernels of
``sd_env.kernels`` and as a NumPy ufunc behind :func:`success_probability`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, vectorize


def _success_probability(offense: float, defense: float, offense_defense_balance: float, decisiveness: float) -> float:
    attack = offense * offense_defense_balance
    if not attack > 0.0:  # an attacker with no offence never wins
        return 0.0
    # 1 / (1 + (D / (theta O))^m). D = 0: log ratio -inf, exp gives 0, p = 1 (the undefended always fall).
    log_ratio = decisiveness * ((math.log(defense) if defense > 0.0 else -math.inf) - math.log(attack))
    if log_ratio > 709.0:  # exp would overflow; 1 / (1 + inf) is exactly 0
        return 0.0
    return 1.0 / (1.0 + math.exp(log_ratio))


#: The scalar function, compiled for use inside other compiled kernels.
success_probability_scalar = njit(inline="always", cache=True)(_success_probability)
_success_probability_ufunc = vectorize(["float64(float64, float64, float64, float64)"], cache=True)(
    _success_probability
)


def success_probability(
    attacker_offense: np.ndarray | float,
    defender_defense: np.ndarray | float,
    offense_defense_balance: float,
    decisiveness: float,
) -> np.ndarray:
    """Probability in [0, 1] that an attack succeeds; broadcasts over arrays (float64).

    Args:
        attacker_offense: attacker's offence O >= 0, in arms units.
        defender_defense: defender's total defence D >= 0, in arms units.
        offense_defense_balance: theta > 0; > 1 favours the attacker.
        decisiveness: m > 0; larger m makes the stronger side win more surely.

    An attacker with no offence never wins; a defender with no defence
    facing positive offence always loses.
    """
    return _success_probability_ufunc(
        np.asarray(attacker_offense, dtype=np.float64),
        np.asarray(defender_defense, dtype=np.float64),
        float(offense_defense_balance),
        float(decisiveness),
    )
