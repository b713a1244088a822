"""Snapshot every published JSON/CSV contract of the ``sd-env`` command line, for a before/after comparison.

A refactoring must leave these outputs byte-identical on the same seeds. Run this script once on the old
commit and once on the new one, then compare the two folders::

    git worktree add /tmp/before <old-commit>
    python tools/contract_snapshot.py --out /tmp/contracts-before --tree /tmp/before --cli experiments.cli \
        --algo agents.reinforce:train
    python tools/contract_snapshot.py --out /tmp/contracts-after --tree . --cli sd_env.experiments.cli \
        --algo sd_env.agents.reinforce:train
    diff -r /tmp/contracts-before /tmp/contracts-after && echo identical

Each command runs in a fresh process with ``--tree`` first on ``PYTHONPATH`` (so the old tree's modules are the
ones imported). Timings, versions, the machine and command lines echoed into outputs are removed before
writing (``VOLATILE_KEYS``, ``VOLATILE_COLUMNS``), and the temporary folder's path and the submission's
module path, which outputs echo, are replaced by ``<WORK>`` and ``<ALGO>``; every other byte is kept. The historical-data command needs
``--data`` (default ``../shared/data``) and is skipped without it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Keys of JSON outputs that hold timings, versions, machines or echoed command lines (not contracts of values).
VOLATILE_KEYS = {"training_seconds", "wall_seconds", "load_average", "versions", "machine", "command",
                 "evaluation_seconds", "seconds"}
#: Columns of CSV outputs that hold timings.
VOLATILE_COLUMNS = {"train_seconds", "eval_seconds"}

FACTORY_MODULE = '''
import numpy as np


class Noisy:
    """A stochastic imported policy: random arming levels from its own generator, never attacks."""

    def __init__(self, params):
        self.params = params
        self.rng = np.random.default_rng(0)

    def reset(self, seed=None):
        self.rng = np.random.default_rng(seed)

    def act(self, observations):
        actions = np.zeros((observations.shape[0], self.params.action_length), dtype=np.int64)
        actions[:, 0] = self.rng.integers(0, self.params.burden_levels, size=observations.shape[0])
        actions[:, 1] = self.params.n_systems
        return actions
'''


def strip(value):
    """``value`` without the volatile keys, recursively."""
    if isinstance(value, dict):
        return {key: strip(item) for key, item in value.items() if key not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [strip(item) for item in value]
    return value


#: Set by main: the temporary folder and the benchmark submission, whose names outputs echo.
ECHOED: dict[str, str] = {}


def neutral(text: str) -> str:
    """``text`` with the echoed temporary folder and submission name replaced by placeholders."""
    for value, placeholder in ECHOED.items():
        text = text.replace(value, placeholder)
    return text


def copy_json(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(neutral(json.dumps(strip(json.loads(source.read_text())), indent=1)) + "\n")


def copy_csv(source: Path, target: Path) -> None:
    rows = list(csv.reader(io.StringIO(source.read_text())))
    keep = [index for index, name in enumerate(rows[0]) if name not in VOLATILE_COLUMNS] if rows else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([row[index] for index in keep])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(neutral(buffer.getvalue()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write the snapshot into (replaced)")
    parser.add_argument("--tree", default=".", help="source tree put first on PYTHONPATH")
    parser.add_argument("--cli", default="sd_env.experiments.cli", help="module of the command line")
    parser.add_argument("--algo", default="sd_env.agents.reinforce:train", help="benchmark submission")
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--skip", nargs="*", default=[], help="groups to skip: train rllib sweep benchmark")
    args = parser.parse_args(argv)

    out = Path(args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="contracts-"))
    (work / "snapshot_factories.py").write_text(FACTORY_MODULE)
    ECHOED.update({str(work): "<WORK>", args.algo: "<ALGO>"})
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(args.tree).resolve()), str(work)]),
               NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")

    def sd(*arguments: str, stdout: str | None = None) -> None:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", args.cli, *arguments], cwd=work, env=env,
                                capture_output=True, text=True)
        print(f"{time.perf_counter() - started:6.1f} s  sd-env {' '.join(arguments)}", flush=True)
        if result.returncode != 0:
            raise SystemExit(f"failed ({result.returncode}): {' '.join(arguments)}\n{result.stderr}")
        if stdout is not None:
            (out / stdout).write_text(result.stdout)

    # Environment-only commands.
    sd("params", "--json", stdout="params.json")
    sd("dilemma", "--scenario", "jervis-1", "--stances", "dove,hawk,reciprocator,hawk/dove,random",
       "--episodes", "40", "--seed", "0", "--json", "dilemma-jervis-1.json")
    sd("dilemma", "--scenario", "pre-1914", "--stances", "dove,deterrer", "--episodes", "12", "--seed", "2",
       "--json", "dilemma-pre-1914.json")
    for name in ("dilemma-jervis-1.json", "dilemma-pre-1914.json"):
        copy_json(work / name, out / name)

    # Training: shared, independent and pool PPO (the pool's opponents include the stochastic random stance).
    small = ["--set", "total_timesteps=4096", "--set", "num_envs=8", "--set", "ppo.n_steps=64",
             "--set", "ppo.batch_size=256", "--set", "checkpoint_every=2048", "--set", "eval_episodes=12",
             "--set", "progress_bar=false", "--output-dir", str(work / "runs")]
    runs = {"shared": ["--set", "algorithm=shared_ppo"],
            "independent": ["--set", "algorithm=independent_ppo", "--set", "rounds=2"],
            "pool": ["--set", "algorithm=pool_ppo", "--set", "opponents=[random,dove,hawk]"],
            "population": ["--set", "algorithm=population_ppo", "--set", "population_size=2",
                           "--set", "scenario=jervis-3"]}
    if "train" not in args.skip:
        for name, extra in runs.items():
            sd("train", "--set", f"name={name}", *small, *extra)
            copy_json(work / "runs" / name / "metrics.json", out / "train" / name / "metrics.json")
            copy_csv(work / "runs" / name / "drift.csv", out / "train" / name / "drift.csv")
    if "rllib" not in args.skip:
        sd("train", "--set", "name=rllib", "--set", "backend=rllib", "--set", "total_timesteps=2000",
           "--set", "num_envs=1", "--set", "ppo.n_steps=100", "--set", "checkpoint_every=1000",
           "--set", "eval_episodes=8", "--set", "progress_bar=false", "--output-dir", str(work / "runs"))
        copy_json(work / "runs" / "rllib" / "metrics.json", out / "train" / "rllib" / "metrics.json")

    # Evaluation commands, over every kind of spec there is (trained runs only when training ran). From 0.5.0 a
    # policy plays another world than its own only with --force.
    knows_worlds = "--force" in subprocess.run([sys.executable, "-m", args.cli, "evaluate", "--help"], cwd=work,
                                               env=env, capture_output=True, text=True).stdout
    force = ["--force"] if knows_worlds else []
    shared = str(work / "runs" / "shared")
    independent = str(work / "runs" / "independent")
    checkpoint = str(work / "runs" / "shared" / "policy.zip")
    evaluations = [
        ("evaluate-random-pre-1914", ["evaluate", "--policy", "baseline:random", "--opponent", "baseline:deterrer",
                                      "--scenario", "pre-1914", "--episodes", "10", "--seed", "4"]),
        ("evaluate-factory", ["evaluate", "--policy", "snapshot_factories:Noisy", "--opponent", "baseline:hawk/dove",
                              "--episodes", "20", "--seed", "1", "--every-seat"]),
    ]
    crossplays = [("crossplay-baselines", ["crossplay", "--policies", "baseline:dove", "baseline:random",
                                           "baseline:deterrer", "--scenario", "jervis-3", "--episodes", "12"])]
    exploits = [("exploit-hawk", ["exploit", "--policy", "baseline:hawk", "--budget", "1024", "--episodes", "12"])]
    if "train" not in args.skip:
        evaluations += [
            ("evaluate-run", ["evaluate", "--policy", shared, "--opponent", "baseline:hawk", "--episodes", "20",
                              "--seed", "3"]),
            ("evaluate-independent", ["evaluate", "--policy", independent, "--every-seat", "--episodes", "10"]),
            ("evaluate-checkpoint-thucydides", ["evaluate", "--policy", checkpoint, "--opponent", "baseline:random",
                                                "--scenario", "thucydides", "--episodes", "8", "--seed", "5",
                                                *force]),
        ]
        crossplays += [("crossplay-runs", ["crossplay", "--policies", shared, independent, "baseline:random",
                                           "--episodes", "10", "--seed", "2"])]
        exploits += [("exploit-independent-seat1", ["exploit", "--policy", independent, "--seat", "1", "--budget",
                                                    "512", "--episodes", "10", "--seed", "3"])]
    for name, command in evaluations + crossplays + exploits:
        sd(*command, "--json", f"{name}.json")
        copy_json(work / f"{name}.json", out / f"{name}.json")

    # Historical data.
    data = Path(args.data)
    if (data / "NMC-70-abridged.csv").is_file():
        sd("history", "--nmc", str(data / "NMC-70-abridged.csv"), "--rivalries", str(data / "td_rivalries.csv"),
           "--races", str(data / "grh_arms_races_sample.csv"), "--wars", str(data / "cow_interstate_war_dyad_years.csv"),
           "--richardson", "220+365:255+300@1909-1913", "--list-years", "1816-1993", "--filter", "system",
           "--json", "history.json")
        copy_json(work / "history.json", out / "history.json")

    # Sweeps: fixed policies (one for all seats; one per seat, with a stochastic one), and trained cells.
    if "sweep" not in args.skip:
        sweeps = {
            "fixed": {"name": "fixed", "scenario": "bilateral", "grid": {"offense_defense_balance": [0.5, 2.0]},
                      "seeds": 2, "policies": ["baseline:deterrer"], "eval_episodes": 10},
            "per-seat": {"name": "per-seat", "scenario": "jervis-1",
                         "grid": [{"observation_noise": [0.0, 0.5]}, {"distinguishability": [0.0, 1.0]}],
                         "seeds": [0, 3], "policies": ["baseline:random", "snapshot_factories:Noisy"],
                         "eval_episodes": 8},
            "trained": {"name": "trained", "scenario": "bilateral", "env": {"max_cycles": 30},
                        "grid": {"offense_defense_balance": [0.5, 2.0]}, "seeds": 1, "eval_episodes": 8,
                        "train": {"total_timesteps": 2048, "num_envs": 8, "checkpoint_every": 1024,
                                  "ppo": {"n_steps": 64, "batch_size": 256}}},
        }
        for name, config in sweeps.items():
            path = work / f"sweep-{name}.json"  # JSON is YAML
            path.write_text(json.dumps(config))
            sd("sweep", "--config", str(path), "--output-dir", str(work / "sweeps"), "--workers", "1",
               "--no-progress")
            copy_csv(work / "sweeps" / name / "results.csv", out / "sweep" / name / "results.csv")

    # The benchmark's smoke suite, one seed, with a fresh PPO cache.
    if "benchmark" not in args.skip:
        sd("benchmark", "--algo", args.algo, "--suite", "smoke", "--seeds", "1", "--output", str(work / "bench"),
           "--cache-dir", str(work / "bench-cache"))
        for name in ("leaderboard.csv", "scores.csv"):
            copy_csv(work / "bench" / name, out / "benchmark" / name)
        for name in ("marl_eval.json", "benchmark.json"):
            copy_json(work / "bench" / name, out / "benchmark" / name)
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
