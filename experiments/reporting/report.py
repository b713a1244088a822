"""``sd-env report DIR``: a Markdown report with figures of a sweep or of one training run.

``DIR`` is a sweep folder (``sd-env sweep`` output: ``sweep.yaml`` and
``results.csv`` or ``results.parquet``) or a run directory (``sd-env train``
output: ``config.yaml`` with ``drift.csv``, ``metrics.json``,
``trajectories.npz``). The report is written to ``DIR/report.md`` (or
``--output``) with its PNG figures in ``figures/`` beside it (``NAME-figures/``
for another file name) and, for a
sweep, every cell's numbers in ``report-cells.csv``. Every number in it is
read or computed from those files, never typed in:

- phase diagrams: the seed mean of each headline measure over every pair of
  grid parameters (heat maps; the offence-defence balance against
  distinguishability and observation noise first), one panel per value of the
  other grid parameters (or, past :data:`MAX_FACETS` panels, their average);
  a one-parameter grid gives line charts with intervals instead;
- the four Jervis (1978) worlds side by side (the corners of the
  balance x distinguishability grid), bars with 95% bootstrap intervals
  over seeds;
- every cell's mean and interval of every measure;
- drift curves over training (``drift.csv`` of each training cell);
- example trajectories (arms and wars over the years, ``trajectories.npz``);
- Richardson's coefficients fitted to the simulated spending series
  (:func:`sd_env.experiments.lab.series.richardson_fit`), with fits that cannot be
  made (series that do not vary, states eliminated early) counted, not shown.

Intervals over seeds are percentile bootstrap intervals of the seed mean
(:func:`sd_env.experiments.lab.measures.bootstrap_interval` with every seed weighing one,
seeded): seeds are the independent units of a sweep.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import os
import platform
import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sd_env.errors import SdEnvError, did_you_mean
from sd_env.experiments.output.figures import save_figure
from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.output.numbers import format_number
from sd_env.experiments.reporting.evaluation_text import actions_text
from sd_env.experiments.lab.measures import EPISODE_MEASURES, Ratio, bootstrap_interval
from sd_env.experiments.lab.series import richardson_fit

#: The measures figures and the headline tables show unless told otherwise.
HEADLINE_MEASURES = ("military_burden", "war_years", "buildups_per_episode", "spiral_war_years")
#: Most panels a phase diagram fixes the other grid parameters at; past it they are averaged over.
MAX_FACETS = 6
#: Most parameter pairs drawn as phase diagrams.
MAX_PAIRS = 10
#: Most cells drawn in the drift figure.
MAX_DRIFT_CELLS = 8
#: Most cells (panels) in the trajectory figure.
MAX_TRAJECTORY_CELLS = 4
#: Parameter pairs drawn first (Jervis's two axes, and the balance against the noise on intelligence).
PREFERRED_PAIRS = (("offense_defense_balance", "distinguishability"), ("offense_defense_balance", "observation_noise"),
                   ("distinguishability", "observation_noise"))
BALANCE = "offense_defense_balance"
DISTINGUISHABILITY = "distinguishability"
#: Short names of parameters for legends and panel titles.
SHORT_NAMES = {BALANCE: "balance", DISTINGUISHABILITY: "distinguishability", "observation_noise": "noise",
               "train.start": "start"}
#: The Richardson coefficients, in the order of the tables, with their units.
RICHARDSON_COEFFICIENTS = (("k", "per year"), ("a", "per year"), ("g", "wealth units per year"),
                           ("l", "per year"), ("b", "per year"), ("h", "wealth units per year"))
REPORT_FILE = "report.md"


class ReportError(SdEnvError):
    """A folder that cannot be reported on, or report options that cannot be used (one line)."""
FIGURES_FOLDER = "figures"


# ---------------------------------------------------------------------------
# Formatting

#: How the report writes numbers (``format_number``'s options): significant digits at every magnitude.
NUMBER_TEXT = {"plain_from": None}


def with_interval(mean: float, low: float, high: float) -> str:
    """``mean [low, high]``, or the mean alone where there is no interval (fewer than two seeds)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return format_number(mean, **NUMBER_TEXT)
    return f"{format_number(mean, **NUMBER_TEXT)} [{format_number(low, **NUMBER_TEXT)}, {format_number(high, **NUMBER_TEXT)}]"


def value_label(value: Any) -> str:
    """A grid value as the report prints it: numbers compactly, booleans and lists as in the YAML config."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def short_label(value: Any) -> str:
    """A grid value for figures: as :func:`value_label`, floats to 4 significant digits."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return value_label(value)


def _parameter_units() -> dict[str, str]:
    from sd_env.params import parameter_records

    return {record["name"]: record["unit"] for record in parameter_records()}


def parameter_title(name: str) -> str:
    """Axis title of a parameter: its name and unit (``offense_defense_balance (ratio)``)."""
    unit = _parameter_units().get(name)
    return f"{name} ({unit})" if unit else name


def _unit(name: str) -> str:
    return _parameter_units().get(name, "no unit")


def measure_unit(name: str) -> str:
    return EPISODE_MEASURES[name].unit if name in EPISODE_MEASURES else "unit not registered"


def measure_range(name: str) -> tuple[float, float] | None:
    """The fixed scale of a measure bounded by its unit (shares and ``1 - Gini``: (0, 1)), or None."""
    unit = measure_unit(name)
    return (0.0, 1.0) if unit.startswith("share of") or unit == "1 - Gini" else None


def measure_title(name: str) -> str:
    """Axis title of a measure: its name and unit."""
    return f"{name} ({measure_unit(name)})"


def measure_description(name: str) -> str:
    return EPISODE_MEASURES[name].description if name in EPISODE_MEASURES else ""


def _escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (cells are printed with ``str``; pipes escaped)."""
    lines = ["| " + " | ".join(_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def interval_over_seeds(values: Sequence[float] | np.ndarray) -> tuple[float, float, float, int]:
    """``(mean, low, high, n)`` of the finite values: their mean and 95% bootstrap interval, seeds weighing one."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan"), float("nan"), 0
    low, high = bootstrap_interval(Ratio(values, np.ones(values.size)), seed=0)
    return float(values.mean()), low, high, int(values.size)


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _nanmean(values: np.ndarray, axis=None) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


# ---------------------------------------------------------------------------
# The report being written


class _Document:
    """Markdown blocks and numbered figures; figures are written as they come, the Markdown last."""

    def __init__(self, output: Path):
        self.output = output
        # report.md's figures in figures/, another report's beside it in NAME-figures/: never each other's.
        self.figures_dir = output.parent / (FIGURES_FOLDER if output.name == REPORT_FILE else
                                            f"{output.stem}-{FIGURES_FOLDER}")
        self.blocks: list[str] = []
        self.figure_paths: list[Path] = []

    def add(self, *blocks: str) -> None:
        self.blocks.extend(blocks)

    def figure(self, name: str, figure, caption: str) -> None:
        path = self.figures_dir / f"{name}.png"
        save_figure(figure, path, tight=True)
        figure.clear()
        self.figure_paths.append(path)
        number_ = len(self.figure_paths)
        relative = os.path.relpath(path, self.output.parent).replace(os.sep, "/")
        self.add(f"![Figure {number_}: {_escape(name)}]({relative})", f"*Figure {number_}.* {caption}")

    def write(self) -> None:
        write_text_atomic(self.output, "\n\n".join(self.blocks).rstrip() + "\n")


