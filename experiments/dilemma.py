"""The dilemma table: mean episode return of fixed stances played against each other.

``payoff_table`` answers: what does a state earn by playing stance X when
every rival plays stance Y? A security dilemma (a prisoner's dilemma in
arms) is when arming is the best response to both restraint and arming, yet
mutual arming leaves everyone worse off than mutual restraint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from agents.scripted import make_policy
from experiments.rollout import rollout
from sd_env.params import EnvParams

#: The stances of the table: restraint, purely defensive arming, offensive arming.
DEFAULT_STANCES: tuple[str, ...] = ("dove", "defender", "hawk")


@dataclass(frozen=True)
class PayoffTable:
    """Mean (and standard error of the) episode return of the row stance against the column stance."""

    mean: pd.DataFrame
    standard_error: pd.DataFrame

    def value(self, row: str, column: str) -> float:
        return float(self.mean.loc[row, column])

    def best_response(self, column: str) -> str:
        """The row stance that earns most against ``column``."""
        return str(self.mean[column].idxmax())

    def is_security_dilemma(self, restraint: str = "dove", arming: str = "hawk") -> bool:
        """Between the two stances: arming earns more than restraint against restraint and against
        arming, yet mutual arming earns less than mutual restraint (a prisoner's dilemma in arms)."""
        return (
            self.value(arming, restraint) > self.value(restraint, restraint)
            and self.value(arming, arming) > self.value(restraint, arming)
            and self.value(arming, arming) < self.value(restraint, restraint)
        )

    def to_text(self, decimals: int = 2) -> str:
        """The table as text, each cell ``mean ± standard error``; rows: own stance, columns: rivals' stance."""
        cells = self.mean.round(decimals).astype(str) + " ± " + self.standard_error.round(decimals).astype(str)
        cells.index.name = "own \\ rivals"
        return cells.to_string()


def payoff_table(
    params: EnvParams,
    stances: Sequence[str] = DEFAULT_STANCES,
    episodes: int = 200,
    seed: int = 0,
) -> PayoffTable:
    """Play every stance against every stance; average over focal seats and ``episodes`` episodes.

    For each cell, each seat in turn plays the row stance while all others
    play the column stance, so asymmetric scenarios are averaged over seats.
    """
    if episodes < 2:
        raise ValueError(f"episodes must be >= 2 to estimate a standard error, got {episodes}")
    means = pd.DataFrame(index=list(stances), columns=list(stances), dtype=float)
    errors = means.copy()
    for row_index, row in enumerate(stances):
        for column_index, column in enumerate(stances):
            focal_returns = []
            for seat in range(params.n_states):
                own = make_policy(row, params)
                others = make_policy(column, params)
                seats = [own if i == seat else others for i in range(params.n_states)]
                # Common random numbers: the same seed for every cell makes cells directly comparable.
                result = rollout(params, seats, episodes, seed=seed + seat)
                focal_returns.append(result.returns[:, seat])
            values = np.concatenate(focal_returns)
            means.loc[row, column] = values.mean()
            errors.loc[row, column] = values.std(ddof=1) / np.sqrt(len(values))
    return PayoffTable(mean=means, standard_error=errors)
