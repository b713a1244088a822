"""Evaluate policies named by specs: one policy against an opponent (``sd-env evaluate``), every policy
against every other (``sd-env crossplay``). Computations only: the text and figures of these results are in
:mod:`sd_env.experiments.reporting.evaluation_text` and :mod:`sd_env.experiments.reporting.evaluation_figures`.

**Seats.** The focal policy plays one seat, the opponent every other seat.
In a *symmetric* scenario (every seat alike: equal ``initial_wealth``, no
``alliance_blocs``, no ``surprise_deployment``) the focal policy plays
``state_0`` only (``every_seat=True`` plays each seat in turn anyway); in an
asymmetric one it plays every seat in turn, ``episodes`` episodes each.
A spec that holds one policy per seat (an ``independent_ppo`` run
directory, an RLlib checkpoint with ``state_i`` modules) plays each seat
with that seat's own policy.

**Combining seats.** The measures of several focal seats are *pooled*:
each (focal seat, episode) is one unit; a measure's value is the ratio of
its numerators' sum to its denominators' sum over every unit, exactly as
the registry (``sd_env.experiments.lab.measures``) pools episodes, and the bootstrap
interval resamples those units. Welfare, with one unit of denominator per
episode, is then the mean over seats of each seat's mean return; the
military burden weighs each seat by its living state-years. Per-seat
measures are those of the focal seat; game measures (``war_years``,
``peace`` ...) those of the whole game, over every game played.

**Loading, seating, seeds.** Policies are loaded, checked and seated by
:mod:`sd_env.experiments.lab.seating`: the episodes with the focal policy in
seat ``s`` are played with the game seed ``seat_seed(seed, s)``, and every
policy object is reseeded before each game, so a result does not depend on
what was played before: a crossplay cell equals ``evaluate`` of the same
pair with the same seed and episodes, and the same seed gives the same
numbers, bit for bit. Bootstrap intervals are seeded with ``seed`` too.
"""


from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sd_env.errors import SdEnvError
from sd_env.experiments.lab.measures import EPISODE_MEASURES, Ratio, bootstrap_interval, ratio_of_sums
from sd_env.experiments.lab.seating import PolicyCache, SeatGame, focal_seats, play_match
from sd_env.experiments.output.numbers import json_numbers
from sd_env.experiments.output.progress import progress_bar
from sd_env.params import EnvParams

#: Confidence of every interval.
CONFIDENCE = 0.95
#: The measures crossplay always reports as matrices at the top level of its JSON, and draws.
CROSSPLAY_HEADLINE = ("welfare", "military_burden", "war_years")


# ---------------------------------------------------------------------------
# Measures with intervals


def pooled_ratio(name: str, games: Sequence[SeatGame]) -> Ratio:
    """Numerators and denominators of measure ``name`` over every (focal seat, episode), each shape (U,).

    :param name: a measure of the registry (:data:`~sd_env.experiments.lab.measures.EPISODE_MEASURES`).
    :param games: the games of :func:`~sd_env.experiments.lab.seating.play_match`, one per focal seat.
    :returns: the Ratio over U = (focal seats x episodes) units: per-seat measures of each game's focal seat,
        game measures of the whole game.
    """
    measure = EPISODE_MEASURES[name]
    parts = [measure.ratio(game.result, [game.seat]) for game in games]
    return Ratio(np.concatenate([p.numerator for p in parts]), np.concatenate([p.denominator for p in parts]))


def interval(ratio: Ratio, confidence: float = CONFIDENCE, seed: int = 0) -> dict[str, float]:
    """``{"mean", "ci_low", "ci_high"}`` of a ratio of sums (NaN where nothing was measured).

    :param ratio: numerators and denominators per unit (episode, or focal seat and episode).
    :param confidence: of the percentile bootstrap interval, in (0, 1).
    :param seed: of the bootstrap's draws.
    """
    low, high = bootstrap_interval(ratio, confidence, seed=seed)
    return {"mean": ratio_of_sums(ratio), "ci_low": low, "ci_high": high}


def measure_intervals(games: Sequence[SeatGame], confidence: float = CONFIDENCE,
                      seed: int = 0) -> dict[str, dict[str, float]]:
    """Every registry measure, pooled over the games' (focal seat, episode) units, with its interval.

    :param games: the games of :func:`~sd_env.experiments.lab.seating.play_match`, one per focal seat.
    :param confidence: coverage of every percentile bootstrap interval, in (0, 1).
    :param seed: seed of the bootstrap's draws.
    :returns: ``{measure: {"mean", "ci_low", "ci_high"}}`` for every measure of the registry, in its unit.
    :raises ValueError: ``confidence`` outside (0, 1).
    """
    return {name: interval(pooled_ratio(name, games), confidence, seed) for name in EPISODE_MEASURES}


