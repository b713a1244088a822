"""The contest success function: who wins a war.

Tullock (1980) / Hirshleifer (1989) ratio form, with the attacker's offence
multiplied by the offence-defence balance (Glaser & Kaufmann 1998)::

    p = (theta * O)^m / ((theta * O)^m + D^m)

where ``O`` is the attacker's offence, ``D`` the defender's total defence
(arms plus territory plus joining allies), ``theta`` the offence-defence
balance and ``m`` the decisiveness. Written in logistic form so that large
stocks or a large ``m`` never overflow.
"""

from __future__ import annotations

import numpy as np


def success_probability(
    attacker_offense: np.ndarray | float,
    defender_defense: np.ndarray | float,
    offense_defense_balance: float,
    decisiveness: float,
) -> np.ndarray:
    """Probability in [0, 1] that an attack succeeds; broadcasts over arrays.

    Args:
        attacker_offense: attacker's offence O >= 0, in arms units.
        defender_defense: defender's total defence D >= 0, in arms units.
        offense_defense_balance: theta > 0; > 1 favours the attacker.
        decisiveness: m > 0; larger m makes the stronger side win more surely.

    An attacker with no offence never wins; a defender with no defence
    facing positive offence always loses.
    """
    offense = np.asarray(attacker_offense, dtype=np.float64) * offense_defense_balance
    defense = np.asarray(defender_defense, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = decisiveness * (np.log(defense) - np.log(offense))
        # 1 / (1 + (D / (theta O))^m); exp(+inf) -> inf gives 0, exp(-inf) -> 0 gives 1.
        probability = 1.0 / (1.0 + np.exp(log_ratio))
    # The only NaN (0 / 0: no offence against no defence) sits where offence is zero, masked here.
    return np.where(offense > 0.0, probability, 0.0)
