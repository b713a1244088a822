"""The dilemma table: mean episode return of fixed stances played against each other.

``payoff_table`` answers: what does a state earn by playing stance X when
every rival plays stance Y? A security dilemma (a prisoner's dilemma in
arms) is when arming is the best response to both restraint and arming, yet
mutual arming leaves everyone worse off than mutual restraint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from sd_env.errors import SdEnvError
from sd_env.experiments.lab.seating import PolicyCache, play
from sd_env.experiments.lab.specs import BASELINE_PREFIX
from sd_env.params import EnvParams

#: The stances of the table: restraint, purely defensive arming, offensive arming.
DEFAULT_STANCES: tuple[str, ...] = ("dove", "defender", "hawk")


@dataclass(frozen=True)
class PayoffTable:
    """Mean (and standard error of the) episode return of the row stance against the column stance."""

    mean: pd.DataFrame
    standard_error: pd.DataFrame

    def value(self, row: str, column: str) -> float:
        """Mean episode return of the ``row`` stance against the ``column`` stance, reward units.

        :param row: the focal state's stance, one of the table's stances.
        :param column: the stance of every rival.
        :returns: the mean episode return, reward units; NaN where the cell has no sample.
        """
        return float(self.mean.loc[row, column])

    def cell(self, row: str, column: str) -> dict[str, float | None] | None:
        """``{"mean", "se"}`` of one cell (floats; None where undefined), or None if the cell has no sample.

        :param row: the focal state's stance, one of the table's stances.
        :param column: the stance of every rival.
        :returns: ``{"mean": float, "se": float | None}`` in reward units, or None.
        """
        mean = float(self.mean.loc[row, column])
        if np.isnan(mean):
            return None
        error = float(self.standard_error.loc[row, column])
        return {"mean": mean, "se": None if np.isnan(error) else error}

    def best_response(self, column: str) -> str:
        """The row stance that earns most against ``column``.

        :param column: the stance of every rival.
        :returns: the name of the row stance with the highest mean episode return in that column.
        """
        return str(self.mean[column].idxmax())

    def is_security_dilemma(self, restraint: str = "dove", arming: str = "hawk") -> bool:
        """Between the two stances: arming earns more than restraint against restraint and against
        arming, yet mutual arming earns less than mutual restraint (a prisoner's dilemma in arms).

        :param restraint: the stance that stands for not arming, a row and column of the table.
        :param arming: the stance that stands for arming, a row and column of the table.
        :returns: True where all three inequalities hold.
        """
        return (
            self.value(arming, restraint) > self.value(restraint, restraint)
            and self.value(arming, arming) > self.value(restraint, arming)
            and self.value(arming, arming) < self.value(restraint, restraint)
        )

    def no_good_policy(self, restraint: str = "dove", arming: str = "hawk") -> dict[str, float | str | bool]:
        """The fourth definition of the security dilemma: no policy is good against a rival who arms.

        Not arming leaves a state exposed (restraint against ``arming`` earns
        less than mutual restraint) and arming leaves it no safer (the best
        stance of the table against ``arming`` still earns less than mutual
        restraint). ``gap`` is mutual restraint's return minus that best
        return (reward units): positive where no stance recovers what the
        rival's arming costs. ``holds`` is whether both parts hold.

        :param restraint: the stance that stands for not arming, a row and column of the table.
        :param arming: the rival's arming stance, a row and column of the table.
        :returns: ``{"best_against_arming": stance, "best_return", "mutual_restraint_return", "gap"`` (reward
            units), ``"holds": bool}``.
        """
        best = self.best_response(arming)
        mutual_restraint = self.value(restraint, restraint)
        exposed = self.value(restraint, arming) < mutual_restraint
        gap = mutual_restraint - self.value(best, arming)
        return {"best_against_arming": best, "best_return": self.value(best, arming),
                "mutual_restraint_return": mutual_restraint, "gap": gap, "holds": bool(exposed and gap > 0)}

    def to_text(self, decimals: int = 2) -> str:
        """The table as text, each cell ``mean ± standard error``; rows: own stance, columns: rivals' stance.

        :param decimals: decimal places of every mean and standard error.
        :returns: the table as a multi-line string.
        """
        cells = self.mean.round(decimals).astype(str) + " ± " + self.standard_error.round(decimals).astype(str)
        cells.index.name = "own \\ rivals"
        return cells.to_string()


#: Keys of :attr:`DilemmaTables.tables`: every focal state, then the focal states of one private type.
TYPE_KEYS: tuple[str, ...] = ("all", "security_seeker", "greedy")


@dataclass(frozen=True)
class DilemmaTables:
    """Payoff tables of one scenario, pooled over types and for each type of the focal state.

    ``tables[key]`` is the :class:`PayoffTable` of focal states of that type
    (``"all"``, ``"security_seeker"``, ``"greedy"``), or None where no focal
    state of the type occurred in any cell (a prior of 0 or 1).
    """

    params: EnvParams
    episodes: int
    seed: int
    stances: tuple[str, ...]
    tables: dict[str, PayoffTable | None]
    scenario: str | None = None

    def to_json(self) -> dict:
        """The tables in the documented JSON form (a user-facing contract: see ``sd-env dilemma --json``).

        ``{"scenario", "parameters", "episodes", "seed", "stances", "tables": {TYPE: {ROW: {COL: {"mean",
        "se"}}}}, "no_good_policy": {TYPE: {...} | null}}``; a cell is null where no focal state of that type
        played it; ``no_good_policy`` (:meth:`PayoffTable.no_good_policy`, dove against hawk) is null where
        the table lacks those stances or a cell.
        """
        tables: dict[str, dict] = {}
        for key in TYPE_KEYS:
            table = self.tables.get(key)
            tables[key] = {
                row: {column: None if table is None else table.cell(row, column) for column in self.stances}
                for row in self.stances
            }
        no_good_policy = {}
        for key in TYPE_KEYS:
            table = self.tables.get(key)
            usable = (table is not None and {"dove", "hawk"} <= set(self.stances)
                      and not table.mean.isna().to_numpy().any())
            no_good_policy[key] = table.no_good_policy() if usable else None
        return {
            "scenario": self.scenario,
            "parameters": asdict(self.params),  # tuples become JSON lists
            "episodes": self.episodes,
            "seed": self.seed,
            "stances": list(self.stances),
            "tables": tables,
            "no_good_policy": no_good_policy,
        }


def dilemma_tables(
    params: EnvParams,
    stances: Sequence[str] = DEFAULT_STANCES,
    episodes: int = 200,
    seed: int = 0,
    scenario: str | None = None,
) -> DilemmaTables:
    """Play every stance against every stance; tables pooled and by the focal state's private type.

    For each cell, each seat in turn plays the row stance while all others
    play the column stance, for ``episodes`` episodes, so asymmetric scenarios
    are averaged over seats. Types are drawn from ``greedy_prior`` as in any
    episode; a focal state's return counts in the table of its type. Every
    cell uses the same seeds (common random numbers). A stance is a scripted
    policy name or ``GREEDY/SEEKER`` (``hawk/dove``: greedy states play hawk,
    security seekers dove).

    :param params: the environment.
    :param stances: the stances of the rows and columns, at least one: scripted stance names, ``GREEDY/SEEKER``
        pairs (``hawk/dove``) or stances with options (``defender:burden=0.3``).
    :param episodes: episodes per seat and cell, >= 2 (a standard error needs two).
    :param seed: the game seed: the games with the focal state in seat ``s`` use ``seed + s``, in every cell.
    :param scenario: the scenario's name, recorded in the result; None for parameters of no named scenario.
    :returns: the :class:`DilemmaTables`: a :class:`PayoffTable` for each key of :data:`TYPE_KEYS` (None
        where no focal state of that type played), means and standard errors in reward units.
    :raises SdEnvError: ``episodes`` < 2 or no stance; a stance that names no scripted policy is a
        :class:`~sd_env.experiments.lab.specs.PolicySpecError`.
    """
    if episodes < 2:
        raise SdEnvError(f"episodes must be >= 2 to estimate a standard error, got {episodes}", parameter="episodes")
    stances = tuple(stances)
    if not stances:
        raise SdEnvError("stances must name at least one stance, e.g. dove,defender,hawk", parameter="stances")
    cache = PolicyCache(params, seed)
    samples: dict[str, dict[tuple[str, str], np.ndarray]] = {key: {} for key in TYPE_KEYS}
    for row in stances:
        for column in stances:
            returns, greedy = [], []
            for seat in range(params.n_states):
                seats = cache.match(BASELINE_PREFIX + row, BASELINE_PREFIX + column, seat)
                # Common random numbers: the same seed for every cell makes cells directly comparable.
                result = play(params, seats, episodes, seed=seed + seat)
                returns.append(result.returns[:, seat])
                greedy.append(result.greedy[:, seat])
            values, is_greedy = np.concatenate(returns), np.concatenate(greedy)
            samples["all"][row, column] = values
            samples["security_seeker"][row, column] = values[~is_greedy]
            samples["greedy"][row, column] = values[is_greedy]
    tables = {key: _table(samples[key], stances) for key in TYPE_KEYS}
    return DilemmaTables(params=params, episodes=episodes, seed=seed, stances=stances, tables=tables,
                         scenario=scenario)


def _table(samples: dict[tuple[str, str], np.ndarray], stances: tuple[str, ...]) -> PayoffTable | None:
    """Mean and standard error of every cell; None if no cell has a sample (NaN for a cell with < 2)."""
    if all(len(values) == 0 for values in samples.values()):
        return None
    means = pd.DataFrame(index=list(stances), columns=list(stances), dtype=float)
    errors = means.copy()
    for (row, column), values in samples.items():
        means.loc[row, column] = values.mean() if len(values) else np.nan
        errors.loc[row, column] = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
    return PayoffTable(mean=means, standard_error=errors)


def payoff_table(
    params: EnvParams,
    stances: Sequence[str] = DEFAULT_STANCES,
    episodes: int = 200,
    seed: int = 0,
) -> PayoffTable:
    """The pooled table of :func:`dilemma_tables`: every focal state, whatever its type.

    :param params: the environment.
    :param stances: the stances of the rows and columns, at least one: scripted stance names, ``GREEDY/SEEKER``
        pairs (``hawk/dove``) or stances with options (``defender:burden=0.3``).
    :param episodes: episodes per seat and cell, >= 2 (a standard error needs two).
    :param seed: the game seed: the games with the focal state in seat ``s`` use ``seed + s``, in every cell.
    :returns: the :class:`PayoffTable`, rows the focal state's stance, columns the rivals', reward units.
    :raises SdEnvError: ``episodes`` < 2 or no stance; a stance that names no scripted policy is a
        :class:`~sd_env.experiments.lab.specs.PolicySpecError`.
    """
    return dilemma_tables(params, stances, episodes, seed).tables["all"]
