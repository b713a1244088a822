"""``sd-env sweep``: a grid of environment parameters × seeds, each cell trained or played, one results table.

A sweep config (YAML; unknown keys and bad values are one-line errors)::

    name: balance-observability
    scenario: bilateral
    env: {max_cycles: 60}                  # fixed environment parameters (optional)
    grid:                                  # any environment parameters; the cross product is swept
      offense_defense_balance: [0.33, 1.0, 3.0]
      distinguishability: [0.0, 1.0]
    # or a list of such grids (planes rather than a cube): the union of their cells, each plane's
    # cells at the scenario's (or env's) value of the parameters the plane does not vary
    # grid:
    #   - {offense_defense_balance: [0.33, 3.0], distinguishability: [0.0, 1.0]}
    #   - {offense_defense_balance: [0.33, 3.0], observation_noise: [0.0, 0.5]}
    # a training sweep may also vary train-config fields, named train.FIELD (dotted for nested ones):
    # grid: {offense_defense_balance: [0.33, 3.0], train.start: [random, grim], train.ppo.ent_coef: [0.0, 0.01]}
    seeds: 5                               # or an explicit list
    train: {algorithm: shared_ppo, total_timesteps: 1500000}   # any train-config fields; or instead:
    # policies: [baseline:deterrer]        # fixed policies (one for all seats, or one per seat)
    eval_episodes: 64

writes into ``OUTPUT/NAME/``::

    sweep.yaml         the resolved sweep config (a rerun must match it)
    results.csv        one row per cell and seed: ``cell``, one column per grid parameter, ``seed``,
                       then every episode measure of the registry (``sd_env.experiments.lab.measures``)
    rows/              one JSON file per finished row (never rewritten; the table is rebuilt from the rows,
                       read once when a call starts and kept in memory as new ones finish)
    runs/              each training cell's run directory (checkpoints, TensorBoard, drift.csv)
    trajectories/      the first evaluation episodes of each fixed-policy row (``load_rollout``)
    invocations.jsonl  each call that had rows to compute: a line when it starts (rows, executor, workers,
                       machine) and one when it ends (wall seconds, rows computed); a killed call has the first only
    .sd-env.lock       held by the call writing the folder: a second call is refused (a killed one's is free)

Evaluation is on held-out episodes: seed ``seed + 1`` for the evaluation
stream, as ``sd-env train`` evaluates (a training cell's row is its final
``drift.csv`` row). A sweep killed at any point and run again finishes the
missing rows and redoes none; a training cell killed midway resumes from its
last checkpoint. Cells run on local worker processes or as Ray tasks; both
run the same function on the same inputs, so they give the same table.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import yaml

from sd_env.errors import did_you_mean
from sd_env.experiments.lab.measures import EPISODE_MEASURES
from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.output.locks import FolderLock, remove_stale_temporaries
from sd_env.experiments.output.progress import ProgressBar, progress_bar
from sd_env.experiments.output.reading import damaged, read_csv_table, read_json_mapping, read_yaml_mapping
from sd_env.experiments.training.config import ConfigError, config_from_dict, get_dotted
from sd_env.params import EnvParams
from sd_env.scenarios import SCENARIOS, make_params

#: Train-config fields a sweep sets itself, per cell.
_CELL_TRAIN_FIELDS = ("scenario", "env", "seed", "name", "output_dir")
#: The prefix of a grid parameter that is a train-config field (``train.start``, ``train.ppo.ent_coef``).
TRAIN_PREFIX = "train."


def is_train_parameter(name: str) -> bool:
    """Whether a grid parameter names a train-config field (``train.start``) rather than an environment
    parameter."""
    return name.startswith(TRAIN_PREFIX)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data[a][b] = value`` for ``dotted = "a.b"``, making the mappings on the way."""
    *parents, last = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


EXECUTORS = ("local", "ray")


class SweepConfigError(ConfigError):
    """A sweep config that cannot be run (one line)."""