def _provenance(command: str | None, directory: Path, inputs: Sequence[Path]) -> str:
    from sd_env import __version__

    lines = [
        f"- command: `{command or f'sd_env.experiments.reporting.report.write_report({str(directory)!r})'}`",
        f"- made: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M:%S')} UTC with sd-env {__version__}, "
        f"Python {platform.python_version()}, on {platform.node() or 'an unnamed machine'} "
        f"({platform.platform()}, {os.cpu_count()} CPUs)",
        f"- from: `{directory.resolve()}`",
    ]
    for path in inputs:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        lines.append(f"- input `{path.name}`: {path.stat().st_size} bytes, sha256 {digest}…")
    from sd_env.experiments.studies.sweep import read_invocations

    for call in read_invocations(directory):
        where = (f"started {call['started']}, {call['executor']} executor, {call['workers']} workers, on "
                 f"{call['cpus']} CPUs ({call['machine']})")
        if call["seconds"] is None:
            lines.append(f"- a call that did not finish (killed, or still running): {call['rows_pending']} of "
                         f"{call['rows_total']} rows to compute, {where}")
        else:
            lines.append(f"- rows computed: {call['rows_computed']} of {call['rows_total']} in {call['seconds']:,.0f} s "
                         f"wall ({call['seconds'] / 60:.1f} min){'' if call['status'] == 'finished' else ', interrupted'}"
                         f", {where}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# What DIR is


def detect(directory: Path) -> str:
    """``"sweep"`` or ``"run"``; a ValueError (one line) saying what was expected otherwise."""
    if not directory.exists():
        raise ReportError(f"{str(directory)!r} not found; give a sweep folder (sd-env sweep output) or a run "
                         f"directory (sd-env train output)")
    if not directory.is_dir():
        raise ReportError(f"{str(directory)!r} is not a folder; give a sweep folder (sd-env sweep output) or a run "
                         f"directory (sd-env train output)")
    if (directory / "sweep.yaml").is_file():
        if not ((directory / "results.csv").is_file() or (directory / "results.parquet").is_file()):
            raise ReportError(f"sweep folder {str(directory)!r} has no results table yet (results.csv); run "
                             f"sd-env sweep to fill it")
        return "sweep"
    if (directory / "config.yaml").is_file():
        if not any((directory / name).is_file() for name in ("drift.csv", "metrics.json", "trajectories.npz")):
            raise ReportError(f"run directory {str(directory)!r} has no drift.csv, metrics.json or trajectories.npz "
                             f"yet; train it first (sd-env train)")
        return "run"
    inside = sorted(child.name for child in directory.iterdir() if (child / "sweep.yaml").is_file())
    hint = f"; it holds the sweeps {', '.join(inside[:5])}: give one of them" if inside else ""
    raise ReportError(f"{str(directory)!r} is neither a sweep folder (sweep.yaml, results.csv) nor a run directory "
                     f"(config.yaml, drift.csv){hint}")


def parse_measures(measures: str | Sequence[str] | None) -> list[str]:
    """The headline measures: a comma-separated string or a list of registered names (default: the four)."""
    if measures is None:
        return list(HEADLINE_MEASURES)
    names = [m.strip() for m in measures.split(",")] if isinstance(measures, str) else [str(m) for m in measures]
    names = [name for name in names if name]
    if not names:
        raise ReportError("measures needs at least one measure name, e.g. military_burden,war_years",
                          parameter="measures")
    for name in names:
        if name not in EPISODE_MEASURES:
            listing = f"choose from {', '.join(EPISODE_MEASURES)}"
            raise ReportError(f"measures: unknown measure {name!r}{did_you_mean(name, EPISODE_MEASURES, then=listing)}",
                              parameter="measures")
    if len(set(names)) != len(names):
        raise ReportError(f"measures lists a measure twice: {','.join(names)}", parameter="measures")
    return names


def write_report(directory: str | Path, measures: str | Sequence[str] | None = None,
                 output: str | Path | None = None, command: str | None = None) -> Path:
    """Write the report of a sweep folder or run directory; returns the path of the Markdown file.

    ``measures``: the headline measures of the figures and headline tables
    (default :data:`HEADLINE_MEASURES`; every measure is in the appendix).
    ``output``: the Markdown file (default ``DIR/report.md``); figures go to
    ``figures/`` beside it (``NAME-figures/`` for a file ``NAME.md`` other
    than ``report.md``). ``command``: the command line, for the provenance.
    Raises ReportError (one line) for a folder that is neither.
    """
    return build_report(directory, measures, output, command)[0]


def build_report(directory: str | Path, measures: str | Sequence[str] | None = None,
                 output: str | Path | None = None, command: str | None = None) -> tuple[Path, list[Path]]:
    """:func:`write_report`, returning the Markdown file's path and the figures written (in order)."""
    directory = Path(directory)
    headline = parse_measures(measures)
    kind = detect(directory)
    output = Path(output) if output is not None else directory / REPORT_FILE
    if output.is_dir():
        raise ReportError(f"output {str(output)!r} is a folder; give the path of the Markdown file to write",
                          parameter="output")
    document = _Document(output)
    if kind == "sweep":
        _sweep_report(document, directory, headline, command)
    else:
        _run_report(document, directory, headline, command)
    document.write()
    return output, document.figure_paths


# ---------------------------------------------------------------------------
# Sweeps: the grid and the per-cell numbers


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class Grid:
    """A sweep's cells (dicts of parameter values, by cell number) and the parameters they vary.

    The cells are those of ``SweepConfig.cells()``: the cross product of a
    grid mapping, or the union of the products of a list of planes. Each
    parameter's values are ordered ascending where they are all numbers, in
    order of appearance otherwise.
    """

    def __init__(self, cells: Sequence[dict[str, Any]], planes: Sequence[dict[str, list[Any]]]):
        self.cells = [dict(cell) for cell in cells]
        self.planes = [dict(plane) for plane in planes]
        self.parameters = list(dict.fromkeys(name for cell in self.cells for name in cell))
        self.values: dict[str, list[Any]] = {}
        for name in self.parameters:
            distinct = list({_key(cell[name]): cell[name] for cell in self.cells}.values())
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in distinct):
                distinct.sort()
            self.values[name] = distinct
        self._positions = [{name: [_key(v) for v in self.values[name]].index(_key(cell[name]))
                            for name in self.parameters} for cell in self.cells]

    @classmethod
    def from_mapping(cls, grid: dict[str, list[Any]]) -> "Grid":
        """The cross product of a grid mapping (the last parameter varying fastest)."""
        return cls([dict(zip(grid, values)) for values in itertools.product(*grid.values())], [grid])

    @property
    def size(self) -> int:
        return len(self.cells)

    def position(self, cell: int, name: str) -> int:
        """Index of the cell's value of ``name`` in ``values[name]``."""
        return self._positions[cell][name]

    def key(self, cell: int, names: Sequence[str]) -> tuple[int, ...]:
        return tuple(self._positions[cell][name] for name in names)

    def label(self, name: str, position: int) -> str:
        """The value at ``position`` of ``name``, for figures (floats to 4 significant digits)."""
        return short_label(self.values[name][position])

    def labels(self, cell: int) -> list[str]:
        return [value_label(self.cells[cell][name]) for name in self.parameters]

    @property
    def varying(self) -> list[str]:
        """The parameters with more than one value over the cells (the others are fixed)."""
        return [name for name in self.parameters if len(self.values[name]) > 1]

    @property
    def fixed(self) -> dict[str, Any]:
        """The parameters with one value over all cells: name -> value."""
        return {name: self.values[name][0] for name in self.parameters if len(self.values[name]) == 1}

    def numeric(self, name: str) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values[name])

    def describe(self, cell: int, short: bool = False) -> str:
        """``name = value, ...`` of every parameter; ``short``: ``name value`` of the varying ones, wrapped."""
        if not short:
            return ", ".join(f"{name} = {label}" for name, label in zip(self.parameters, self.labels(cell)))
        parts = [f"{SHORT_NAMES.get(name, name)} {short_label(self.cells[cell][name])}" for name in self.parameters
                 if len(self.values[name]) > 1]
        return textwrap.fill(", ".join(parts), width=48) if parts else "the only cell"

    def shape_text(self) -> str:
        """How the cells were made: ``3 x 2 = 6 cells`` or ``2 planes (3 x 3, 3 x 3): 15 cells``."""
        sizes = [" x ".join(str(len(values)) for values in plane.values()) for plane in self.planes]
        if len(self.planes) == 1:
            return f"{sizes[0]} = {self.size} cells"
        return f"{len(self.planes)} planes ({', '.join(sizes)}): {self.size} distinct cells"


