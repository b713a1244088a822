"""The stable-baselines3 backend of ``sd-env train``: shared, pool and independent PPO.

The interface of every backend (:mod:`sd_env.experiments.training.backends`): :func:`train_sb3` trains as
the config says inside a prepared run directory and returns what it learned. It writes PPO checkpoints every
``checkpoint_every`` agent-steps (atomically, on rollout boundaries, so a resumed run ends on the same step
count), the drift table (:mod:`sd_env.experiments.training.drift`) at every checkpoint, the TensorBoard logs
(SB3's, the per-step ``security/*`` measures of the environment and the episode ``measures/*`` of each drift
row) and the final policies.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sd_env.agents.learned import PoolPolicy, SB3Policy, load_sb3_model
from sd_env.agents.policy_files import sb3_checkpoint_problem
from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.output.reading import CorruptFileError, read_json_mapping
from sd_env.experiments.training.backends import TrainingContext, TrainingResult
from sd_env.experiments.training.config import TrainConfig
from sd_env.experiments.training.drift import record_drift
from sd_env.experiments.training.sb3_models import new_model, run_world, save_model_atomic
from sd_env.experiments.training.start import start_learner
from sd_env.params import EnvParams
from sd_env.stances import make_policy

CHECKPOINT_PATTERN = re.compile(r"^ppo_(\d+)_steps\.zip$")


def latest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint with the most agent-steps in ``folder``, or None.

    :param folder: the run's checkpoints folder (``ppo_<agent-steps>_steps.zip`` files).
    :returns: the newest checkpoint that is whole (a damaged newer one is passed over with a warning on
        standard error); None where the folder is missing or holds none.
    :raises CorruptFileError: every checkpoint in the folder is damaged.
    """
    if not folder.is_dir():
        return None
    found = sorted(((int(m.group(1)), path) for path in folder.iterdir() if (m := CHECKPOINT_PATTERN.match(path.name))),
                   reverse=True)
    damaged = []
    for _, path in found:  # the newest whole one: a damaged checkpoint is passed over, with a warning
        problem = sb3_checkpoint_problem(path)
        if problem is None:
            if damaged:
                print(f"sd-env: warning: {damaged[0]}; resuming from the previous checkpoint, {path.name}",
                      file=sys.stderr, flush=True)
            return path
        damaged.append(f"checkpoint {str(path)!r} is damaged: {problem}")
    if damaged:
        raise CorruptFileError(f"{damaged[0]}, and so is every earlier one; delete the checkpoints to train "
                               f"from the start")
    return None


def _sb3_callbacks():
    """SB3 callback classes, defined lazily so importing this module stays light."""
    from stable_baselines3.common.callbacks import BaseCallback

    class AtomicCheckpointCallback(BaseCallback):
        """Checkpoints after each PPO update once ``every`` more agent-steps have passed, and records drift.

        Saving at the start of a rollout (right after the previous update)
        keeps checkpoints on rollout boundaries, which is what makes a
        resumed run end on the same step count as an uninterrupted one. At
        every checkpoint ``drift(model)``, if given, evaluates the policy
        being learned (``sd_env.experiments.training.drift``); its measures go to
        TensorBoard as ``measures/<name>``.
        """

        def __init__(self, folder: Path, every: int, drift=None, on_save=None, world: str | None = None) -> None:
            super().__init__()
            self.folder, self.every, self.drift, self.on_save, self.world = folder, every, drift, on_save, world
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
            # Drift first: a run killed between the two redoes this checkpoint and replaces the drift row.
            if self.drift is not None:
                log_measures(self.logger, self.drift(self.model), self.num_timesteps)
            path = self.folder / f"ppo_{self.num_timesteps:09d}_steps.zip"
            save_model_atomic(self.model, path, self.world)
            if self.on_save is not None:
                self.on_save(path)

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


def log_measures(logger, row: dict[str, float], timesteps: int) -> None:
    """Write a drift row's measures to an SB3 logger (TensorBoard) as ``measures/<name>`` at ``timesteps``.

    :param logger: the model's stable-baselines3 logger.
    :param row: a drift row (:func:`sd_env.experiments.training.drift.drift_row`); non-finite values are skipped.
    :param timesteps: agent-steps, the step the values are logged at.
    """
    for name, value in row.items():
        if name != "timesteps" and np.isfinite(value):
            logger.record(f"measures/{name}", float(value))
    logger.dump(timesteps)


def _ppo_model(config: TrainConfig, env, run_dir: Path, seed: int, checkpoint: Path | None = None,
               params: EnvParams | None = None, seats: list[int] | None = None, label: str = "shared"):
    """A PPO learner as every SB3 run builds it: loaded from ``checkpoint`` if given, else new with ``seed``
    and given the config's ``start`` (cloned from a stance in ``seats`` where ``start`` names one)."""
    tensorboard = str(run_dir / "tensorboard")
    if checkpoint is not None:
        return load_sb3_model(checkpoint, env=env, tensorboard_log=tensorboard)
    model = new_model(config, env, seed, tensorboard)
    if params is not None:
        start_learner(model, config.start, params, seats or [0], seed, run_dir, label)
    return model