def check_counts(episodes: int, seed: int) -> None:
    """``episodes`` >= 1 and ``seed`` >= 0, or an :class:`~sd_env.errors.SdEnvError` naming the one that is not.

    :param episodes: episodes per game.
    :param seed: the game seed.
    :raises SdEnvError: ``episodes`` < 1 or ``seed`` < 0 (its ``parameter`` names which).
    """
    if episodes < 1:
        raise SdEnvError(f"episodes must be at least 1, got {episodes}", parameter="episodes")
    if seed < 0:
        raise SdEnvError(f"seed must be >= 0, got {seed}", parameter="seed")


# ---------------------------------------------------------------------------
# sd-env evaluate


@dataclass
class Evaluation:
    """One focal policy against one opponent: the games played and their measures."""

    policy: str
    opponent: str
    scenario: str
    params: EnvParams
    overrides: dict[str, Any]
    episodes: int
    seed: int
    seats: list[int]
    games: list[SeatGame]
    measures: dict[str, dict[str, float]]
    per_seat: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)
    confidence: float = CONFIDENCE
    #: How learned policies acted: ``stochastic`` (sampled) or ``deterministic`` (most likely action).
    actions: str = "stochastic"

    def to_json(self) -> dict[str, Any]:
        """``{"policy", "opponent", "scenario", "episodes", "seed", "measures": {NAME: {"mean", "ci_low",
        "ci_high"}}}``, then ``overrides``, ``focal_seats``, ``combined``, ``per_seat`` and ``actions`` (NaN is
        null)."""
        return {
            "policy": self.policy,
            "opponent": self.opponent,
            "scenario": self.scenario,
            "episodes": self.episodes,
            "seed": self.seed,
            "measures": json_numbers(self.measures),
            "overrides": self.overrides,
            "confidence": self.confidence,
            "focal_seats": [f"state_{seat}" for seat in self.seats],
            "combined": "pooled over (focal seat, episode)" if len(self.seats) > 1 else "one focal seat",
            "per_seat": {f"state_{seat}": json_numbers(table) for seat, table in self.per_seat.items()},
            "actions": self.actions,
        }


def evaluate(params: EnvParams, policy: str, opponent: str | None = None, episodes: int = 100, seed: int = 0,
             scenario: str = "", overrides: Mapping[str, Any] | None = None, every_seat: bool = False,
             confidence: float = CONFIDENCE, actions: str = "stochastic", progress: bool = False) -> Evaluation:
    """Play ``policy`` against ``opponent`` (itself if None) and measure; see the module docstring.

    :param params: the environment.
    :param policy: the focal policy's spec (:mod:`sd_env.experiments.lab.specs`).
    :param opponent: the spec of the policy in every other seat; None: ``policy`` itself.
    :param episodes: episodes per focal seat, >= 1.
    :param seed: the game seed (the focal policy in seat ``s`` plays with ``seat_seed(seed, s)``) and the
        bootstrap's, >= 0.
    :param scenario: the scenario's name, recorded in the result.
    :param overrides: the parameter overrides on top of the scenario, recorded in the result.
    :param every_seat: the focal policy plays every seat in turn, even in a symmetric scenario.
    :param confidence: coverage of every bootstrap interval, in (0, 1).
    :param actions: how learned policies act: ``stochastic`` (sampled as trained, seeded) or ``deterministic``.
    :param progress: show a progress bar of the episodes played on standard error (it changes no number).
    :returns: the :class:`Evaluation`: ``{"mean", "ci_low", "ci_high"}`` of every measure, pooled over the
        focal seats (``measures``) and for each focal seat (``per_seat``).
    :raises SdEnvError: ``episodes`` < 1 or ``seed`` < 0; a spec that names no loadable policy is a
        :class:`~sd_env.experiments.lab.specs.PolicySpecError`, actions that fail the check a
        :class:`~sd_env.errors.PolicyError`.
    """
    opponent = policy if opponent is None else opponent
    check_counts(episodes, seed)
    cache = PolicyCache(params, seed, actions)
    cache.check([policy, opponent])
    seats = focal_seats(params, every_seat)
    with progress_bar(len(seats) * episodes, "evaluate", "episodes", progress) as bar:
        games = play_match(params, cache, policy, opponent, seats, episodes, seed, played=bar.advance)
    per_seat = {game.seat: measure_intervals([game], confidence, seed) for game in games}
    measures = per_seat[seats[0]] if len(games) == 1 else measure_intervals(games, confidence, seed)
    return Evaluation(policy, opponent, scenario, params, dict(overrides or {}), episodes, seed, seats, games,
                      measures, per_seat, confidence, actions)


