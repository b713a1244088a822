"""Figures for ``sd-env report``: heat maps, line and bar charts with intervals, drift curves, trajectories.

Every function takes numbers already computed (by ``sd_env.experiments.reporting.report``) and
returns a :class:`matplotlib.figure.Figure`; :func:`sd_env.experiments.output.figures.save_figure` writes one.
Figures are built without ``pyplot`` (no global state, no display: the Agg
renderer only), so reports can be made from worker processes and headless
machines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sd_env.experiments.output.numbers import format_number

#: Colour map of the heat maps (perceptually uniform, readable in grey).
CMAP = "viridis"
#: Colour of war years in trajectory plots.
WAR_COLOUR = "#d62728"


def _grid_shape(count: int) -> tuple[int, int]:
    columns = count if count <= 3 else int(np.ceil(np.sqrt(count)))
    return int(np.ceil(count / columns)), columns


def _axes(figure: Figure, rows: int, columns: int, **kwargs) -> list:
    axes = figure.subplots(rows, columns, squeeze=False, **kwargs)
    return list(axes.ravel())


# ---------------------------------------------------------------------------
# Heat maps


def heatmap_figure(
    panels: Sequence[tuple[str, np.ndarray]],
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    x_title: str,
    y_title: str,
    colorbar_title: str,
    title: str,
    value_range: tuple[float, float] | None = None,
) -> Figure:
    """One heat map per panel, ``values[y, x]``, on one colour scale with a labelled colour bar.

    Each square is annotated with its value; NaN squares are hatched grey and read "n/a". ``value_range`` fixes
    the colour scale (``(0, 1)`` for shares, so that equal colours mean equal shares in every figure); None fits
    it to the values.
    """
    rows, columns = _grid_shape(len(panels))
    title_lines = max((title.count("\n") + 1 if title else 0) for title, _ in panels)
    width = max(3.2, 0.9 * len(x_labels) + 1.4) + 0.075 * max(map(len, y_labels))
    height = max(2.8, 0.55 * len(y_labels) + 1.9) + 0.18 * title_lines
    figure = Figure(figsize=(width * columns + 1.2, height * rows + 0.6), layout="constrained")
    axes = _axes(figure, rows, columns)
    finite = np.concatenate([np.asarray(values, float).ravel() for _, values in panels])
    finite = finite[np.isfinite(finite)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if value_range is not None:
        low, high = value_range
    if high <= low:
        low, high = low - 0.5 * max(abs(low), 1e-9), high + 0.5 * max(abs(high), 1e-9)
    norm = Normalize(low, high)
    image = None
    for number, (axis, (panel_title, values)) in enumerate(zip(axes, panels)):
        values = np.asarray(values, dtype=float)
        masked = np.ma.masked_invalid(values)
        axis.set_facecolor("#dddddd")
        image = axis.imshow(masked, cmap=CMAP, norm=norm, origin="lower", aspect="auto")
        for (y, x), value in np.ndenumerate(values):
            if np.isfinite(value):
                red, green, blue, _ = image.cmap(norm(value))
                colour = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
            else:
                colour = "#555555"
            axis.text(x, y, format_number(value, 3, plain_from=None), ha="center", va="center", fontsize=9, color=colour)
        axis.set_xticks(range(len(x_labels)), x_labels, rotation=30 if max(map(len, x_labels)) > 5 else 0)
        axis.set_yticks(range(len(y_labels)), y_labels)
        axis.set_xlabel(x_title)
        if number % columns == 0:
            axis.set_ylabel(y_title)
        if panel_title:
            axis.set_title(panel_title, fontsize=10)
    for axis in axes[len(panels):]:
        axis.set_visible(False)
    colorbar = figure.colorbar(image, ax=axes[: len(panels)], shrink=0.9)
    colorbar.set_label(colorbar_title)
    figure.suptitle(title, fontsize=11)
    return figure


# ---------------------------------------------------------------------------
# Line charts (a one-parameter grid)


@dataclass
class LineSeries:
    """One line: per x value the seed mean, interval bounds (NaN: none) and every seed's value."""

    label: str
    means: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    points: Sequence[np.ndarray]


@dataclass
class LinePanel:
    """One measure over one parameter: one or more lines."""

    title: str
    y_title: str
    series: Sequence[LineSeries]


