"""The training backends of ``sd-env train``, declared once: a registry of name -> :class:`Backend`.

Every backend has the same interface: ``train(config, params, run_dir, context) -> TrainingResult``. It trains
as ``config`` says inside the prepared run directory, writes its checkpoints and the drift table
(:mod:`sd_env.experiments.training.drift`) as it goes, saves its final policies, and returns what it learned;
:func:`sd_env.experiments.training.train.train` then evaluates the learned policies and writes
``metrics.json`` (one place for every backend).

Backends live in modules that import heavy libraries (torch, Ray, TorchRL): the registry names them by
``module:function`` and imports a backend only when it trains.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainingContext:
    """What a backend is given besides the config: how to reach resources and hooks.

    :param ray_address: address of an existing Ray cluster (the ``rllib`` backend); None starts a local Ray.
    :param callbacks: extra stable-baselines3 callbacks (the ``sb3`` backend; tests and benchmarks use them).
    :param started: ``time.perf_counter()`` when the run began, for ``training_seconds``.
    """

    ray_address: str | None = None
    callbacks: Sequence[Any] = ()
    started: float = field(default_factory=time.perf_counter)


@dataclass
class TrainingResult:
    """What a backend learned.

    :param policies: the final learned policy of each seat (one for every seat with a shared policy), each
        with the batched ``act(observations) -> actions`` of :class:`sd_env.policy.Policy`.
    :param timesteps: agent-steps trained, per learner (one number for a shared policy).
    :param training_seconds: wall-clock seconds of training.
    :param iterations: training iterations, where the backend counts them (RLlib); None otherwise.
    :param history: per-iteration records (RLlib: agent-steps and mean episode return); None otherwise.
    """

    policies: list[Any]
    timesteps: list[int]
    training_seconds: float
    iterations: int | None = None
    history: list[dict[str, Any]] | None = None

    def facts(self) -> dict[str, Any]:
        """``metrics.json``'s keys before ``evaluation``, in their published order."""
        facts: dict[str, Any] = {"timesteps": self.timesteps}
        if self.iterations is not None:
            facts["iterations"] = self.iterations
        facts["training_seconds"] = self.training_seconds
        if self.history is not None:
            facts["history"] = self.history
        return facts


@dataclass(frozen=True)
class Backend:
    """One training backend.

    :param name: the config's ``backend`` value.
    :param entry: ``module:function`` of its ``train(config, params, run_dir, context) -> TrainingResult``.
    :param algorithms: the config ``algorithm`` values it trains.
    :param extra: the pip extra that installs what it needs (``sd-env[extra]``).
    :param description: one line for the docs.
    """

    name: str
    entry: str
    algorithms: tuple[str, ...]
    extra: str
    description: str

    def load(self) -> Callable:
        """The backend's train function (imports its module: torch, Ray or TorchRL)."""
        module, function = self.entry.split(":")
        return getattr(importlib.import_module(module), function)


BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (
        Backend("sb3", "sd_env.experiments.training.sb3_backend:train_sb3",
                ("shared_ppo", "independent_ppo", "pool_ppo", "population_ppo", "psro"), "train",
                "stable-baselines3 PPO on the batched vector environment (the default)"),
        Backend("rllib", "sd_env.experiments.training.rllib_backend:train_rllib",
                ("shared_ppo", "independent_ppo"), "rllib",
                "Ray RLlib PPO on the PettingZoo environment, locally or on a cluster"),
        Backend("benchmarl", "sd_env.experiments.training.benchmarl_backend:train_benchmarl",
                ("shared_ppo", "independent_ppo", "mappo"), "benchmarl",
                "BenchMARL (TorchRL) IPPO and MAPPO on the sd-env BenchMARL task"),
    )
}