# ---------------------------------------------------------------------------
# sd-env crossplay


@dataclass
class Crossplay:
    """Every policy (rows, focal) against every policy (columns, in every other seat)."""

    policies: list[str]
    scenario: str
    params: EnvParams
    overrides: dict[str, Any]
    episodes: int
    seed: int
    seats: list[int]
    #: measure -> "mean" | "ci_low" | "ci_high" -> (P, P) array, [focal, opponent].
    measures: dict[str, dict[str, np.ndarray]]
    confidence: float = CONFIDENCE
    #: How learned policies acted: ``stochastic`` (sampled) or ``deterministic`` (most likely action).
    actions: str = "stochastic"

    def to_json(self) -> dict[str, Any]:
        """``{"policies", "welfare", "military_burden", "war_years"}`` (means, rows focal, columns opponent),
        then every measure with its intervals under ``measures`` and the settings (NaN is null)."""
        def matrix(values: np.ndarray) -> list[list[float | None]]:
            return json_numbers([[float(value) for value in row] for row in values])

        data: dict[str, Any] = {"policies": list(self.policies)}
        data.update({name: matrix(self.measures[name]["mean"]) for name in CROSSPLAY_HEADLINE})
        data.update({
            "scenario": self.scenario,
            "episodes": self.episodes,
            "seed": self.seed,
            "overrides": self.overrides,
            "confidence": self.confidence,
            "focal_seats": [f"state_{seat}" for seat in self.seats],
            "measures": {name: {key: matrix(values) for key, values in table.items()}
                         for name, table in self.measures.items()},
            "actions": self.actions,
        })
        return data


def crossplay(params: EnvParams, policies: Sequence[str], episodes: int = 100, seed: int = 0, scenario: str = "",
              overrides: Mapping[str, Any] | None = None, every_seat: bool = False,
              confidence: float = CONFIDENCE, actions: str = "stochastic", progress: bool = False) -> Crossplay:
    """Every policy as the focal one against every policy (itself included) as the opponent.

    :param params: the environment.
    :param policies: the policy specs (:mod:`sd_env.experiments.lab.specs`), at least one, each once.
    :param episodes: episodes per focal seat and cell, >= 1.
    :param seed: the game seed of every cell (as in :func:`evaluate`) and the bootstrap's, >= 0.
    :param scenario: the scenario's name, recorded in the result.
    :param overrides: the parameter overrides on top of the scenario, recorded in the result.
    :param every_seat: the focal policy plays every seat in turn, even in a symmetric scenario.
    :param confidence: coverage of every bootstrap interval, in (0, 1).
    :param actions: how learned policies act: ``stochastic`` (sampled as trained, seeded) or ``deterministic``.
    :param progress: show a progress bar of the (focal, opponent) pairs played on standard error (it changes no
        number).
    :returns: the :class:`Crossplay`: for every measure, ``"mean"``, ``"ci_low"`` and ``"ci_high"`` arrays of
        shape (P, P), ``[focal, opponent]``, P policies.
    :raises SdEnvError: no policy, a spec given twice, ``episodes`` < 1 or ``seed`` < 0; a spec that names no
        loadable policy is a :class:`~sd_env.experiments.lab.specs.PolicySpecError`, actions that fail the
        check a :class:`~sd_env.errors.PolicyError`.
    """
    policies = list(policies)
    if not policies:
        raise SdEnvError("policies: give at least one policy spec", parameter="policies")
    repeated = sorted({spec for spec in policies if policies.count(spec) > 1})
    if repeated:
        raise SdEnvError(f"policies names {repeated[0]!r} more than once", parameter="policies")
    check_counts(episodes, seed)
    cache = PolicyCache(params, seed, actions)
    cache.check(policies)
    seats = focal_seats(params, every_seat)
    count = len(policies)
    measures = {name: {key: np.full((count, count), np.nan) for key in ("mean", "ci_low", "ci_high")}
                for name in EPISODE_MEASURES}
    with progress_bar(count * count, "crossplay", "pairs", progress) as bar:
        for row, focal in enumerate(policies):
            for column, opponent in enumerate(policies):
                games = play_match(params, cache, focal, opponent, seats, episodes, seed)
                for name, values in measure_intervals(games, confidence, seed).items():
                    for key, value in values.items():
                        measures[name][key][row, column] = value
                bar.advance()
    return Crossplay(policies, scenario, params, dict(overrides or {}), episodes, seed, seats, measures, confidence,
                     actions)