@dataclass
class SweepConfig:
    """Everything that defines a sweep (see the module docstring)."""

    name: str = "sweep"
    scenario: str = "bilateral"
    env: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] | list[dict[str, list[Any]]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    train: dict[str, Any] | None = None
    policies: list[str] | None = None
    eval_episodes: int = 64

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def planes(self) -> list[dict[str, list[Any]]]:
        """The grid as a list of planes (one plane where the grid is a single mapping)."""
        return list(self.grid) if isinstance(self.grid, list) else [self.grid]

    @property
    def parameters(self) -> list[str]:
        """The parameters some plane varies, in the order they first appear."""
        return list(dict.fromkeys(name for plane in self.planes for name in plane))

    def cells(self) -> list[dict[str, Any]]:
        """Every cell, in order: each plane's combinations (the last parameter varies fastest), planes in turn.

        With several planes a cell holds every parameter any plane varies, at the scenario's (or env's) value
        where its plane does not vary it; a cell two planes share is swept once.
        """
        base = self._base_values() if len(self.planes) > 1 else {}
        cells, seen = [], set()
        for plane in self.planes:
            for values in itertools.product(*plane.values()):
                chosen = dict(zip(plane, values))
                cell = {name: chosen[name] if name in chosen else _plain(base[name]) for name in self.parameters}
                key = json.dumps(cell, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    cells.append(cell)
        return cells

    def _base_values(self) -> dict[str, Any]:
        """Every grid parameter's value where a plane does not vary it: the scenario's (or env's) for
        environment parameters, the sweep's ``train`` section's (or the train config's default) for
        ``train.`` ones."""
        from sd_env.experiments.training.config import TrainConfig

        base = asdict(make_params(self.scenario, **self.env))
        defaults = TrainConfig().to_dict()
        for name in self.parameters:
            if is_train_parameter(name):
                dotted = name[len(TRAIN_PREFIX):]
                try:
                    base[name] = get_dotted(self.train or {}, dotted)
                except KeyError:
                    base[name] = get_dotted(defaults, dotted)
        return base

    def params(self, cell: dict[str, Any]) -> EnvParams:
        """The environment parameters of a cell (its ``train.`` parameters aside)."""
        return make_params(self.scenario, **{**self.env, **environment_values(cell)})

    def train_config(self, cell_index: int, cell: dict[str, Any], seed: int, runs_dir: Path):
        """The train config of one training cell (its run directory is ``runs_dir / row_key``)."""
        settings = {
            "progress_bar": False,
            "eval_episodes": self.eval_episodes,
            **copy.deepcopy(self.train or {}),
            "scenario": self.scenario,
            "env": {**self.env, **environment_values(cell)},
            "seed": seed,
            "name": row_key(cell_index, seed),
            "output_dir": str(runs_dir),
        }
        for name, value in cell.items():
            if is_train_parameter(name):
                _set_dotted(settings, name[len(TRAIN_PREFIX):], value)
        return config_from_dict(settings)


def environment_values(cell: dict[str, Any]) -> dict[str, Any]:
    """A cell's environment parameters: every entry but the ``train.`` ones."""
    return {name: value for name, value in cell.items() if not is_train_parameter(name)}


def _plain(value: Any) -> Any:
    """A parameter value as YAML and CSV hold it (tuples as lists)."""
    return [_plain(item) for item in value] if isinstance(value, (list, tuple)) else value


def row_key(cell_index: int, seed: int) -> str:
    """The name of a row's file and run directory: ``cell0003-seed1``."""
    return f"cell{cell_index:04d}-seed{seed}"


def _fail(message: str, parameter: str | None = None) -> NoReturn:
    """Raise a :class:`SweepConfigError`; ``parameter`` names the function argument that was wrong, if any."""
    raise SweepConfigError(message, parameter=parameter)


def sweep_config_from_dict(raw: dict[str, Any], source: str = "sweep config") -> SweepConfig:
    """Validate a sweep config mapping; every problem is one :class:`SweepConfigError` line.

    :param raw: the mapping (a sweep config file's contents; see the module docstring).
    :param source: how messages name where the mapping came from.
    :returns: the validated :class:`SweepConfig` (seeds given as a count become a list).
    """
    if not isinstance(raw, dict):
        _fail(f"{source} must be a mapping of keys to values, got {type(raw).__name__}")
    known = [f.name for f in fields(SweepConfig)]
    for key in raw:
        if key not in known:
            _fail(f"unknown sweep config key {key!r}{did_you_mean(key, known, then='known keys: ' + ', '.join(known))}")
    config = SweepConfig(**{key: raw[key] for key in raw})
    if not isinstance(config.name, str) or not config.name or "/" in config.name or config.name.startswith("."):
        _fail(f"name must be a plain folder name, got {config.name!r}")
    if config.scenario not in SCENARIOS:
        listing = f"choose one of {', '.join(SCENARIOS)}"
        _fail(f"unknown scenario {config.scenario!r}{did_you_mean(str(config.scenario), SCENARIOS, then=listing)}")
    if not isinstance(config.env, dict):
        _fail(f"env must be a mapping of environment parameters, got {config.env!r}")
    planes = config.grid if isinstance(config.grid, list) else [config.grid]
    if not planes or not all(isinstance(plane, dict) and plane for plane in planes):
        _fail("grid must map at least one environment parameter to a list of values, e.g. "
              "grid: {offense_defense_balance: [0.5, 2.0]}, or be a list of such mappings")
    parameters = {f.name for f in fields(EnvParams)}
    for plane in planes:
        for name, values in plane.items():
            if isinstance(name, str) and is_train_parameter(name):
                _check_train_parameter(config, name)
            elif name not in parameters:
                _fail(f"grid: unknown environment parameter {name!r}"
                      f"{did_you_mean(str(name), sorted(parameters), then='see sd-env params')}")
            if not isinstance(values, list) or not values:
                _fail(f"grid: {name} must be a non-empty list of values, got {values!r}")
            if len({json.dumps(value, sort_keys=True) for value in values}) != len(values):
                _fail(f"grid: {name} lists a value twice: {values!r}")
            if name in config.env:
                _fail(f"{name} is both in env and in grid; give it in one place")
    config.seeds = _seeds(config.seeds)
    if not isinstance(config.eval_episodes, int) or isinstance(config.eval_episodes, bool) or config.eval_episodes < 1:
        _fail(f"eval_episodes must be an integer >= 1, got {config.eval_episodes!r}")
    if not isinstance(config.train, (dict, type(None))):
        _fail(f"train must be a mapping of train-config fields, got {config.train!r}")
    for cell in config.cells():
        try:
            config.params(cell)
        except (TypeError, ValueError) as error:
            _fail(f"grid cell {cell}: {str(error).splitlines()[0]}")
    if (config.train is None) == (config.policies is None):
        _fail("give either train (a training config for every cell) or policies (fixed policies), not both")
    if config.train is not None:
        _check_train(config)
    else:
        _check_policies(config)
    return config


def _seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, bool):
        _fail(f"seeds must be a count >= 1 or a list of integers, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            _fail(f"seeds must be a count >= 1 or a list of integers, got {seeds}")
        return list(range(seeds))
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 for seed in seeds):
        _fail(f"seeds must be a count >= 1 or a list of integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        _fail(f"seeds lists a seed twice: {seeds!r}")
    return list(seeds)


def _check_train(config: SweepConfig) -> None:
    if not isinstance(config.train, dict):
        _fail(f"train must be a mapping of train-config fields, got {config.train!r}")
    for key in _CELL_TRAIN_FIELDS:
        if key in config.train:
            _fail(f"train: {key} is set by the sweep for each cell; put environment parameters in env or grid")
    # Every cell: a grid of train. parameters may hold a value only some cells' configs refuse.
    for index, cell in enumerate(config.cells()):
        try:
            config.train_config(index, cell, config.seeds[0], Path("runs"))
        except ConfigError as error:
            where = f"grid cell {cell}: " if any(is_train_parameter(name) for name in cell) else "train: "
            _fail(f"{where}{error}")


def _check_train_parameter(config: SweepConfig, name: str) -> None:
    """A ``train.`` grid parameter must name a train-config field the sweep does not set itself, in a
    training sweep."""
    from sd_env.experiments.training.config import TrainConfig, dotted_keys

    dotted = name[len(TRAIN_PREFIX):]
    if config.train is None:
        _fail(f"grid: {name} varies a train-config field, but this sweep plays fixed policies; "
              "give a train section to train in every cell")
    if dotted.split(".")[0] in _CELL_TRAIN_FIELDS:
        _fail(f"grid: {name} is set by the sweep for each cell; vary environment parameters without train.")
    known = dotted_keys(TrainConfig)
    if dotted not in known:
        listing = "name a train-config field, e.g. train.start or train.ppo.ent_coef"
        _fail(f"grid: unknown train-config field {name!r}{did_you_mean(dotted, known, then=listing, prefix=TRAIN_PREFIX)}")
    if dotted in _flat_keys(config.train):
        _fail(f"{dotted} is both in train and in grid (as {name}); give it in one place")


def _flat_keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    """Every dotted key of a nested mapping (``{"ppo": {"ent_coef": 0}}`` -> ``{"ppo", "ppo.ent_coef"}``)."""
    keys = set()
    for key, value in data.items():
        keys.add(prefix + key)
        if isinstance(value, dict):
            keys |= _flat_keys(value, f"{prefix}{key}.")
    return keys


def _check_policies(config: SweepConfig) -> None:
    from sd_env.experiments.lab.specs import PolicySpecError, spec_kind

    policies = config.policies
    if not isinstance(policies, list) or not policies or not all(isinstance(spec, str) for spec in policies):
        _fail(f"policies must be a list of policy specs (baseline:NAME, a checkpoint, module:factory), "
              f"got {policies!r}")
    sizes = {config.params(cell).n_states for cell in config.cells()}
    if len(policies) != 1 and sizes != {len(policies)}:
        _fail(f"policies: give one spec for every seat or one per seat ({', '.join(map(str, sorted(sizes)))}); "
              f"got {len(policies)}")
    for spec in policies:
        try:
            spec_kind(spec)
        except PolicySpecError as error:
            _fail(f"policies: {error}")


def load_sweep_config(path: str | Path) -> SweepConfig:
    """Read and validate a sweep config file."""
    path = Path(path)
    if not path.is_file():
        _fail(f"sweep config {str(path)!r} not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        _fail(f"sweep config {str(path)!r} is not valid YAML: {str(error).splitlines()[0]}")
    return sweep_config_from_dict(raw if raw is not None else {}, source=f"sweep config {str(path)!r}")


# ---------------------------------------------------------------------------
# One row


@dataclass(frozen=True)
class Task:
    """One row to compute: a cell of the grid and a seed, with everything a worker needs (picklable).

    ``config`` is the sweep's validated :class:`SweepConfig` itself: workers use it as it is, without
    validating it again.
    """

    config: SweepConfig
    cell_index: int
    cell: dict[str, Any]
    seed: int
    folder: str

    @property
    def key(self) -> str:
        return row_key(self.cell_index, self.seed)


def run_task(task: Task) -> dict[str, Any]:
    """Compute one row. A pure function of the task.

    :param task: the row to compute; its config was validated when the sweep was set up and is used as it is.
    :returns: ``{"row": {"cell": ..., <grid parameters>, "seed": ..., <every episode measure>}, "seconds": wall
        time}``.
    """
    started = time.perf_counter()
    config = task.config
    folder = Path(task.folder)
    if config.train is not None:
        measures = _trained_measures(config, task, folder)
    else:
        measures = _fixed_measures(config, task, folder)
    row = {"cell": task.cell_index, **task.cell, "seed": task.seed, **measures}
    return {"row": row, "seconds": round(time.perf_counter() - started, 3)}


def _fixed_measures(config: SweepConfig, task: Task, folder: Path) -> dict[str, float]:
    from sd_env.experiments.lab.measures import summarize
    from sd_env.experiments.lab.rollout import save_rollout
    from sd_env.experiments.lab.seating import PolicyCache, play
    from sd_env.experiments.training.drift import TRAJECTORY_EPISODES

    # The project's one seating path: each spec loaded once (once per seat where it holds one policy per
    # state), checked, and reseeded by play's one rule before the game on the evaluation seed.
    params = config.params(task.cell)
    specs = config.policies if len(config.policies) > 1 else config.policies * params.n_states
    seats = PolicyCache(params, seed=task.seed).seat(specs)
    result = play(params, seats, config.eval_episodes, task.seed + 1)
    save_rollout(folder / "trajectories" / f"{task.key}.npz", result, TRAJECTORY_EPISODES)
    return summarize(result)


def _trained_measures(config: SweepConfig, task: Task, folder: Path) -> dict[str, float]:
    from sd_env.experiments.training.drift import read_drift
    from sd_env.experiments.training.train import train

    runs = folder / "runs"
    train_config = config.train_config(task.cell_index, task.cell, task.seed, runs)
    run_dir = train_config.run_dir
    # A cell killed midway resumes from its last checkpoint; a finished one only re-evaluates.
    train(train_config, resume=(run_dir / "config.yaml").is_file())
    drift = read_drift(run_dir)
    missing = [name for name in EPISODE_MEASURES if name not in drift.columns]
    if drift.empty or missing:  # never a row of NaN for a run that finished: its measures are its last drift row
        raise damaged(run_dir / "drift.csv", "it has no rows" if drift.empty else f"it lacks the measures {missing}",
                      f"delete the run directory {str(run_dir)!r} and run the sweep again to train the cell anew")
    final = drift.iloc[-1].to_dict()
    return {name: float(final[name]) for name in EPISODE_MEASURES}


# ---------------------------------------------------------------------------
# The sweep


def results_columns(config: SweepConfig) -> list[str]:
    """The columns of ``results.csv``, in order.

    :param config: the sweep.
    :returns: ``cell``, each grid parameter, ``seed``, then every episode measure of the registry.
    """
    return ["cell", *config.parameters, "seed", *EPISODE_MEASURES]


def read_rows(folder: Path) -> dict[str, dict[str, Any]]:
    """The finished rows of a sweep folder, by row key.

    :param folder: the sweep folder (``OUTPUT/NAME``).
    :returns: ``{row key: {"row": {...}, "seconds": ...}}``, one entry per file in ``rows/``, in key order.
    """
    rows = {}
    for path in sorted((folder / "rows").glob("cell*-seed*.json")):
        rows[path.stem] = read_json_mapping(path, ("row",), "delete it and run the sweep again to recompute the row")
    return rows


def _table_data(config: SweepConfig, rows: dict[str, dict[str, Any]], fmt: str) -> bytes:
    """The results table of ``rows`` (sorted by cell, then seed) as the bytes of its file."""
    table = pd.DataFrame([entry["row"] for entry in rows.values()], columns=results_columns(config))
    table = table.sort_values(["cell", "seed"], kind="stable").reset_index(drop=True)
    if fmt == "parquet":
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False)
        return buffer.getvalue()
    return table.to_csv(index=False).encode("utf-8")


def _write_table(folder: Path, data: bytes, fmt: str) -> Path:
    from sd_env.experiments.output.files import write_bytes_atomic

    path = folder / ("results.parquet" if fmt == "parquet" else "results.csv")
    write_bytes_atomic(path, data)
    return path


def _parse_table(data: bytes, fmt: str) -> pd.DataFrame:
    """The table whose file holds ``data``, as :func:`read_results` reads that file."""
    return pd.read_parquet(io.BytesIO(data)) if fmt == "parquet" else pd.read_csv(io.BytesIO(data))


def write_results(folder: Path, config: SweepConfig, rows: dict[str, dict[str, Any]], fmt: str = "csv") -> Path:
    """Rebuild the results table from the finished rows (sorted by cell, then seed), atomically.

    :param folder: the sweep folder.
    :param config: the sweep (it gives the columns).
    :param rows: the finished rows, as :func:`read_rows` returns them.
    :param fmt: ``"csv"`` (``results.csv``) or ``"parquet"`` (``results.parquet``).
    :returns: the path of the table written.
    """
    return _write_table(folder, _table_data(config, rows, fmt), fmt)


def read_results(folder: str | Path) -> pd.DataFrame:
    """A sweep's results table (``results.csv`` or ``results.parquet``).

    :param folder: the sweep folder.
    :returns: the table, one row per finished cell and seed.
    """
    folder = Path(folder)
    remedy = "run the sweep again: it rebuilds the table from rows/"
    if (folder / "results.parquet").is_file():
        try:
            return pd.read_parquet(folder / "results.parquet")
        except (OSError, ValueError) as error:  # pyarrow's errors of a damaged file are of these kinds
            raise damaged(folder / "results.parquet", f"not a readable Parquet file ({error})", remedy) from None
    return read_csv_table(folder / "results.csv", remedy)


def prepare_folder(config: SweepConfig, output_dir: str | Path) -> Path:
    """Create ``output_dir/name`` (or check that the sweep already there is this one) and save the config.

    :param config: the sweep.
    :param output_dir: the folder of sweeps; the sweep's own folder is ``output_dir / config.name``.
    :returns: the sweep folder.
    :raises SweepConfigError: (``parameter="output_dir"``) the folder holds a different sweep.
    """
    folder = Path(output_dir) / config.name
    saved = folder / "sweep.yaml"
    resolved = yaml.safe_dump(config.to_dict(), sort_keys=False)
    if saved.is_file():
        remedy = "restore it from the config the sweep was started with (sd-env sweep --config rewrites it)"
        old = read_yaml_mapping(saved, remedy)
        missing = sorted(set(config.to_dict()) - set(old))  # sd-env writes every key: a file cut short lacks some
        if missing:
            raise damaged(saved, f"it lacks {', '.join(missing)}", remedy)
        # Order matters too: the grid's order numbers the cells.
        if json.dumps(old) != json.dumps(yaml.safe_load(resolved)):
            _fail(f"{str(folder)!r} holds a different sweep (its sweep.yaml differs); rerun with the same config "
                  f"to finish it, or give another name or another output_dir", parameter="output_dir")
    else:
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(saved, resolved)
    (folder / "rows").mkdir(exist_ok=True)
    return folder


def pending_tasks(config: SweepConfig, folder: Path, done: dict[str, Any] | None = None) -> list[Task]:
    """The rows not yet finished, in table order.

    :param config: the sweep (validated); every task carries it as it is.
    :param folder: the sweep folder.
    :param done: the finished rows by row key, if already read (:func:`read_rows`); read from ``folder`` if None.
    :returns: one :class:`Task` per row without a file in ``rows/``.
    """
    done = read_rows(folder) if done is None else done
    tasks = []
    for index, cell in enumerate(config.cells()):
        for seed in config.seeds:
            if row_key(index, seed) not in done:
                tasks.append(Task(config, index, cell, seed, str(folder.resolve())))
    return tasks


def _record(folder: Path, config: SweepConfig, rows: dict[str, dict[str, Any]], task: Task,
            outcome: dict[str, Any], fmt: str) -> None:
    """Save a finished row (its file, then the table rebuilt from the rows in memory, both atomically)."""
    text = json.dumps(outcome, indent=1, default=float)
    write_text_atomic(folder / "rows" / f"{task.key}.json", text)
    rows[task.key] = json.loads(text)  # the row exactly as read_rows would read its file
    _write_table(folder, _table_data(config, rows, fmt), fmt)


def run_sweep(
    config: SweepConfig,
    output_dir: str | Path = "sweeps",
    executor: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    fmt: str = "csv",
    progress: bool = True,
) -> pd.DataFrame:
    """Run every unfinished row of the sweep and return the complete results table.

    :param config: the sweep (validated: :func:`sweep_config_from_dict` or :func:`load_sweep_config`).
    :param output_dir: the folder of sweeps; the sweep writes into ``output_dir / config.name``.
    :param executor: ``"local"`` (worker processes) or ``"ray"`` (Ray tasks).
    :param workers: rows computed at once (default: the number of CPUs).
    :param ray_address: the address of a running Ray cluster (executor ``"ray"``); None starts a local Ray.
    :param fmt: the table's file: ``"csv"`` (``results.csv``) or ``"parquet"`` (``results.parquet``).
    :param progress: show a progress bar on standard error (rows done of all, rows running and queued).
    :returns: the complete results table, equal to what :func:`read_results` reads from the folder.
    :raises SweepConfigError: a bad argument (its ``parameter`` names it) or a folder holding another sweep.
    """
    if executor not in EXECUTORS:
        _fail(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}", parameter="executor")
    if fmt not in ("csv", "parquet"):
        _fail(f"fmt must be 'csv' or 'parquet', got {fmt!r}", parameter="fmt")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        _fail(f"workers must be >= 1, got {workers}", parameter="workers")
    with FolderLock(Path(output_dir) / config.name, "the sweep"):  # one writer at a time; a killed one's lock is free
        folder = prepare_folder(config, output_dir)
        remove_stale_temporaries(folder)  # what writers killed mid-write left (nobody else writes now)
        # The finished rows are read once; each new row joins them in memory as it finishes.
        rows = read_rows(folder)
        tasks = pending_tasks(config, folder, rows)
        total = len(config.cells()) * len(config.seeds)
        started, computed, finished = time.perf_counter(), 0, False
        call = uuid.uuid4().hex[:12]
        if tasks:  # recorded before any work, so that a call killed later is on record too
            _log_invocation(folder, {"call": call, "status": "started",
                                     "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                     "rows_total": total, "rows_pending": len(tasks), "executor": executor,
                                     "workers": workers, "cpus": os.cpu_count(), "machine": platform.platform()})
        try:
            run = _run_ray if executor == "ray" else _run_local
            with progress_bar(total, f"sweep {config.name}", "rows", progress, initial=total - len(tasks)) as bar:
                for task, outcome in run(tasks, workers, ray_address, bar):
                    _record(folder, config, rows, task, outcome, fmt)
                    computed += 1
                    bar.advance()
            finished = True
        finally:
            if tasks:
                _log_invocation(folder, {"call": call, "status": "finished" if finished else "interrupted",
                                         "seconds": round(time.perf_counter() - started, 1),
                                         "rows_computed": computed})
        data = _table_data(config, rows, fmt)
        _write_table(folder, data, fmt)
    return _parse_table(data, fmt)


#: Each call of ``run_sweep`` that computed rows, one JSON object per line: when, how long, on what.
INVOCATIONS_FILE = "invocations.jsonl"


def _log_invocation(folder: Path, record: dict[str, Any]) -> None:
    """Append one line to ``invocations.jsonl`` (flushed to disk); a line left half-written by a kill is
    dropped first, so that only the last line of the file can ever be incomplete."""
    path = folder / INVOCATIONS_FILE
    with open(path, "ab") as stream:
        size = stream.tell()
        if size:
            with open(path, "rb") as reader:
                reader.seek(size - 1)
                ends_whole = reader.read(1) == b"\n"
                if not ends_whole:  # rare: read the file to find where its last whole line ends
                    reader.seek(0)
                    stream.truncate(reader.read().rfind(b"\n") + 1)
        stream.write((json.dumps(record) + "\n").encode("utf-8"))
        stream.flush()
        os.fsync(stream.fileno())


def read_invocations(folder: str | Path) -> list[dict[str, Any]]:
    """The calls of ``run_sweep`` that had rows to compute (``invocations.jsonl``), oldest first.

    A call appends a line when it starts and one when it ends; the two are read as one record:
    ``{"call", "status", "started", "seconds", "rows_computed", "rows_total", "rows_pending", "executor",
    "workers", "cpus", "machine"}``. ``status`` is ``"finished"``, ``"interrupted"`` (stopped by an error or
    Ctrl-C: ``seconds`` and ``rows_computed`` say how far it got) or ``"not finished"`` (killed, or still
    running: ``seconds`` and ``rows_computed`` are None). Lines of sweeps older than this (one per finished
    call, without ``call``) read as finished calls.

    :param folder: the sweep folder.
    :returns: one record per call; a last line that is not valid JSON (a call killed while appending it) is
        skipped.
    :raises SweepConfigError: a line before the last is not JSON (the file is damaged), naming the file.
    """
    path = Path(folder) / INVOCATIONS_FILE
    if not path.is_file():
        return []
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    calls: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines) - 1:
                break
            _fail(f"{str(path)!r} is damaged: line {number + 1} is not JSON; remove that line to keep the others")
        if "call" not in record:  # a line of an older sweep: one finished call
            calls[f"line{number}"] = {"call": None, "status": "finished", "rows_pending": None, **record}
        elif record.get("status") == "started":
            calls[record["call"]] = {**record, "status": "not finished", "seconds": None, "rows_computed": None}
        elif record["call"] in calls:
            calls[record["call"]].update(record)
    return list(calls.values())


def _set_running(bar: ProgressBar, running: int, queued: int) -> None:
    """Show on the bar how many rows are being computed now and how many wait for a worker."""
    bar.status(f"running {running}, queued {queued}")


def _run_local(tasks: list[Task], workers: int, ray_address: str | None,
               bar: ProgressBar) -> Iterable[tuple[Task, dict]]:
    """Rows on local worker processes (in this process when there is one worker)."""
    if workers == 1 or len(tasks) <= 1:
        for position, task in enumerate(tasks):
            _set_running(bar, 1, len(tasks) - position - 1)
            yield task, run_task(task)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # Spawned, not forked: a forked copy of a process holding torch and numba threads can deadlock.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        waiting = list(tasks)
        running = {}
        while waiting or running:
            while waiting and len(running) < workers:
                task = waiting.pop(0)
                running[pool.submit(run_task, task)] = task
            _set_running(bar, len(running), len(waiting))
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                yield running.pop(future), future.result()


#: How often (seconds) a worker checks that the sweep that started it is still alive, where the operating
#: system cannot tell it (no ``PR_SET_PDEATHSIG``: every platform but Linux).
PARENT_CHECK_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """Make this worker process end when the sweep process ``parent`` ends, however it ends (``kill -9`` too).

    Without it, workers of a killed sweep go on training (then block forever on their pipe), and a rerun
    would train the same cells beside them. On Linux the kernel kills the worker when its parent dies
    (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); elsewhere a daemon thread checks the parent every
    :data:`PARENT_CHECK_SECONDS`. Either way, a parent that died before this ran ends the worker at once.
    """
    import threading

    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the sweep died while this worker was starting
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _run_ray(tasks: list[Task], workers: int, ray_address: str | None,
             bar: ProgressBar) -> Iterable[tuple[Task, dict]]:
    """Rows as Ray tasks, one CPU each: a local Ray with ``workers`` CPUs, or the cluster at ``ray_address``."""
    try:
        import ray
    except ImportError:
        _fail("executor 'ray' needs Ray: pip install -e '.[rllib]'", parameter="executor")
    started_here = not ray.is_initialized()
    if started_here:
        if ray_address:
            ray.init(address=ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
        running = {remote.remote(task): task for task in tasks}
        while running:
            _set_running(bar, min(len(running), workers), max(len(running) - workers, 0))
            finished, _ = ray.wait(list(running), num_returns=1)
            for reference in finished:
                yield running.pop(reference), ray.get(reference)
    finally:
        if started_here:
            ray.shutdown()


def sweep_summary(table: pd.DataFrame, config: SweepConfig, measures: Iterable[str] = ("military_burden", "war_years",
                                                                                        "welfare")) -> pd.DataFrame:
    """Mean of some measures over seeds, one row per cell (for the command's printout)."""
    chosen = [name for name in measures if name in table.columns]
    return table.groupby(["cell", *config.parameters], sort=True)[chosen].mean().reset_index()

