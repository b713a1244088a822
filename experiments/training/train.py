"""``sd-env train``: one config in, one run directory out.

A run directory holds::

    config.yaml        the resolved config (every default filled in)
    run.json           seed, versions of the main packages, machine, timings (``training_seconds``: the
                       time spent training what the checkpoints hold, over every resume; kept at each one)
    .sd-env.lock       held while a call trains the run: a second one is refused (a killed one's is free)
    checkpoints/       PPO checkpoints every ``checkpoint_every`` agent-steps, written atomically
    tensorboard/       SB3's TensorBoard logs, plus security/* measures from the environment and
                       measures/* of every drift row
    drift.csv          every episode measure of the learned policies in self-play, at every checkpoint
    policy.zip         the final policy (state_0's for independent learners: policy_state_i.zip)
    metrics.json       the final evaluation: self-play and against scripted baselines

Every backend (:mod:`sd_env.experiments.training.backends`) trains and returns what it learned; this module
alone evaluates it and writes ``metrics.json``.

``--resume`` continues from the last checkpoint; a resumed run ends with
the same number of agent-steps as an uninterrupted one. (The environment's
random stream restarts at the resume point, so the two runs' parameters are
not bit-identical.)
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import yaml

from sd_env.agents.learned import set_deterministic
from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.output.locks import FolderLock, remove_stale_temporaries
from sd_env.experiments.output.reading import damaged, read_yaml_mapping
from sd_env.experiments.training import clock
from sd_env.experiments.training.backends import BACKENDS, TrainingContext
from sd_env.experiments.training.config import ConfigError, TrainConfig, config_from_dict, dotted_keys, get_dotted
from sd_env.experiments.training.final_metrics import final_evaluation

#: Config fields a resumed run may change; anything else must match the saved config.
RESUMABLE_CHANGES = {"total_timesteps", "progress_bar", "output_dir", "eval_episodes", "eval_actions", "torch_threads"}
PACKAGES = ("sd-env", "numpy", "gymnasium", "pettingzoo", "stable-baselines3", "torch", "ray")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a result depends on (None where not installed), and Python's."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions


def _prepare_run_dir(config: TrainConfig, resume: bool) -> TrainConfig:
    """Create (or, with ``resume``, check) the run directory; return the config to run with."""
    run_dir = config.run_dir
    saved_path = run_dir / "config.yaml"
    if resume:
        if not saved_path.is_file():
            raise ConfigError(f"resume: no run to resume at {str(run_dir)!r} (config.yaml missing)",
                              parameter="resume")
        remedy = "restore it (the config the run was started with, every default filled in), or start a new run"
        saved = read_yaml_mapping(saved_path, remedy)
        current = config.to_dict()
        # sd-env writes every key, nested ones too: a file cut short lacks some.
        missing = [key for key in dotted_keys(TrainConfig) if not _holds(saved, key)]
        if missing:
            listed = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            raise damaged(saved_path, f"it lacks {listed} (cut short, or written by an older sd-env)", remedy)
        changed = sorted(key for key in current if key not in RESUMABLE_CHANGES and current[key] != saved.get(key))
        if changed:
            raise ConfigError(
                f"resume: config differs from the saved run in {', '.join(changed)}; "
                f"only {', '.join(sorted(RESUMABLE_CHANGES))} may change", parameter="resume"
            )
        saved.update({key: current[key] for key in RESUMABLE_CHANGES})
        return config_from_dict(saved)
    if saved_path.exists():
        raise ConfigError(f"run directory {str(run_dir)!r} already holds a run; resume it or choose another name",
                          parameter="resume")
    run_dir.mkdir(parents=True, exist_ok=True)
    return config


def _holds(data: dict[str, Any], dotted: str) -> bool:
    """Whether ``data`` has the (dotted) key ``dotted``."""
    try:
        get_dotted(data, dotted)
    except KeyError:
        return False
    return True


def train(
    config: TrainConfig,
    resume: bool = False,
    ray_address: str | None = None,
    extra_callbacks: Sequence = (),
) -> dict[str, Any]:
    """Run a training job as ``config`` says; return the final metrics (also written to ``metrics.json``).

    :param config: the validated config (:func:`sd_env.experiments.training.config.load_config`).
    :param resume: continue the run in ``config.run_dir`` from its last checkpoint.
    :param ray_address: an existing Ray cluster for the ``rllib`` backend.
    :param extra_callbacks: stable-baselines3 callbacks added to the ``sb3`` backend's.
    :returns: ``{"timesteps", ["iterations"], "training_seconds", ["history"], "actions", "evaluation": {ROW:
        {MEASURE: value}}}``, as in ``metrics.json`` (``actions``: how the learned policies acted, the config's
        ``eval_actions``).
    """
    # One writer per run directory; a killed run's lock is free (sd_env.experiments.output.locks).
    with FolderLock(config.run_dir, "training"):
        return _train(config, resume, ray_address, extra_callbacks)


def _train(config: TrainConfig, resume: bool, ray_address: str | None, extra_callbacks: Sequence) -> dict[str, Any]:
    """:func:`train`, holding the run directory's lock."""
    config = _prepare_run_dir(config, resume)
    run_dir = config.run_dir
    remove_stale_temporaries(run_dir)
    if config.backend == "sb3":
        import torch

        torch.set_num_threads(config.torch_threads)
    params = config.env_params()
    write_text_atomic(run_dir / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))
    previous = clock.trained_seconds(run_dir) if resume else 0.0
    run_info = {
        "seed": config.seed,
        "versions": package_versions(),
        "machine": {"platform": platform.platform(), "processor": platform.machine()},
        "resumed": resume,
        "training_seconds": previous,  # so far: every checkpoint adds to it (sd_env.experiments.training.clock)
    }
    write_text_atomic(run_dir / "run.json", json.dumps(run_info, indent=2))
    started = clock.start(run_dir, previous)
    backend = BACKENDS[config.backend].load()
    try:
        learned = backend(config, params, run_dir, TrainingContext(ray_address, tuple(extra_callbacks), started))
    finally:
        clock.stop(run_dir)
    for policy in learned.policies:  # the backends' learned policies, acting as the run's evaluation says
        set_deterministic(policy, config.eval_actions == "deterministic")
    evaluation = final_evaluation(params, learned.policies, config.opponents, config.eval_episodes, config.seed + 1)
    metrics = {**learned.facts(), "actions": config.eval_actions, "evaluation": evaluation}
    write_text_atomic(run_dir / "metrics.json", json.dumps(metrics, indent=2, default=float))
    run_info["training_seconds"] = metrics["training_seconds"]
    write_text_atomic(run_dir / "run.json", json.dumps(run_info, indent=2))
    return metrics
