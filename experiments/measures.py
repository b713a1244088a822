"""Measures of simulated episodes, declared once in a registry.

Each episode measure is a function of a :class:`experiments.rollout.Rollout`
and the seats it is about, registered with :func:`episode_measure`. It
returns a :class:`Ratio`: a numerator and a denominator per episode. The
measure's value over many episodes is the ratio of the sums (for example
the military burden is the total burden over all living state-years divided
by their number, so long and short lives weigh by their years), and its
value in one episode is that episode's ratio; confidence intervals resample
episodes (:func:`measure_table`). Everything that reports episode measures
(``summarize``, evaluation tables, ``metrics.json``, the dilemma and Jervis
tables) reads them from :data:`EPISODE_MEASURES`, so adding a measure is one
decorated function here.

Per-step measures (one number per state and year, reported in infos, by the
vector environment and in TensorBoard) are declared in ``sd_env.measures``.

Efficiency, equality and peace follow Perolat et al. (2017): mean total
welfare per year, one minus the Gini coefficient of episode returns, and the
share of years without war.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from experiments.rollout import Rollout


class Ratio(NamedTuple):
    """A measure's numerator and denominator in each episode, arrays of shape (B,)."""

    numerator: np.ndarray
    denominator: np.ndarray


@dataclass(frozen=True)
class EpisodeMeasure:
    """One measure of episodes: ``compute(rollout, seats) -> Ratio``."""

    name: str
    #: Unit of the value (for tables and the docs).
    unit: str
    #: What it measures, over which units of observation (the first paragraph of the function's docstring).
    description: str
    #: Whether the value concerns only the given seats (``True``) or the whole game, whatever the seats.
    per_seat: bool
    compute: Callable[[Rollout, np.ndarray], Ratio]
    references: str = ""

    def ratio(self, result: Rollout, seats: Sequence[int] | None = None) -> Ratio:
        """Numerator and denominator per episode for ``seats`` (all states if None)."""
        chosen = np.arange(result.params.n_states) if seats is None else np.asarray(list(seats), dtype=np.int64)
        numerator, denominator = self.compute(result, chosen)
        return Ratio(np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64))

    def value(self, result: Rollout, seats: Sequence[int] | None = None) -> float:
        """The measure over all episodes: ratio of the sums; NaN where nothing was there to measure."""
        return _ratio_of_sums(*self.ratio(result, seats))

    def per_episode(self, result: Rollout, seats: Sequence[int] | None = None) -> np.ndarray:
        """The measure in each episode, (B,); NaN in episodes with nothing to measure."""
        numerator, denominator = self.ratio(result, seats)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


#: Every episode measure, by name, in the order tables show them.
EPISODE_MEASURES: dict[str, EpisodeMeasure] = {}


def episode_measure(name: str, unit: str, per_seat: bool = True, references: str = ""):
    """Register the decorated function ``(rollout, seats) -> Ratio`` as the episode measure ``name``."""

    def register(function: Callable[[Rollout, np.ndarray], Ratio]) -> Callable[[Rollout, np.ndarray], Ratio]:
        if name in EPISODE_MEASURES:
            raise ValueError(f"episode measure {name!r} is registered twice")
        doc = (function.__doc__ or "").strip().split("\n\n")[0]
        EPISODE_MEASURES[name] = EpisodeMeasure(name, unit, " ".join(doc.split()), per_seat, function, references)
        return function

    return register


def _ratio_of_sums(numerator: np.ndarray, denominator: np.ndarray) -> float:
    total = float(denominator.sum())
    return float(numerator.sum()) / total if total > 0 else float("nan")


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


def _per_episode_count(mask: np.ndarray) -> np.ndarray:
    """Count of True entries per episode of a (T, B, ...) mask, (B,)."""
    return mask.reshape(mask.shape[0], mask.shape[1], -1).sum(axis=(0, 2)).astype(np.float64)


def _seekers(result: Rollout) -> np.ndarray:
    """(B, N) bool: which states are security seekers."""
    return ~result.greedy


def _war_years(result: Rollout) -> np.ndarray:
    """(T, B) bool: years with at least one attack."""
    return result.attacks.any(axis=(2, 3))


def _spiral_years(result: Rollout) -> np.ndarray:
    """(T, B) bool: years in which a security seeker attacked another security seeker."""
    seeker = _seekers(result)
    return (result.attacks & seeker[None, :, :, None] & seeker[None, :, None, :]).any(axis=(2, 3))


def _living_pairs(result: Rollout, seats: np.ndarray) -> np.ndarray:
    """(T, B, S, N) bool: seat s and state j both alive at the start of the year, s != j."""
    pairs = result.alive[:, :, seats, None] & result.alive[:, :, None, :]
    pairs[:, :, np.arange(len(seats)), seats] = False
    return pairs


def _years(result: Rollout) -> np.ndarray:
    return np.full(result.episodes, float(result.years))


