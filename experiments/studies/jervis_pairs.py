"""Learned agents in Jervis's four worlds: does distinguishability change what they learn to do?

    python -m sd_env.experiments.studies.jervis_pairs [--seeds 0 1 2] [--output-dir runs/jervis-pairs] [--doc docs/model.md]

Jervis (1978) pairs the worlds that differ only in whether offence and
defence can be told apart: world 1 against world 3 (offence dominant) and
world 2 against world 4 (defence dominant). For each world, seed and
training regime this trains PPO with ``sd-env train``'s machinery, then
plays the learned policy on held-out seeds and records military burden, war
share and *spiral wars* (a security seeker attacking a security seeker: the
security dilemma proper, countable only in simulation, where types are known).

Regimes:

- ``shared``: one PPO policy for both states in self-play (``shared_ppo``);
- ``population``: state_0 learns against a population that contains real
  threats: greedy hawks and, among security seekers, restrained, defensive
  and deterrent stances (``pool_ppo``); it is then evaluated meeting itself,
  two population-trained learners, and against that population;
- ``deterrer`` (no training): the scripted deterrer, which reads a rival's
  apparent arms, in the same two settings: what reading observations is
  worth to a fixed rule, beside what the learners make of it.

Runs are resumable: a finished (regime, world, seed) row is kept in
``results.csv`` and not run again; an interrupted training run resumes from its
last checkpoint. With ``--doc`` the summary (mean and spread over seeds) is
written between the marker lines of that file, so the numbers in the
documentation come from this code.
"""

from __future__ import annotations

import argparse
import io
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sd_env.agents.learned import PoolPolicy, SB3Policy
from sd_env.stances import make_policy
from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments import CONFIGS
from sd_env.experiments.training.config import load_config
from sd_env.experiments.lab.measures import summarize
from sd_env.experiments.lab.rollout import rollout
from sd_env.experiments.training.train import train
from sd_env.scenarios import make_params

WORLDS = ("jervis-1", "jervis-3", "jervis-2", "jervis-4")
#: The population of the ``population`` regime and of the evaluation against it: greedy rivals play hawk,
#: security seekers one of the restrained stances (type-conditional ``GREEDY/SEEKER`` stances).
POPULATION = ["hawk", "hawk/dove", "hawk/defender:burden=0.3", "hawk/deterrer"]
REGIMES: dict[str, list[str]] = {
    "shared": ["algorithm=shared_ppo"],
    "population": ["algorithm=pool_ppo", f"opponents=[{', '.join(POPULATION)}]"],
    "deterrer": [],
}
#: Agent-steps of training per regime (the defaults of ``--timesteps``).
TIMESTEPS = {"shared": 1_500_000, "population": 3_000_000, "deterrer": 0}
#: Measures reported per evaluation row (see ``sd_env.experiments.lab.measures.summarize``).
MEASURES = ("seeker_military_burden", "war_years", "seeker_attack_rate", "spiral_attack_rate",
            "eliminations_per_episode", "welfare")
START = "<!-- learned-jervis:start -->"
END = "<!-- learned-jervis:end -->"
CONFIG = CONFIGS / "quickstart.yaml"


def run_one(regime: str, world: str, seed: int, output_dir: Path, episodes: int, timesteps: int) -> list[dict]:
    """Train (or resume, or reuse a finished) run and evaluate its policy; one row per evaluation setting."""
    name = f"{regime}-{world}-seed{seed}"
    overrides = [f"scenario={world}", f"seed={seed}", f"name={name}", f"output_dir={output_dir}",
                 "progress_bar=false", "checkpoint_every=500000", f"total_timesteps={max(timesteps, 1)}",
                 *REGIMES[regime]]
    started = time.perf_counter()
    if regime == "deterrer":  # no training: the scripted reference
        params = make_params(world)
        policy = make_policy("deterrer", params, seed=seed)
    else:
        config = load_config(CONFIG, overrides)
        if not (config.run_dir / "metrics.json").is_file():
            train(config, resume=(config.run_dir / "config.yaml").is_file())
        params = config.env_params()
        policy = SB3Policy.load(config.run_dir / "policy.zip", params)
    seconds = time.perf_counter() - started
    evaluation_seed = 10_000 + seed  # held out: training used seeds near ``seed``
    settings = {
        "self-play": [policy] * params.n_states,
        "vs population": [policy] + [_population(params, seed)] * (params.n_states - 1),
    }
    rows = []
    for setting, seats in settings.items():
        focal = [0] if setting != "self-play" else None
        measures = summarize(rollout(params, seats, episodes, evaluation_seed), seats=focal)
        rows.append({"regime": regime, "world": world, "seed": seed, "setting": setting,
                     **{name: measures[name] for name in MEASURES}, "run_seconds": round(seconds, 1)})
    return rows