def line_figure(x_values: Sequence, x_labels: Sequence[str], numeric: bool, x_title: str,
                panels: Sequence[LinePanel], title: str, legend_title: str = "") -> Figure:
    """Seed means with 95% intervals (error bars) and each seed's value (dots), one panel per measure."""
    rows, columns = _grid_shape(len(panels))
    figure = Figure(figsize=(4.2 * columns, 3.4 * rows + 0.6), layout="constrained")
    axes = _axes(figure, rows, columns)
    positions = np.asarray(x_values, dtype=float) if numeric else np.arange(len(x_values), dtype=float)
    spread = float(np.ptp(positions)) if positions.size > 1 else 1.0
    several = max(len(panel.series) for panel in panels) > 1
    for axis, panel in zip(axes, panels):
        for number, series in enumerate(panel.series):
            colour = f"C{number % 10}"
            shift = (number - (len(panel.series) - 1) / 2) * 0.015 * spread
            lower = np.where(np.isfinite(series.lows), series.means - series.lows, 0.0)
            upper = np.where(np.isfinite(series.highs), series.highs - series.means, 0.0)
            axis.errorbar(positions + shift, series.means, yerr=[np.clip(lower, 0, None), np.clip(upper, 0, None)],
                          marker="o", capsize=4, color=colour,
                          label=series.label if several else "mean over seeds, 95% CI")
            for position, values in zip(positions, series.points):
                values = np.asarray(values, dtype=float)
                jitter = (np.linspace(-1, 1, values.size) if values.size > 1 else np.zeros(values.size)) * 0.01 * spread
                axis.scatter(position + shift + jitter, values, s=10, color=colour, alpha=0.45, zorder=3,
                             label="one seed" if not several and position == positions[0] else None)
        axis.set_xticks(positions, x_labels)
        axis.set_xlabel(x_title)
        axis.set_ylabel(panel.y_title)
        axis.set_title(panel.title, fontsize=10)
        axis.grid(alpha=0.3)
    for axis in axes[len(panels):]:
        axis.set_visible(False)
    if several:
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, title=legend_title, loc="outside lower center", ncols=2, fontsize=8,
                      title_fontsize=8)
    else:
        axes[0].legend(fontsize=8, loc="best")
    figure.suptitle(title, fontsize=11)
    return figure


# ---------------------------------------------------------------------------
# Bar charts with intervals (the Jervis worlds)


@dataclass
class BarPanel:
    """One measure: ``means[hue][group]`` with interval bounds of the same shape."""

    title: str
    y_title: str
    means: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    #: The y axis's fixed (bottom, top), e.g. (0, 1) for shares; None: fitted to the data.
    y_range: tuple[float, float] | None = None


def bar_figure(group_labels: Sequence[str], hue_labels: Sequence[str], hue_title: str,
               panels: Sequence[BarPanel], title: str, columns: int | None = None) -> Figure:
    """Grouped bars (groups on the x axis, one bar per hue) with 95% interval error bars, one panel per measure,
    in ``columns`` columns (None: up to three, two for four panels)."""
    columns = columns or min(len(panels), 2 if len(panels) == 4 else 3)
    rows = int(np.ceil(len(panels) / columns))
    figure = Figure(figsize=(max(4.6, 1.2 * len(group_labels) * max(1, len(hue_labels)) ** 0.5) * columns,
                             3.6 * rows + 0.8), layout="constrained")
    axes = _axes(figure, rows, columns)
    hues = max(1, len(hue_labels))
    width = 0.8 / hues
    centres = np.arange(len(group_labels), dtype=float)
    for axis, panel in zip(axes, panels):
        for hue in range(hues):
            means = np.asarray(panel.means[hue], dtype=float)
            lower = np.where(np.isfinite(panel.lows[hue]), means - panel.lows[hue], 0.0)
            upper = np.where(np.isfinite(panel.highs[hue]), panel.highs[hue] - means, 0.0)
            offsets = centres + (hue - (hues - 1) / 2) * width
            axis.bar(offsets, np.nan_to_num(means), width=width * 0.95, color=f"C{hue}",
                     label=hue_labels[hue] if hue_labels else None)
            axis.errorbar(offsets, means, yerr=[np.clip(lower, 0, None), np.clip(upper, 0, None)], fmt="none",
                          ecolor="black", capsize=3, linewidth=1)
            for offset, mean in zip(offsets, means):
                if not np.isfinite(mean):
                    axis.text(offset, 0, "n/a", ha="center", va="bottom", fontsize=8)
        axis.set_xticks(centres, group_labels, fontsize=8)
        axis.set_ylabel(panel.y_title)
        if panel.y_range is not None:
            axis.set_ylim(*panel.y_range)
        axis.set_title(panel.title, fontsize=10)
        axis.grid(axis="y", alpha=0.3)
        axis.set_axisbelow(True)
    for axis in axes[len(panels):]:
        axis.set_visible(False)
    if hue_labels and len(hue_labels) > 1:
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, title=hue_title, loc="outside lower center", ncols=min(len(labels), 3),
                      fontsize=8, title_fontsize=8)
    figure.suptitle(title, fontsize=11)
    return figure