@episode_measure("military_burden", "share of wealth")
def military_burden(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean share of wealth spent on arms, over the seats' living state-years."""
    alive = result.alive[:, :, seats]
    return Ratio((result.burden[:, :, seats] * alive).sum(axis=(0, 2)), _per_episode_count(alive))


@episode_measure("final_arms", "arms units")
def final_arms(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean total arms stock of the seats at the start of the last year (zero for the eliminated)."""
    return Ratio(result.arms[-1][:, seats].sum(axis=1), np.full(result.episodes, float(len(seats))))


@episode_measure("welfare", "reward units")
def welfare(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean episode return of the seats (each state's reward, by its type's preferences, summed over years)."""
    return Ratio(result.returns[:, seats].sum(axis=1), np.full(result.episodes, float(len(seats))))


@episode_measure("war_years", "share of years", per_seat=False)
def war_years(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of years in which any state attacked another."""
    return Ratio(_war_years(result).sum(axis=0).astype(np.float64), _years(result))


@episode_measure("spiral_war_years", "share of years", per_seat=False)
def spiral_war_years(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of years in which a security seeker attacked another security seeker.

    The security dilemma proper: a war that neither side's aims required. Only a simulation, where
    types are known, can count it.
    """
    return Ratio(_spiral_years(result).sum(axis=0).astype(np.float64), _years(result))


@episode_measure("seeker_military_burden", "share of wealth")
def seeker_military_burden(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean share of wealth spent on arms by the security seekers among the seats, over their living years."""
    living_seekers = result.alive[:, :, seats] & _seekers(result)[None, :, seats]
    return Ratio((result.burden[:, :, seats] * living_seekers).sum(axis=(0, 2)), _per_episode_count(living_seekers))


@episode_measure("seeker_attack_rate", "attacks per pair-year")
def seeker_attack_rate(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of living (security seeker among the seats, living rival) pair-years in which the seeker attacked.

    Per pair-year, so a war that ends in elimination does not lower it the way it lowers the share of
    years at war.
    """
    pairs = _living_pairs(result, seats) & _seekers(result)[None, :, seats, None]
    launched = result.attacks[:, :, seats, :] & pairs
    return Ratio(_per_episode_count(launched), _per_episode_count(pairs))


@episode_measure("spiral_attack_rate", "attacks per pair-year")
def spiral_attack_rate(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of living (security seeker among the seats, security seeker rival) pair-years with an attack."""
    seeker = _seekers(result)
    pairs = _living_pairs(result, seats) & seeker[None, :, seats, None] & seeker[None, :, None, :]
    launched = result.attacks[:, :, seats, :] & pairs
    return Ratio(_per_episode_count(launched), _per_episode_count(pairs))


@episode_measure("attacks_per_episode", "attacks")
def attacks_per_episode(result: Rollout, seats: np.ndarray) -> Ratio:
    """Attacks launched by the seats per episode (all seats together)."""
    return Ratio(_per_episode_count(result.attacks[:, :, seats]), np.ones(result.episodes))


@episode_measure("eliminations_per_episode", "states")
def eliminations_per_episode(result: Rollout, seats: np.ndarray) -> Ratio:
    """Seats eliminated per episode."""
    return Ratio(_per_episode_count(result.eliminated[:, :, seats]), np.ones(result.episodes))


@episode_measure("efficiency", "welfare units per year", per_seat=False, references="Perolat et al. (2017)")
def efficiency(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean total welfare (all states' log(1 + consumption)) per year."""
    return Ratio(result.welfare.sum(axis=(0, 2)), _years(result))


@episode_measure("equality", "1 - Gini", per_seat=False, references="Perolat et al. (2017)")
def equality(result: Rollout, seats: np.ndarray) -> Ratio:
    """One minus the Gini coefficient of the states' episode returns, averaged over episodes."""
    return Ratio(np.array([1.0 - gini(row) for row in result.returns]), np.ones(result.episodes))


@episode_measure("peace", "share of years", per_seat=False, references="Perolat et al. (2017)")
def peace(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of years without war."""
    return Ratio((~_war_years(result)).sum(axis=0).astype(np.float64), _years(result))


def summarize(result: Rollout, seats: Sequence[int] | None = None) -> dict[str, float]:
    """Every registered episode measure of a rollout, ``{name: value}``; ``seats`` restricts the per-seat ones.

    A measure with nothing to measure (the burden of security seekers where
    the seats hold none) is NaN.
    """
    return {name: measure.value(result, seats) for name, measure in EPISODE_MEASURES.items()}


def bootstrap_interval(
    ratio: Ratio, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of a ratio of sums, resampling episodes (seeded: same input, same interval).

    Episodes are the independent units; resampling them keeps each
    episode's numerator with its denominator. NaN bounds where fewer than
    two episodes have something to measure.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    numerator, denominator = ratio
    if np.count_nonzero(denominator > 0) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, numerator.size, size=(resamples, numerator.size))
    totals = denominator[draws].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = numerator[draws].sum(axis=1) / totals
    values = values[totals > 0]
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def measure_table(
    result: Rollout, seats: Sequence[int] | None = None, confidence: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Every registered measure with its bootstrap confidence interval over episodes.

    Rows: measure names; columns ``mean``, ``ci_low``, ``ci_high``, ``unit``.
    """
    rows = {}
    for name, measure in EPISODE_MEASURES.items():
        ratio = measure.ratio(result, seats)
        low, high = bootstrap_interval(ratio, confidence, seed=seed)
        rows[name] = {"mean": _ratio_of_sums(*ratio), "ci_low": low, "ci_high": high, "unit": measure.unit}
    return pd.DataFrame.from_dict(rows, orient="index")


def measure_records() -> list[dict[str, object]]:
    """The registry as records (name, unit, per_seat, description, references), for docs and ``--json``."""
    return [
        {"name": m.name, "unit": m.unit, "per_seat": m.per_seat, "description": m.description,
         "references": m.references}
        for m in EPISODE_MEASURES.values()
    ]
