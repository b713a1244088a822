"""The environment's share of PPO wall time, with the settings of a training config (the quickstart's)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import time_methods


def measure_ppo_share(
    config_path: Path, rollouts: int, repeats: int, overrides: list[str]
) -> dict[str, Any]:
    """Share of PPO wall time inside the VecEnv (step_async + step_wait + reset), quickstart PPO settings.

    The VecEnv and PPO are built exactly as ``sd-env train`` builds them for
    ``shared_ppo`` (``sd_env.experiments.training.sb3_models.ppo_kwargs``), with
    ``torch.set_num_threads(config.torch_threads)`` (1 in the quickstart). One
    warm-up rollout, then ``repeats`` runs of ``rollouts`` rollouts each
    (``model.learn``, which also resets the VecEnv); the median share is reported.
    Training callbacks (checkpoints, TensorBoard) are left out, which makes
    PPO's wall time shorter and the environment's share larger, if anything.
    """
    import torch
    from stable_baselines3 import PPO

    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.sb3_models import ppo_kwargs
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    config = load_config(config_path, overrides=overrides)
    torch.set_num_threads(config.torch_threads)
    env = SecurityDilemmaVecEnv(config.num_envs, params=config.env_params(), seed=config.seed)
    totals = time_methods(env, ("step_async", "step_wait", "reset"))
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
