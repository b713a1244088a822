"""The text of evaluation results: ``sd-env evaluate``, ``crossplay`` and ``exploit`` tables, an episode year by
year, short labels of policy specs. Reads results computed by :mod:`sd_env.experiments.lab.evaluation` and
:mod:`sd_env.experiments.studies.exploit`; computes nothing of its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sd_env.experiments.lab.evaluation import CROSSPLAY_HEADLINE, Crossplay, Evaluation
from sd_env.experiments.lab.measures import EPISODE_MEASURES
from sd_env.experiments.lab.rollout import Rollout
from sd_env.experiments.lab.seating import asymmetries
from sd_env.experiments.output.numbers import format_number
from sd_env.params import EnvParams


def actions_text(actions: str) -> str:
    """How learned policies acted, in words: ``learned actions sampled`` or ``learned actions most likely``."""
    return "learned actions sampled" if actions == "stochastic" else "learned actions most likely (deterministic)"


def seats_note(params: EnvParams, seats: Sequence[int]) -> str:
    """One line saying which seats the focal policy played, and why."""
    reasons = asymmetries(params)
    if reasons:
        return (f"focal seats: every seat in turn (asymmetric scenario: {', '.join(reasons)}); "
                "measures pooled over (seat, episode)")
    if len(seats) > 1:
        return "focal seats: every seat in turn (--every-seat); measures pooled over (seat, episode)"
    return "focal seat: state_0 only (symmetric scenario: every seat is alike; --every-seat plays each in turn)"


def evaluation_text(evaluation: Evaluation) -> str:
    """The measures as a text table: value, interval, unit; per focal seat where there are several."""
    seats = evaluation.seats
    lines = [
        f"{evaluation.policy!r} against {evaluation.opponent!r}"
        f"{' (itself)' if evaluation.opponent == evaluation.policy else ''} in scenario {evaluation.scenario!r}"
        f"{' with ' + ', '.join(f'{k}={v}' for k, v in evaluation.overrides.items()) if evaluation.overrides else ''}"
        f": {evaluation.episodes} episodes per focal seat, seed {evaluation.seed}, {actions_text(evaluation.actions)}",
        seats_note(evaluation.params, seats),
        f"of: focal = the focal state(s), game = the whole game; {evaluation.confidence:.0%} bootstrap intervals "
        "over episodes",
        "",
    ]
    width = max(len(name) for name in EPISODE_MEASURES)
    means = {name: format_number(row["mean"]) for name, row in evaluation.measures.items()}
    bounds = {name: f"[{format_number(row['ci_low'])}, {format_number(row['ci_high'])}]"
              for name, row in evaluation.measures.items()}
    seat_means = {seat: {name: format_number(row["mean"]) for name, row in table.items()}
                  for seat, table in evaluation.per_seat.items()}
    mean_width = max(6, *(len(text) for text in means.values()))
    bound_width = max(8, *(len(text) for text in bounds.values()))
    seat_width = max(9, *(len(text) + 2 for table in seat_means.values() for text in table.values()))
    header = f"{'measure':<{width}}  {'of':<5}  {'mean':>{mean_width}}  {'interval':<{bound_width}}"
    if len(seats) > 1:
        header += "".join(f"{'state_' + str(seat):>{seat_width}}" for seat in seats)
    lines.append(header + "  unit")
    for name, measure in EPISODE_MEASURES.items():
        line = (f"{name:<{width}}  {'focal' if measure.per_seat else 'game':<5}  {means[name]:>{mean_width}}  "
                f"{bounds[name]:<{bound_width}}")
        if len(seats) > 1:
            line += "".join(f"{seat_means[seat][name]:>{seat_width}}" for seat in seats)
        lines.append(line + f"  {measure.unit}")
    return "\n".join(lines)



def trajectory_paths(path: str | Path, seats: Sequence[int]) -> dict[int, Path]:
    """Where ``--save-trajectories`` writes each focal seat's rollout: ``path`` itself for one seat,
    ``STEM.state_S.npz`` beside it for several."""
    path = Path(path)
    if len(seats) == 1:
        return {seats[0]: path}
    return {seat: path.with_name(f"{path.stem}.state_{seat}{path.suffix or '.npz'}") for seat in seats}



def episode_text(result: Rollout, labels: Sequence[str], episode: int = 0) -> str:
    """One episode, one line per year: each state's wealth, total arms and burden, and the year's attacks.

    Values are those at the start of the year (burden: chosen that year); ``-`` after elimination.
    """
    n = result.params.n_states
    types = ", ".join(f"state_{i} {'greedy' if result.greedy[episode, i] else 'security seeker'}" for i in range(n))
    lines = [f"episode {episode + 1} of {result.episodes}: " + "; ".join(
        f"state_{i} = {label}" for i, label in enumerate(labels)), f"types (private): {types}", ""]
    group = 25
    lines.append(f"{'year':>4}  " + "".join(f"{'state_' + str(i):^{group}}" for i in range(n)) + "  attacks (outcome)")
    lines.append(f"{'':>4}  " + f"{'wealth':>8}{'arms':>9}{'burden':>8}" * n)
    for year in range(result.years):
        cells = []
        for i in range(n):
            if result.alive[year, episode, i]:
                cells.append(f"{result.wealth[year, episode, i]:>8.2f}{result.arms[year, episode, i]:>9.2f}"
                             f"{result.burden[year, episode, i]:>8.2f}")
            else:
                cells.append(f"{'-':>8}{'-':>9}{'-':>8}")
        events = []
        for i, j in zip(*np.nonzero(result.attacks[year, episode])):
            outcome = "won" if result.victories[year, episode, i, j] else "repelled"
            events.append(f"state_{i}->state_{j} {outcome}")
        events += [f"state_{i} eliminated" for i in np.nonzero(result.eliminated[year, episode])[0]]
        lines.append(f"{year:>4}  " + "".join(cells) + "  " + ("; ".join(events) or "-"))
    return "\n".join(lines)


def seat_labels(n_states: int, seat: int, policy: str, opponent: str) -> list[str]:
    return [f"{policy} (focal)" if i == seat else opponent for i in range(n_states)]


def short_labels(specs: Sequence[str]) -> list[str]:
    """Short names for tables: a baseline's stance, a checkpoint's file or folder name; full specs if they clash."""
    labels = []
    for spec in specs:
        if spec.startswith("baseline:"):
            labels.append(spec[len("baseline:"):])
        elif "/" in spec or spec.endswith(".zip"):
            path = Path(spec)
            labels.append(path.parent.name + "/" + path.name if path.name in ("policy.zip", "rllib") else path.name)
        elif ":" in spec:
            labels.append(spec.rsplit(":", 1)[1])
        else:
            labels.append(spec)
    return labels if len(set(labels)) == len(labels) else list(specs)



def crossplay_text(result: Crossplay) -> str:
    labels = short_labels(result.policies)
    width = max(12, *(len(label) + 2 for label in labels))
    lines = [f"crossplay in scenario {result.scenario!r}"
             f"{' with ' + ', '.join(f'{k}={v}' for k, v in result.overrides.items()) if result.overrides else ''}"
             f": {result.episodes} episodes per cell and focal seat, seed {result.seed}, "
             f"{actions_text(result.actions)}",
             seats_note(result.params, result.seats),
             "rows: focal policy; columns: the opponent in every other seat "
             f"({result.confidence:.0%} intervals of every measure in --json)"]
    if labels != list(result.policies):
        lines.append("policies: " + ", ".join(f"{label} = {spec}" for label, spec in zip(labels, result.policies)
                                              if label != spec))
    for name in CROSSPLAY_HEADLINE:
        measure = EPISODE_MEASURES[name]
        lines += ["", f"{name} ({'of the focal state' if measure.per_seat else 'of the whole game'}, {measure.unit}):",
                  f"{'':<{width}}" + "".join(f"{label:>{width}}" for label in labels)]
        for row, label in enumerate(labels):
            lines.append(f"{label:<{width}}" + "".join(
                f"{format_number(value):>{width}}" for value in result.measures[name]["mean"][row]))
    return "\n".join(lines)


def exploit_text(report: Mapping[str, Any], seconds: float) -> str:
    def cell(values: Mapping[str, float | None]) -> str:
        return (f"{format_number(values['mean']):>9}  [{format_number(values['ci_low'])}, "
                f"{format_number(values['ci_high'])}]")

    ppo = report["ppo"]
    opponents = report["opponent_welfare"]
    lines = [
        f"best response to {report['policy']!r} in scenario {report['scenario']!r}"
        f"{' with ' + ', '.join(f'{k}={v}' for k, v in report['overrides'].items()) if report['overrides'] else ''}:"
        f" PPO as state_{report['seat']}, every other seat the frozen policy, {report['timesteps']} agent-steps "
        f"(budget {report['budget']}; {ppo['num_envs']} environments x {ppo['n_steps']} steps per update) "
        f"in {seconds:.1f} s, seed {report['seed']}",
        f"evaluation: {report['episodes']} held-out episodes (seed {report['evaluation_seed']}, the frozen policy's "
        f"{actions_text(report.get('actions', 'deterministic'))}), "
        f"state_{report['seat']}'s mean "
        f"episode return (reward units), {report['confidence']:.0%} bootstrap intervals",
        "",
        f"{'best response vs frozen policy':<34}{cell(report['best_response_welfare'])}",
        f"{'frozen policy vs itself':<34}{cell(report['self_play_welfare'])}",
        f"{'exploitability (difference)':<34}{cell(report['exploitability'])}",
    ]
    for name, gain in (report.get("by_type") or {}).items():
        label = "  as a security seeker" if name == "security_seeker" else "  as a greedy state"
        if gain is None:
            lines.append(f"{label:<34}{'n/a':>9}  (the seat never had this type)")
            continue
        lines.append(f"{label:<34}{cell({'mean': gain['gain'], 'ci_low': gain['ci_low'], 'ci_high': gain['ci_high']})}"
                     f"  {format_number(gain['relative'], decimals=3)} of mutual restraint's return, "
                     f"{gain['episodes']} episodes")
    for name, gain in (report.get("strongest") or {}).items():
        if gain is not None and gain["by"] != "best_response":
            label = "a security seeker" if name == "security_seeker" else "a greedy state"
            lines.append(f"  scripted {gain['by']!r} gains more as {label}: {format_number(gain['gain'])} "
                         f"[{format_number(gain['ci_low'])}, {format_number(gain['ci_high'])}], "
                         f"{format_number(gain['relative'], decimals=3)} of mutual restraint's return")
    if opponents["best_response"] is not None:
        lines.append(f"(the frozen policy's own welfare in the other seats: {format_number(opponents['self_play'])} "
                     f"against itself, {format_number(opponents['best_response'])} against the best response)")
    lines.append("A best response trained with a finite budget only bounds the exploitability from below.")
    return "\n".join(lines)