def _population(params, seed: int) -> PoolPolicy:
    return PoolPolicy(params, [make_policy(name, params, seed=seed) for name in POPULATION])


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds of every measure, per regime, setting and world."""
    grouped = results.groupby(["regime", "setting", "world"], sort=False)[list(MEASURES)]
    mean, spread, count = grouped.mean(), grouped.std(ddof=1), grouped.size()
    table = mean.copy().astype(object)
    for column in mean.columns:
        table[column] = [f"{m:.3f} ± {s:.3f}" if pd.notna(s) else f"{m:.3f}"
                         for m, s in zip(mean[column], spread[column])]
    table["seeds"] = count
    return table


def summary_markdown(results: pd.DataFrame, command: str, machine: str) -> str:
    table = summary_table(results).reset_index()
    header = "| regime | evaluated | world | " + " | ".join(MEASURES) + " | seeds |"
    lines = [
        f"Generated by `{command}` on {machine}. Cells: mean ± standard deviation over seeds of the "
        "policy's measures on held-out evaluation seeds (`evaluated` self-play: the policy in every seat; "
        "vs population: the policy as state_0 against "
        f"{', '.join(POPULATION)}, per-state measures of state_0 only).",
        "",
        header,
        "|" + "---|" * (len(MEASURES) + 4),
    ]
    for _, row in table.iterrows():
        cells = [row["regime"], row["setting"], f"`{row['world']}`", *[row[m] for m in MEASURES], str(row["seeds"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_block(doc: Path, block: str) -> None:
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{doc} lacks the marker lines {START} and {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    write_text_atomic(doc, f"{head}{START}\n{block}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--regimes", nargs="+", default=list(REGIMES), choices=list(REGIMES))
    parser.add_argument("--worlds", nargs="+", default=list(WORLDS), choices=list(WORLDS))
    parser.add_argument("--episodes", type=int, default=128, help="evaluation episodes per row")
    parser.add_argument("--timesteps", nargs=2, action="append", metavar=("REGIME", "STEPS"), default=[],
                        help=f"agent-steps of training of a regime (default: {TIMESTEPS})")
    parser.add_argument("--reevaluate", action="store_true",
                        help="evaluate finished runs again (new measures) instead of keeping their rows")
    parser.add_argument("--output-dir", default="runs/jervis-pairs")
    parser.add_argument("--doc", help="write the summary between the learned-jervis markers of this file")
    args = parser.parse_args(argv)
    output_dir = Path(args.output_dir)
    results_path = output_dir / "results.csv"
    results = pd.read_csv(results_path) if results_path.is_file() and not args.reevaluate else pd.DataFrame()
    timesteps = dict(TIMESTEPS)
    for regime, steps in args.timesteps:
        if regime not in REGIMES or not steps.isdigit():
            parser.error(f"--timesteps takes a regime ({', '.join(REGIMES)}) and a whole number, got {regime} {steps}")
        timesteps[regime] = int(steps)
    for regime in args.regimes:
        for world in args.worlds:
            for seed in args.seeds:
                done = not results.empty and ((results.regime == regime) & (results.world == world)
                                              & (results.seed == seed)).any()
                if done:
                    continue
                rows = run_one(regime, world, seed, output_dir, args.episodes, timesteps[regime])
                results = pd.concat([results, pd.DataFrame(rows)], ignore_index=True)
                buffer = io.StringIO()
                results.to_csv(buffer, index=False)
                write_text_atomic(results_path, buffer.getvalue())
                print(f"{regime} {world} seed {seed}: {rows[0]['run_seconds']} s; "
                      + ", ".join(f"{m}={rows[0][m]:.3f}" for m in MEASURES), flush=True)
    selected = results[results.regime.isin(args.regimes) & results.world.isin(args.worlds)
                       & results.seed.isin(args.seeds)]
    print(summary_table(selected).to_string())
    if args.doc:
        command = "python -m sd_env.experiments.studies.jervis_pairs " + " ".join(
            [f"--seeds {' '.join(map(str, args.seeds))}", f"--episodes {args.episodes}", f"--doc {args.doc}"])
        command += f" (training agent-steps: {', '.join(f'{r} {timesteps[r]:,}' for r in args.regimes if timesteps[r])})"
        machine = f"{platform.machine()} ({np.__name__} {np.__version__}, Python {platform.python_version()})"
        write_block(Path(args.doc), summary_markdown(selected, command, machine))
        print(f"wrote the summary into {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