def _drift_recorder(config: TrainConfig, params: EnvParams, run_dir: Path):
    """``drift(model) -> row``: the model's policy in every seat, the run's evaluation episodes and seed."""

    def drift(model) -> dict[str, float]:
        policy = SB3Policy(model, params, deterministic=config.eval_actions == "deterministic")
        return record_drift(run_dir, params, [policy] * params.n_states, config.eval_episodes, config.seed + 1,
                            int(model.num_timesteps))

    return drift


def _learn(model, steps: int, params: EnvParams, run_dir: Path, config: TrainConfig, resumed: bool,
           extra_callbacks: Sequence, on_save=None) -> None:
    checkpoint_class, measures_class = _sb3_callbacks()
    drift = _drift_recorder(config, params, run_dir)
    callbacks = [checkpoint_class(run_dir / "checkpoints", config.checkpoint_every, drift, on_save,
                                 run_world(config, params)), measures_class(),
                 *extra_callbacks]
    model.learn(
        total_timesteps=steps,
        callback=callbacks,
        progress_bar=config.progress_bar,
        tb_log_name="ppo",
        reset_num_timesteps=not resumed,
    )


class Population:
    """The opponents of ``population_ppo``: the scripted stances and the latest past checkpoints of the learner.

    Fictitious self-play (Heinrich, Lanctot & Silver 2015): the learner meets
    the scripted stances (real threats, real restraint) and earlier versions
    of itself, so it can neither collude with a copy of itself, as in shared
    self-play, nor only exploit fixed rules. Each checkpoint joins the pool
    (sampling its actions, as during training); the oldest leaves once there
    are ``size``. The pool is a ``PoolPolicy`` shared by every opponent seat:
    games are split among its members in equal contiguous chunks.
    """

    def __init__(self, params: EnvParams, scripted: list, size: int) -> None:
        self.params, self.scripted, self.size = params, scripted, size
        self.snapshots: list = []
        self.pool = PoolPolicy(params, list(scripted))

    def add(self, checkpoint: Path) -> None:
        """Add a learner checkpoint to the pool (it samples its actions); the oldest leaves beyond ``size``.

        :param checkpoint: a stable-baselines3 checkpoint (``.zip``) of the learner.
        """
        self.snapshots = [*self.snapshots, SB3Policy.load(checkpoint, self.params, deterministic=False)][-self.size:]
        self.pool.policies = [*self.scripted, *self.snapshots]

    def restore(self, folder: Path) -> None:
        """After a resume: the pool as it was, from the latest ``size`` checkpoints on disk.

        :param folder: the run's checkpoints folder (``ppo_<agent-steps>_steps.zip`` files).
        """
        found = sorted((int(m.group(1)), path) for path in folder.glob("ppo_*_steps.zip")
                       if (m := CHECKPOINT_PATTERN.match(path.name)))
        for _, path in found[-self.size:]:
            self.add(path)


def train_shared_or_pool(config: TrainConfig, params: EnvParams, run_dir: Path, extra_callbacks: Sequence) -> list:
    """Shared PPO in self-play, or state_0 against a pool of scripted opponents (and, for ``population_ppo``,
    of its own past checkpoints). Returns [model].

    :param config: the run's config (``algorithm``: shared_ppo, pool_ppo or population_ppo).
    :param params: the environment parameters.
    :param run_dir: the prepared run directory; resumes from its latest checkpoint if there is one.
    :param extra_callbacks: stable-baselines3 callbacks added to the run's own.
    :returns: a list of one PPO model, trained to ``total_timesteps`` agent-steps.
    """
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    opponents, population = None, None
    if config.algorithm in ("pool_ppo", "population_ppo"):
        scripted = [make_policy(name, params, seed=config.seed) for name in config.opponents]
        if config.algorithm == "population_ppo":
            population = Population(params, scripted, config.population_size)
            population.restore(run_dir / "checkpoints")
            pool = population.pool
        else:
            pool = PoolPolicy(params, scripted)
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
        seats = [int(seat) for seat in env.learner_seats]
        model = _ppo_model(config, env, run_dir, config.seed, params=params, seats=seats,
                           label="shared" if len(seats) > 1 else f"state_{seats[0]}")
    remaining = config.total_timesteps - model.num_timesteps
    if remaining > 0:
        _learn(model, remaining, params, run_dir, config, checkpoint is not None, extra_callbacks,
               on_save=None if population is None else population.add)
    save_model_atomic(model, run_dir / "policy.zip", run_world(config, params))
    return [model]


