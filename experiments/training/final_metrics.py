"""Evaluate a policy: self-play measures and play against scripted baselines; the final metrics of a run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sd_env.policy import Policy
from sd_env.stances import make_policy
from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.lab.measures import EPISODE_MEASURES, summarize
from sd_env.experiments.lab.rollout import rollout
from sd_env.params import EnvParams

if TYPE_CHECKING:
    from sd_env.experiments.training.config import TrainConfig

#: The headline columns of the evaluation table, first and in this order; every other measure of the
#: registry (``sd_env.experiments.lab.measures.EPISODE_MEASURES``) follows.
COLUMNS = ["welfare", "opponent_welfare", "military_burden", "war_years", "attacks_per_episode", "eliminations_per_episode"]


def _columns() -> list[str]:
    return COLUMNS + [name for name in EPISODE_MEASURES if name not in COLUMNS]


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
    focal state's attacks and eliminations per episode, then every other
    measure of the registry (of the focal state where it is per seat).
    """
    seats = list(self_play) if self_play is not None else [policy] * params.n_states
    rows = {"self-play": self_play_row(params, seats, episodes, seed)}
    for name in opponents:
        opponent = make_policy(name, params, seed=seed)
        result = rollout(params, [policy] + [opponent] * (params.n_states - 1), episodes, seed)
        focal = summarize(result, seats=[0])
        others = summarize(result, seats=list(range(1, params.n_states)))
        rows[f"vs {name}"] = {**focal, "opponent_welfare": others["welfare"]}
    return pd.DataFrame(rows).T[_columns()]


def write_final_metrics(
    config: TrainConfig, params: EnvParams, learned: list[Policy], run_dir: Path, **facts: Any
) -> dict[str, Any]:
    """Evaluate the learned policies and write ``metrics.json``: ``facts`` (steps, timings), then the evaluation.

    State_0's policy plays the scripted opponents; the self-play row seats every
    learned policy in its own seat (or state_0's everywhere when there is one).
    """
    table = evaluate_against(learned[0], params, config.opponents, episodes=config.eval_episodes,
                             seed=config.seed + 1, self_play=learned if len(learned) > 1 else None)
    evaluation = {row: {name: (None if value != value else value) for name, value in values.items()}
                  for row, values in table.astype(float).round(4).to_dict(orient="index").items()}
    metrics = {**facts, "evaluation": evaluation}
    write_text_atomic(run_dir / "metrics.json", json.dumps(metrics, indent=2, default=float))
    return metrics