@dataclass
class CellStats:
    """Per cell (index = cell number) and measure: seed mean, 95% interval, seeds counted, the seeds' values."""

    mean: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    count: dict[str, np.ndarray]
    values: dict[str, list[np.ndarray]]


def cell_stats(table: pd.DataFrame, grid: Grid, measures: Sequence[str]) -> CellStats:
    """Seed mean and bootstrap interval of every measure in every cell (NaN for cells without rows)."""
    stats = CellStats({}, {}, {}, {}, {})
    groups = {int(cell): rows for cell, rows in table.groupby("cell", sort=True)}
    for name in measures:
        mean, low, high, count = (np.full(grid.size, np.nan) for _ in range(4))
        values = []
        for cell in range(grid.size):
            seeds = groups[cell][name].to_numpy(dtype=float) if cell in groups else np.zeros(0)
            values.append(seeds)
            mean[cell], low[cell], high[cell], count[cell] = interval_over_seeds(seeds)
        stats.mean[name], stats.low[name], stats.high[name], stats.count[name] = mean, low, high, count
        stats.values[name] = values
    return stats


def _load_sweep(folder: Path) -> tuple[dict[str, Any], Grid, pd.DataFrame, list[str]]:
    from sd_env.experiments.studies.sweep import read_results, sweep_config_from_dict

    try:
        raw = yaml.safe_load((folder / "sweep.yaml").read_text())
    except yaml.YAMLError as error:
        raise ReportError(f"{folder / 'sweep.yaml'} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(raw, dict) or "grid" not in raw:
        raise ReportError(f"{folder / 'sweep.yaml'} is not a sweep config: it has no grid")
    try:
        config = sweep_config_from_dict(raw, source=str(folder / "sweep.yaml"))
    except ValueError as error:
        raise ReportError(f"{folder / 'sweep.yaml'}: {str(error).splitlines()[0]}") from None
    grid = Grid(config.cells(), config.planes)
    table = read_results(folder)
    missing = [column for column in ("cell", "seed") if column not in table.columns]
    if missing:
        raise ReportError(f"{folder}/results table has no column {missing[0]!r}; is it an sd-env sweep's table?")
    if len(table) and (table["cell"].min() < 0 or table["cell"].max() >= grid.size):
        raise ReportError(f"{folder}/results table has cells outside the grid of sweep.yaml (0-{grid.size - 1})")
    skip = {"cell", "seed", *grid.parameters}
    measures = [name for name in EPISODE_MEASURES if name in table.columns]
    measures += [c for c in table.columns if c not in skip and c not in measures
                 and pd.api.types.is_numeric_dtype(table[c])]
    return raw, grid, table, measures


def _results_file(folder: Path) -> Path:
    parquet = folder / "results.parquet"
    return parquet if parquet.is_file() else folder / "results.csv"


def _cells_csv(grid: Grid, stats: CellStats, measures: Sequence[str]) -> str:
    frame = pd.DataFrame({"cell": range(grid.size)})
    for position, name in enumerate(grid.parameters):
        frame[name] = [grid.labels(cell)[position] for cell in range(grid.size)]
    for name in measures:
        frame[f"{name}_mean"] = stats.mean[name]
        frame[f"{name}_ci_low"] = stats.low[name]
        frame[f"{name}_ci_high"] = stats.high[name]
        frame[f"{name}_seeds"] = stats.count[name].astype(int)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def _pairs(grid: Grid) -> list[tuple[str, str]]:
    """Pairs of parameters some plane of the grid varies together (every pair of a single grid mapping)."""
    together = []
    for plane in grid.planes:
        names = [name for name, values in plane.items() if len(values) > 1 and name in grid.varying]
        together += [pair for pair in itertools.combinations(names, 2)
                     if pair not in together and pair[::-1] not in together]
    preferred = [pair for pair in PREFERRED_PAIRS if pair in together or pair[::-1] in together]
    return preferred + [pair for pair in together if pair not in preferred and pair[::-1] not in preferred]


def _groups(grid: Grid, cells: Sequence[int], names: Sequence[str]) -> dict[tuple[int, ...], list[int]]:
    """The cells grouped by their values of ``names`` (keys: value positions), keys in order."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for cell in cells:
        groups.setdefault(grid.key(cell, names), []).append(cell)
    return dict(sorted(groups.items()))


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)


# ---------------------------------------------------------------------------
# Sweeps: the report


def _sweep_report(document: _Document, folder: Path, headline: list[str], command: str | None) -> None:
    raw, grid, table, measures = _load_sweep(folder)
    shown = [name for name in headline if name in measures]
    if not shown:
        raise ReportError(f"the results table has none of the measures {', '.join(headline)}")
    stats = cell_stats(table, grid, measures)
    seeds = sorted(int(seed) for seed in table["seed"].unique())
    episodes = raw.get("eval_episodes", "?")
    trained = raw.get("train") is not None
    results = _results_file(folder)
    done = table.groupby("cell").size()

    document.add(f"# sd-env report: sweep `{raw.get('name', folder.name)}`")
    document.add("## Provenance", _provenance(command, folder, [folder / "sweep.yaml", results]))
    how = (f"trained cells ({_train_summary(raw['train'])}), measured on their final evaluation (drift.csv, "
           f"{actions_text(_eval_actions(raw['train']))})"
           if trained else f"fixed policies {', '.join(map(str, raw.get('policies') or []))}")
    env = raw.get("env") or {}
    document.add(
        f"Scenario `{raw.get('scenario', '?')}`"
        + (f" with {', '.join(f'{k} = {value_label(v)}' for k, v in env.items())}" if env else "")
        + f"; grid over {', '.join(f'`{p}`' for p in grid.parameters)} ({grid.shape_text()}); "
        f"{_count(len(seeds), 'seed')} ({', '.join(map(str, seeds))}); {how}; {episodes} evaluation episodes per "
        f"cell and seed. The results table holds {len(table)} rows; {int((done > 0).sum())} of {grid.size} cells have "
        f"at least one.",
        "Intervals are 95% percentile bootstrap intervals of the mean over seeds (2000 resamples of the seeds, "
        "seeded); `n/a`: nothing to measure (e.g. no buildups to follow) or no row. Every cell's numbers are also "
        f"in `{document.output.stem}-cells.csv`.",
        "<details><summary>sweep.yaml</summary>\n\n```yaml\n"
        + (folder / "sweep.yaml").read_text().rstrip() + "\n```\n\n</details>",
    )
    document.add("## Measures shown", markdown_table(
        ["measure", "unit", "what it measures"],
        [[f"`{name}`", measure_unit(name), measure_description(name)] for name in shown]))

    _phase_section(document, grid, stats, shown, len(seeds), episodes)
    _jervis_section(document, grid, table, shown)
    _cell_table_section(document, grid, stats, shown)
    if trained:
        from sd_env.experiments.studies.exploit import EXPLOIT_TABLE

        gate = pd.read_csv(folder / EXPLOIT_TABLE) if (folder / EXPLOIT_TABLE).is_file() else None
        _exploitability_section(document, folder, grid, gate)
        _basins_section(document, grid, table, gate)
    _drift_section(document, folder, grid, shown, seeds, trained)
    _trajectory_section(document, folder, grid, seeds, trained)
    _richardson_section(document, folder, grid, seeds, trained)
    _appendix(document, grid, stats, measures)
    write_text_atomic(document.output.parent / f"{document.output.stem}-cells.csv", _cells_csv(grid, stats, measures))


def _eval_actions(train: dict[str, Any]) -> str:
    """How the learned policies acted in their evaluations: the sweep's ``train.eval_actions``, else the default."""
    from sd_env.experiments.training.config import TrainConfig

    return str(train.get("eval_actions", TrainConfig.eval_actions))


def _train_summary(train: dict[str, Any]) -> str:
    keys = ("algorithm", "backend", "total_timesteps")
    return ", ".join(f"{key} {value_label(train[key])}" for key in keys if key in train) or "train config"


def _fixed_text(grid: Grid) -> str:
    fixed = grid.fixed
    if not fixed:
        return ""
    return (" The same in every cell: " + ", ".join(f"`{p}` = {value_label(v)}" for p, v in fixed.items()) + ".")


def _units_text(shown: Sequence[str]) -> str:
    return "; ".join(f"`{m}` in {measure_unit(m)}" for m in shown)


def _facet_title(grid: Grid, names: Sequence[str], key: Sequence[int]) -> str:
    return "\n".join(f"{name} = {grid.label(name, position)}" for name, position in zip(names, key))


def _phase_section(document: _Document, grid: Grid, stats: CellStats, shown: list[str], seeds: int,
                   episodes: Any) -> None:
    document.add("## Phase diagrams")
    if not grid.varying:
        document.add("The grid has a single cell: nothing to draw over; its numbers are in the tables below.")
        return
    pairs = _pairs(grid)
    in_pairs = {name for pair in pairs for name in pair}
    for x_name, y_name in pairs:
        _heatmaps(document, grid, stats, shown, seeds, episodes, x_name, y_name)
    for name in grid.varying:
        if name not in in_pairs:
            _lines(document, grid, stats, shown, episodes, name)


def _heatmaps(document: _Document, grid: Grid, stats: CellStats, shown: list[str], seeds: int, episodes: Any,
              x_name: str, y_name: str) -> None:
    from sd_env.experiments.reporting.figures import heatmap_figure

    others = [p for p in grid.varying if p not in (x_name, y_name)]
    # A panel per combination of the other parameters in which both of the pair vary.
    def spans(cells: list[int], name: str) -> bool:
        return len({grid.position(c, name) for c in cells}) > 1

    facets = {key: cells for key, cells in _groups(grid, range(grid.size), others).items()
              if spans(cells, x_name) and spans(cells, y_name)}
    if not facets:
        return
    cells = [cell for group in facets.values() for cell in group]
    xs = sorted({grid.position(c, x_name) for c in cells})
    ys = sorted({grid.position(c, y_name) for c in cells})
    averaged = len(facets) > MAX_FACETS
    panel_cells = {(): cells} if averaged else facets
    document.add(f"### {x_name} x {y_name}")
    per = f"each the mean over the seeds ({seeds}) of the measure in {episodes} evaluation episodes"
    if not others:
        rest = ""
    elif averaged:
        rest = (f" The other grid parameters ({', '.join(f'`{p}`' for p in others)}, {len(facets)} combinations) "
                f"are averaged over, every cell weighing one.")
    else:
        rest = (f" One panel per value of {', '.join(f'`{p}`' for p in others)} (fixed at the value in the "
                f"panel's title).")
    for name in shown:
        panels = []
        for key, group in panel_cells.items():
            sums, counts = np.zeros((len(ys), len(xs))), np.zeros((len(ys), len(xs)))
            for cell in group:
                value = stats.mean[name][cell]
                if np.isfinite(value):
                    y, x = ys.index(grid.position(cell, y_name)), xs.index(grid.position(cell, x_name))
                    sums[y, x] += value
                    counts[y, x] += 1
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)
            title = f"mean over {', '.join(others)}" if averaged else _facet_title(grid, others, key)
            panels.append((title, values))
        figure = heatmap_figure(
            panels, [grid.label(x_name, i) for i in xs], [grid.label(y_name, i) for i in ys],
            parameter_title(x_name), parameter_title(y_name), measure_title(name),
            f"{name} ({measure_unit(name)}): mean over {_count(seeds, 'seed')}", value_range=measure_range(name))
        document.figure(
            f"phase-{_slug(name)}-{_slug(x_name)}-{_slug(y_name)}", figure,
            f"`{name}` in {measure_unit(name)} ({measure_description(name)}) over `{x_name}` ({_unit(x_name)}) "
            f"and `{y_name}` ({_unit(y_name)}); the squares are {per}.{rest}{_fixed_text(grid)} Grey `n/a`: no "
            f"value (nothing to measure, or the cell was not swept).")