def train_independent(config: TrainConfig, params: EnvParams, run_dir: Path, extra_callbacks: Sequence) -> list:
    """One PPO learner per state, trained in alternating rounds against the others' current policies.

    In round r each state in turn learns while the other states play their
    latest (stochastic) policies, until it has trained ``(r + 1) / rounds`` of
    its share ``total_timesteps / N``, in whole PPO rollouts (``num_envs x
    ppo.n_steps`` agent-steps) and never beyond that share: the run keeps to
    its budget (at least one rollout per chunk, so a budget below one rollout
    a chunk is exceeded to learn at all). Progress is saved after every
    (round, state) chunk, so ``--resume`` restarts at the first unfinished
    chunk.

    :param config: the run's config (``rounds``, ``total_timesteps`` and the rest).
    :param params: the environment parameters.
    :param run_dir: the prepared run directory; resumes at the first unfinished chunk.
    :param extra_callbacks: stable-baselines3 callbacks added to the run's own.
    :returns: N PPO models, in seat order.
    """
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    n = params.n_states
    share = config.total_timesteps // n  # agent-steps of each learner in all
    rollout = config.num_envs * config.ppo.n_steps  # one learner's agent-steps per PPO rollout
    progress_path = run_dir / "checkpoints" / "independent_progress.json"
    done_chunks = (read_json_mapping(progress_path, ("completed",), "restore it, or start the run again")["completed"]
                   if progress_path.is_file() else 0)
    models: list = []
    for seat in range(n):
        path = run_dir / "checkpoints" / f"state_{seat}_latest.zip"
        placeholder = SecurityDilemmaVecEnv(config.num_envs, params=params, seed=config.seed + seat,
                                            opponents={j: make_policy("dove", params) for j in range(n) if j != seat})
        models.append(_ppo_model(config, placeholder, run_dir, config.seed + seat, path if path.is_file() else None,
                                 params=params, seats=[seat], label=f"state_{seat}"))
    _, measures_class = _sb3_callbacks()
    for index in range(done_chunks, config.rounds * n):
        round_number, seat = divmod(index, n)
        others = {j: SB3Policy(models[j], params, deterministic=False) for j in range(n) if j != seat}
        env = SecurityDilemmaVecEnv(config.num_envs, params=params, seed=config.seed + 7919 * (index + 1),
                                    opponents=others)
        model = models[seat]
        model.set_env(env)
        target = share * (round_number + 1) // config.rounds
        steps = max((target - int(model.num_timesteps)) // rollout, 1) * rollout
        if config.progress_bar:
            print(f"round {round_number + 1} of {config.rounds}: state_{seat} learns {steps:,} agent-steps against "
                  f"the others' latest policies", flush=True)
        model.learn(
            total_timesteps=steps,
            callback=[measures_class(), *extra_callbacks],
            progress_bar=config.progress_bar,
            tb_log_name=f"ppo_state_{seat}",
            reset_num_timesteps=False,
        )
        learned = [SB3Policy(each, params, deterministic=config.eval_actions == "deterministic") for each in models]
        row = record_drift(run_dir, params, learned, config.eval_episodes, config.seed + 1,
                               sum(int(each.num_timesteps) for each in models))
        log_measures(model.logger, row, int(model.num_timesteps))
        save_model_atomic(model, run_dir / "checkpoints" / f"state_{seat}_latest.zip", run_world(config, params))
        save_model_atomic(model, run_dir / "checkpoints" / f"round_{round_number}_state_{seat}.zip",
                          run_world(config, params))
        write_text_atomic(progress_path, json.dumps({"completed": index + 1}))
    for seat, model in enumerate(models):
        save_model_atomic(model, run_dir / f"policy_state_{seat}.zip", run_world(config, params))
    return models


@contextlib.contextmanager
def _unchecked_distributions():
    """torch's distributions without argument checks, while training (restored after).

    SB3 builds a categorical distribution per action component at every
    step and update; checking their arguments took about a tenth of the
    time of a PPO step here, and SB3's own networks always pass valid ones.
    """
    import torch

    before = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        torch.distributions.Distribution.set_default_validate_args(before)


def train_sb3(config: TrainConfig, params: EnvParams, run_dir: Path, context: TrainingContext) -> TrainingResult:
    """Train with stable-baselines3 PPO as ``config.algorithm`` says; save the final policies; return them.

    :param config: the run's config (``algorithm``: shared_ppo, pool_ppo, population_ppo or independent_ppo).
    :param params: the environment parameters.
    :param run_dir: the prepared run directory.
    :param context: extra SB3 callbacks and the start time (``training_seconds`` counts from it).
    """
    if config.algorithm == "psro":
        from sd_env.experiments.training.psro import train_psro

        with _unchecked_distributions():
            mixture, trained = train_psro(config, params, run_dir, context.callbacks)
        return TrainingResult(policies=[mixture], timesteps=[trained],
                              training_seconds=round(time.perf_counter() - context.started, 2))
    with _unchecked_distributions():
        if config.algorithm == "independent_ppo":
            models = train_independent(config, params, run_dir, context.callbacks)
        else:
            models = train_shared_or_pool(config, params, run_dir, context.callbacks)
    return TrainingResult(
        policies=[SB3Policy(model, params) for model in models],
        timesteps=[int(model.num_timesteps) for model in models],
        training_seconds=round(time.perf_counter() - context.started, 2),
    )
