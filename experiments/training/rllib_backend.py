"""RLlib backend (``backend: rllib``): the same environment trained with RLlib's PPO.

Uses RLlib's own PettingZoo wrapper over ``sd_env.parallel_env``; policies
are shared (``shared_ppo``: one module for every state) or one per state
(``independent_ppo``). Ray starts locally by default; ``--ray-address``
connects to an existing cluster. Needs the ``[rllib]`` extra.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from sd_env.agents.learned import RLlibModulePolicy
from sd_env.agents.policy_files import require_trust
from sd_env.policy import Policy
from sd_env.experiments.training.backends import TrainingContext, TrainingResult
from sd_env.experiments.training.config import ConfigError, TrainConfig
from sd_env.experiments.training.drift import record_drift
from sd_env.params import EnvParams

ENV_NAME = "sd_env_security_dilemma"
SHARED_POLICY = "shared"


def _make_env(env_config: dict[str, Any]):
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    from sd_env.parallel import SecurityDilemmaEnv

    return ParallelPettingZooEnv(SecurityDilemmaEnv(**env_config))


def build_algorithm_config(config: TrainConfig, params: EnvParams):
    """The RLlib ``PPOConfig`` for a run (shared or per-state policies).

    :param config: the run's config (``algorithm``, ``ppo``, ``num_envs``, ``scenario``, ``env``, ``seed``).
    :param params: the environment parameters (its ``n_states``: agent-steps per environment step).
    :returns: RLlib's ``PPOConfig``, not yet built.
    """
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    agents = [f"state_{i}" for i in range(params.n_states)]
    if config.algorithm == "shared_ppo":
        policies = {SHARED_POLICY}

        def mapping(agent_id, *args, **kwargs):
            return SHARED_POLICY
    else:
        policies = set(agents)

        def mapping(agent_id, *args, **kwargs):
            return agent_id

    ppo = config.ppo
    rows_per_iteration = ppo.n_steps * config.num_envs * params.n_states
    module = RLModuleSpec(model_config={"fcnet_hiddens": list(ppo.net_arch)})
    return (
        PPOConfig()
        .environment(ENV_NAME, env_config={"scenario": config.scenario, **config.env})
        .env_runners(num_env_runners=0, num_envs_per_env_runner=1, rollout_fragment_length="auto")
        .training(
            lr=ppo.learning_rate,
            gamma=ppo.gamma,
            lambda_=ppo.gae_lambda,
            clip_param=ppo.clip_range,
            entropy_coeff=ppo.ent_coef,
            vf_loss_coeff=ppo.vf_coef,
            grad_clip=ppo.max_grad_norm,
            train_batch_size_per_learner=rows_per_iteration,
            minibatch_size=min(ppo.batch_size, rows_per_iteration),
            num_epochs=ppo.n_epochs,
        )
        .multi_agent(policies=policies, policy_mapping_fn=mapping)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={policy: module for policy in policies}))
        .debugging(seed=config.seed)
    )


def _agent_steps(result: dict[str, Any]) -> int:
    runners = result.get("env_runners", {})
    for key in ("num_agent_steps_sampled_lifetime", "num_env_steps_sampled_lifetime"):
        value = runners.get(key, result.get(key))
        if isinstance(value, dict):
            value = sum(value.values())
        if value is not None:
            return int(value)
    raise RuntimeError("RLlib result has no sampled-steps counter")


def _save_checkpoint_atomic(algorithm, folder: Path) -> None:
    """Save into a temporary folder, then swap it in, so ``folder`` is always a complete checkpoint."""
    temporary = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    algorithm.save_to_path(str(temporary.resolve()))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        os.replace(folder, old)
    os.replace(temporary, folder)
    shutil.rmtree(old, ignore_errors=True)


def _learned_policies(algorithm, config: TrainConfig, params: EnvParams) -> list[Policy]:
    """The policy of every seat, as the algorithm holds them now."""
    modules = [
        algorithm.get_module(SHARED_POLICY if config.algorithm == "shared_ppo" else f"state_{i}")
        for i in range(params.n_states)
    ]
    deterministic = config.eval_actions == "deterministic"
    return [RLlibModulePolicy(module, params, deterministic=deterministic) for module in modules]


def train_rllib(config: TrainConfig, params: EnvParams, run_dir: Path, context: TrainingContext) -> TrainingResult:
    """Train with RLlib PPO until ``total_timesteps`` agent-steps; checkpoints in ``checkpoints/rllib``.

    :param config: the run's config (``algorithm``: shared_ppo or independent_ppo).
    :param params: the environment parameters.
    :param run_dir: the prepared run directory.
    :param context: ``ray_address`` of an existing cluster (None: a local Ray on every core).
    """
    try:
        import ray
        from ray.tune.registry import register_env
    except ImportError:
        raise ConfigError("backend rllib needs Ray: pip install -e '.[rllib]'", parameter="backend") from None

    started_here = not ray.is_initialized()
    if started_here:
        if context.ray_address:
            ray.init(address=context.ray_address, ignore_reinit_error=True, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
                     num_cpus=os.cpu_count() or 1)
    try:
        register_env(ENV_NAME, _make_env)
        algorithm = build_algorithm_config(config, params).build_algo()
        checkpoint = run_dir / "checkpoints" / "rllib"
        if checkpoint.is_dir():
            require_trust(checkpoint, "an RLlib checkpoint (to resume from)")
            algorithm.restore_from_path(str(checkpoint.resolve()))
        started = time.perf_counter()
        steps = 0
        last_saved = 0
        history = []
        while True:
            result = algorithm.train()
            steps = _agent_steps(result)
            history.append({"agent_steps": steps,
                            "episode_return_mean": result.get("env_runners", {}).get("episode_return_mean")})
            if steps - last_saved >= config.checkpoint_every or steps >= config.total_timesteps:
                # Drift first, as the SB3 backend does: a run killed between the two replaces the row.
                record_drift(run_dir, params, _learned_policies(algorithm, config, params), config.eval_episodes,
                             config.seed + 1, steps)
                _save_checkpoint_atomic(algorithm, checkpoint)
                last_saved = steps
            if steps >= config.total_timesteps:
                break
        training_seconds = time.perf_counter() - started
        learned = _learned_policies(algorithm, config, params)
        algorithm.stop()
        return TrainingResult(policies=learned, timesteps=[steps], training_seconds=round(training_seconds, 2),
                              iterations=len(history), history=history)
    finally:
        if started_here:
            ray.shutdown()
