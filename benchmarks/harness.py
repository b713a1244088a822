"""The benchmark harness: one timing loop, the records of results and targets, verdicts and tables.

The rules, the same for every row a benchmark measures:

* actions are drawn before timing (``action_bank``, ``dict_action_bank``) and cycled, so sampling
  is never inside the timer; a ``Runner`` times only the environment's own calls;
* ``measure`` warms a runner up (at least ``warmup`` seconds, at least one step), then times
  ``repeats`` runs of about ``budget`` seconds each (at least one step);
* a ``Row`` reports the median over its repeats and their range; agent-steps count the agents
  acting (whose action the environment uses);
* a ``Target`` holds a requirement on one measured value; its verdict is PASS or FAIL from that
  value alone, N/A when the value was not measured.
"""

from __future__ import annotations

import functools
import gc
import importlib.metadata
import math
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------
# Timing


@dataclass
class Run:
    """What one call of a runner did: seconds inside the environment's calls, agent-steps, env-steps."""

    seconds: float
    agent_steps: int
    env_steps: int | None


class Runner:
    """One measured configuration. ``run(n)`` advances it ``n`` steps (env-steps, or AEC turns)."""

    def run(self, n: int) -> Run:  # pragma: no cover - interface
        raise NotImplementedError


def measure(runner: Runner, budget: float, repeats: int, warmup: float) -> list[Run]:
    """Warm up for at least ``warmup`` seconds (at least one step), then time ``repeats`` runs of ~``budget`` s."""
    steps, seconds, done = 1, 0.0, 0
    while True:
        run = runner.run(steps)
        seconds += run.seconds
        done += steps
        if seconds >= warmup:
            break
        steps *= 2
    per_step = seconds / done
    n = max(1, int(budget / per_step)) if per_step > 0 else 1
    return [runner.run(n) for _ in range(repeats)]


def timed(function: Callable, totals: dict[str, float], name: str) -> Callable:
    """``function`` that adds its wall time to ``totals[name]``."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - start

    return wrapper


def time_methods(obj: Any, names: Iterable[str]) -> dict[str, float]:
    """Time every call of ``obj``'s methods ``names`` from now on; returns the running totals (seconds by name).

    The timed wrappers are instance attributes, so they shadow the methods for every caller
    (for a VecEnv: ``VecEnv.step()`` and PPO call ``step_async``, ``step_wait`` and ``reset``).
    """
    totals = dict.fromkeys(names, 0.0)
    for name in totals:
        setattr(obj, name, timed(getattr(obj, name), totals, name))
    return totals


# ---------------------------------------------------------------------------
# Actions drawn before timing


def action_bank(nvec: np.ndarray, rows: int, count: int, seed: int) -> np.ndarray:
    """``count`` uniformly random (rows, A) action arrays of a MultiDiscrete ``nvec``."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, nvec, size=(count, rows, len(nvec)), dtype=np.int64)


