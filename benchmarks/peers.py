"""sd-env's APIs beside peer environments, measured in one run under one harness.

Measures agent-steps per second of

* sd-env: the PettingZoo parallel API, the AEC API, the stable-baselines3
  ``SecurityDilemmaVecEnv`` and the raw batched core (``core.step`` +
  ``core.reset_where`` + ``core.observe``) at several batch sizes;
* peers: PettingZoo's reference environment ``pettingzoo.classic.rps_v2``
  (parallel and AEC), MPE's ``simple_spread_v3`` from ``mpe2`` (parallel and
  AEC), and the standard SuperSuit + SB3 path over sd-env's parallel
  environment (``black_death_v3`` -> ``pettingzoo_env_to_vec_env_v1`` ->
  ``concat_vec_envs_v1(..., num_cpus=0, base_class="stable_baselines3")``)
  at the same numbers of environments as the VecEnv;

plus the peak memory per environment at the largest batch, the share of PPO
wall time spent inside the VecEnv with the quickstart's PPO settings, and the
performance targets, each with PASS/FAIL against its measured figure. A peer
that is not installed is reported as such in the output; nothing else is skipped.

Harness (the same for every row):

* actions are uniformly random and drawn before timing (``space.sample()``
  from seeded spaces for the dict APIs, ``rng.integers(0, nvec)`` for the
  vector APIs: banks of 8-64 actions per agent, cycled), so sampling cost is
  excluded everywhere; only the environment's own calls are timed
  (``step``, plus ``last`` for AEC, plus ``reset`` when an episode ends):
  building the action dict and counting agents happen outside the timer;
* every row is warmed up (at least ``--warmup`` seconds, at least one step)
  before its ``--repeats`` timed repeats of about ``--budget`` seconds
  each; the table reports the median repeat and the range;
* agent-steps = env-steps x agents acting: an agent acts in a step when the
  environment uses its action, i.e. it is alive (eliminated sd-env states,
  whose rows the vector environments still carry with zero observations,
  are not counted; rps and MPE agents always act).

    python benchmarks/peers.py --markdown docs/performance.md
    python benchmarks/peers.py --smoke          # a few seconds, tiny sizes (for tests)
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.metadata
import math
import os
import platform
import shlex
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vec_env_speed import action_bank, timed  # noqa: E402  (benchmarks/ is not a package)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1, 64, 1024, 16384)
MARK_START = "<!-- benchmarks/peers.py:start -->"
MARK_END = "<!-- benchmarks/peers.py:end -->"

#: (requirement text, threshold) of each target; see ``evaluate_targets``.
CORE_TARGET = 1_000_000.0
MPE_TARGET = 5.0
RPS_TARGET = 1.0
SUPERSUIT_TARGET = 5.0
PPO_SHARE_TARGET = 0.10


# ---------------------------------------------------------------------------
# Harness


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


def dict_action_bank(env, count: int, seed: int) -> dict[str, list]:
    """``count`` actions per possible agent, drawn in advance with the agent's own (seeded) space."""
    bank = {}
    for k, agent in enumerate(env.possible_agents):
        space = env.action_space(agent)
        space.seed(seed + k)
        bank[agent] = [space.sample() for _ in range(count)]
    return bank


class DictRunner(Runner):
    """A PettingZoo environment (parallel or AEC), reset with ``seed``, with 64 pre-drawn actions per agent."""

    def __init__(self, make: Callable[[], Any], seed: int) -> None:
        self.env = make()
        self.env.reset(seed=seed)
        self.bank = dict_action_bank(self.env, 64, seed + 1)
        self.t = 0


class ParallelRunner(DictRunner):
    """A PettingZoo ``ParallelEnv``: ``step(actions of the live agents)``, ``reset()`` when no agent is left."""

    def run(self, n: int) -> Run:
        env, bank, clock = self.env, self.bank, time.perf_counter
        seconds, agent_steps = 0.0, 0
        for _ in range(n):
            slot = self.t % 64
            self.t += 1
            actions = {agent: bank[agent][slot] for agent in env.agents}
            start = clock()
            env.step(actions)
            if not env.agents:
                env.reset()
            seconds += clock() - start
            agent_steps += len(actions)
        return Run(seconds, agent_steps, n)


