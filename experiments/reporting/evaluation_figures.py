"""The figures of evaluation results: one episode and the mean arms of ``sd-env evaluate``, the heat maps of
``sd-env crossplay``. Each function returns a ``matplotlib.figure.Figure`` (no pyplot);
:func:`sd_env.experiments.output.figures.save_figure` writes it."""

from __future__ import annotations

import warnings

import numpy as np

from sd_env.experiments.lab.evaluation import CROSSPLAY_HEADLINE, Crossplay, Evaluation
from sd_env.experiments.lab.measures import EPISODE_MEASURES
from sd_env.experiments.output.numbers import format_number
from sd_env.experiments.reporting.evaluation_text import actions_text, seat_labels, short_labels
from sd_env.experiments.reporting.figures import WAR_COLOUR


#: A legend below its panel's x-axis label, centred: off the data.
_UNDER_PANEL = {"fontsize": 8, "loc": "upper center", "bbox_to_anchor": (0.5, -0.13), "frameon": False}


def _war_spans(axis, at_war: np.ndarray, label: str) -> None:
    """Shade the years in which ``at_war`` is True (one legend entry)."""
    years = np.flatnonzero(at_war)
    for index, year in enumerate(years):
        axis.axvspan(year - 0.5, year + 0.5, color=WAR_COLOUR, alpha=0.18, lw=0, label=label if index == 0 else None)


def evaluation_figure(evaluation: Evaluation, episode: int = 0):
    """Arms of each state over the years in one episode (wars shaded), their mean over every episode with the
    share of episodes at war, and the measures in shares with their intervals."""
    from matplotlib.figure import Figure

    game = evaluation.games[0]
    result, n = game.result, evaluation.params.n_states
    labels = seat_labels(n, game.seat, short_labels([evaluation.policy])[0], short_labels([evaluation.opponent])[0])
    years = np.arange(result.years)
    figure = Figure(figsize=(13, 8.5), layout="constrained")
    grid = figure.add_gridspec(2, 2, height_ratios=(1, 1.05))
    single, mean = figure.add_subplot(grid[0, 0]), figure.add_subplot(grid[0, 1])
    shares = figure.add_subplot(grid[1, :])

    at_war = result.attacks[:, episode].any(axis=(1, 2))
    _war_spans(single, at_war, "war year")
    for i in range(n):
        alive = result.alive[:, episode, i]
        arms = np.where(alive, result.arms[:, episode, i], np.nan)
        single.plot(years, arms, color=f"C{i}", lw=2 if i == game.seat else 1.3, label=f"state_{i}: {labels[i]}")
        dead = np.flatnonzero(result.eliminated[:, episode, i])
        if dead.size:
            single.plot(dead, result.arms[dead, episode, i], "x", color="black", ms=9, mew=2)
    single.set_xlabel("year")
    single.set_ylabel("total arms stock (arms units)")
    single.set_title(f"episode {episode + 1}: arms of each state (x: eliminated)", fontsize=10)
    single.set_xlim(-0.5, result.years - 0.5)
    # Legends under the panels, off the data (a legend inside covered the first years, where wars begin).
    single.legend(**_UNDER_PANEL, ncols=min(3, n + 1))

    for i in range(n):
        arms = np.where(result.alive[:, :, i], result.arms[:, :, i], np.nan)
        with warnings.catch_warnings():  # years after every episode's state died: all-NaN slices
            warnings.simplefilter("ignore", RuntimeWarning)
            middle = np.nanmean(arms, axis=1)
            low, high = np.nanpercentile(arms, 10, axis=1), np.nanpercentile(arms, 90, axis=1)
        mean.plot(years, middle, color=f"C{i}", lw=2 if i == game.seat else 1.3, label=f"state_{i}: {labels[i]}")
        if n <= 2:  # more bands than two hide each other
            mean.fill_between(years, low, high, color=f"C{i}", alpha=0.15, lw=0)
    mean.set_xlabel("year")
    mean.set_ylabel("total arms stock (arms units)")
    mean.set_xlim(-0.5, result.years - 0.5)
    mean.set_title(f"mean over {result.episodes} episodes of the living states"
                   f"{' (band: 10th-90th percentile)' if n <= 2 else ''}", fontsize=10)
    war_share = mean.twinx()
    war_share.bar(years, result.attacks.any(axis=(2, 3)).mean(axis=1), width=1.0, color=WAR_COLOUR, alpha=0.25,
                  label="episodes at war")
    war_share.set_ylim(0, 1)
    war_share.set_ylabel("share of episodes at war", color=WAR_COLOUR)
    war_share.tick_params(axis="y", colors=WAR_COLOUR)
    mean.set_zorder(war_share.get_zorder() + 1)
    mean.patch.set_visible(False)
    handles, names = mean.get_legend_handles_labels()
    extra_handles, extra_names = war_share.get_legend_handles_labels()
    mean.legend(handles + extra_handles, names + extra_names, **_UNDER_PANEL, ncols=min(3, n + 1))

    # Measures bounded by 0 and 1 (shares, probabilities, rates per pair-year); not growth rates.
    names = [name for name, m in EPISODE_MEASURES.items() if m.unit != "share per year" and (
             m.unit.startswith("share") or m.unit in ("probability", "1 - Gini", "attacks per pair-year"))]
    values = np.array([evaluation.measures[name]["mean"] for name in names])
    lows = np.array([evaluation.measures[name]["ci_low"] for name in names])
    highs = np.array([evaluation.measures[name]["ci_high"] for name in names])
    positions = np.arange(len(names))[::-1]
    finite = np.isfinite(values)
    errors = [np.where(np.isfinite(lows), values - lows, 0.0), np.where(np.isfinite(highs), highs - values, 0.0)]
    shares.errorbar(values[finite], positions[finite], xerr=[e[finite].clip(0) for e in errors], fmt="o",
                    color="C0", capsize=3)
    for position, value, ok in zip(positions, values, finite):  # a value above its dot; "n/a" on its own row
        shares.text(value + 0.01 if ok else 0.0, position + 0.15 if ok else position,
                    format_number(value) if ok else "n/a (none in these episodes)", fontsize=7, color="#333333",
                    va="bottom" if ok else "center")
    shares.set_yticks(positions, [f"{name} ({'focal' if EPISODE_MEASURES[name].per_seat else 'game'}, "
                                  f"{EPISODE_MEASURES[name].unit})" for name in names], fontsize=8)
    shares.set_xlim(-0.02, 1.05)
    shares.set_xlabel(f"value (a share or probability, 0 to 1); bars: {evaluation.confidence:.0%} bootstrap interval")
    shares.grid(axis="x", alpha=0.3)
    welfare = evaluation.measures["welfare"]
    seats = ", ".join(f"state_{seat}" for seat in evaluation.seats)
    whose = f"pooled over focal seats {seats}" if len(evaluation.seats) > 1 else f"focal seat {seats}"
    shares.set_title(f"measures between 0 and 1, {whose}"
                     f" (welfare of the focal state: {format_number(welfare['mean'])} reward units, "
                     f"[{format_number(welfare['ci_low'])}, {format_number(welfare['ci_high'])}])", fontsize=10)
    figure.suptitle(f"{evaluation.policy} against {evaluation.opponent}, scenario {evaluation.scenario!r}, "
                    f"{evaluation.episodes} episodes, seed {evaluation.seed}, {actions_text(evaluation.actions)} "
                    f"(top: focal in state_{game.seat})",
                    fontsize=11)
    return figure


