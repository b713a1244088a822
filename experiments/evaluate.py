"""Evaluate a policy: self-play measures and play against scripted baselines."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from agents.base import Policy
from agents.scripted import make_policy
from experiments.measures import summarize
from experiments.rollout import rollout
from sd_env.params import EnvParams

#: Columns of the evaluation table, in order.
COLUMNS = ["welfare", "opponent_welfare", "military_burden", "war_years", "attacks_per_episode", "eliminations_per_episode"]


def self_play_row(params: EnvParams, seats: Sequence[Policy], episodes: int, seed: int) -> dict[str, float]:
    """Measures of a game with ``seats[i]`` in seat i; ``opponent_welfare`` equals ``welfare`` (all seats averaged)."""
    measures = summarize(rollout(params, list(seats), episodes, seed))
    return {**measures, "opponent_welfare": measures["welfare"]}


def evaluate_against(
    policy: Policy,
    params: EnvParams,
    opponents: Sequence[str],
    episodes: int = 64,
    seed: int = 0,
    self_play: Sequence[Policy] | None = None,
) -> pd.DataFrame:
    """One row per opponent: ``policy`` plays state_0, the opponent every other state.

    The row ``self-play`` has ``policy`` in every seat, or ``self_play[i]`` in
    seat i when given (independent learners). Columns: the focal
    state's mean episode return (``welfare``), the others' mean return,
    the focal state's military burden, the share of years with war, the
    focal state's attacks and eliminations per episode.
    """
    seats = list(self_play) if self_play is not None else [policy] * params.n_states
    rows = {"self-play": self_play_row(params, seats, episodes, seed)}
    for name in opponents:
        opponent = make_policy(name, params, seed=seed)
        result = rollout(params, [policy] + [opponent] * (params.n_states - 1), episodes, seed)
        focal = summarize(result, seats=[0])
        others = summarize(result, seats=list(range(1, params.n_states)))
        rows[f"vs {name}"] = {**focal, "opponent_welfare": others["welfare"]}
    return pd.DataFrame(rows).T[COLUMNS]