def _lines(document: _Document, grid: Grid, stats: CellStats, shown: list[str], episodes: Any, name: str) -> None:
    from sd_env.experiments.reporting.figures import LinePanel, LineSeries, line_figure

    others = [p for p in grid.varying if p != name]
    groups = {key: cells for key, cells in _groups(grid, range(grid.size), others).items()
              if len({grid.position(c, name) for c in cells}) > 1}
    if not groups:
        return
    dropped = max(0, len(groups) - MAX_FACETS)
    groups = dict(list(groups.items())[:MAX_FACETS])
    count = len(grid.values[name])
    panels = []
    for measure in shown:
        series = []
        for key, cells in groups.items():
            mean, low, high = (np.full(count, np.nan) for _ in range(3))
            points = [np.zeros(0) for _ in range(count)]
            for cell in cells:
                i = grid.position(cell, name)
                mean[i], low[i] = stats.mean[measure][cell], stats.low[measure][cell]
                high[i] = stats.high[measure][cell]
                points[i] = stats.values[measure][cell]
            series.append(LineSeries(_facet_title(grid, others, key).replace("\n", ", "), mean, low, high, points))
        panels.append(LinePanel(measure, measure_title(measure), series))
    figure = line_figure(grid.values[name], [grid.label(name, i) for i in range(count)], grid.numeric(name),
                         parameter_title(name), panels, f"Headline measures over {name}", ", ".join(others))
    document.add(f"### {name}")
    lines = (f" One line per value of {', '.join(f'`{p}`' for p in others)}" + (
        f" (the first {MAX_FACETS}; {dropped} more are in the tables)." if dropped else ".")) if others else ""
    document.figure(
        f"phase-{_slug(name)}", figure,
        f"Headline measures against `{name}` ({_unit(name)}): dots are single seeds (the measure in {episodes} "
        f"evaluation episodes), the line their mean with its 95% bootstrap interval over seeds.{lines} Units: "
        f"{_units_text(shown)}.{_fixed_text(grid)}")


