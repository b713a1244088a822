"""Drift: the episode measures of the policies being learned, at every checkpoint of a training run.

A training backend calls :func:`record_drift` each time it saves a
checkpoint. The learned policies play the run's evaluation episodes
(self-play, every seat its own learned policy, the same held-out seed at
every checkpoint, played by :func:`sd_env.experiments.lab.seating.play`, so that rows differ only by what was learned), and every
measure of the registry (``sd_env.experiments.lab.measures``) is written as one row of
``drift.csv`` in the run directory, keyed by the agent-steps trained. A row
for steps already recorded (a resumed run passing the same checkpoint) is
replaced, never duplicated. The file is rewritten atomically. The first
episodes of the latest evaluation are kept as ``trajectories.npz``
(``sd_env.experiments.lab.rollout.load_rollout``), for example trajectories in reports.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.output.reading import read_csv_table
from sd_env.experiments.lab.measures import summarize
from sd_env.experiments.lab.rollout import Rollout, save_rollout
from sd_env.experiments.lab.seating import play
from sd_env.experiments.training import clock
from sd_env.params import EnvParams
from sd_env.policy import Policy

#: The drift table's file name in a run directory.
DRIFT_FILE = "drift.csv"
#: The latest evaluation's first episodes, in a run directory.
TRAJECTORY_FILE = "trajectories.npz"
#: How many episodes of the latest evaluation are kept.
TRAJECTORY_EPISODES = 3


def drift_row(params: EnvParams, seats: Sequence[Policy], episodes: int, seed: int, timesteps: int) -> dict[str, float]:
    """``{"timesteps": timesteps, measure: value, ...}``: every registered measure of ``episodes`` self-play episodes.

    :param params: the environment.
    :param seats: the learned policy of each seat, N of them.
    :param episodes: self-play episodes, >= 1.
    :param seed: the game seed (the run's held-out evaluation seed).
    :param timesteps: agent-steps trained so far, the row's key.
    :returns: the row: ``timesteps``, then every measure of the registry (whole game: every seat).
    """
    return _evaluate(params, seats, episodes, seed, timesteps)[0]


def _evaluate(params, seats, episodes, seed, timesteps) -> tuple[dict[str, float], Rollout]:
    result = play(params, list(seats), episodes, seed)
    return {"timesteps": int(timesteps), **summarize(result)}, result


def read_drift(run_dir: Path) -> pd.DataFrame:
    """The drift table of a run (empty if none was recorded), sorted by ``timesteps``.

    :param run_dir: the run directory.
    :returns: one row per checkpoint: ``timesteps`` (agent-steps) and every measure of the registry.
    """
    path = Path(run_dir) / DRIFT_FILE
    if not path.is_file():
        return pd.DataFrame(columns=["timesteps"])
    table = read_csv_table(path, "delete its damaged last row (or the file) and resume: drift is recorded again "
                                 "from the next checkpoint on")
    return table.sort_values("timesteps", kind="stable").reset_index(drop=True)


def record_drift(
    run_dir: Path, params: EnvParams, seats: Sequence[Policy], episodes: int, seed: int, timesteps: int
) -> dict[str, float]:
    """Evaluate the learned ``seats`` and add (or replace) the row for ``timesteps`` in ``drift.csv``.

    :param run_dir: the run directory (``drift.csv`` and ``trajectories.npz`` are written there).
    :param params: the environment.
    :param seats: the learned policy of each seat, N of them.
    :param episodes: self-play episodes, >= 1.
    :param seed: the game seed (the run's held-out evaluation seed).
    :param timesteps: agent-steps trained so far, the row's key.
    :returns: the row written, as :func:`drift_row` returns it.
    """
    row, result = _evaluate(params, seats, episodes, seed, timesteps)
    table = read_drift(run_dir)
    table = table[table["timesteps"] != row["timesteps"]]
    table = pd.concat([table, pd.DataFrame([row])], ignore_index=True) if len(table) else pd.DataFrame([row])
    table = table.sort_values("timesteps", kind="stable")
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    save_rollout(Path(run_dir) / TRAJECTORY_FILE, result, TRAJECTORY_EPISODES)
    write_text_atomic(Path(run_dir) / DRIFT_FILE, buffer.getvalue())
    clock.checkpoint(run_dir)  # the time trained so far, kept with the checkpoint it belongs to
    return row
