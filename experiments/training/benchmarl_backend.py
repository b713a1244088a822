"""The BenchMARL backend of ``sd-env train`` (``backend: benchmarl``): TorchRL's PPO family on the sd-env task.

The interface of every backend (:mod:`sd_env.experiments.training.backends`): :func:`train_benchmarl` trains
as the config says inside a prepared run directory and returns what it learned. The environment is the
BenchMARL task of :mod:`sd_env.experiments.training.benchmarl_task` (fixed agents, one flattened discrete
action), so the learners see exactly what sd-env's other adapters show. Algorithms:

=================  ==================================================================================
``algorithm``      BenchMARL
=================  ==================================================================================
``shared_ppo``     IPPO with one policy shared by every state (``share_policy_params``), self-play
``independent_ppo`` IPPO with one policy per state, all learning at once
``mappo``          MAPPO (a centralised critic reading the global state), one policy shared by every state
=================  ==================================================================================

The config maps onto BenchMARL's as follows. A frame is one parallel environment step (every state acts),
so ``total_timesteps`` agent-steps are ``total_timesteps / n_states`` frames, rounded up to whole batches
of ``ppo.n_steps x num_envs`` frames; ``ppo.n_epochs`` passes over each batch in minibatches of
``ppo.batch_size`` frames; ``learning_rate``, ``gamma``, ``gae_lambda``, ``clip_range``, ``ent_coef``,
``vf_coef`` and ``max_grad_norm`` are BenchMARL's ``lr``, ``gamma``, ``lmbda``, ``clip_epsilon``,
``entropy_coef``, ``critic_coef`` and ``clip_grad_val``; ``net_arch`` is the MLP's ``num_cells``.

BenchMARL's own folder is ``RUN/benchmarl/`` (its config, CSV logs and checkpoints every
``checkpoint_every`` agent-steps, rounded up to whole batches). At every checkpoint the learned policies play the
run's evaluation episodes and a row goes into ``drift.csv`` (:mod:`sd_env.experiments.training.drift`); a
resumed run restarts from the last whole checkpoint. A run directory trained here is a policy spec like any
other (:mod:`sd_env.experiments.lab.specs`; :meth:`sd_env.agents.learned.BenchMARLPolicy.load` reads it). Neither
reads a pickle that could run code: checkpoints are torch files read weights-only, and BenchMARL's pickled
``config.pkl`` is never read. Needs the ``benchmarl`` extra.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from sd_env.agents.learned import BenchMARLPolicy
from sd_env.experiments.training.backends import TrainingContext, TrainingResult
from sd_env.experiments.training.config import ConfigError, TrainConfig
from sd_env.experiments.training.drift import record_drift
from sd_env.params import EnvParams
from sd_env.spaces import action_space

try:  # BenchMARL is an optional extra (``sd-env[benchmarl]``); without it this backend says so when used.
    from benchmarl.experiment.callback import Callback
except ImportError:  # pragma: no cover - exercised where benchmarl is not installed
    Callback = object

#: ``algorithm`` -> (BenchMARL's algorithm, one policy shared by every state).
ALGORITHMS = {"shared_ppo": ("ippo", True), "independent_ppo": ("ippo", False), "mappo": ("mappo", True)}
#: BenchMARL's folder in a run directory.
FOLDER = "benchmarl"


def batch_frames(config: TrainConfig) -> int:
    """Frames (parallel environment steps) per BenchMARL batch: ``ppo.n_steps x num_envs``.

    :param config: the run's config (its ``ppo.n_steps`` and ``num_envs``).
    :returns: frames per batch, >= 1.
    """
    return config.ppo.n_steps * config.num_envs


def frames_for(agent_steps: int, config: TrainConfig, params: EnvParams) -> int:
    """Frames for ``agent_steps`` agent-steps, rounded up to whole batches (PPO learns whole batches, as SB3's
    whole rollouts): at least one batch.

    :param agent_steps: agent-steps (one state, one year), >= 0.
    :param config: the run's config (its batch: :func:`batch_frames`).
    :param params: the environment (its ``n_states``: agent-steps per frame).
    :returns: frames, a positive multiple of :func:`batch_frames`.
    """
    batch = batch_frames(config)
    return max(1, -(-agent_steps // (params.n_states * batch))) * batch


def learned_policies(experiment, params: EnvParams, shared: bool,
                     deterministic: bool = False) -> list[BenchMARLPolicy]:
    """The policy of every seat, as the experiment holds them now.

    :param experiment: the BenchMARL ``Experiment`` of the run.
    :param params: the environment.
    :param shared: one policy shared by every state (else one per state).
    :returns: N :class:`~sd_env.agents.learned.BenchMARLPolicy`, in seat order (one object in every seat when
        shared).
    """
    nvec, n = np.asarray(action_space(params).nvec), params.n_states
    if shared:
        return [BenchMARLPolicy(experiment.policy, nvec, n, None, deterministic)] * n
    return [BenchMARLPolicy(experiment.policy, nvec, n, seat, deterministic) for seat in range(n)]


class DriftCallback(Callback):
    """A BenchMARL callback writing a drift row whenever the frames trained reach a multiple of ``every``.

    :param run_dir: the run directory (``drift.csv``).
    :param params: the environment parameters.
    :param config: the run's config (evaluation episodes and seed).
    :param every: frames between drift rows (the checkpoint interval).
    :param shared: one policy for every seat.
    """

    def __init__(self, run_dir: Path, params: EnvParams, config: TrainConfig, every: int, shared: bool) -> None:
        super().__init__()
        self.run_dir, self.params, self.config, self.every, self.shared = run_dir, params, config, every, shared

    def on_train_end(self, training_td, group: str) -> None:
        """After each training iteration: a drift row where the frames trained are a multiple of ``every``.

        :param training_td: BenchMARL's tensordict of the iteration's loss values (not read).
        :param group: the agent group trained, ``agents`` (not read).
        """
        frames = self.experiment.total_frames
        if self.run_dir is not None and frames % self.every == 0:  # the checkpoint after this iteration holds these
            record_drift(self.run_dir, self.params, learned_policies(self.experiment, self.params, self.shared,
                                                          self.config.eval_actions == "deterministic"),
                         self.config.eval_episodes, self.config.seed + 1, frames * self.params.n_states)

    def __getstate__(self) -> dict[str, Any]:
        # BenchMARL pickles its callbacks into config.pkl: a run reloaded from it (to evaluate) records no drift.
        return {"run_dir": None, "params": None, "config": None, "every": 1, "shared": True, "experiment": None}


def make_experiment(config: TrainConfig, params: EnvParams, run_dir: Path, callbacks: list | None = None):
    """The BenchMARL ``Experiment`` of a run (restored from its last checkpoint if there is one).

    :param config: the run's config (``algorithm``: shared_ppo, independent_ppo or mappo).
    :param params: the environment parameters (frames per agent-step).
    :param run_dir: the run directory; BenchMARL's folder ``run_dir / "benchmarl"`` is made if missing.
    :param callbacks: BenchMARL callbacks (the :class:`DriftCallback`); None: none.
    :returns: the ``Experiment``, not yet run.
    """
    import torch
    from benchmarl.algorithms import IppoConfig, MappoConfig
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models.mlp import MlpConfig

    from sd_env.experiments.training.benchmarl_task import task_for

    name, shared = ALGORITHMS[config.algorithm]
    ppo = config.ppo
    algorithm = (MappoConfig if name == "mappo" else IppoConfig).get_from_yaml()
    algorithm.clip_epsilon, algorithm.entropy_coef, algorithm.critic_coef = ppo.clip_range, ppo.ent_coef, ppo.vf_coef
    algorithm.lmbda = ppo.gae_lambda
    batch = batch_frames(config)
    settings = ExperimentConfig.get_from_yaml()
    settings.sampling_device = settings.train_device = settings.buffer_device = "cpu"
    settings.share_policy_params = shared
    settings.max_n_frames = frames_for(config.total_timesteps, config, params)
    settings.on_policy_collected_frames_per_batch = batch
    settings.on_policy_n_envs_per_worker = config.num_envs
    settings.on_policy_n_minibatch_iters = ppo.n_epochs
    settings.on_policy_minibatch_size = min(ppo.batch_size, batch)
    settings.lr, settings.gamma = ppo.learning_rate, ppo.gamma
    settings.clip_grad_norm, settings.clip_grad_val = True, ppo.max_grad_norm
    settings.evaluation, settings.render, settings.create_json = False, False, False
    settings.loggers = ["csv"]
    settings.checkpoint_interval = frames_for(config.checkpoint_every, config, params)
    settings.checkpoint_at_end = True
    settings.keep_checkpoints_num = 2
    folder = run_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    settings.save_folder = str(folder)
    # The newest whole checkpoint, already read weights-only (BenchMARL restores it with torch.load, whose
    # default under torch >= 2.6 is weights-only too): resuming unpickles no code and needs no trust.
    checkpoint = BenchMARLPolicy.latest_checkpoint(run_dir / FOLDER)
    settings.restore_file = str(checkpoint) if checkpoint is not None else None
    model = MlpConfig.get_from_yaml()
    model.num_cells = list(ppo.net_arch)
    critic = MlpConfig.get_from_yaml()
    critic.num_cells = list(ppo.net_arch)
    torch.set_num_threads(config.torch_threads)
    return Experiment(task=task_for(config.scenario, **config.env), algorithm_config=algorithm, model_config=model,
                      critic_model_config=critic, seed=config.seed, config=settings, callbacks=callbacks or [])


def train_benchmarl(config: TrainConfig, params: EnvParams, run_dir: Path, context: TrainingContext) -> TrainingResult:
    """Train with BenchMARL as ``config.algorithm`` says (module docstring); return the learned policies.

    :param config: the run's config (``algorithm``: shared_ppo, independent_ppo or mappo).
    :param params: the environment parameters.
    :param run_dir: the prepared run directory; BenchMARL's folder is ``run_dir / "benchmarl"``.
    :param context: the start time (``training_seconds`` counts from it).
    """
    try:
        import benchmarl  # noqa: F401 - the extra is needed
    except ImportError:
        raise ConfigError("backend benchmarl needs BenchMARL: pip install -e '.[benchmarl]'",
                          parameter="backend") from None
    _, shared = ALGORITHMS[config.algorithm]
    deterministic = config.eval_actions == "deterministic"
    every = frames_for(config.checkpoint_every, config, params)
    experiment = make_experiment(config, params, run_dir, [DriftCallback(run_dir, params, config, every, shared)])
    if experiment.total_frames < experiment.config.max_n_frames:
        experiment.run()
    if not (run_dir / "drift.csv").is_file() or experiment.total_frames % every:
        # The last batch ended between checkpoints: its drift row too, as the other backends end with one.
        record_drift(run_dir, params, learned_policies(experiment, params, shared, deterministic),
                     config.eval_episodes, config.seed + 1, experiment.total_frames * params.n_states)
    return TrainingResult(
        policies=learned_policies(experiment, params, shared, deterministic),
        timesteps=[int(experiment.total_frames * params.n_states)],
        training_seconds=round(time.perf_counter() - context.started, 2),
    )
