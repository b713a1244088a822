"""``sd-env train``: one config in, one run directory out.

A run directory holds::

    config.yaml        the resolved config (every default filled in)
    run.json           seed, versions of the main packages, machine, timings
    checkpoints/       PPO checkpoints every ``checkpoint_every`` agent-steps, written atomically
    tensorboard/       SB3's TensorBoard logs, plus security/* measures from the environment
    policy.zip         the final policy (state_0's for independent learners: policy_state_i.zip)
    metrics.json       the final evaluation: self-play and against scripted baselines

``--resume`` continues from the last checkpoint; a resumed run ends with
the same number of agent-steps as an uninterrupted one. (The environment's
random stream restarts at the resume point, so the two runs' parameters are
not bit-identical.)
"""

from __future__ import annotations

import io
import json
import platform
import re
import time
from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agents.learned import PoolPolicy, SB3Policy
from sd_env.stances import make_policy
from experiments.atomic import write_bytes_atomic, write_text_atomic
from experiments.config import ConfigError, TrainConfig, config_from_dict
from experiments.evaluate import write_final_metrics
from sd_env.params import EnvParams

CHECKPOINT_PATTERN = re.compile(r"^ppo_(\d+)_steps\.zip$")
#: Config fields a resumed run may change; anything else must match the saved config.
RESUMABLE_CHANGES = {"total_timesteps", "progress_bar", "output_dir", "eval_episodes", "torch_threads"}
PACKAGES = ("sd-env", "numpy", "gymnasium", "pettingzoo", "stable-baselines3", "torch", "ray")


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions


def save_model_atomic(model, path: Path) -> None:
    """Save an SB3 model so that ``path`` is either absent or a complete zip, never half-written."""
    buffer = io.BytesIO()
    model.save(buffer)
    write_bytes_atomic(path, buffer.getvalue())