def _jervis_corners(grid: Grid) -> dict[int, list[int]] | None:
    """Jervis's four worlds: the cells at the extremes of the balance and distinguishability, or None."""
    if not {BALANCE, DISTINGUISHABILITY} <= set(grid.varying):
        return None
    if not (grid.numeric(BALANCE) and grid.numeric(DISTINGUISHABILITY)):
        return None
    # values are sorted ascending: position 0 is the smallest, -1 the largest.
    offence, defence = len(grid.values[BALANCE]) - 1, 0
    clear, blurred = len(grid.values[DISTINGUISHABILITY]) - 1, 0
    wanted = {1: (offence, blurred), 2: (defence, blurred), 3: (offence, clear), 4: (defence, clear)}
    corners = {world: [cell for cell in range(grid.size) if grid.key(cell, (BALANCE, DISTINGUISHABILITY)) == key]
               for world, key in wanted.items()}
    return corners if all(corners.values()) else None


JERVIS_NAMES = {1: "offence adv., indistinguishable", 2: "defence adv., indistinguishable",
                3: "offence adv., distinguishable", 4: "defence adv., distinguishable"}


def _jervis_section(document: _Document, grid: Grid, table: pd.DataFrame, shown: list[str]) -> None:
    from sd_env.experiments.reporting.figures import BarPanel, bar_figure

    corners = _jervis_corners(grid)
    if corners is None:
        return
    document.add("## The four Jervis worlds")
    worlds = sorted(corners)
    corner_cells = [cell for w in worlds for cell in corners[w]]
    others = [p for p in grid.varying if p not in (BALANCE, DISTINGUISHABILITY)
              and len({grid.position(c, p) for c in corner_cells}) > 1]
    keys = list(_groups(grid, corner_cells, others))
    pooled = len(keys) > MAX_FACETS
    hue_keys: list[tuple[int, ...] | None] = [None] if pooled else keys
    hue_labels = ([] if not others else [f"pooled over {', '.join(others)}"] if pooled else
                  [", ".join(f"{SHORT_NAMES.get(p, p)} {grid.label(p, i)}" for p, i in zip(others, key))
                   for key in keys])
    top, bottom = grid.values[BALANCE][-1], grid.values[BALANCE][0]
    clear, blurred = grid.values[DISTINGUISHABILITY][-1], grid.values[DISTINGUISHABILITY][0]
    corner_values = {1: (top, blurred), 2: (bottom, blurred), 3: (top, clear), 4: (bottom, clear)}
    group_labels = [f"world {w}\n{JERVIS_NAMES[w].replace(', ', chr(10))}\nbalance "
                    f"{short_label(corner_values[w][0])}\ndist. {short_label(corner_values[w][1])}" for w in worlds]
    by_cell = {int(cell): rows for cell, rows in table.groupby("cell")}
    numbers: dict[tuple[int, int], dict[str, tuple[float, float, float, int]]] = {}
    cells_of: dict[tuple[int, int], list[int]] = {}
    for w in worlds:
        for h, key in enumerate(hue_keys):
            cells = [c for c in corners[w] if key is None or grid.key(c, others) == key]
            cells_of[(w, h)] = cells
            for name in shown:
                values = np.concatenate([by_cell[c][name].to_numpy(dtype=float) for c in cells if c in by_cell]
                                        or [np.zeros(0)])
                numbers.setdefault((w, h), {})[name] = interval_over_seeds(values)
    panels = []
    for name in shown:
        shape = (len(hue_keys), len(worlds))
        means, lows, highs = (np.full(shape, np.nan) for _ in range(3))
        for h in range(len(hue_keys)):
            for g, w in enumerate(worlds):
                means[h, g], lows[h, g], highs[h, g], _ = numbers[(w, h)][name]
        panels.append(BarPanel(name, measure_title(name), means, lows, highs, y_range=measure_range(name)))
    figure = bar_figure(group_labels, hue_labels, ", ".join(others), panels,
                        "The four Jervis worlds: mean over seeds with 95% bootstrap interval")
    note = "" if bottom < 1 < top else (" The balances swept do not straddle 1, so 'offence advantage' and "
                                        "'defence advantage' mean the larger and the smaller balance here.")
    document.figure(
        "jervis-worlds", figure,
        f"Jervis's (1978) four worlds as the corners of the grid: `{BALANCE}` at its largest (offence advantage) "
        f"or smallest (defence advantage) value, `{DISTINGUISHABILITY}` at its smallest (indistinguishable) or "
        f"largest (distinguishable). Bars: mean over seeds; whiskers: 95% bootstrap interval over seeds"
        + (f"; colours: the other grid parameters ({', '.join(others)})" if others and not pooled else "")
        + (f"; pooled over {', '.join(others)} (seeds x values)" if pooled else "")
        + f". Units: {_units_text(shown)}.{note}{_fixed_text(grid)}")
    rows = []
    for w in worlds:
        for h in range(len(hue_keys)):
            counts = sorted({numbers[(w, h)][name][3] for name in shown})
            rows.append([f"{w}: {JERVIS_NAMES[w]}", value_label(corner_values[w][0]),
                         value_label(corner_values[w][1]), *([hue_labels[h]] if others else []),
                         ", ".join(map(str, cells_of[(w, h)])), "/".join(map(str, counts)),
                         *(with_interval(*numbers[(w, h)][name][:3]) for name in shown)])
    header = ["world", BALANCE, DISTINGUISHABILITY, *(["other parameters"] if others else []), "cells", "values",
              *(f"{name} ({measure_unit(name)})" for name in shown)]
    document.add("Mean [95% interval] over seeds in each world (`values`: seeds with a value, per measure):",
                 markdown_table(header, rows))


def _cell_table_section(document: _Document, grid: Grid, stats: CellStats, shown: list[str]) -> None:
    document.add("## Every cell", "Headline measures, mean over seeds [95% bootstrap interval over seeds]; "
                                  "`seeds`: seeds with a value for the first measure.")
    header = ["cell", *grid.parameters, "seeds", *(f"{name} ({measure_unit(name)})" for name in shown)]
    rows = [[cell, *grid.labels(cell), int(stats.count[shown[0]][cell]),
             *(with_interval(stats.mean[m][cell], stats.low[m][cell], stats.high[m][cell]) for m in shown)]
            for cell in range(grid.size)]
    document.add(markdown_table(header, rows))


START_PARAMETER = "train.start"


def _exploitability_section(document: _Document, folder: Path, grid: Grid, gate: pd.DataFrame | None) -> None:
    """The gate: each cell's exploitability (``sd-env exploit --sweep``; ``gate`` is its table, None where it was
    not measured), per type as a share of mutual restraint's return, and the cells whose learners are not an
    equilibrium by it."""
    from sd_env.experiments.studies.exploit import DEVIATIONS, EXPLOIT_TABLE, GATE, TYPES

    if gate is None:
        document.add("## Exploitability (the gate)",
                     f"Not measured: no `{EXPLOIT_TABLE}` in the sweep folder. Without it these results describe the "
                     "learners, not necessarily an equilibrium of the game; `sd-env exploit --sweep "
                     f"{folder.name} --budget STEPS` measures every run.")
        return
    budgets = sorted({int(b) for b in gate["budget"]})
    document.add(
        "## Exploitability (the gate)",
        f"For every run of a cell, a PPO best response trained for {', '.join(f'{b:,}' for b in budgets)} agent-steps "
        f"and the scripted deviations ({', '.join(f'`{name}`' for name in DEVIATIONS)}) play the focal seat against "
        "the run's own policy elsewhere (`sd-env exploit --sweep`); for each type the strongest of them counts. Each "
        "type's gain is shown as a share of that type's return under mutual restraint (every state a dove); a cell is "
        "flagged "
        f"**not an equilibrium** where the seed mean of the worst type's share exceeds {GATE:.0%}. An RL best "
        "response is a lower bound on the true best response: a small gain says the learners were not beaten, not "
        f"that they cannot be. Seats measured: {', '.join(f'state_{seat}' for seat in sorted(set(gate['seat'])))}; "
        f"how the runs' own policies acted there: {_gate_actions(gate)}.")
    rows = []
    for cell in range(grid.size):
        mine = gate[gate["cell"] == cell]
        if not len(mine):
            rows.append([cell, *grid.labels(cell), 0, *(["n/a"] * (len(TYPES) + 2))])
            continue
        worst = interval_over_seeds(mine.groupby("seed")["worst_relative"].max().to_numpy(dtype=float))
        per_type = [with_interval(*interval_over_seeds(mine[f"{name}_relative"].dropna().to_numpy(dtype=float))[:3])
                    for name in TYPES]
        within = int(mine.groupby("seed")["equilibrium"].all().sum())
        verdict = "not an equilibrium" if worst[0] > GATE else f"within {GATE:.0%}"
        rows.append([cell, *grid.labels(cell), mine["seed"].nunique(), *per_type,
                     f"{with_interval(*worst[:3])}; {within} of {mine['seed'].nunique()} runs within", verdict])
    header = ["cell", *grid.parameters, "runs", *(f"{name} gain (share of restraint)" for name in TYPES),
              "worst type", "verdict"]
    document.add(markdown_table(header, rows))