class AECRunner(DictRunner):
    """A PettingZoo ``AECEnv``: ``last()`` then ``step(action or None)``; ``n`` counts turns."""

    def run(self, n: int) -> Run:
        env, bank, clock = self.env, self.bank, time.perf_counter
        seconds, agent_steps = 0.0, 0
        for _ in range(n):
            agent = env.agent_selection
            start = clock()
            _, _, termination, truncation, _ = env.last()
            seconds += clock() - start
            if termination or truncation:
                action = None
            else:
                action = bank[agent][self.t % 64]
                agent_steps += 1
            self.t += 1
            start = clock()
            env.step(action)
            if not env.agents:
                env.reset()
            seconds += clock() - start
        return Run(seconds, agent_steps, None)


def bank_length(rows: int, width: int) -> int:
    """Actions kept per row: 64, fewer for huge batches (at most ~32 MiB of int64)."""
    return int(np.clip((1 << 22) // max(rows * width, 1), 8, 64))


class CoreRunner(Runner):
    """The raw batched core: ``step``, ``reset_where`` (truncated or nobody alive), ``observe``."""

    def __init__(self, scenario: str, batch: int, seed: int) -> None:
        from sd_env import core
        from sd_env.scenarios import make_params

        self.core, self.params, self.batch = core, make_params(scenario), batch
        self.rng = np.random.default_rng(seed)
        nvec = core.action_upper_bounds(self.params)
        count = bank_length(batch * self.params.n_states, len(nvec))
        bank = action_bank(nvec, batch * self.params.n_states, count, seed + 1)
        self.bank = bank.reshape(count, batch, self.params.n_states, len(nvec))
        self.state = core.reset(self.params, batch, self.rng)
        self.observation = core.observe(self.params, self.state, self.rng)
        self.t = 0

    def run(self, n: int) -> Run:
        core, params, rng, clock = self.core, self.params, self.rng, time.perf_counter
        state = self.state
        seconds, agent_steps = 0.0, 0
        for _ in range(n):
            actions = self.bank[self.t % len(self.bank)]
            self.t += 1
            agent_steps += int(np.count_nonzero(state.alive))
            start = clock()
            state, outcome = core.step(params, state, actions, rng)
            done = outcome.truncated | ~state.alive.any(axis=1)
            state = core.reset_where(params, state, done, rng)
            self.observation = core.observe(params, state, rng)
            seconds += clock() - start
        self.state = state
        return Run(seconds, agent_steps, n * self.batch)


class VecEnvRunner(Runner):
    """An SB3 ``VecEnv`` stepped with a (rows, A) action array; auto-reset is the VecEnv's own."""

    def __init__(self, vec_env, rows_per_env: int, acting: Callable[[], int], seed: int) -> None:
        self.env, self.acting = vec_env, acting
        self.num_envs = vec_env.num_envs // rows_per_env
        nvec = vec_env.action_space.nvec
        self.bank = action_bank(nvec, vec_env.num_envs, bank_length(vec_env.num_envs, len(nvec)), seed + 1)
        vec_env.reset()
        self.t = 0

    def run(self, n: int) -> Run:
        env, clock = self.env, time.perf_counter
        seconds, agent_steps = 0.0, 0
        for _ in range(n):
            actions = self.bank[self.t % len(self.bank)]
            self.t += 1
            agent_steps += self.acting()
            start = clock()
            env.step(actions)
            seconds += clock() - start
        return Run(seconds, agent_steps, n * self.num_envs)


def make_sd_vec_env(scenario: str, num_envs: int, seed: int) -> tuple[Any, int, Callable[[], int]]:
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    env = SecurityDilemmaVecEnv(num_envs=num_envs, scenario=scenario, seed=seed)

    def acting() -> int:
        return int(np.count_nonzero(env.core_state.alive[:, env.learner_seats]))

    return env, env.n_learners, acting


def make_supersuit_vec_env(scenario: str, num_envs: int, seed: int) -> tuple[Any, int, Callable[[], int]]:
    import supersuit

    from sd_env import security_dilemma_v0

    parallel = security_dilemma_v0.parallel_env(scenario=scenario)
    # black_death_v3 is required: sd-env removes eliminated states, which MarkovVectorEnv rejects otherwise.
    vec = supersuit.pettingzoo_env_to_vec_env_v1(supersuit.black_death_v3(parallel))
    vec = supersuit.concat_vec_envs_v1(vec, num_envs, num_cpus=0, base_class="stable_baselines3")
    vec.venv.reset(seed=seed)  # ConcatVecEnv seeds copy i with seed + i (SB3VecEnvWrapper.seed is unsupported)
    markov_envs = vec.venv.vec_envs

    def acting() -> int:
        return sum(len(markov.par_env.unwrapped.agents) for markov in markov_envs)

    return vec, len(parallel.possible_agents), acting


# ---------------------------------------------------------------------------
# Rows


@dataclass
class Row:
    """One line of the throughput table."""

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


def peer_available(module: str, install: str) -> str:
    """'' if ``module`` imports, otherwise the reason to print."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            __import__(module)
    except Exception as error:  # ImportError, or a peer broken by its own dependencies
        return f"not installed ({type(error).__name__}: {error}); `{install}`"
    return ""


def traced_peak(build: Callable[[], Any]) -> float:
    """Peak bytes traced by ``tracemalloc`` while ``build()`` runs (NumPy buffers included)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        kept = build()
        _, peak = tracemalloc.get_traced_memory()
        del kept
    finally:
        tracemalloc.stop()
    return float(peak)


def memory_of_dict_env(make: Callable[[], Any], aec: bool, seed: int, steps: int = 5) -> float:
    """tracemalloc peak of one environment: construct, reset, a few random steps."""
    make().reset(seed=seed)  # imports and caches outside the measurement

    def build():
        env = make()
        env.reset(seed=seed)
        bank = dict_action_bank(env, steps, seed)
        for t in range(steps):
            if aec:
                for agent in env.agent_iter(len(env.agents)):
                    _, _, termination, truncation, _ = env.last()
                    env.step(None if termination or truncation else bank[agent][t])
            else:
                env.step({agent: bank[agent][t] for agent in env.agents})
            if not env.agents:
                env.reset()
        return env

    return traced_peak(build)


def memory_of_vec_env(make: Callable[[], tuple[Any, int, Callable[[], int]]], num_envs: int, seed: int) -> float:
    """tracemalloc peak of a vector environment (construct, reset, 2 steps), per environment."""

    def build():
        env, _, _ = make()
        env.reset()
        actions = action_bank(env.action_space.nvec, env.num_envs, 2, seed)
        for t in range(2):
            env.step(actions[t])
        return env

    return traced_peak(build) / num_envs


def memory_of_core(scenario: str, batch: int, seed: int) -> dict[str, float]:
    """Per environment at ``batch``: nbytes of the core state + observation, and the memory a step takes.

    The tracemalloc peak sees NumPy's and Python's allocations only; the arrays
    the compiled kernels allocate are counted exactly by ``new_array_bytes``.
    """
    from sd_env import core
    from sd_env.scenarios import make_params

    params = make_params(scenario)
    rng = np.random.default_rng(seed)
    nvec = core.action_upper_bounds(params)
    actions = rng.integers(0, nvec, size=(batch, params.n_states, len(nvec)))
    state = core.reset(params, batch, rng)
    observation = core.observe(params, state, rng)
    nbytes = sum(array.nbytes for array in state) + observation.nbytes
    stepped, outcome = core.step(params, state, actions, rng)
    kernel_bytes = new_array_bytes([*stepped, *outcome, core.observe(params, stepped, rng)], inputs=state)
    del state, observation, stepped, outcome

    def build():
        state = core.reset(params, batch, rng)
        state, outcome = core.step(params, state, actions, rng)
        state = core.reset_where(params, state, outcome.truncated | ~state.alive.any(axis=1), rng)
        return state, core.observe(params, state, rng)

    return {"nbytes": nbytes / batch, "tracemalloc": traced_peak(build) / batch, "kernel_outputs": kernel_bytes / batch}


def new_array_bytes(arrays: list[np.ndarray], inputs) -> int:
    """Bytes of the allocations behind ``arrays`` (a step's outputs), each counted once.

    The compiled kernels allocate these outside tracemalloc's view; views into
    one allocation are counted once, and arrays passed through unchanged from
    ``inputs`` not at all.
    """
    passed_through = {id(array) for array in inputs}
    buffers = {}
    for array in arrays:
        if id(array) in passed_through:
            continue
        owner = array
        while isinstance(owner.base, np.ndarray):  # a view: count the array it views (numba's own base is not one)
            owner = owner.base
        buffers[id(owner)] = owner.nbytes
    return sum(buffers.values())


# ---------------------------------------------------------------------------
# PPO share (quickstart settings)


def measure_ppo_share(
    config_path: Path, rollouts: int, repeats: int, overrides: list[str]
) -> dict[str, Any]:
    """Share of PPO wall time inside the VecEnv (step_async + step_wait + reset), quickstart PPO settings.

    The VecEnv and PPO are built exactly as ``sd-env train`` builds them for
    ``shared_ppo`` (``experiments.train.ppo_kwargs``), with
    ``torch.set_num_threads(config.torch_threads)`` (1 in the quickstart). One
    warm-up rollout, then ``repeats`` runs of ``rollouts`` rollouts each
    (``model.learn``, which also resets the VecEnv); the median share is reported.
    Training callbacks (checkpoints, TensorBoard) are left out, which makes
    PPO's wall time shorter and the environment's share larger, if anything.
    """
    import torch
    from stable_baselines3 import PPO

    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv
    from experiments.config import load_config
    from experiments.train import ppo_kwargs

    config = load_config(config_path, overrides=overrides)
    torch.set_num_threads(config.torch_threads)
    env = SecurityDilemmaVecEnv(config.num_envs, params=config.env_params(), seed=config.seed)
    totals = {"step_async": 0.0, "step_wait": 0.0, "reset": 0.0}
    for name in totals:  # instance attributes shadow the methods that VecEnv.step() and PPO call
        setattr(env, name, timed(getattr(env, name), totals, name))
    model = PPO("MlpPolicy", env, seed=config.seed, device="cpu", verbose=0, **ppo_kwargs(config))
    rollout = config.ppo.n_steps * env.num_envs
    model.learn(total_timesteps=rollout)  # warm-up
    runs = []
    for _ in range(repeats):
        for name in totals:
            totals[name] = 0.0
        start = time.perf_counter()
        model.learn(total_timesteps=rollouts * rollout)
        wall = time.perf_counter() - start
        runs.append({"wall": wall, "agent_steps": model.num_timesteps, **totals,
                     "share": sum(totals.values()) / wall,
                     "step_seconds": (totals["step_async"] + totals["step_wait"]) / (rollouts * config.ppo.n_steps)})
    shares = [run["share"] for run in runs]
    return {
        "config": str(config_path),
        "overrides": overrides,
        "num_envs": config.num_envs,
        "rows": env.num_envs,
        "n_steps": config.ppo.n_steps,
        "batch_size": config.ppo.batch_size,
        "n_epochs": config.ppo.n_epochs,
        "net_arch": list(config.ppo.net_arch),
        "torch_threads": torch.get_num_threads(),
        "rollouts": rollouts,
        "agent_steps_per_run": rollouts * rollout,
        "runs": runs,
        "share": statistics.median(shares),
        "share_range": (min(shares), max(shares)),
        "wall_median": statistics.median(run["wall"] for run in runs),
        "step_seconds": statistics.median(run["step_seconds"] for run in runs),
    }


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


def machine_info() -> dict[str, Any]:
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
        "packages": {
            name: version(name)
            for name in ("numpy", "numba", "gymnasium", "pettingzoo", "stable-baselines3", "torch", "supersuit", "mpe2")
        },
        # The core runs batches of at least core.THREADED_MIN_BATCH environments on this many threads.
        "numba_threads": numba_threads(),
    }


def numba_threads() -> str:
    import numba

    from sd_env import core

    return f"{numba.get_num_threads()} (batches of {core.THREADED_MIN_BATCH}+ environments)"


# ---------------------------------------------------------------------------
# Benchmark


def run_benchmarks(args: argparse.Namespace, log: Callable[[str], None]) -> list[Row]:
    from sd_env import security_dilemma_v0
    from sd_env.scenarios import make_params

    scenario, seed = args.scenario, args.seed
    n_states = make_params(scenario).n_states
    ours = f"sd-env {scenario}"
    rows: list[Row] = []

    def add(row: Row, make_runner: Callable[[], Runner] | None) -> Row:
        rows.append(row)
        if row.status or make_runner is None:
            log(f"  {row.api:<22} {row.environment:<26} envs={row.num_envs:<6} {row.status}")
            return row
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runner = make_runner()
            row.runs = measure(runner, args.budget, args.repeats, args.warmup)
        del runner
        gc.collect()
        log(f"  {row.api:<22} {row.environment:<26} envs={row.num_envs:<6} {row.rate:>14,.0f} agent-steps/s")
        return row

    def sd_parallel():
        return security_dilemma_v0.parallel_env(scenario=scenario)

    def sd_aec():
        return security_dilemma_v0.env(scenario=scenario)

    add(Row("sd.parallel", "PettingZoo parallel", ours, True, 1, n_states),
        lambda: ParallelRunner(sd_parallel, seed))
    add(Row("sd.aec", "PettingZoo AEC", ours, True, 1, n_states), lambda: AECRunner(sd_aec, seed))
    for size in args.sizes:
        add(Row(f"sd.vec.{size}", "SB3 VecEnv", ours, True, size, n_states),
            lambda size=size: VecEnvRunner(*make_sd_vec_env(scenario, size, seed), seed=seed))
    for size in args.sizes:
        add(Row(f"sd.core.{size}", "batched core", ours, True, size, n_states),
            lambda size=size: CoreRunner(scenario, size, seed))

    rps_status = peer_available("pettingzoo.classic.rps_v2", "pip install 'pettingzoo[classic]'")
    mpe_status = peer_available("mpe2.simple_spread_v3", "pip install mpe2")
    supersuit_status = peer_available("supersuit", "pip install supersuit")
    if not rps_status:
        from pettingzoo.classic import rps_v2
    if not mpe_status:
        from mpe2 import simple_spread_v3
    add(Row("rps.parallel", "PettingZoo parallel", "rps_v2", False, 1, 2, versus="sd.parallel", status=rps_status),
        None if rps_status else lambda: ParallelRunner(rps_v2.parallel_env, seed))
    add(Row("rps.aec", "PettingZoo AEC", "rps_v2", False, 1, 2, versus="sd.aec", status=rps_status),
        None if rps_status else lambda: AECRunner(rps_v2.env, seed))
    add(Row("mpe.parallel", "PettingZoo parallel", "mpe2 simple_spread_v3", False, 1, 3, versus="sd.parallel",
            status=mpe_status),
        None if mpe_status else lambda: ParallelRunner(simple_spread_v3.parallel_env, seed))
    add(Row("mpe.aec", "PettingZoo AEC", "mpe2 simple_spread_v3", False, 1, 3, versus="sd.aec", status=mpe_status),
        None if mpe_status else lambda: AECRunner(simple_spread_v3.env, seed))
    for size in args.supersuit_sizes:
        add(Row(f"supersuit.{size}", "SuperSuit + SB3", ours, False, size, n_states, versus=f"sd.vec.{size}",
                status=supersuit_status),
            None if supersuit_status else
            lambda size=size: VecEnvRunner(*make_supersuit_vec_env(scenario, size, seed), seed=seed))

    if args.memory:
        log("memory (tracemalloc peaks; slow at the largest batch)...")
        by_key = {row.key: row for row in rows}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            largest = max(args.sizes)
            by_key[f"sd.core.{largest}"].memory.update(memory_of_core(scenario, largest, seed))
            by_key[f"sd.vec.{largest}"].memory["tracemalloc"] = memory_of_vec_env(
                lambda: make_sd_vec_env(scenario, largest, seed), largest, seed)
            by_key["sd.parallel"].memory["tracemalloc"] = memory_of_dict_env(sd_parallel, False, seed)
            by_key["sd.aec"].memory["tracemalloc"] = memory_of_dict_env(sd_aec, True, seed)
            if not rps_status:
                by_key["rps.parallel"].memory["tracemalloc"] = memory_of_dict_env(rps_v2.parallel_env, False, seed)
                by_key["rps.aec"].memory["tracemalloc"] = memory_of_dict_env(rps_v2.env, True, seed)
            if not mpe_status:
                by_key["mpe.parallel"].memory["tracemalloc"] = memory_of_dict_env(
                    simple_spread_v3.parallel_env, False, seed)
                by_key["mpe.aec"].memory["tracemalloc"] = memory_of_dict_env(simple_spread_v3.env, True, seed)
            if not supersuit_status and args.supersuit_sizes:
                biggest = max(args.supersuit_sizes)
                by_key[f"supersuit.{biggest}"].memory["tracemalloc"] = memory_of_vec_env(
                    lambda: make_supersuit_vec_env(scenario, biggest, seed), biggest, seed)
    return rows


# ---------------------------------------------------------------------------
# Targets


@dataclass
class Target:
    name: str
    measured: str
    required: str
    result: str  # PASS, FAIL or N/A (why)
    value: float = math.nan


def verdict(ok: bool | None) -> str:
    return "N/A" if ok is None else ("PASS" if ok else "FAIL")


def evaluate_targets(rows: list[Row], ppo: dict[str, Any] | None, compare_envs: int) -> list[Target]:
    by_key = {row.key: row for row in rows}

    def rate(key: str) -> float:
        row = by_key.get(key)
        return row.rate if row is not None and not row.status else math.nan

    targets = []
    core = rate("sd.core.1024")
    targets.append(Target(
        "batched core, batch 1024: agent-steps/s", f"{core:,.0f}" if core == core else "not measured",
        f">= {CORE_TARGET:,.0f}", verdict(None if core != core else core >= CORE_TARGET), core))
    parallel = rate("sd.parallel")
    for key, label, threshold in (("mpe.parallel", "mpe2 simple_spread_v3", MPE_TARGET),
                                  ("rps.parallel", "rps_v2", RPS_TARGET)):
        peer = rate(key)
        ratio = parallel / peer
        status = by_key[key].status if key in by_key else "not measured"
        targets.append(Target(
            f"PettingZoo parallel API vs {label} (parallel), per agent-step",
            f"{ratio:.2f}x ({parallel:,.0f} vs {peer:,.0f})" if ratio == ratio else status,
            f">= {threshold:g}x", verdict(None if ratio != ratio else ratio >= threshold), ratio))
    vec, supersuit = rate(f"sd.vec.{compare_envs}"), rate(f"supersuit.{compare_envs}")
    ratio = vec / supersuit
    status = by_key.get(f"supersuit.{compare_envs}", Row("", "", "", False, 0, 0, status="not measured")).status
    targets.append(Target(
        f"SB3 VecEnv vs SuperSuit + SB3, {compare_envs} environments each",
        f"{ratio:.1f}x ({vec:,.0f} vs {supersuit:,.0f})" if ratio == ratio else status or "not measured",
        f">= {SUPERSUIT_TARGET:g}x", verdict(None if ratio != ratio else ratio >= SUPERSUIT_TARGET), ratio))
    if ppo is None or "share" not in ppo:
        why = ppo.get("error", "not measured") if ppo else "not measured (--no-ppo)"
        targets.append(Target("environment share of PPO wall time (quickstart)", why,
                              f"<= {PPO_SHARE_TARGET:.0%}", "N/A"))
    else:
        share = ppo["share"]
        low, high = ppo["share_range"]
        targets.append(Target(
            "environment share of PPO wall time (quickstart)",
            f"{share:.1%} (range {low:.1%}-{high:.1%})", f"<= {PPO_SHARE_TARGET:.0%}",
            verdict(share <= PPO_SHARE_TARGET), share))
    return targets


# ---------------------------------------------------------------------------
# Output


def fmt_rate(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"


def fmt_bytes(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} B"


def table(header: list[str], lines: list[list[str]], align: str) -> str:
    """A Markdown pipe table (``align``: one 'l' or 'r' per column), padded to read well in a terminal too."""
    widths = [max(len(header[c]), *(len(line[c]) for line in lines)) for c in range(len(header))]

    def cells(values: list[str]) -> str:
        return "| " + " | ".join(
            value.ljust(width) if a == "l" else value.rjust(width) for value, width, a in zip(values, widths, align)
        ) + " |"

    rule = "|" + "|".join(
        ("-" * (w + 1) + ":" if a == "r" else ":" + "-" * (w + 1)) for w, a in zip(widths, align)
    ) + "|"
    return "\n".join([cells(header), rule, *(cells(line) for line in lines)])


def throughput_table(rows: list[Row]) -> str:
    by_key = {row.key: row for row in rows}
    parallel = by_key["sd.parallel"].rate
    lines = []
    for row in rows:
        rates = row.rates
        spread = f"{min(rates):,.0f}-{max(rates):,.0f}" if rates else "-"
        versus = by_key.get(row.versus) if row.versus else None
        if row.status:
            ratio = "-"
        elif versus is not None:
            ratio = f"{versus.rate / row.rate:.2f}x" if row.rate > 0 else "-"
        else:
            ratio = ""
        acting = row.acting_per_env_step
        lines.append([
            row.api, row.environment + ("" if row.ours else " (peer)"), str(row.num_envs),
            f"{acting:.2f} of {row.agents}" if acting == acting else f"- of {row.agents}",
            fmt_rate(row.rate) if not row.status else row.status, spread, fmt_rate(row.env_rate),
            f"{row.rate / parallel:.2f}x" if not row.status and parallel == parallel else "-", ratio,
        ])
    return table(
        ["API", "environment", "envs", "agents acting / env-step", "agent-steps/s (median)", "range of repeats",
         "env-steps/s", "vs sd-env parallel API", "sd-env is faster by"],
        lines, "lllrrrrrr",
    )


def ratios_line(rows: list[Row]) -> str:
    by_key = {row.key: row for row in rows}
    parts = []
    for row in rows:
        if row.key.startswith("supersuit.") and not row.status and row.versus in by_key:
            parts.append(f"{row.num_envs} envs: {by_key[row.versus].rate / row.rate:.1f}x")
    return "SB3 VecEnv / SuperSuit + SB3 at every size: " + ("; ".join(parts) if parts else "not measured")


def memory_table(rows: list[Row]) -> str:
    lines = []
    for row in rows:
        for method, value in row.memory.items():
            what = {
                "nbytes": "nbytes of CoreState arrays + observation",
                "tracemalloc": "tracemalloc peak: build, reset, a few steps",
                "kernel_outputs": "nbytes of all new arrays of one step + observe (numba's)",
            }[method]
            if row.ours and method == "tracemalloc" and row.num_envs > 1:
                what += " (misses numba's allocations)"
            if row.key.startswith("sd.core") and method in ("tracemalloc", "kernel_outputs"):
                what = {"tracemalloc": "tracemalloc peak: reset, step, reset_where, observe (misses numba's)",
                        "kernel_outputs": "nbytes of all new arrays of one step + observe (numba's)"}[method]
            lines.append([row.api, row.environment + ("" if row.ours else " (peer)"), str(row.num_envs), what,
                          fmt_bytes(value)])
    if not lines:
        return "(memory not measured: --no-memory)"
    return table(["API", "environment", "envs", "method", "peak bytes per environment"], lines, "lllll")


def targets_table(targets: list[Target]) -> str:
    return table(["target", "measured", "required", "result"],
                 [[t.name, t.measured, t.required, t.result] for t in targets], "llll")


def render(args, info, load_before, load_after, rows, targets, ppo, started, argv) -> str:
    command = shlex.join(["python", "benchmarks/peers.py", *argv])
    packages = ", ".join(f"{name} {value}" for name, value in info["packages"].items())
    out = [
        f"Measured {started:%Y-%m-%d %H:%M} UTC with `{command}`.",
        "",
        f"Machine: {info['cpu']}, {info['logical_cpus']} logical CPUs ({info['usable_cpus']} usable), "
        f"{info['platform']}; Python {info['python']}; {packages}.",
        f"Core threads (numba): {info['numba_threads']}.",
        f"Load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {' '.join(f'{x:.2f}' for x in load_after)}.",
        f"Scenario `{args.scenario}`; {args.repeats} repeats of ~{args.budget:g} s after >= {args.warmup:g} s of "
        "warm-up per row; median reported. Agent-steps count agents acting (alive) in each step.",
        "",
        "**Throughput**",
        "",
        throughput_table(rows),
        "",
        ratios_line(rows),
        "",
        "**Targets**",
        "",
        targets_table(targets),
        "",
    ]
    if args.smoke:
        out[0:0] = ["**Smoke run (--smoke): tiny sizes and budgets; these figures mean nothing.**", ""]
    if ppo and "share" in ppo:
        alone = {row.key: row for row in rows}.get(f"sd.vec.{ppo['num_envs']}")
        alone_text = (
            f"; stepped alone (table row SB3 VecEnv, {ppo['num_envs']} envs) it takes "
            f"{1e6 * ppo['num_envs'] / alone.env_rate:,.0f} us"
            if alone is not None and alone.env_rate == alone.env_rate else ""
        )
        out += [
            f"PPO share: {ppo['num_envs']} environments ({ppo['rows']} rows), n_steps={ppo['n_steps']}, "
            f"batch_size={ppo['batch_size']}, n_epochs={ppo['n_epochs']}, net_arch={ppo['net_arch']}, "
            f"torch threads={ppo['torch_threads']}; {len(ppo['runs'])} runs of {ppo['rollouts']} rollouts "
            f"({ppo['agent_steps_per_run']:,} agent-steps, median {ppo['wall_median']:.2f} s each) after one "
            "warm-up rollout; time inside step_async + step_wait + reset over model.learn() wall time. "
            f"Inside PPO one VecEnv step (step_async + step_wait) took {ppo['step_seconds'] * 1e6:,.0f} us "
            f"(median){alone_text}.",
            "",
        ]
    out += ["**Peak memory per environment** (largest batch for the vector APIs, one instance for the dict APIs)",
            "", memory_table(rows), ""]
    return "\n".join(out)


def write_markdown(path: Path, text: str) -> None:
    """Replace the generated block of ``path`` (between the markers) or, without markers, write ``path`` whole."""
    block = f"{MARK_START}\n{text.rstrip()}\n{MARK_END}"
    if path.is_file():
        existing = path.read_text()
        if MARK_START in existing and MARK_END in existing:
            head, rest = existing.split(MARK_START, 1)
            _, tail = rest.split(MARK_END, 1)
            path.write_text(head + block + tail)
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# sd-env performance\n\n{block}\n")


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive integers separated by commas, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="bilateral", help="sd-env scenario (default: the quickstart's)")
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES),
                        help="batch sizes (environments) of the core and the VecEnv (default 1,64,1024,16384)")
    parser.add_argument("--supersuit-sizes", type=parse_sizes, default=None,
                        help="numbers of environments of the SuperSuit path (default: --sizes)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per row (median reported)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per repeat (at least one step)")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds of warm-up per row (at least one step)")
    parser.add_argument("--ppo-config", type=Path, default=REPO / "experiments" / "configs" / "quickstart.yaml")
    parser.add_argument("--ppo-rollouts", type=int, default=4, help="PPO rollouts per timed run")
    parser.add_argument("--ppo-repeats", type=int, default=3, help="timed PPO runs (median share reported)")
    parser.add_argument("--ppo-set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field of the PPO config (as `sd-env train --set`)")
    parser.add_argument("--no-ppo", dest="ppo", action="store_false", help="skip the PPO share measurement")
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="skip the memory measurements")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the report as Markdown to this file (between its markers, if it has them)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes and budgets, a few seconds (for the test suite; figures meaningless)")
    return parser


