"""Training throughput of pool_ppo (state_0 against a pool of scripted stances) beside shared self-play.

Runs ``sd-env train``'s machinery for ``--timesteps`` agent-steps with the quickstart's PPO settings (128 games,
n_steps 32, batch 2048), shared_ppo and pool_ppo (against the population of the example sweeps) in turn,
``--pairs`` times, and reports agent-steps per second of training time (the run's ``training_seconds``, final
evaluation included) and the ratio, median over the pairs. Target: pool_ppo at least 80% of shared_ppo.
With ``--markdown FILE`` the table replaces the ``pool-speed`` block of FILE.

    python benchmarks/pool_speed.py [--timesteps 400000] [--pairs 2] [--markdown docs/performance.md]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # `python benchmarks/pool_speed.py`: import benchmarks as a package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import pandas as pd  # noqa: E402

from benchmarks.harness import markdown_table, publish  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "configs" / "quickstart.yaml"
POPULATION = "[hawk, hawk/dove, 'hawk/defender:burden=0.3', hawk/deterrer]"
#: pool_ppo must reach this share of shared_ppo's agent-steps per second.
TARGET = 0.8


def agent_steps_per_second(algorithm: str, timesteps: int, folder: str) -> float:
    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.train import train

    overrides = [f"algorithm={algorithm}", f"name={algorithm}", f"output_dir={folder}", f"total_timesteps={timesteps}",
                 "progress_bar=false", f"checkpoint_every={timesteps * 10}", "eval_episodes=2"]
    if algorithm == "pool_ppo":
        overrides.append(f"opponents={POPULATION}")
    metrics = train(load_config(CONFIG, overrides))
    return metrics["timesteps"][0] / metrics["training_seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=400_000)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args(argv)
    speeds: dict[str, list[float]] = {"shared_ppo": [], "pool_ppo": []}
    for _ in range(args.pairs):
        for algorithm in speeds:
            with tempfile.TemporaryDirectory() as folder:
                speeds[algorithm].append(agent_steps_per_second(algorithm, args.timesteps, folder))
                print(algorithm, f"{speeds[algorithm][-1]:,.0f} agent-steps/s", flush=True)
    ratios = [pool / shared for pool, shared in zip(speeds["pool_ppo"], speeds["shared_ppo"])]
    ratio = statistics.median(ratios)
    table = pd.DataFrame([
        {"algorithm": name, "agent-steps/s (median)": f"{statistics.median(values):,.0f}",
         "runs": ", ".join(f"{value:,.0f}" for value in values)} for name, values in speeds.items()
    ])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = "\n".join([
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `python benchmarks/pool_speed.py --timesteps "
        f"{args.timesteps} --pairs {args.pairs}` ({os.cpu_count()} logical CPUs; load average after: {load:.2f}). "
        "Quickstart PPO settings; pool_ppo against hawk, hawk/dove, hawk/defender:burden=0.3, hawk/deterrer.",
        "",
        markdown_table(table, "lrl"),
        "",
        f"pool_ppo / shared_ppo: **{ratio:.0%}** (pairs: {', '.join(f'{r:.0%}' for r in ratios)}); target >= "
        f"{TARGET:.0%}: **{'PASS' if ratio >= TARGET else 'FAIL'}**. With the same number of games pool_ppo learns "
        "from one seat per game against shared_ppo's two, so the per-step costs of SB3 and of the environment "
        "weigh twice as much per learning row; with the default 32 games (few rows per step) the ratio is lower.",
        "",
    ])
    publish(text, args.markdown, "pool-speed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