def _gate_actions(gate: pd.DataFrame) -> str:
    """How the runs' learned policies acted while they were measured (``sd-env exploit --actions``), in words."""
    recorded = sorted({str(value) for value in gate["actions"].dropna()}) if "actions" in gate else []
    return " and ".join(map(actions_text, recorded)) or "not recorded (reports of an older sd-env)"


def _basins_section(document: _Document, grid: Grid, table: pd.DataFrame, gate: pd.DataFrame | None) -> None:
    """Where the runs landed (``sd_env.experiments.reporting.basins``): shares of seeds in peace, mixed and
    war per cell, with Wilson intervals; the start (``train.start``) as colours where the grid varies it."""
    from sd_env.experiments.reporting.basins import (
        OUTCOME_MEASURES, OUTCOMES, PEACE_ELIMINATIONS, PEACE_WAR_YEARS, WAR_ELIMINATIONS, WAR_WAR_YEARS,
        basin_table, classify_outcome)
    from sd_env.experiments.reporting.figures import BarPanel, bar_figure

    if not set(OUTCOME_MEASURES) <= set(table.columns) or not len(table):
        return
    basins = basin_table(table, grid.cells, grid.parameters)
    write_text_atomic(document.output.parent / f"{document.output.stem}-basins.csv", basins.to_csv(index=False))
    hue = [START_PARAMETER] if START_PARAMETER in grid.varying else []
    others = [name for name in grid.varying if name not in hue]
    groups = _groups(grid, range(grid.size), others)
    hue_positions = range(len(grid.values[START_PARAMETER])) if hue else [None]
    group_labels = ["\n".join(f"{SHORT_NAMES.get(p, p)} {grid.label(p, i)}" for p, i in zip(others, key))
                    or "all cells" for key in groups]
    panels = []
    for outcome in OUTCOMES:
        shape = (len(hue_positions), len(groups))
        means, lows, highs = (np.full(shape, np.nan) for _ in range(3))
        for h, position in enumerate(hue_positions):
            for g, cells in enumerate(groups.values()):
                chosen = [c for c in cells if position is None or grid.position(c, START_PARAMETER) == position]
                if len(chosen) == 1:
                    row = basins.iloc[chosen[0]]
                    means[h, g], lows[h, g], highs[h, g] = (row[f"{outcome}_share"], row[f"{outcome}_low"],
                                                            row[f"{outcome}_high"])
        panels.append(BarPanel(outcome, f"share of runs in {outcome}", means, lows, highs, y_range=(0.0, 1.0)))
    hue_labels = [grid.label(START_PARAMETER, h) for h in hue_positions] if hue else []
    document.add("## Where learning lands (basins)",
                 f"Each seed of a cell is one run of learning; its final evaluation says where it landed: **peace** "
                 f"(war in at most {PEACE_WAR_YEARS:.0%} of years and an elimination in at most "
                 f"{PEACE_ELIMINATIONS:.0%} of episodes), **war** (war in at least {WAR_WAR_YEARS:.0%} of years or "
                 f"an elimination in at least {WAR_ELIMINATIONS:.0%} of episodes) or **mixed** (between). Shares of "
                 f"seeds with 95% Wilson intervals; every cell's counts are in `{document.output.stem}-basins.csv`.")
    if len(groups) * len(hue_positions) == grid.size:
        figure = bar_figure(group_labels, hue_labels, "start", panels,
                            "Where learning lands: share of runs (seeds) in each outcome, 95% Wilson interval",
                            columns=1 if len(groups) * len(hue_positions) > 6 else None)
        document.figure("basins", figure,
                        "Share of a cell's runs (seeds) that landed in peace, in mixed outcomes and in war; "
                        "whiskers: 95% Wilson score interval over seeds"
                        + ("; colours: the start each run learned from (`train.start`)" if hue else "")
                        + f".{_fixed_text(grid)}")
    gated = None
    if gate is not None:
        from sd_env.experiments.studies.exploit import GATE

        within = gate.groupby(["cell", "seed"])["equilibrium"].all()
        outcome_of = {(int(row.cell), int(row.seed)): classify_outcome(float(row.war_years),
                                                                        float(row.eliminations_per_episode))
                      for row in table.itertuples()}
        gated = {cell: sum(1 for (c, seed), ok in within.items() if c == cell and ok
                           and outcome_of.get((c, seed)) == "peace") for cell in range(grid.size)}
        measured = {cell: int((within.index.get_level_values(0) == cell).sum()) for cell in range(grid.size)}
        document.add(f"`peace within the gate`: runs that landed in peace and whose best response gained at most "
                     f"{GATE:.0%} of mutual restraint's return for every type, of the runs measured (exploitability "
                     f"section).")

    def counted(row: pd.Series, outcome: str) -> str:
        share = with_interval(row[f"{outcome}_share"], row[f"{outcome}_low"], row[f"{outcome}_high"])
        return f"{int(row[f'{outcome}_runs'])} ({share})"

    rows = [[cell, *grid.labels(cell), int(basins.iloc[cell]["runs"]),
             *(counted(basins.iloc[cell], outcome) for outcome in OUTCOMES),
             *([f"{gated[cell]} of {measured[cell]}" if measured[cell] else "not measured"] if gated is not None
               else [])] for cell in range(grid.size)]
    document.add(markdown_table(["cell", *grid.parameters, "runs", *(f"{o}: runs (share [95%])" for o in OUTCOMES),
                                 *(["peace within the gate"] if gated is not None else [])], rows))


def _appendix(document: _Document, grid: Grid, stats: CellStats, measures: list[str]) -> None:
    document.add("## Appendix: every measure in every cell",
                 "Mean over seeds [95% bootstrap interval over seeds]; `seeds`: seeds with a value.")
    for cell in range(grid.size):
        rows = [[f"`{name}`", measure_unit(name),
                 with_interval(stats.mean[name][cell], stats.low[name][cell], stats.high[name][cell]),
                 int(stats.count[name][cell])] for name in measures]
        document.add(f"### Cell {cell}: {grid.describe(cell)}",
                     markdown_table(["measure", "unit", "mean [95% interval]", "seeds"], rows))


