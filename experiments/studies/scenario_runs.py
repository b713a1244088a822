"""What learned agents do in a scenario, seat by seat: who arms, who attacks whom and when, who stands by whom.

``sd-env evaluate`` pools measures over seats; the historical scenarios need
them per seat, because the seats stand for different states (Sparta and
Athens, Russia and Ukraine, a patron and its allies). :func:`seat_behaviour`
reads a :class:`~sd_env.experiments.lab.rollout.Rollout` and returns, for every seat,
its burden, wealth share and fate, and for every ordered pair of seats the
attacks, victories, commitments, joins and reneges between them.

As a script it plays the trained runs of the historical scenarios (one
policy per seat, from ``sd-env train``; see
``experiments/configs/historical_cases.yaml``) and writes their results:

    python -m sd_env.experiments.studies.scenario_runs --runs runs --json docs/results/historical-cases.json \
        --doc docs/scenarios.md
    python -m sd_env.experiments.studies.scenario_runs --json docs/results/historical-cases.json --doc docs/scenarios.md --check

The JSON file keeps the numbers; the document's blocks are generated from it
(``--check`` fails when they differ), so the prose beside them can be checked
against numbers the code computed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.output.blocks import MissingMarkersError, update_blocks
from sd_env.experiments.lab.rollout import Rollout, rollout
from sd_env.experiments.lab.seating import PolicyCache
from sd_env.experiments.output.numbers import format_number
from sd_env.experiments.output.reading import read_json_mapping, read_yaml_mapping
from sd_env import __version__
from sd_env.params import EnvParams
from sd_env.scenarios import get_scenario, make_params

#: The trained runs the docs report, by run name (``runs/NAME``), with what each is for. The controls change
#: one thing in a case, so that what learned agents do there can be put down to it or not.
HISTORICAL_RUNS = {
    "thucydides": "the case",
    "russia-ukraine": "the case",
    "thaad-2016": "the case",
    "thucydides-equal-growth": "control: thucydides with both states growing at 2.5% a year (no power shift)",
    "thucydides-symmetric": "control: thucydides with equal growth (2.5%) and equal size (0.8): no asymmetry",
}
#: Generated block of one scenario's results in docs/scenarios.md.
BLOCK_PREFIX = "learned-"


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def seat_behaviour(result: Rollout) -> dict[str, Any]:
    """Per seat and per ordered pair of seats, means over the rollout's episodes.

    ``seats[i]``: ``burden`` (mean military burden over the years state i was alive), ``burden_greedy`` /
    ``burden_seeker`` (the same for episodes in which it was of that type; None if never), ``share_start`` /
    ``share_end`` (its share of all wealth in the first and last year), ``eliminated`` (share of episodes it
    was eliminated), ``return`` (mean episode return). ``pairs["i->j"]``: ``attacks`` (per episode),
    ``episodes_with_attack`` (share), ``first_attack_year`` (mean year of i's first attack on j, in episodes
    with one; None if none), ``victories`` (per episode), ``committed`` (share of the years both were alive
    that i was committed to defend j; None without commitment data), ``joins`` and ``reneges`` (per episode:
    i joined j's defence / abandoned j when j was attacked).
    """
    years, episodes, n = result.rewards.shape
    alive = result.alive
    wealth = np.where(alive, result.wealth, 0.0)
    share = wealth / wealth.sum(axis=2, keepdims=True)
    seats = []
    for i in range(n):
        lived = alive[:, :, i]
        greedy = np.broadcast_to(result.greedy[None, :, i], lived.shape)
        seats.append({
            "burden": _mean(result.burden[:, :, i][lived]),
            "burden_greedy": _mean(result.burden[:, :, i][lived & greedy]),
            "burden_seeker": _mean(result.burden[:, :, i][lived & ~greedy]),
            "share_start": float(share[0, :, i].mean()),
            "share_end": float(share[-1, :, i].mean()),
            "eliminated": float(result.eliminated[:, :, i].any(axis=0).mean()),
            "return": float(result.returns[:, i].mean()),
        })
    pairs = {}
    year_index = np.arange(years)[:, None]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            attacks = result.attacks[:, :, i, j]
            attacked = attacks.any(axis=0)
            first = np.where(attacks, year_index, years).min(axis=0)
            both = alive[:, :, i] & alive[:, :, j]
            pair = {
                "attacks": float(attacks.sum(axis=0).mean()),
                "episodes_with_attack": float(attacked.mean()),
                "first_attack_year": _mean(first[attacked].astype(float)),
                "victories": float(result.victories[:, :, i, j].sum(axis=0).mean()),
                "committed": None if result.commitments is None else _mean(result.commitments[:, :, i, j][both]),
                "joins": None if result.joins is None else float(result.joins[:, :, i, j].sum(axis=0).mean()),
                "reneges": None if result.reneges is None else float(result.reneges[:, :, i, j].sum(axis=0).mean()),
            }
            pairs[f"{i}->{j}"] = pair
    return {"episodes": episodes, "years": years, "seats": seats, "pairs": pairs}


def run_params(run: Path):
    """The parameters run directory ``run`` was trained with (its ``config.yaml``: scenario and overrides)."""
    config = read_yaml_mapping(run / "config.yaml")
    return make_params(config.get("scenario", "bilateral"), **(config.get("env") or {}))


def learned_seats(run: Path) -> tuple[EnvParams, list]:
    """The parameters of run directory ``run`` and each seat's own learned policy (``policy_state_i.zip``)."""
    params = run_params(run)
    # The published results were played with the most likely actions; so are these, to stay comparable.
    return params, PolicyCache(params, actions="deterministic").seat([str(run)] * params.n_states)


def play_run(run: Path, episodes: int, seed: int) -> Rollout:
    """Each seat played by its own learned policy from run directory ``run``."""
    params, seats = learned_seats(run)
    return rollout(params, seats, episodes, seed)


#: Scripted stances tried in each seat in place of its learned policy (:func:`seat_alternatives`).
ALTERNATIVES = ("dove", "defender", "deterrer", "reciprocator", "hawk")


def seat_alternatives(params: EnvParams, learned: list, played: Rollout, seed: int,
                      stances=ALTERNATIVES) -> list[dict[str, dict[str, float]]]:
    """For every seat, its mean episode return with its learned policy (``played``: the learned policies in
    every seat, rolled out with ``seed``) and with each scripted stance in its place, every other seat keeping
    its learned policy (the same episodes and seed: common random numbers).

    ``[seat][name] = {"mean", "gain", "gain_se"}``: the mean return, and for a stance the mean paired gain over
    the learned policy with its standard error. A stance that earns clearly more (gain above twice its
    standard error) shows that the learned policy is not a best response to the others: where that happens,
    what the agents do is the learning's doing, not the model's.
    """
    from sd_env.stances import make_policy

    baseline = played.returns
    episodes = played.episodes
    table = []
    for seat in range(params.n_states):
        row = {"learned": {"mean": float(baseline[:, seat].mean())}}
        for stance in stances:
            seats = [make_policy(stance, params) if i == seat else policy for i, policy in enumerate(learned)]
            returns = rollout(params, seats, episodes, seed).returns[:, seat]
            gain = returns - baseline[:, seat]
            row[stance] = {"mean": float(returns.mean()), "gain": float(gain.mean()),
                           "gain_se": float(gain.std(ddof=1) / np.sqrt(len(gain)))}
        table.append(row)
    return table


def _run_facts(run: Path) -> dict[str, Any]:
    """What the run directory says of its training: algorithm and seed (config.yaml), agent-steps of each
    learner and seconds (metrics.json), the sd-env version it was trained with (run.json)."""
    facts: dict[str, Any] = {"run": run.name}
    if (run / "config.yaml").is_file():
        config = read_yaml_mapping(run / "config.yaml")
        facts.update({key: config[key] for key in ("scenario", "env", "algorithm", "seed", "total_timesteps")
                      if key in config})
    if (run / "metrics.json").is_file():
        metrics = read_json_mapping(run / "metrics.json")
        facts.update({key: metrics[key] for key in ("timesteps", "training_seconds") if key in metrics})
    if (run / "run.json").is_file():
        facts["trained_with"] = read_json_mapping(run / "run.json").get("versions", {}).get("sd-env")
    return facts


def evaluate_runs(runs: Path, episodes: int, seed: int, names=tuple(HISTORICAL_RUNS)) -> dict[str, Any]:
    """Every named run (``runs/NAME``) played for ``episodes`` episodes; the JSON-ready results."""
    results: dict[str, Any] = {
        "episodes": episodes, "seed": seed, "sd_env": __version__, "python": platform.python_version(),
        "runs": {},
    }
    for name in names:
        run = runs / name
        if not (run / "config.yaml").is_file():
            raise FileNotFoundError(f"no run directory {run} (with config.yaml); train it as "
                                    "experiments/configs/historical_cases.yaml shows")
        started = time.perf_counter()
        params, learned = learned_seats(run)  # loaded once, played once: the alternatives reuse the rollout
        played = rollout(params, learned, episodes, seed)
        behaviour = seat_behaviour(played)
        behaviour["alternatives"] = seat_alternatives(params, learned, played, seed)
        behaviour["evaluation_seconds"] = round(time.perf_counter() - started, 1)
        behaviour["training"] = _run_facts(run)
        behaviour["role"] = HISTORICAL_RUNS.get(name, "")
        results["runs"][name] = behaviour
    return results


def _cell(value: float | None, decimals: int = 2) -> str:
    """A number of the behaviour tables: fixed decimals, a dash where there is none."""
    return format_number(value, decimals=decimals, missing="–")


def behaviour_markdown(name: str, results: dict[str, Any]) -> str:
    """The generated block of one run: a table per seat and one of the pairs between which anything
    happened (attacks or commitments)."""
    data = results["runs"][name]
    training = data.get("training", {})
    names = get_scenario(training.get("scenario", name)).states if training.get("scenario") else ()
    steps = training.get("timesteps")
    overrides = ", ".join(f"`{key}={value}`" for key, value in (training.get("env") or {}).items())
    lines = [
        "Generated by `python -m sd_env.experiments.studies.scenario_runs` from `docs/results/historical-cases.json`: "
        f"the run "
        f"`{name}` (scenario `{training.get('scenario', '?')}`" + (f" with {overrides}" if overrides else "")
        + f"; `{training.get('algorithm', '?')}`"
        + (f", {sum(steps):,} agent-steps in all" if steps else "")
        + (f", {training['training_seconds']:.0f} s of training" if "training_seconds" in training else "")
        + f") played by its own policies in every seat, {results['episodes']} episodes, seed {results['seed']} "
        f"(sd-env {results['sd_env']}).",
        "",
        *([f"*{data['role'].capitalize()}.*", ""] if data.get("role", "").startswith("control") else []),
        "| seat | burden (greedy / seeker) | share of wealth, start → end | eliminated | return |",
        "|---|---|---|---|---|",
    ]
    for i, seat in enumerate(data["seats"]):
        label = f"`state_{i}` {names[i]}" if names else f"`state_{i}`"
        lines.append(
            f"| {label} | {_cell(seat['burden'])} ({_cell(seat['burden_greedy'])} / {_cell(seat['burden_seeker'])}) | "
            f"{_cell(seat['share_start'])} → {_cell(seat['share_end'])} | {_cell(seat['eliminated'])} | "
            f"{_cell(seat['return'], 1)} |"
        )
    rows = []
    for key, pair in data["pairs"].items():
        committed = pair["committed"] or 0.0
        if pair["attacks"] < 0.005 and committed < 0.005 and not (pair["joins"] or pair["reneges"]):
            continue
        i, j = (int(part) for part in key.split("->"))
        rows.append(
            f"| `state_{i}` → `state_{j}` | {_cell(pair['attacks'])} | {_cell(pair['episodes_with_attack'])} | "
            f"{_cell(pair['first_attack_year'], 1)} | {_cell(pair['victories'])} | {_cell(pair['committed'])} "
            f"| {_cell(pair['joins'])} | {_cell(pair['reneges'])} |"
        )
    lines.append("")
    if rows:
        lines += [
            "| pair (from → to) | attacks per episode | episodes with an attack | mean year of the first | "
            "victories per episode | committed (share of years) | joins per episode | reneges per episode |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    else:
        lines.append("No attacks and no commitments between any two seats.")
    if data.get("alternatives"):
        lines += [
            "",
            "Is each seat's learned policy a best response to the others? Its return, and the best of the scripted "
            f"stances ({', '.join(ALTERNATIVES)}) played in its place against the others' learned policies (same "
            "seeds):",
            "",
            "| seat | learned | best scripted stance in its place | gain from switching ± standard error |",
            "|---|---|---|---|",
        ]
        for i, row in enumerate(data["alternatives"]):
            best = max((stance for stance in row if stance != "learned"), key=lambda stance: row[stance]["mean"])
            gain, error = row[best]["gain"], row[best]["gain_se"]
            label = f"`state_{i}` {names[i]}" if names else f"`state_{i}`"
            lines.append(f"| {label} | {row['learned']['mean']:.1f} | {best} {row[best]['mean']:.1f} | "
                         f"{gain:+.1f} ± {error:.1f}{' (not a best response)' if gain > 2 * error else ''} |")
    return "\n".join(lines)


def _comparable(block: str) -> list[str]:
    return [line for line in block.strip().splitlines() if not line.startswith("Generated by")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", help="folder of the trained runs (runs/NAME for each scenario); without it, "
                                       "the document is written from the JSON file alone")
    parser.add_argument("--episodes", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="docs/results/historical-cases.json")
    parser.add_argument("--doc", default="docs/scenarios.md")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the document's blocks "
                                                             "differ from what the JSON file gives")
    args = parser.parse_args(argv)
    json_path = Path(args.json)
    if args.runs:
        try:
            results = evaluate_runs(Path(args.runs), args.episodes, args.seed)
        except FileNotFoundError as error:
            print(f"scenario_runs: error: {error}", file=sys.stderr)
            return 2
        write_text_atomic(json_path, json.dumps(results, indent=1) + "\n")
    elif not json_path.is_file():
        print(f"scenario_runs: error: no results file {json_path}; give --runs to evaluate trained runs",
              file=sys.stderr)
        return 2
    results = read_json_mapping(json_path, ("runs",))
    blocks = {BLOCK_PREFIX + name: behaviour_markdown(name, results) for name in results["runs"]}
    try:
        stale = update_blocks(args.doc, blocks, check=args.check, comparable=_comparable)
    except MissingMarkersError as error:
        print(f"scenario_runs: error: {error}", file=sys.stderr)
        return 2
    if args.check and stale:
        print(f"scenario_runs: stale blocks in {args.doc}: {', '.join(stale)}; run python -m "
              "sd_env.experiments.studies.scenario_runs", file=sys.stderr)
        return 1
    print(f"{'checked' if args.check else 'wrote'} {len(blocks)} block(s) of {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
