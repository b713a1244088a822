"""Sweep throughput: rows per hour on this machine, on local worker processes and on Ray, at 1 and N workers.

Two kinds of cells, the two a sweep runs:

* **fixed-policy cells**: scripted stances played for ``--episodes`` evaluation episodes (a cell is
  a rollout and the registry's measures; start-up and scheduling costs show here);
* **training cells**: shared-policy PPO for ``--timesteps`` agent-steps, then the final evaluation
  (what a real sweep spends its time on).

Each configuration runs a fresh sweep into a temporary folder and reports rows per hour of wall
time (start-up of the pool or of Ray included) and the speed-up over one worker. With
``--markdown FILE`` the table replaces the ``sweep-speed`` block of FILE (``sd_env.experiments.output.blocks``).

    python benchmarks/sweep_speed.py [--workers 2] [--markdown docs/performance.md]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # `python benchmarks/sweep_speed.py`: import benchmarks as a package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import pandas as pd  # noqa: E402

from benchmarks.harness import markdown_table, publish  # noqa: E402


def fixed_config(rows: int, episodes: int) -> dict:
    return {"name": "fixed", "scenario": "bilateral", "grid": {"offense_defense_balance": [0.5, 1.0, 2.0, 3.0]},
            "seeds": max(rows // 4, 1), "policies": ["baseline:deterrer"], "eval_episodes": episodes}


def training_config(rows: int, timesteps: int) -> dict:
    return {"name": "trained", "scenario": "bilateral", "grid": {"offense_defense_balance": [0.5, 2.0]},
            "seeds": max(rows // 2, 1), "eval_episodes": 32,
            "train": {"algorithm": "shared_ppo", "total_timesteps": timesteps, "num_envs": 64,
                      "checkpoint_every": timesteps, "ppo": {"n_steps": 32, "batch_size": 2048, "n_epochs": 4}}}


def time_sweep(raw: dict, executor: str, workers: int) -> tuple[int, float]:
    """Rows and wall seconds of one fresh sweep."""
    from sd_env.experiments.studies.sweep import run_sweep, sweep_config_from_dict

    config = sweep_config_from_dict(raw)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        table = run_sweep(config, folder, executor=executor, workers=workers, progress=False)
        return len(table), time.perf_counter() - started


def measure(workers: int, rows: int, episodes: int, timesteps: int, ray: bool) -> pd.DataFrame:
    lines = []
    kinds = {"fixed-policy": fixed_config(rows, episodes), "training": training_config(max(rows // 4, 2), timesteps)}
    executors = ["local", "ray"] if ray else ["local"]
    for kind, raw in kinds.items():
        for executor in executors:
            base = None
            for count in sorted({1, workers}):
                done, seconds = time_sweep(raw, executor, count)
                per_hour = done / seconds * 3600
                base = per_hour if base is None else base
                lines.append({"cells": kind, "executor": executor, "workers": count, "rows": done,
                              "wall s": round(seconds, 1), "rows per hour": f"{per_hour:,.0f}",
                              "speed-up over 1 worker": f"{per_hour / base:.2f}x"})
                print(lines[-1], flush=True)
    return pd.DataFrame(lines)


def report(table: pd.DataFrame, args: argparse.Namespace) -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return "\n".join([
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `python benchmarks/sweep_speed.py "
        f"--workers {args.workers} --rows {args.rows} --episodes {args.episodes} --timesteps {args.timesteps}`"
        f" on {os.cpu_count()} logical CPUs ({platform.processor() or platform.machine()}); load average after: "
        f"{load[0]:.2f}.",
        "",
        "Fixed-policy rows: the scripted deterrer in the bilateral scenario, "
        f"{args.episodes} evaluation episodes each. Training rows: shared PPO for {args.timesteps:,} agent-steps "
        "(64 games, n_steps 32) and the final evaluation. Wall time includes starting the worker pool or Ray.",
        "",
        markdown_table(table.astype(str), "lllrrrr"),
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rows", type=int, default=32, help="fixed-policy rows per sweep (training: a quarter)")
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--no-ray", action="store_true", help="local workers only")
    parser.add_argument("--markdown", default=None, help="write the table into the sweep-speed block of this file")
    args = parser.parse_args(argv)
    table = measure(args.workers, args.rows, args.episodes, args.timesteps, ray=not args.no_ray)
    text = report(table, args)
    publish(text, args.markdown, "sweep-speed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