def _select_cells(grid: Grid, count: int) -> list[int]:
    """At most ``count`` cells to draw: all if few; else Jervis's corners first, then cells spread over the grid."""
    if grid.size <= count:
        return list(range(grid.size))
    corners = _jervis_corners(grid)
    chosen = [corners[w][0] for w in sorted(corners)][:count] if corners else []
    for cell in [*np.linspace(0, grid.size - 1, count).round().astype(int), *range(grid.size)]:
        if len(chosen) < count and int(cell) not in chosen:
            chosen.append(int(cell))
    return sorted(chosen)


def _drift_line(label: str, tables: list[pd.DataFrame], shown: list[str]):
    from sd_env.experiments.reporting.figures import DriftLine

    steps = np.array(sorted(set().union(*(set(t["timesteps"].astype(int)) for t in tables))), dtype=float)
    line = DriftLine(label, steps, {}, {}, {})
    for name in shown:
        mean, low, high = (np.full(steps.size, np.nan) for _ in range(3))
        for i, step in enumerate(steps):
            values = [float(v) for t in tables if name in t.columns for v in t.loc[t["timesteps"] == step, name]]
            mean[i], low[i], high[i], _ = interval_over_seeds(values)
        line.means[name], line.lows[name], line.highs[name] = mean, low, high
    return line


def _drift_section(document: _Document, folder: Path, grid: Grid, shown: list[str], seeds: list[int],
                   trained: bool) -> None:
    from sd_env.experiments.training.drift import read_drift
    from sd_env.experiments.reporting.figures import drift_figure
    from sd_env.experiments.studies.sweep import row_key

    document.add("## Drift over training")
    if not trained:
        document.add("Fixed policies: nothing was trained, so there is no drift.")
        return
    lines, used = [], []
    for cell in _select_cells(grid, MAX_DRIFT_CELLS):
        tables = [read_drift(folder / "runs" / row_key(cell, seed)) for seed in seeds]
        tables = [t for t in tables if len(t)]
        if tables:
            lines.append(_drift_line(f"cell {cell}: {grid.describe(cell, short=True)}", tables, shown))
            used.append((cell, len(tables)))
    if not lines:
        document.add("No run directory of this sweep has a drift.csv yet.")
        return
    figure = drift_figure([(name, name, measure_title(name)) for name in shown], lines,
                          "Drift: headline measures of the learned policies over training", "cell")
    which = "every cell" if len(used) == grid.size else f"{len(used)} of the {grid.size} cells"
    document.figure(
        "drift", figure,
        f"Each headline measure of the policies being learned (self-play evaluation at every checkpoint, "
        f"`runs/*/drift.csv`) against the agent-steps trained, for {which}: the line is the mean over seeds, the "
        f"band its 95% bootstrap interval over seeds (no band with one seed). Seeds per cell: "
        f"{', '.join(f'cell {c}: {n}' for c, n in used)}. Units: "
        f"{'; '.join(f'`{m}` in {measure_unit(m)}' for m in shown)}.")


def _trajectory_file(folder: Path, cell: int, seed: int, trained: bool) -> Path:
    from sd_env.experiments.training.drift import TRAJECTORY_FILE
    from sd_env.experiments.studies.sweep import row_key

    if trained:
        return folder / "runs" / row_key(cell, seed) / TRAJECTORY_FILE
    return folder / "trajectories" / f"{row_key(cell, seed)}.npz"


def _trajectory_panel(result, episode: int, title: str):
    from sd_env.experiments.reporting.figures import TrajectoryPanel

    return TrajectoryPanel(title, result.arms[:, episode], result.alive[:, episode], result.attacks[:, episode],
                           result.greedy[episode])


def _most_warlike(result) -> int:
    """The episode with the most years at war (the first of the most; 0 when none has a war)."""
    return int(np.argmax(result.attacks.any(axis=(2, 3)).sum(axis=0)))


def _trajectory_section(document: _Document, folder: Path, grid: Grid, seeds: list[int], trained: bool) -> None:
    from sd_env.experiments.reporting.figures import trajectory_figure
    from sd_env.experiments.lab.rollout import load_rollout

    document.add("## Example trajectories")
    panels, shown = [], []
    for cell in _select_cells(grid, MAX_TRAJECTORY_CELLS):
        for seed in seeds:
            path = _trajectory_file(folder, cell, seed, trained)
            if path.is_file():
                result = load_rollout(path)
                episode = _most_warlike(result)
                panels.append(_trajectory_panel(
                    result, episode, f"cell {cell}: {grid.describe(cell, short=True)}\nseed {seed}, kept episode "
                                     f"{episode + 1} of {result.episodes}"))
                shown.append(cell)
                break
    if not panels:
        document.add("No trajectories were kept for this sweep (`trajectories/` or `runs/*/trajectories.npz`).")
        return
    document.figure(
        "trajectories", trajectory_figure(panels, "Example trajectories: arms and wars over the years"),
        f"Total arms stock (all weapon systems, arms units, at the start of each year) of each state over one "
        f"evaluation episode in cells {', '.join(map(str, shown))} (of the first seed's kept episodes, the one "
        f"with the most years at war, the first if none has more); "
        f"shaded years: some state attacked another; crosses: the years a state attacked; open circles: "
        f"eliminations. Each state's type (greedy or security seeker) is in the legend.")


# ---------------------------------------------------------------------------
# Richardson fits


@dataclass
class RichardsonSummary:
    """Fits of Richardson's model to the dyads of some episodes: coefficient means over the fits that succeeded."""

    attempted: int
    fitted: int
    means: dict[str, float]
    stable_share: float
    years: float
    reasons: dict[str, int]


def _failure_reason(error: Exception) -> str:
    text = str(error)
    if "at least" in text:
        return "too few years with both alive"
    if "collinear" in text:
        return "series constant or in lockstep"
    return "fit failed"


def richardson_fits(results: Sequence[Any]) -> list[tuple[int, int, int, int, Any]]:
    """``(rollout number, episode, i, j, fit or error text)`` for every episode and dyad of the rollouts.

    The series are the two states' yearly arms spending (wealth units), over
    the years both were alive (NaN otherwise).
    """
    fits = []
    for number_, result in enumerate(results):
        spending = np.where(result.alive, result.spending, np.nan)
        for episode in range(result.episodes):
            for i, j in itertools.combinations(range(result.params.n_states), 2):
                try:
                    fit = richardson_fit(spending[:, episode, i], spending[:, episode, j])
                    values = [getattr(fit, name) for name, _ in RICHARDSON_COEFFICIENTS]
                    if not all(math.isfinite(v) for v in values):
                        raise ValueError("non-finite coefficients: fit failed")
                except ValueError as error:
                    fit = _failure_reason(error)
                fits.append((number_, episode, i, j, fit))
    return fits


def summarize_fits(fits: Sequence[tuple[int, int, int, int, Any]]) -> RichardsonSummary:
    ok = [fit for *_, fit in fits if not isinstance(fit, str)]
    reasons: dict[str, int] = {}
    for *_, fit in fits:
        if isinstance(fit, str):
            reasons[fit] = reasons.get(fit, 0) + 1
    means = {name: float(np.mean([getattr(f, name) for f in ok])) if ok else float("nan")
             for name, _ in RICHARDSON_COEFFICIENTS}
    stable = float(np.mean([f.stable for f in ok])) if ok else float("nan")
    years = float(np.mean([f.n_years for f in ok])) if ok else float("nan")
    return RichardsonSummary(len(fits), len(ok), means, stable, years, reasons)


def _reasons_text(summary: RichardsonSummary) -> str:
    return "; ".join(f"{reason}: {count}" for reason, count in sorted(summary.reasons.items())) or "–"