def latest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint with the most agent-steps in ``folder``, or None."""
    if not folder.is_dir():
        return None
    found = [(int(m.group(1)), path) for path in folder.iterdir() if (m := CHECKPOINT_PATTERN.match(path.name))]
    return max(found)[1] if found else None


def _sb3_callbacks():
    """SB3 callback classes, defined lazily so importing this module stays light."""
    from stable_baselines3.common.callbacks import BaseCallback

    class AtomicCheckpointCallback(BaseCallback):
        """Checkpoints after each PPO update once ``every`` more agent-steps have passed.

        Saving at the start of a rollout (right after the previous update)
        keeps checkpoints on rollout boundaries, which is what makes a
        resumed run end on the same step count as an uninterrupted one.
        """

        def __init__(self, folder: Path, every: int) -> None:
            super().__init__()
            self.folder, self.every = folder, every
            self.next_save = 0

        def _on_training_start(self) -> None:
            self.next_save = (self.num_timesteps // self.every + 1) * self.every

        def _on_rollout_start(self) -> None:
            if self.num_timesteps >= self.next_save:
                self._save()
                self.next_save = (self.num_timesteps // self.every + 1) * self.every

        def _on_training_end(self) -> None:
            self._save()

        def _save(self) -> None:
            save_model_atomic(self.model, self.folder / f"ppo_{self.num_timesteps:09d}_steps.zip")

        def _on_step(self) -> bool:
            return True

    class SecurityMeasuresCallback(BaseCallback):
        """Logs the mean of every per-step measure of the environment (``sd_env.measures``) to TensorBoard
        as ``security/<name>``, per rollout."""

        def _on_rollout_start(self) -> None:
            self.sums: dict[str, list[float]] = {}

        def _on_step(self) -> bool:
            measures = getattr(self.training_env, "last_measures", None)
            for name, values in (measures or {}).items():
                self.sums.setdefault(name, []).append(float(np.mean(values)))
            return True

        def _on_rollout_end(self) -> None:
            for name, means in self.sums.items():
                self.logger.record(f"security/{name}", float(np.mean(means)))

    return AtomicCheckpointCallback, SecurityMeasuresCallback


def ppo_kwargs(config: TrainConfig) -> dict[str, Any]:
    """Keyword arguments for SB3's ``PPO`` from ``config.ppo``, as every SB3 run of ``sd-env train`` builds it.

    The config's PPO fields carry SB3's own names; ``net_arch`` goes into ``policy_kwargs``.
    ``benchmarks/peers.py`` builds its PPO with these too, so its share of PPO time is the training's.
    """
    kwargs = asdict(config.ppo)
    net_arch = list(kwargs.pop("net_arch"))
    return {**kwargs, "policy_kwargs": {"net_arch": net_arch}}


def _ppo_model(config: TrainConfig, env, run_dir: Path, seed: int, checkpoint: Path | None = None):
    """A PPO learner as every SB3 run builds it: loaded from ``checkpoint`` if given, else new with ``seed``."""
    from stable_baselines3 import PPO

    tensorboard = str(run_dir / "tensorboard")
    if checkpoint is not None:
        return PPO.load(checkpoint, env=env, device="cpu", tensorboard_log=tensorboard)
    return PPO("MlpPolicy", env, seed=seed, device="cpu", tensorboard_log=tensorboard, verbose=0, **ppo_kwargs(config))


def _learn(model, steps: int, run_dir: Path, config: TrainConfig, resumed: bool, extra_callbacks: Sequence) -> None:
    checkpoint_class, measures_class = _sb3_callbacks()
    callbacks = [checkpoint_class(run_dir / "checkpoints", config.checkpoint_every), measures_class(), *extra_callbacks]
    model.learn(
        total_timesteps=steps,
        callback=callbacks,
        progress_bar=config.progress_bar,
        tb_log_name="ppo",
        reset_num_timesteps=not resumed,
    )


def train_shared_or_pool(config: TrainConfig, params: EnvParams, run_dir: Path, extra_callbacks: Sequence) -> list:
    """Shared PPO in self-play, or state_0 against a pool of scripted opponents. Returns [model]."""
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    opponents = None
    if config.algorithm == "pool_ppo":
        pool = PoolPolicy(params, [make_policy(name, params, seed=config.seed) for name in config.opponents])
        opponents = {seat: pool for seat in range(1, params.n_states)}
    checkpoint = latest_checkpoint(run_dir / "checkpoints")
    if checkpoint is not None:
        model = _ppo_model(config, None, run_dir, config.seed, checkpoint)
        # A fresh stream for the rest of the run, distinct from the one already used.
        env = SecurityDilemmaVecEnv(config.num_envs, params=params, seed=config.seed + model.num_timesteps,
                                    opponents=opponents)
        model.set_env(env)
    else:
        env = SecurityDilemmaVecEnv(config.num_envs, params=params, seed=config.seed, opponents=opponents)
        model = _ppo_model(config, env, run_dir, config.seed)
    remaining = config.total_timesteps - model.num_timesteps
    if remaining > 0:
        _learn(model, remaining, run_dir, config, checkpoint is not None, extra_callbacks)
    save_model_atomic(model, run_dir / "policy.zip")
    return [model]


def train_independent(config: TrainConfig, params: EnvParams, run_dir: Path, extra_callbacks: Sequence) -> list:
    """One PPO learner per state, trained in alternating rounds against the others' current policies.

    In round r each state in turn learns for ``total_timesteps / (rounds * N)``
    agent-steps while the other states play their latest (stochastic)
    policies. Progress is saved after every (round, state) chunk, so
    ``--resume`` restarts at the first unfinished chunk.
    """
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    n = params.n_states
    chunk = max(config.total_timesteps // (config.rounds * n), 1)
    progress_path = run_dir / "checkpoints" / "independent_progress.json"
    done_chunks = json.loads(progress_path.read_text())["completed"] if progress_path.is_file() else 0
    models: list = []
    for seat in range(n):
        path = run_dir / "checkpoints" / f"state_{seat}_latest.zip"
        placeholder = SecurityDilemmaVecEnv(config.num_envs, params=params, seed=config.seed + seat,
                                            opponents={j: make_policy("dove", params) for j in range(n) if j != seat})
        models.append(_ppo_model(config, placeholder, run_dir, config.seed + seat, path if path.is_file() else None))
    _, measures_class = _sb3_callbacks()
    for index in range(done_chunks, config.rounds * n):
        round_number, seat = divmod(index, n)
        others = {j: SB3Policy(models[j], params, deterministic=False) for j in range(n) if j != seat}
        env = SecurityDilemmaVecEnv(config.num_envs, params=params, seed=config.seed + 7919 * (index + 1), opponents=others)
        model = models[seat]
        model.set_env(env)
        model.learn(
            total_timesteps=chunk,
            callback=[measures_class(), *extra_callbacks],
            progress_bar=config.progress_bar,
            tb_log_name=f"ppo_state_{seat}",
            reset_num_timesteps=False,
        )
        save_model_atomic(model, run_dir / "checkpoints" / f"state_{seat}_latest.zip")
        save_model_atomic(model, run_dir / "checkpoints" / f"round_{round_number}_state_{seat}.zip")
        write_text_atomic(progress_path, json.dumps({"completed": index + 1}))
    for seat, model in enumerate(models):
        save_model_atomic(model, run_dir / f"policy_state_{seat}.zip")
    return models


def _prepare_run_dir(config: TrainConfig, resume: bool) -> TrainConfig:
    """Create (or, with ``resume``, check) the run directory; return the config to run with."""
    run_dir = config.run_dir
    saved_path = run_dir / "config.yaml"
    if resume:
        if not saved_path.is_file():
            raise ConfigError(f"--resume: no run to resume at {str(run_dir)!r} (config.yaml missing)")
        saved = yaml.safe_load(saved_path.read_text())
        current = config.to_dict()
        changed = sorted(key for key in current if key not in RESUMABLE_CHANGES and current[key] != saved.get(key))
        if changed:
            raise ConfigError(
                f"--resume: config differs from the saved run in {', '.join(changed)}; "
                f"only {', '.join(sorted(RESUMABLE_CHANGES))} may change"
            )
        saved.update({key: current[key] for key in RESUMABLE_CHANGES})
        return config_from_dict(saved)
    if saved_path.exists():
        raise ConfigError(f"run directory {str(run_dir)!r} already holds a run; pass --resume or choose another name")
    run_dir.mkdir(parents=True, exist_ok=True)
    return config


def train(
    config: TrainConfig,
    resume: bool = False,
    ray_address: str | None = None,
    extra_callbacks: Sequence = (),
) -> dict[str, Any]:
    """Run a training job as ``config`` says; return the final metrics (also in ``metrics.json``)."""
    config = _prepare_run_dir(config, resume)
    run_dir = config.run_dir
    if config.backend == "sb3":
        import torch

        torch.set_num_threads(config.torch_threads)
    params = config.env_params()
    write_text_atomic(run_dir / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))
    started = time.perf_counter()
    run_info = {
        "seed": config.seed,
        "versions": package_versions(),
        "machine": {"platform": platform.platform(), "processor": platform.machine()},
        "resumed": resume,
    }
    write_text_atomic(run_dir / "run.json", json.dumps(run_info, indent=2))

    if config.backend == "rllib":
        from experiments.rllib_backend import train_rllib

        metrics = train_rllib(config, params, run_dir, ray_address)
    else:
        if config.algorithm == "independent_ppo":
            models = train_independent(config, params, run_dir, extra_callbacks)
        else:
            models = train_shared_or_pool(config, params, run_dir, extra_callbacks)
        metrics = write_final_metrics(
            config,
            params,
            [SB3Policy(model, params) for model in models],
            run_dir,
            timesteps=[int(model.num_timesteps) for model in models],
            training_seconds=round(time.perf_counter() - started, 2),
        )
    run_info["training_seconds"] = metrics["training_seconds"]
    write_text_atomic(run_dir / "run.json", json.dumps(run_info, indent=2))
    return metrics