def crossplay_figure(result: Crossplay):
    """Heat maps of welfare, military burden and war years: rows focal policy, columns opponent."""
    from matplotlib.figure import Figure

    labels = short_labels(result.policies)
    count = len(labels)
    size = max(3.2, 0.75 * count + 1.2)
    figure = Figure(figsize=(3 * size + 2.5, size + 1.2), layout="constrained")
    axes = figure.subplots(1, 3)
    colour_maps = {"welfare": "viridis", "military_burden": "magma_r", "war_years": "Reds"}
    for axis, name in zip(axes, CROSSPLAY_HEADLINE):
        measure = EPISODE_MEASURES[name]
        values = result.measures[name]["mean"]
        masked = np.ma.masked_invalid(values)
        axis.set_facecolor("#dddddd")
        image = axis.imshow(masked, cmap=colour_maps[name], aspect="auto")
        finite = values[np.isfinite(values)]
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        for (row, column), value in np.ndenumerate(values):
            bright = np.isfinite(value) and high > low and (value - low) / (high - low) > 0.5
            dark_text = bright if name == "welfare" else not bright
            axis.text(column, row, format_number(value, 3, plain_from=None), ha="center", va="center",
                      fontsize=9 if count <= 6 else 7,
                      color="black" if dark_text else "white")
        axis.set_xticks(range(count), labels, rotation=30 if max(map(len, labels)) > 6 else 0, ha="right"
                        if max(map(len, labels)) > 6 else "center")
        axis.set_yticks(range(count), labels if axis is axes[0] else [])
        axis.set_xlabel("opponent (every other seat)")
        if axis is axes[0]:
            axis.set_ylabel("focal policy")
        whose = "of the focal state" if measure.per_seat else "of the whole game"
        axis.set_title(f"{name} {whose}", fontsize=10)
        colorbar = figure.colorbar(image, ax=axis, shrink=0.85)
        colorbar.set_label(measure.unit)
    figure.suptitle(f"crossplay, scenario {result.scenario!r}: {result.episodes} episodes per cell, seed "
                    f"{result.seed}, {actions_text(result.actions)}", fontsize=11)
    return figure