_RICHARDSON_NOTE = (
    "Richardson's (1960) model fitted by least squares to the two states' yearly arms spending (wealth units) in "
    "each kept episode and dyad, over the years both were alive: `x[t+1] - x[t] = k y[t] - a x[t] + g`, "
    "`y[t+1] - y[t] = l x[t] - b y[t] + h`. k, l: reaction (per year); a, b: fatigue (per year); g, h: "
    "grievance (wealth units per year); `stable`: share of fits with a·b > k·l and a + b > 0. A fit needs at "
    "least 5 years of both series, and series that vary; the others are counted under `not fitted` and left "
    "out of the means.")


def _richardson_section(document: _Document, folder: Path, grid: Grid, seeds: list[int], trained: bool) -> None:
    from sd_env.experiments.lab.rollout import load_rollout

    document.add("## Richardson fits", _RICHARDSON_NOTE + " Coefficients: mean over the fits of a cell (every kept "
                                                          "episode of every seed, every dyad).")
    rows, any_file = [], False
    for cell in range(grid.size):
        results = [load_rollout(path) for seed in seeds
                   if (path := _trajectory_file(folder, cell, seed, trained)).is_file()]
        any_file = any_file or bool(results)
        summary = summarize_fits(richardson_fits(results))
        rows.append([cell, *grid.labels(cell), f"{summary.fitted} of {summary.attempted}",
                     *(format_number(summary.means[name], **NUMBER_TEXT) for name, _ in RICHARDSON_COEFFICIENTS),
                     format_number(summary.stable_share, **NUMBER_TEXT), format_number(summary.years, 3, **NUMBER_TEXT), _reasons_text(summary)])
    if not any_file:
        document.add("No trajectories were kept for this sweep, so nothing to fit.")
        return
    header = ["cell", *grid.parameters, "fits", *(f"{n} ({u})" for n, u in RICHARDSON_COEFFICIENTS),
              "stable (share of fits)", "years per fit", "not fitted"]
    document.add(markdown_table(header, rows))


# ---------------------------------------------------------------------------
# One training run


def _run_report(document: _Document, folder: Path, headline: list[str], command: str | None) -> None:
    from sd_env.experiments.training.drift import TRAJECTORY_FILE, read_drift
    from sd_env.experiments.reporting.figures import drift_figure, trajectory_figure
    from sd_env.experiments.lab.rollout import load_rollout

    try:
        config = yaml.safe_load((folder / "config.yaml").read_text()) or {}
    except yaml.YAMLError as error:
        raise ReportError(f"{folder / 'config.yaml'} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(config, dict):
        raise ReportError(f"{folder / 'config.yaml'} is not a run config (a mapping of fields)")
    inputs = [folder / name for name in ("config.yaml", "metrics.json", "drift.csv", TRAJECTORY_FILE)
              if (folder / name).is_file()]
    document.add(f"# sd-env report: run `{config.get('name', folder.name)}`")
    document.add("## Provenance", _provenance(command, folder, inputs))
    env = config.get("env") or {}
    document.add(
        f"Scenario `{config.get('scenario', '?')}`"
        + (f" with {', '.join(f'{k} = {value_label(v)}' for k, v in env.items())}" if env else "")
        + f"; {_train_summary(config)}; seed {config.get('seed', '?')}; {config.get('eval_episodes', '?')} "
          f"evaluation episodes per checkpoint.",
        "<details><summary>config.yaml</summary>\n\n```yaml\n" + (folder / "config.yaml").read_text().rstrip()
        + "\n```\n\n</details>")
    document.add("## Measures shown", markdown_table(
        ["measure", "unit", "what it measures"],
        [[f"`{name}`", measure_unit(name), measure_description(name)] for name in headline]))

    document.add("## Evaluation")
    metrics_path = folder / "metrics.json"
    evaluation = {}
    if metrics_path.is_file():
        try:
            evaluation = json.loads(metrics_path.read_text()).get("evaluation") or {}
        except (json.JSONDecodeError, AttributeError):
            raise ReportError(f"{metrics_path} is not valid JSON of a run's metrics") from None
    if evaluation:
        names = list(evaluation)
        measures = [m for m in EPISODE_MEASURES if any(m in evaluation[n] for n in names)]
        measures += sorted({m for n in names for m in evaluation[n]} - set(measures))
        rows = [[f"`{m}`", measure_unit(m) if m in EPISODE_MEASURES else "–", *(format_number(evaluation[n].get(m), **NUMBER_TEXT)
                                                                              for n in names)] for m in measures]
        document.add("The final evaluation of the learned policy in `metrics.json` (as state_0; `vs X`: against "
                     "the scripted stance X; one evaluation, no interval):",
                     markdown_table(["measure", "unit", *names], rows))
    else:
        document.add("No final evaluation in this run directory (`metrics.json`).")

    document.add("## Drift over training")
    drift = read_drift(folder)
    if len(drift):
        shown = [m for m in headline if m in drift.columns]
        line = _drift_line(str(config.get("name", folder.name)), [drift], shown)
        figure = drift_figure([(m, m, measure_title(m)) for m in shown], [line],
                              "Drift: headline measures of the learned policy over training", "run")
        document.figure("drift", figure,
                        f"Each headline measure of the policy being learned (self-play evaluation of "
                        f"{config.get('eval_episodes', '?')} episodes at each of the {len(drift)} checkpoints, "
                        f"`drift.csv`) against the agent-steps trained. Units: "
                        f"{'; '.join(f'`{m}` in {measure_unit(m)}' for m in shown)}.")
        rows = [[int(row["timesteps"]), *(format_number(row[m], **NUMBER_TEXT) for m in shown)] for _, row in drift.iterrows()]
        document.add(markdown_table(["agent-steps", *(measure_title(m) for m in shown)], rows))
    else:
        document.add("No drift.csv in this run directory.")

    document.add("## Example trajectories")
    path = folder / TRAJECTORY_FILE
    if not path.is_file():
        document.add("No trajectories.npz in this run directory.")
        return
    result = load_rollout(path)
    panels = [_trajectory_panel(result, episode, f"episode {episode + 1} of the latest evaluation")
              for episode in range(min(result.episodes, MAX_TRAJECTORY_CELLS))]
    document.figure(
        "trajectories", trajectory_figure(panels, "Example trajectories: arms and wars over the years"),
        f"Total arms stock (all weapon systems, arms units, at the start of each year) of each state in the first "
        f"{len(panels)} episodes of the latest self-play evaluation (`{TRAJECTORY_FILE}`); shaded years: some "
        f"state attacked another; crosses: the years a state attacked; open circles: eliminations. Each state's "
        f"type (greedy or security seeker) is in the legend.")

    document.add("## Richardson fits", _RICHARDSON_NOTE)
    rows = []
    for _, episode, i, j, fit in richardson_fits([result]):
        if isinstance(fit, str):
            rows.append([episode + 1, f"state_{i}, state_{j}", *["n/a"] * len(RICHARDSON_COEFFICIENTS), "n/a",
                         "n/a", fit])
        else:
            rows.append([episode + 1, f"state_{i}, state_{j}",
                         *(format_number(getattr(fit, name), **NUMBER_TEXT) for name, _ in RICHARDSON_COEFFICIENTS),
                         format_number(fit.stable, **NUMBER_TEXT), fit.n_years, "–"])
    document.add(markdown_table(["episode", "dyad (x, y)", *(f"{n} ({u})" for n, u in RICHARDSON_COEFFICIENTS),
                                 "stable", "yearly changes used", "not fitted because"], rows))

