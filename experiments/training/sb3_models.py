"""stable-baselines3 models as every part of the project builds and saves them: PPO's settings from a config,
and checkpoints written atomically that carry the world they were trained in.

Used by the SB3 backend, PSRO, exploit and the benchmark (one place for each, so they build the same PPO).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sd_env.experiments.output.files import write_bytes_atomic
from sd_env.experiments.training.config import TrainConfig
from sd_env.params import EnvParams


def save_model_atomic(model, path: Path, world: str | None = None) -> None:
    """Save an SB3 model so that ``path`` is either absent or a complete zip, never half-written.

    :param model: the stable-baselines3 model (PPO).
    :param path: the ``.zip`` file to write.
    :param world: the world it was trained in, as :func:`sd_env.experiments.lab.worlds.world_entry` writes it;
        stored in the zip as ``sd_env.json`` (stable-baselines3 ignores the entry), so the file knows its world.
    """
    buffer = io.BytesIO()
    model.save(buffer)
    if world is not None:
        from sd_env.experiments.lab.worlds import WORLD_ENTRY

        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr(WORLD_ENTRY, world)
    write_bytes_atomic(path, buffer.getvalue())


def run_world(config: TrainConfig, params: EnvParams) -> str:
    """The world entry of the run's checkpoints (:func:`sd_env.experiments.lab.worlds.world_entry`).

    :param config: the run's config (its scenario and ``env`` overrides).
    :param params: the resulting parameters.
    """
    from sd_env.experiments.lab.worlds import world_entry

    return world_entry(config.scenario, config.env, params)


#: The learner of each ``memory`` setting: (module, class, SB3 policy name).
MEMORY_MODELS = {"none": ("stable_baselines3", "PPO", "MlpPolicy"),
                 "lstm": ("sb3_contrib", "RecurrentPPO", "MlpLstmPolicy")}


def new_model(config: TrainConfig, env, seed: int, tensorboard_log: str | None = None):
    """A new PPO learner as the config says: ``PPO`` with an MLP, or with ``memory: lstm`` sb3-contrib's
    ``RecurrentPPO`` (an LSTM between the observation and both heads), on the CPU, with the config's PPO settings.

    :param config: the run's config (``memory``, ``ppo``).
    :param env: the vector environment it learns in.
    :param seed: the learner's seed.
    :param tensorboard_log: TensorBoard folder, or None.
    """
    import importlib

    module, name, policy = MEMORY_MODELS[config.memory]
    cls = getattr(importlib.import_module(module), name)
    return cls(policy, env, seed=seed, device="cpu", tensorboard_log=tensorboard_log, verbose=0,
               **ppo_kwargs(config))


def ppo_kwargs(config: TrainConfig) -> dict[str, Any]:
    """Keyword arguments for SB3's ``PPO`` from ``config.ppo``, as every SB3 run of ``sd-env train`` builds it.

    The config's PPO fields carry SB3's own names; ``net_arch`` goes into ``policy_kwargs``.
    ``benchmarks/peers.py`` builds its PPO with these too, so its share of PPO time is the training's.

    :param config: the run's config (its ``ppo``).
    :returns: ``PPO``'s keyword arguments, ``policy_kwargs`` included.
    """
    kwargs = asdict(config.ppo)
    net_arch = list(kwargs.pop("net_arch"))
    return {**kwargs, "policy_kwargs": {"net_arch": net_arch}}