def bank_length(rows: int, width: int) -> int:
    """Actions kept per row: 64, fewer for huge batches (at most ~32 MiB of int64)."""
    return int(np.clip((1 << 22) // max(rows * width, 1), 8, 64))


def dict_action_bank(env, count: int, seed: int) -> dict[str, list]:
    """``count`` actions per possible agent, drawn in advance with the agent's own (seeded) space."""
    bank = {}
    for k, agent in enumerate(env.possible_agents):
        space = env.action_space(agent)
        space.seed(seed + k)
        bank[agent] = [space.sample() for _ in range(count)]
    return bank


# ---------------------------------------------------------------------------
# Results


@dataclass
class Row:
    """One line of a throughput table: what was measured, its runs, and the memory it took."""

    key: str
    api: str
    environment: str
    ours: bool
    num_envs: int
    agents: int  # agents per environment (at most)
    runs: list[Run] = field(default_factory=list)
    #: Key of the sd-env row this peer is compared with.
    versus: str | None = None
    #: Why the row was not measured ("" when it was).
    status: str = ""
    #: Peak memory per environment: {method: bytes}.
    memory: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The environment as the tables name it (peers marked)."""
        return self.environment + ("" if self.ours else " (peer)")

    @property
    def rates(self) -> list[float]:
        return [run.agent_steps / run.seconds for run in self.runs if run.seconds > 0]

    @property
    def rate(self) -> float:
        return statistics.median(self.rates) if self.rates else math.nan

    @property
    def env_rate(self) -> float:
        rates = [run.env_steps / run.seconds for run in self.runs if run.env_steps is not None and run.seconds > 0]
        return statistics.median(rates) if rates else math.nan

    @property
    def acting_per_env_step(self) -> float:
        agent_steps = sum(run.agent_steps for run in self.runs)
        env_steps = sum(run.env_steps or 0 for run in self.runs)
        return agent_steps / env_steps if env_steps else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "api": self.api,
            "environment": self.environment,
            "ours": self.ours,
            "num_envs": self.num_envs,
            "agents": self.agents,
            "agent_steps_per_s": self.rate,
            "agent_steps_per_s_repeats": self.rates,
            "env_steps_per_s": self.env_rate,
            "acting_per_env_step": self.acting_per_env_step,
            "versus": self.versus,
            "status": self.status,
            "memory": dict(self.memory),
        }


@dataclass
class Case:
    """A row to measure: how to build its runner and, optionally, how to measure its memory ({method: bytes})."""

    row: Row
    make_runner: Callable[[], Runner] | None = None
    memory: Callable[[], dict[str, float]] | None = None


def measure_cases(
    cases: Sequence[Case], budget: float, repeats: int, warmup: float, log: Callable[[str], None]
) -> list[Row]:
    """Measure every case whose row has no status (``measure``), one after the other; return the rows."""
    for case in cases:
        row = case.row
        if row.status or case.make_runner is None:
            log(f"  {row.api:<22} {row.environment:<26} envs={row.num_envs:<6} {row.status}")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runner = case.make_runner()
            row.runs = measure(runner, budget, repeats, warmup)
        del runner
        gc.collect()
        log(f"  {row.api:<22} {row.environment:<26} envs={row.num_envs:<6} {row.rate:>14,.0f} agent-steps/s")
    return [case.row for case in cases]


def measure_memory(cases: Sequence[Case]) -> None:
    """Fill ``row.memory`` of every measured case that has a memory probe."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in cases:
            if case.memory is not None and not case.row.status:
                case.row.memory.update(case.memory())


def peer_available(module: str, install: str) -> str:
    """'' if ``module`` imports, otherwise the reason to print."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            __import__(module)
    except Exception as error:  # ImportError, or a peer broken by its own dependencies
        return f"not installed ({type(error).__name__}: {error}); `{install}`"
    return ""


# ---------------------------------------------------------------------------
# Targets


def verdict(value: float, threshold: float, at_most: bool = False) -> str:
    """PASS or FAIL of ``value`` against ``threshold`` (at least, or ``at_most``); N/A when it is NaN."""
    if value != value:
        return "N/A"
    return "PASS" if (value <= threshold if at_most else value >= threshold) else "FAIL"


@dataclass
class Target:
    """A requirement on one measured value; ``result`` follows from ``value`` alone."""

    name: str
    threshold: float
    #: The threshold as the table shows it (after ">=" or "<=").
    threshold_text: str
    at_most: bool = False
    value: float = math.nan
    #: The measured figure as the table shows it, or why there is none.
    measured: str = "not measured"

    @property
    def required(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.threshold_text}"

    @property
    def result(self) -> str:
        return verdict(self.value, self.threshold, self.at_most)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "measured": self.measured, "required": self.required, "result": self.result,
                "value": self.value, "threshold": self.threshold, "at_most": self.at_most}


# ---------------------------------------------------------------------------
# Tables


def fmt_rate(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"


def fmt_bytes(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} B"


def markdown_table(frame: pd.DataFrame, align: str) -> str:
    """``frame`` (cells already formatted as text) as a Markdown pipe table; ``align``: 'l' or 'r' per column.

    Padded to read well in a terminal too (``DataFrame.to_markdown``, which needs ``tabulate``).
    """
    colalign = ["right" if a == "r" else "left" for a in align]
    return frame.to_markdown(index=False, colalign=colalign, disable_numparse=True)


def targets_table(targets: Sequence[Target]) -> str:
    frame = pd.DataFrame([[t.name, t.measured, t.required, t.result] for t in targets],
                         columns=["target", "measured", "required", "result"])
    return markdown_table(frame, "llll")


# ---------------------------------------------------------------------------
# Machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def numba_threads() -> str:
    import numba

    from sd_env import core

    return f"{numba.get_num_threads()} (batches of {core.THREADED_MIN_BATCH}+ environments)"


def machine_info(packages: Iterable[str]) -> dict[str, Any]:
    """CPU, CPUs usable, platform, Python, the versions of ``packages`` and the core's numba threads."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: version(name) for name in packages},
        # The core runs batches of at least core.THREADED_MIN_BATCH environments on this many threads.
        "numba_threads": numba_threads(),
    }


def publish(text: str, markdown: str | None, block: str) -> None:
    """Print a benchmark's report and, if ``markdown`` names a file, put it into that file's generated ``block``."""
    print(text)
    if markdown:
        from sd_env.experiments.output.blocks import update_blocks

        update_blocks(markdown, {block: text})
        print(f"wrote the {block} block of {markdown}")
