"""Measures of simulated episodes, declared once in a registry.

Each episode measure is a function of a :class:`sd_env.experiments.lab.rollout.Rollout`
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

import weakref

import numpy as np
import pandas as pd

from sd_env.experiments.lab.series import DEFAULT_GROWTH, DEFAULT_YEARS, combined_buildups, growing, growth_rates
from sd_env.experiments.lab.rollout import Rollout
from sd_env import core
from sd_env.contest import success_probability


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
        """Numerator and denominator per episode for ``seats`` (all states if None).

        :param result: the rollout.
        :param seats: the seats measured, indices in [0, N); None: every state.
        :returns: the Ratio, numerator and denominator float64 arrays of shape (B,).
        """
        chosen = np.arange(result.params.n_states) if seats is None else np.asarray(list(seats), dtype=np.int64)
        numerator, denominator = self.compute(result, chosen)
        return Ratio(np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64))

    def value(self, result: Rollout, seats: Sequence[int] | None = None) -> float:
        """The measure over all episodes: ratio of the sums; NaN where nothing was there to measure.

        :param result: the rollout.
        :param seats: the seats measured, indices in [0, N); None: every state.
        :returns: the value, in the measure's ``unit``.
        """
        return ratio_of_sums(self.ratio(result, seats))

    def per_episode(self, result: Rollout, seats: Sequence[int] | None = None) -> np.ndarray:
        """The measure in each episode, (B,); NaN in episodes with nothing to measure.

        :param result: the rollout.
        :param seats: the seats measured, indices in [0, N); None: every state.
        :returns: the value of each episode, float64 of shape (B,), in the measure's ``unit``.
        """
        numerator, denominator = self.ratio(result, seats)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


#: Every episode measure, by name, in the order tables show them.
EPISODE_MEASURES: dict[str, EpisodeMeasure] = {}


def episode_measure(name: str, unit: str, per_seat: bool = True, references: str = ""):
    """Register the decorated function ``(rollout, seats) -> Ratio`` as the episode measure ``name``.

    The first paragraph of the function's docstring becomes the measure's ``description`` (the docs' text).

    :param name: the measure's name in tables, ``metrics.json`` and ``drift.csv``; unique.
    :param unit: the unit of its value, as tables and the docs show it (e.g. ``"share of wealth"``).
    :param per_seat: True: the value concerns the given seats; False: the whole game, whatever the seats.
    :param references: the literature it follows, for the docs (empty: none).
    :returns: the decorator, which registers the function and returns it unchanged.
    :raises ValueError: (when decorating) a measure named ``name`` is already registered.
    """

    def register(function: Callable[[Rollout, np.ndarray], Ratio]) -> Callable[[Rollout, np.ndarray], Ratio]:
        if name in EPISODE_MEASURES:
            raise ValueError(f"episode measure {name!r} is registered twice")
        doc = (function.__doc__ or "").strip().split("\n\n")[0]
        EPISODE_MEASURES[name] = EpisodeMeasure(name, unit, " ".join(doc.split()), per_seat, function, references)
        return function

    return register


def ratio_of_sums(ratio: Ratio) -> float:
    """A measure's value over many units: the sum of the numerators over the sum of the denominators (NaN where
    the denominators sum to zero: nothing to measure).

    :param ratio: numerators and denominators per unit, each of shape (U,).
    :returns: the value, in the measure's unit; NaN where the denominators sum to zero.
    """
    total = float(ratio.denominator.sum())
    return float(ratio.numerator.sum()) / total if total > 0 else float("nan")


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values in [0, 1]; 0 = perfect equality. Negative values are shifted.

    :param values: the values, any shape (flattened), at least one.
    :returns: the Gini coefficient, in [0, 1].
    :raises ValueError: ``values`` is empty.
    """
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


