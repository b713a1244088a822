"""Peak memory per environment: tracemalloc peaks, and the bytes of the arrays numba's kernels allocate.

tracemalloc sees Python's and NumPy's allocations but not the arrays the compiled kernels
allocate; ``memory_of_core`` also counts those exactly (``new_array_bytes``). Every probe
returns {method: bytes per environment}, the form ``benchmarks.harness.Case.memory`` takes.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.harness import action_bank, dict_action_bank
from benchmarks.runners import VecEnvParts


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


def memory_of_dict_env(make: Callable[[], Any], aec: bool, seed: int, steps: int = 5) -> dict[str, float]:
    """tracemalloc peak of one PettingZoo environment: construct, reset, a few random steps."""
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

    return {"tracemalloc": traced_peak(build)}


def memory_of_vec_env(make: Callable[[], VecEnvParts], num_envs: int, seed: int) -> dict[str, float]:
    """tracemalloc peak of a vector environment (construct, reset, 2 steps), per environment."""

    def build():
        env, _, _ = make()
        env.reset()
        actions = action_bank(env.action_space.nvec, env.num_envs, 2, seed)
        for t in range(2):
            env.step(actions[t])
        return env

    return {"tracemalloc": traced_peak(build) / num_envs}


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