# ---------------------------------------------------------------------------
# Drift curves


@dataclass
class DriftLine:
    """One cell (or run): per measure, the mean over seeds at each checkpoint and the interval bounds."""

    label: str
    timesteps: np.ndarray
    means: dict[str, np.ndarray]
    lows: dict[str, np.ndarray]
    highs: dict[str, np.ndarray]


def drift_figure(measures: Sequence[tuple[str, str, str]], lines: Sequence[DriftLine], title: str,
                 legend_title: str) -> Figure:
    """Measures against agent-steps trained, one line (with a shaded interval) per cell, one panel per measure.

    ``measures``: ``(name, panel title, y axis title)``.
    """
    rows, columns = _grid_shape(len(measures))
    figure = Figure(figsize=(4.4 * columns, 3.3 * rows + 0.4 + 0.25 * ((len(lines) + 1) // 2)),
                    layout="constrained")
    axes = _axes(figure, rows, columns)
    for axis, (name, panel_title, y_title) in zip(axes, measures):
        for number, line in enumerate(lines):
            colour = f"C{number % 10}"
            axis.plot(line.timesteps, line.means[name], marker="o", markersize=3, color=colour, label=line.label)
            low, high = line.lows[name], line.highs[name]
            if np.isfinite(low).any():
                axis.fill_between(line.timesteps, low, high, color=colour, alpha=0.18, linewidth=0)
        axis.set_xlabel("agent-steps trained")
        axis.set_ylabel(y_title)
        axis.set_title(panel_title, fontsize=10)
        axis.grid(alpha=0.3)
        axis.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
    for axis in axes[len(measures):]:
        axis.set_visible(False)
    if len(lines) > 1:
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, title=legend_title, loc="outside lower center", ncols=2, fontsize=8,
                      title_fontsize=8)
    figure.suptitle(title, fontsize=11)
    return figure


# ---------------------------------------------------------------------------
# Trajectories


@dataclass
class TrajectoryPanel:
    """One episode: arms (T, N), alive (T, N), attacks (T, N, N), greedy (N,)."""

    title: str
    arms: np.ndarray
    alive: np.ndarray
    attacks: np.ndarray
    greedy: np.ndarray


def trajectory_figure(panels: Sequence[TrajectoryPanel], title: str) -> Figure:
    """Each state's total arms over the years of one episode; war years shaded, attacks and eliminations marked."""
    rows, columns = _grid_shape(len(panels))
    figure = Figure(figsize=(4.8 * columns, 3.4 * rows + 0.9), layout="constrained")
    axes = _axes(figure, rows, columns)
    for axis, panel in zip(axes, panels):
        years = np.arange(1, panel.arms.shape[0] + 1)
        war = panel.attacks.any(axis=(1, 2))
        for year in years[war]:
            axis.axvspan(year - 0.5, year + 0.5, color=WAR_COLOUR, alpha=0.15, linewidth=0)
        for state in range(panel.arms.shape[1]):
            colour = f"C{state % 10}"
            arms = np.where(panel.alive[:, state], panel.arms[:, state], np.nan)
            kind = "greedy" if panel.greedy[state] else "security seeker"
            axis.plot(years, arms, color=colour, linewidth=1.6, label=f"state_{state} ({kind})")
            attacking = panel.attacks[:, state].any(axis=1) & panel.alive[:, state]
            axis.plot(years[attacking], arms[attacking], linestyle="none", marker="x", color=colour, markersize=6)
            died = np.flatnonzero(panel.alive[:-1, state] & ~panel.alive[1:, state])
            axis.plot(years[died], panel.arms[died, state], linestyle="none", marker="o", markerfacecolor="white",
                      color="black", markersize=6)
        axis.set_xlabel("year of the episode")
        axis.set_ylabel("arms stock (arms units)")
        axis.set_title(panel.title, fontsize=9)
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        # Under the panel, off the curves (inside, it covered the first years, where arming and wars begin).
        axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, frameon=False)
    for axis in axes[len(panels):]:
        axis.set_visible(False)
    keys = [Patch(color=WAR_COLOUR, alpha=0.25, label="year at war (any attack)"),
            Line2D([], [], linestyle="none", marker="x", color="grey", label="state attacked that year"),
            Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", color="black",
                   label="state eliminated")]
    figure.legend(handles=keys, loc="outside lower center", ncols=3, fontsize=8)
    figure.suptitle(title, fontsize=11)
    return figure