def _surviving_pairs(result: Rollout, seats: np.ndarray) -> np.ndarray:
    """(T-1, B, S, N) bool: seat s and state j, s != j, both alive at the start of years t and t+1."""
    lived = result.alive[1:] & result.alive[:-1]
    pairs = lived[:, :, seats, None] & lived[:, :, None, :]
    pairs[:, :, np.arange(len(seats)), seats] = False
    return pairs


def _years(result: Rollout) -> np.ndarray:
    return np.full(result.episodes, float(result.years))


@episode_measure("military_burden", "share of wealth")
def military_burden(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean share of wealth spent on arms, over the seats' living state-years.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): burden summed over the seats' living state-years, and the
        number of those state-years.
    """
    alive = result.alive[:, :, seats]
    return Ratio((result.burden[:, :, seats] * alive).sum(axis=(0, 2)), _per_episode_count(alive))


@episode_measure("final_arms", "arms units")
def final_arms(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean total arms stock of the seats at the start of the last year (zero for the eliminated).

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): the seats' total arms stock at the start of the last year
        (arms units), and the number of seats.
    """
    return Ratio(result.arms[-1][:, seats].sum(axis=1), np.full(result.episodes, float(len(seats))))


@episode_measure("welfare", "reward units")
def welfare(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean episode return of the seats (each state's reward, by its type's preferences, summed over years).

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): the seats' episode returns summed (reward units), and the
        number of seats.
    """
    return Ratio(result.returns[:, seats].sum(axis=1), np.full(result.episodes, float(len(seats))))


@episode_measure("war_years", "share of years", per_seat=False)
def war_years(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of years in which any state attacked another.

    :param result: the rollout.
    :param seats: not read: the measure is of the whole game.
    :returns: a Ratio (numerator, denominator), each (B,): years with an attack, and T.
    """
    return Ratio(_war_years(result).sum(axis=0).astype(np.float64), _years(result))


@episode_measure("spiral_war_years", "share of years", per_seat=False)
def spiral_war_years(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of years in which a security seeker attacked another security seeker.

    The security dilemma proper: a war that neither side's aims required. Only a simulation, where
    types are known, can count it.

    :param result: the rollout.
    :param seats: not read: the measure is of the whole game.
    :returns: a Ratio (numerator, denominator), each (B,): years with an attack of a security seeker on a security
        seeker, and T.
    """
    return Ratio(_spiral_years(result).sum(axis=0).astype(np.float64), _years(result))


@episode_measure("seeker_military_burden", "share of wealth")
def seeker_military_burden(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean share of wealth spent on arms by the security seekers among the seats, over their living years.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): burden summed over the living state-years of the security
        seekers among the seats, and the number of those state-years.
    """
    living_seekers = result.alive[:, :, seats] & _seekers(result)[None, :, seats]
    return Ratio((result.burden[:, :, seats] * living_seekers).sum(axis=(0, 2)), _per_episode_count(living_seekers))


@episode_measure("seeker_attack_rate", "attacks per pair-year")
def seeker_attack_rate(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of living (security seeker among the seats, living rival) pair-years in which the seeker attacked.

    Per pair-year, so a war that ends in elimination does not lower it the way it lowers the share of
    years at war.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): those pair-years with an attack by the seeker, and the number
        of those pair-years.
    """
    pairs = _living_pairs(result, seats) & _seekers(result)[None, :, seats, None]
    launched = result.attacks[:, :, seats, :] & pairs
    return Ratio(_per_episode_count(launched), _per_episode_count(pairs))


@episode_measure("spiral_attack_rate", "attacks per pair-year")
def spiral_attack_rate(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of living (security seeker among the seats, security seeker rival) pair-years with an attack.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): those pair-years with an attack by the seat, and the number
        of those pair-years.
    """
    seeker = _seekers(result)
    pairs = _living_pairs(result, seats) & seeker[None, :, seats, None] & seeker[None, :, None, :]
    launched = result.attacks[:, :, seats, :] & pairs
    return Ratio(_per_episode_count(launched), _per_episode_count(pairs))


@episode_measure("attacks_per_episode", "attacks")
def attacks_per_episode(result: Rollout, seats: np.ndarray) -> Ratio:
    """Attacks launched by the seats per episode (all seats together).

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): attacks launched by the seats, and 1.
    """
    return Ratio(_per_episode_count(result.attacks[:, :, seats]), np.ones(result.episodes))


@episode_measure("eliminations_per_episode", "states")
def eliminations_per_episode(result: Rollout, seats: np.ndarray) -> Ratio:
    """Seats eliminated per episode.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): seats eliminated, and 1.
    """
    return Ratio(_per_episode_count(result.eliminated[:, :, seats]), np.ones(result.episodes))


@episode_measure("efficiency", "welfare units per year", per_seat=False, references="Perolat et al. (2017)")
def efficiency(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean total welfare (all states' log(1 + consumption)) per year.

    :param result: the rollout.
    :param seats: not read: the measure is of the whole game.
    :returns: a Ratio (numerator, denominator), each (B,): every state's welfare summed over the years (welfare units),
        and T.
    """
    return Ratio(result.welfare.sum(axis=(0, 2)), _years(result))


@episode_measure("equality", "1 - Gini", per_seat=False, references="Perolat et al. (2017)")
def equality(result: Rollout, seats: np.ndarray) -> Ratio:
    """One minus the Gini coefficient of the states' episode returns, averaged over episodes.

    :param result: the rollout.
    :param seats: not read: the measure is of the whole game.
    :returns: a Ratio (numerator, denominator), each (B,): one minus the Gini coefficient of the episode returns, and 1.
    """
    return Ratio(np.array([1.0 - gini(row) for row in result.returns]), np.ones(result.episodes))


@episode_measure("peace", "share of years", per_seat=False, references="Perolat et al. (2017)")
def peace(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of years without war.

    :param result: the rollout.
    :param seats: not read: the measure is of the whole game.
    :returns: a Ratio (numerator, denominator), each (B,): years without an attack, and T.
    """
    return Ratio((~_war_years(result)).sum(axis=0).astype(np.float64), _years(result))


# ---------------------------------------------------------------------------
# Arms growth, war onsets and first strikes


def _dyads(n_states: int, seats: np.ndarray) -> list[tuple[int, int]]:
    """Unordered pairs (i < j) with at least one member among the seats."""
    chosen = set(int(seat) for seat in seats)
    return [(i, j) for i in range(n_states) for j in range(i + 1, n_states) if i in chosen or j in chosen]


def _dyad_at_war(result: Rollout) -> np.ndarray:
    """(T, B, N, N) bool, symmetric: i attacked j or j attacked i this year."""
    return result.attacks | result.attacks.transpose(0, 1, 3, 2)


def _onsets(result: Rollout) -> np.ndarray:
    """(T, B, N, N) bool, symmetric: a war between i and j this year, none the year before."""
    war = _dyad_at_war(result)
    before = np.zeros_like(war)
    before[1:] = war[:-1]
    return war & ~before


@episode_measure("arms_growth", "share per year")
def arms_growth(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mean yearly relative growth of the seats' total arms stock, over years a seat lived with arms.

    ``arms[t] / arms[t-1] - 1`` for each seat alive at the start of years t-1 and t and holding arms at t-1.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): the yearly growth (share per year) summed over the counted
        seat-years, and their number.
    """
    arms = result.arms[:, :, seats]
    alive = result.alive[:, :, seats]
    counted = alive[1:] & alive[:-1] & (arms[:-1] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        growth = np.where(counted, arms[1:] / np.where(counted, arms[:-1], 1.0) - 1.0, 0.0)
    return Ratio(growth.sum(axis=(0, 2)), _per_episode_count(counted))


@episode_measure("war_onsets_per_episode", "wars")
def war_onsets_per_episode(result: Rollout, seats: np.ndarray) -> Ratio:
    """Wars begun per episode in dyads with a seat: years of war between two states after a year of peace.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): war onsets in dyads with a seat, and 1.
    """
    onsets = _onsets(result)
    count = np.zeros(result.episodes)
    for i, j in _dyads(result.params.n_states, seats):
        count += onsets[:, :, i, j].sum(axis=0)
    return Ratio(count, np.ones(result.episodes))


@episode_measure("first_strikes_per_episode", "attacks")
def first_strikes_per_episode(result: Rollout, seats: np.ndarray) -> Ratio:
    """Attacks by the seats that began a war: on a rival with whom there was no war the year before.

    Where both sides strike in the same year of an onset, both count.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): the seats' attacks that began a war, and 1.
    """
    onsets = _onsets(result)[:, :, seats, :]
    return Ratio(_per_episode_count(result.attacks[:, :, seats, :] & onsets), np.ones(result.episodes))


# ---------------------------------------------------------------------------
# Mutual military buildups (Gibler, Rider & Hutchison 2005) in the simulated series


def _buildup_runs(result: Rollout, episode: int, i: int, j: int, growth: float, years: int) -> list[tuple[int, int]]:
    """Mutual buildups of dyad (i, j) in one episode, coded as ``sd-env history`` codes the historical record.

    Arms spending is the analogue of COW's military expenditure, the arms stock that of military personnel;
    a state arms in a year when either grew by at least ``growth`` (GRH's "expenditure or personnel",
    ``sd_env.experiments.lab.series.combined_buildups`` with its default rule).
    """
    grew = [[growing(growth_rates(series[:, episode, side]), growth) for series in (result.spending, result.arms)]
            for side in (i, j)]
    return combined_buildups(grew[0], grew[1], years)


def dyad_buildups(
    result: Rollout, seats: Sequence[int] | None = None, growth: float = DEFAULT_GROWTH, years: int = DEFAULT_YEARS
) -> list[tuple[int, int, int, int, int]]:
    """Every mutual buildup of the rollout in a dyad with a seat: ``(episode, i, j, first, last)``.

    ``first`` and ``last`` are the inclusive years whose values grew (see
    :func:`sd_env.experiments.lab.series.mutual_buildups`). The coding of every dyad
    is done once per rollout and rule and kept while the rollout lives: four
    measures of ``summarize`` read it.

    :param result: the rollout.
    :param seats: the seats, indices in [0, N); a dyad counts when a seat is in it. None: every state.
    :param growth: relative yearly growth of arms spending or arms stock that counts as arming (0.08 = 8%).
    :param years: minimum run of consecutive years in which both states arm, >= 1.
    :returns: ``(episode, i, j, first, last)`` tuples, ``i < j`` states and ``first <= last`` years in
        [1, T), by dyad then episode.
    """
    chosen = np.arange(result.params.n_states) if seats is None else np.asarray(list(seats))
    with_seat = set(_dyads(result.params.n_states, chosen))
    return [found for found in _every_dyad_buildup(result, growth, years) if (found[1], found[2]) in with_seat]


#: ``id(rollout) -> {(growth, years): every buildup}``, each entry dropped when its rollout is collected.
_BUILDUPS: dict[int, dict[tuple[float, int], list[tuple[int, int, int, int, int]]]] = {}


def _every_dyad_buildup(result: Rollout, growth: float, years: int) -> list[tuple[int, int, int, int, int]]:
    """The buildups of every dyad, by dyad then episode (cached per rollout: see :func:`dyad_buildups`)."""
    key = id(result)
    if key not in _BUILDUPS:
        _BUILDUPS[key] = {}
        weakref.finalize(result, _BUILDUPS.pop, key, None)
    cached = _BUILDUPS[key]
    if (growth, years) not in cached:
        everyone = np.arange(result.params.n_states)
        cached[(growth, years)] = [
            (episode, i, j, first, last)
            for i, j in _dyads(result.params.n_states, everyone)
            for episode in range(result.episodes)
            for first, last in _buildup_runs(result, episode, i, j, growth, years)
        ]
    return cached[(growth, years)]


@episode_measure("buildups_per_episode", "buildups", references="Gibler, Rider & Hutchison (2005)")
def buildups_per_episode(result: Rollout, seats: np.ndarray) -> Ratio:
    """Mutual military buildups per episode in dyads with a seat.

    A buildup: both states armed (their arms spending or their arms stock grew by at least 8%) in each of at
    least three consecutive years, the rule Gibler, Rider & Hutchison (2005) apply to the historical record.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): mutual buildups in dyads with a seat, and 1.
    """
    count = np.zeros(result.episodes)
    for episode, *_ in dyad_buildups(result, seats):
        count[episode] += 1
    return Ratio(count, np.ones(result.episodes))


@episode_measure("buildup_years", "share of dyad-years", references="Gibler, Rider & Hutchison (2005)")
def buildup_years(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of dyad-years (dyads with a seat, both alive) inside a mutual military buildup.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): dyad-years inside a mutual buildup, and the dyad-years with
        both states alive.
    """
    inside = np.zeros(result.episodes)
    for episode, _, _, first, last in dyad_buildups(result, seats):
        inside[episode] += last - first + 1
    living = np.zeros(result.episodes)
    for i, j in _dyads(result.params.n_states, seats):
        living += (result.alive[:, :, i] & result.alive[:, :, j]).sum(axis=0)
    return Ratio(inside, living)


@episode_measure("wars_after_buildups", "share of buildups", references="Wallace (1979); Sample (1997)")
def wars_after_buildups(result: Rollout, seats: np.ndarray) -> Ratio:
    """Share of mutual buildups followed by war between the two within five years of the buildup's end.

    A war during the buildup counts too. Wallace (1979) and Sample (1997) find that rivalries with
    mutual buildups escalate to war more often than those without.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): mutual buildups followed by war, and all mutual buildups
        (dyads with a seat).
    """
    war = _dyad_at_war(result)
    followed, total = np.zeros(result.episodes), np.zeros(result.episodes)
    for episode, i, j, first, last in dyad_buildups(result, seats):
        total[episode] += 1
        followed[episode] += war[first:last + 1 + WAR_WINDOW_YEARS, episode, i, j].any()
    return Ratio(followed, total)


#: Years after a buildup's end within which a war counts as following it (``wars_after_buildups``).
WAR_WINDOW_YEARS = 5


# ---------------------------------------------------------------------------
# Security: chances of surviving attacks, true and as seen


def threat(result: Rollout) -> np.ndarray:
    """(T, B, N, N): ``[t, b, i, j]`` the true chance that j would beat i if it attacked at the start of year t.

    One on one: j's offence against i's homeland defence (arms defence plus
    territory), without allies, as the contest of ``docs/model.md`` section 2.

    :param result: the rollout.
    :returns: probabilities in [0, 1], shape (T, B, N, N) (the diagonal ``i == j`` means nothing).
    """
    params = result.params
    defense = core.total_defense(params, result.stocks, result.wealth)
    attack = core.offense(params, result.stocks)
    return success_probability(attack[:, :, None, :], defense[:, :, :, None], params.offense_defense_balance,
                               params.contest_decisiveness)


def estimated_threat(result: Rollout) -> np.ndarray:
    """(T, B, N, N): ``[t, b, i, j]`` the chance that j would beat i, as i estimates it from what it saw.

    i knows its own defence exactly and reads j's offence off j's apparent
    (noisy, type-blurred) stocks with the true offensive weights, as the
    scripted deterrer does (``sd_env.stances.estimated_threat``).

    :param result: the rollout (its ``observed_stocks``: what each state saw).
    :returns: probabilities in [0, 1], shape (T, B, N, N) (the diagonal ``i == j`` means nothing).
    """
    params = result.params
    defense = core.total_defense(params, result.stocks, result.wealth)
    seen_attack = core.offense(params, result.observed_stocks)
    return success_probability(seen_attack, defense[:, :, :, None], params.offense_defense_balance,
                               params.contest_decisiveness)


@episode_measure("offense_share_error", "share of arms")
def offense_share_error(result: Rollout, seats: np.ndarray) -> Ratio:
    """Misperception of intentions: mean gap between a rival's true and observed offence share.

    Over (seat, living rival holding arms) pair-years: |offence / arms as the seat saw the rival's
    stocks - the same of its true stocks|. Zero with perfect intelligence and fully distinguishable arms.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): the absolute gaps (shares of arms) summed over the counted
        pair-years, and their number.
    """
    params = result.params
    true_arms = result.arms
    seen = result.observed_stocks[:, :, seats]  # (T, B, S, N, K)
    seen_arms = seen.sum(axis=4)
    counted = _living_pairs(result, seats) & (true_arms[:, :, None, :] > 0) & (seen_arms > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        true_share = core.offense(params, result.stocks) / true_arms
        seen_share = core.offense(params, seen) / seen_arms
        gap = np.where(counted, np.abs(seen_share - true_share[:, :, None, :]), 0.0)
    return Ratio(gap.sum(axis=(0, 2, 3)), _per_episode_count(counted))


@episode_measure("war_odds_error", "probability")
def war_odds_error(result: Rollout, seats: np.ndarray) -> Ratio:
    """Misperception of danger: mean error in the chance a seat gives a rival of beating it.

    Over (seat, living rival) pair-years: |chance estimated from what the seat saw - true chance|,
    one on one, without allies.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): the absolute errors (probability) summed over the counted
        pair-years, and their number.
    """
    counted = _living_pairs(result, seats)
    gap = np.abs(estimated_threat(result) - threat(result))[:, :, seats]
    return Ratio(np.where(counted, gap, 0.0).sum(axis=(0, 2, 3)), _per_episode_count(counted))


# ---------------------------------------------------------------------------
# The four definitions of the security dilemma (Collins 1997; see docs/measures.md)


@episode_measure("harm_to_rival_security", "probability", references="Herz (1950); Jervis (1978)")
def harm_to_rival_security(result: Rollout, seats: np.ndarray) -> Ratio:
    """Harm to others' security: how much a seat's own arms change lowered its rivals' chance of surviving.

    Over (seat, rival) pair-years where both lived through the year: the rival's chance of surviving an
    attack by the seat with the seat's arms of the year before, minus the same with its arms of this year
    (the rival's own arms and wealth held at this year's). Positive where the seat's buildup made its
    rivals less secure, whatever it intended.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): the harm (probability) summed over the counted pair-years,
        and their number.
    """
    params = result.params
    counted = _surviving_pairs(result, seats)
    defense = core.total_defense(params, result.stocks[1:], result.wealth[1:])[:, :, None, :]  # rival j's, now
    attack = core.offense(params, result.stocks[:, :, seats])  # (T, B, S)

    def beaten(offense_of_seat: np.ndarray) -> np.ndarray:
        return success_probability(offense_of_seat[:, :, :, None], defense, params.offense_defense_balance,
                                   params.contest_decisiveness)

    harm = beaten(attack[1:]) - beaten(attack[:-1])  # survival before minus survival now
    return Ratio(np.where(counted, harm, 0.0).sum(axis=(0, 2, 3)), _per_episode_count(counted))


@episode_measure("self_defeating_buildups", "share of buildups", references="Jervis (1978); Glaser (1997)")
def self_defeating_buildups(result: Rollout, seats: np.ndarray) -> Ratio:
    """Self-defeat: share of mutual buildups that left both sides less secure than before.

    For each mutual buildup of a dyad with a seat: did both states' chances of surviving an attack by the
    other fall between the start of the buildup's first year and the start of the year after it ended
    (when its last purchases had arrived)?

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): mutual buildups that left both sides less secure, and mutual
        buildups after which both sides were alive (dyads with a seat).
    """
    danger = threat(result)
    worse, total = np.zeros(result.episodes), np.zeros(result.episodes)
    for episode, i, j, first, last in dyad_buildups(result, seats):
        before, after = first - 1, min(last + 1, result.years - 1)
        if not (result.alive[after, episode, i] and result.alive[after, episode, j]):
            continue  # a side eliminated: no longer a question of how secure it feels
        total[episode] += 1
        worse[episode] += (danger[after, episode, i, j] > danger[before, episode, i, j]
                           and danger[after, episode, j, i] > danger[before, episode, j, i])
    return Ratio(worse, total)


@episode_measure("seeker_arming_read_as_threat", "share of pair-years", references="Jervis (1978); Kydd (1997)")
def seeker_arming_read_as_threat(result: Rollout, seats: np.ndarray) -> Ratio:
    """Uncertainty of intentions: share of a security seeker's arming that a rival reads as a greater threat.

    Over (security seeker among the seats whose true arms grew this year, living rival) pair-years: the
    rival's estimate of the seeker's chance of beating it, from what it saw, rose. Where arms can be told
    apart and are seen clearly, a seeker buying defence does not raise it.

    :param result: the rollout.
    :param seats: the seats measured, indices in [0, N), shape (S,).
    :returns: a Ratio (numerator, denominator), each (B,): counted pair-years in which the rival's estimate rose, and
        the counted pair-years.
    """
    arms = result.arms[:, :, seats]
    seeker = _seekers(result)[None, :, seats, None]
    counted = (arms[1:] > arms[:-1])[:, :, :, None] & seeker & _surviving_pairs(result, seats)
    # [t, b, j, i]: j's estimate of i's chance of beating it; transposed to [t, b, i, j] for seat i.
    estimate = estimated_threat(result).transpose(0, 1, 3, 2)[:, :, seats, :]
    rose = estimate[1:] > estimate[:-1]
    return Ratio(_per_episode_count(rose & counted), _per_episode_count(counted))


def summarize(result: Rollout, seats: Sequence[int] | None = None) -> dict[str, float]:
    """Every registered episode measure of a rollout, ``{name: value}``; ``seats`` restricts the per-seat ones.

    A measure with nothing to measure (the burden of security seekers where
    the seats hold none) is NaN.

    :param result: the rollout.
    :param seats: the seats the per-seat measures are of, indices in [0, N); None: every state.
    :returns: ``{name: value}`` in registry order, each a float in the measure's unit.
    """
    return {name: measure.value(result, seats) for name, measure in EPISODE_MEASURES.items()}


def _percentile_bootstrap(statistic, episodes: int, confidence: float, resamples: int,
                          seed: int) -> tuple[float, float]:
    """Percentile interval of ``statistic(draws)`` over ``resamples`` resamplings of ``episodes`` episode
    indices (``draws``: (resamples, episodes) ints); resamples where the statistic is not finite are dropped."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    draws = np.random.default_rng(seed).integers(0, episodes, size=(resamples, episodes))
    with np.errstate(invalid="ignore", divide="ignore"):
        values = statistic(draws)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def bootstrap_interval(
    ratio: Ratio, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of a ratio of sums, resampling episodes (seeded: same input, same interval).

    Episodes are the independent units; resampling them keeps each
    episode's numerator with its denominator. NaN bounds where fewer than
    two episodes have something to measure.

    :param ratio: numerators and denominators per episode, each of shape (B,).
    :param confidence: the interval's coverage, in (0, 1).
    :param resamples: bootstrap resamples of the B episodes, >= 1.
    :param seed: seed of the resampling draws.
    :returns: ``(low, high)``, in the measure's unit.
    :raises ValueError: ``confidence`` outside (0, 1).
    """
    numerator, denominator = ratio
    if np.count_nonzero(denominator > 0) < 2:
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        return float("nan"), float("nan")
    return _percentile_bootstrap(lambda draws: numerator[draws].sum(axis=1) / denominator[draws].sum(axis=1),
                                 numerator.size, confidence, resamples, seed)


def paired_bootstrap_interval(
    first: Ratio, second: Ratio, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of (ratio of sums of ``first``) - (that of ``second``), two measures of the
    same episodes: each resample draws episode indices once for both. NaN bounds with fewer than two episodes
    or unequal episode counts.

    :param first: the first measure's numerators and denominators per episode, each of shape (B,).
    :param second: the second measure's, over the same B episodes.
    :param confidence: the interval's coverage, in (0, 1).
    :param resamples: bootstrap resamples of the B episodes, >= 1.
    :param seed: seed of the resampling draws.
    :returns: ``(low, high)`` of the difference, in the measures' unit.
    :raises ValueError: ``confidence`` outside (0, 1) (where there are at least two episodes).
    """
    episodes = first.numerator.size
    if episodes < 2 or second.numerator.size != episodes:
        return float("nan"), float("nan")

    def difference(draws: np.ndarray) -> np.ndarray:
        return (first.numerator[draws].sum(axis=1) / first.denominator[draws].sum(axis=1)
                - second.numerator[draws].sum(axis=1) / second.denominator[draws].sum(axis=1))

    return _percentile_bootstrap(difference, episodes, confidence, resamples, seed)


def measure_table(
    result: Rollout, seats: Sequence[int] | None = None, confidence: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Every registered measure with its bootstrap confidence interval over episodes.

    Rows: measure names; columns ``mean``, ``ci_low``, ``ci_high``, ``unit``.

    :param result: the rollout.
    :param seats: the seats the per-seat measures are of, indices in [0, N); None: every state.
    :param confidence: coverage of every interval, in (0, 1).
    :param seed: seed of every bootstrap's draws.
    :returns: a DataFrame, one row per registered measure, in registry order.
    :raises ValueError: ``confidence`` outside (0, 1).
    """
    rows = {}
    for name, measure in EPISODE_MEASURES.items():
        ratio = measure.ratio(result, seats)
        low, high = bootstrap_interval(ratio, confidence, seed=seed)
        rows[name] = {"mean": ratio_of_sums(ratio), "ci_low": low, "ci_high": high, "unit": measure.unit}
    return pd.DataFrame.from_dict(rows, orient="index")


def measure_records() -> list[dict[str, object]]:
    """The registry as records (name, unit, per_seat, description, references), for docs and ``--json``."""
    return [
        {"name": m.name, "unit": m.unit, "per_seat": m.per_seat, "description": m.description,
         "references": m.references}
        for m in EPISODE_MEASURES.values()
    ]


def measures_markdown() -> str:
    """Markdown tables of every per-step measure (``sd_env.measures``) and every episode measure (the registry)."""
    from sd_env.measures import STEP_MEASURES

    def escape(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["**Per step** (one number per state and year: infos, `last_measures`, TensorBoard `security/<name>`):",
             "", "| name | unit | what it measures |", "|---|---|---|"]
    lines += [f"| `{m.name}` | {m.unit} | {escape(m.description)} |" for m in STEP_MEASURES]
    lines += ["", "**Per episode** (`summarize`, evaluation tables, `metrics.json`, `drift.csv`, TensorBoard "
              "`measures/<name>`; *seats*: about the given seats, *game*: about the whole game):", "",
              "| name | unit | of | what it measures | references |", "|---|---|---|---|---|"]
    lines += [f"| `{m.name}` | {m.unit} | {'seats' if m.per_seat else 'game'} | {escape(m.description)} | "
              f"{escape(m.references) or '–'} |" for m in EPISODE_MEASURES.values()]
    return "\n".join(lines) + "\n"