def main(argv: list[str] | None = None, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the report, return it as a dict (rows, targets, ppo, machine, markdown)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.smoke:
        args.sizes, args.repeats, args.budget, args.warmup = [1, 4], 1, 0.02, 0.0
        args.supersuit_sizes = args.supersuit_sizes or [1, 4]
        args.ppo_rollouts, args.ppo_repeats = 1, 1
        args.ppo_set = ["num_envs=2", "ppo.n_steps=8", "ppo.batch_size=16", "ppo.n_epochs=1", *args.ppo_set]
    if args.supersuit_sizes is None:
        args.supersuit_sizes = list(args.sizes)
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))

    started = datetime.datetime.now(datetime.timezone.utc)
    info = machine_info()
    load_before = os.getloadavg()
    log(f"measuring (scenario {args.scenario}; {args.repeats} x ~{args.budget:g} s per row)...")
    rows = run_benchmarks(args, log)
    ppo = None
    if args.ppo:
        log("PPO share (quickstart settings)...")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ppo = measure_ppo_share(args.ppo_config, args.ppo_rollouts, args.ppo_repeats, args.ppo_set)
        except Exception as error:  # reported in the targets table, not hidden
            ppo = {"error": f"error: {type(error).__name__}: {error}"}
    load_after = os.getloadavg()
    from experiments.config import load_config

    compare_envs = load_config(args.ppo_config, overrides=args.ppo_set).num_envs
    common = [size for size in args.sizes if size in args.supersuit_sizes]
    if compare_envs not in common and common:
        compare_envs = max(common)
    targets = evaluate_targets(rows, ppo, compare_envs)
    text = render(args, info, load_before, load_after, rows, targets, ppo, started, argv)
    print(text, flush=True)
    if args.markdown is not None:
        write_markdown(args.markdown, text)
        log(f"wrote {args.markdown}")
    return {
        "machine": info,
        "load_before": load_before,
        "load_after": load_after,
        "rows": [row.as_dict() for row in rows],
        "targets": [t.__dict__ for t in targets],
        "ppo": ppo,
        "markdown": text,
    }


if __name__ == "__main__":
    main()
