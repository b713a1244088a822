"""The final evaluation of a training run (``metrics.json``'s ``evaluation``), and any policy against the
scripted baselines.

State_0's learned policy plays each scripted opponent in every other seat; the ``self-play`` row seats every
learned policy in its own seat (or state_0's everywhere when there is one). Policies are seated and played
through :mod:`sd_env.experiments.lab.seating` (its one seeding rule), on the run's held-out evaluation seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sd_env.experiments.lab.measures import EPISODE_MEASURES, summarize
from sd_env.experiments.lab.seating import PolicyCache, play
from sd_env.experiments.lab.specs import BASELINE_PREFIX
from sd_env.params import EnvParams
from sd_env.policy import Policy

#: The headline columns of the evaluation table, first and in this order; every other measure of the
#: registry (``sd_env.experiments.lab.measures.EPISODE_MEASURES``) follows.
COLUMNS = ["welfare", "opponent_welfare", "military_burden", "war_years", "attacks_per_episode", "eliminations_per_episode"]
#: The name the evaluated policy goes by in the policy cache.
LEARNED = "learned"


def evaluation_columns() -> list[str]:
    """Every column of the evaluation table, headline columns first."""
    return COLUMNS + [name for name in EPISODE_MEASURES if name not in COLUMNS]


def self_play_row(params: EnvParams, seats: Sequence[Policy], episodes: int, seed: int) -> dict[str, float]:
    """Every measure of a game with ``seats[i]`` in seat i; ``opponent_welfare`` equals ``welfare`` (all seats).

    :param params: the environment.
    :param seats: the policy of each seat.
    :param episodes: games, >= 1.
    :param seed: the game seed (:func:`sd_env.experiments.lab.seating.play`).
    """
    measures = summarize(play(params, list(seats), episodes, seed))
    return {**measures, "opponent_welfare": measures["welfare"]}


def evaluate_against(
    policy: Policy,
    params: EnvParams,
    opponents: Sequence[str],
    episodes: int = 64,
    seed: int = 0,
    self_play: Sequence[Policy] | None = None,
) -> pd.DataFrame:
    """One row per opponent: ``policy`` plays state_0, the scripted opponent every other state.

    :param policy: any object with ``act(observations) -> actions``.
    :param params: the environment.
    :param opponents: scripted stances (``sd-env`` stance names such as ``hawk`` or ``defender:burden=0.3``).
    :param episodes: games per row, >= 1.
    :param seed: the game seed of every row.
    :param self_play: one policy per seat for the ``self-play`` row (independent learners); default
        ``policy`` in every seat.
    :returns: rows ``self-play`` and ``vs NAME``; columns: the focal state's mean episode return (``welfare``),
        the others' (``opponent_welfare``), the focal state's military burden, the share of years with war,
        the focal state's attacks and eliminations per episode, then every other measure of the registry (of
        the focal state where it is per seat).
    """
    cache = PolicyCache(params, seed)
    cache.add(LEARNED, list(self_play) if self_play is not None else policy)
    n = params.n_states
    rows = {"self-play": self_play_row(params, cache.seat([LEARNED] * n), episodes, seed)}
    for name in opponents:
        result = play(params, cache.match(LEARNED, BASELINE_PREFIX + name, 0), episodes, seed)
        focal = summarize(result, seats=[0])
        others = summarize(result, seats=list(range(1, n)))
        rows[f"vs {name}"] = {**focal, "opponent_welfare": others["welfare"]}
    return pd.DataFrame(rows).T[evaluation_columns()]


def final_evaluation(params: EnvParams, learned: Sequence[Policy], opponents: Sequence[str], episodes: int,
                     seed: int) -> dict[str, dict[str, float | None]]:
    """``metrics.json``'s ``evaluation``: :func:`evaluate_against` for state_0's learned policy (every learned
    policy in its own seat in self-play), rounded to 4 decimals, NaN as None.

    :param params: the environment.
    :param learned: the learned policies: one (shared by every seat) or one per seat.
    :param opponents: scripted stances (``sd-env`` stance names such as ``hawk`` or ``defender:burden=0.3``).
    :param episodes: games per row, >= 1.
    :param seed: the game seed of every row (the run's held-out evaluation seed).
    :returns: ``{row: {column: value or None}}``, rows and columns as :func:`evaluate_against` gives them.
    """
    table = evaluate_against(learned[0], params, opponents, episodes=episodes, seed=seed,
                             self_play=learned if len(learned) > 1 else None)
    return {row: {name: (None if value != value else value) for name, value in values.items()}
            for row, values in table.astype(float).round(4).to_dict(orient="index").items()}
