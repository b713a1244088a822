"""Experiment configs: one typed object per run, read from YAML and validated on load.

A config file sets any of the fields below (unknown keys are errors)::

    name: jervis1-selfplay
    scenario: jervis-1
    env: {observation_noise: 0.3}
    algorithm: shared_ppo
    total_timesteps: 200000
    ppo: {learning_rate: 0.0003, n_steps: 128}

``--set key=value`` overrides a field on the command line; nested fields use
dots (``--set ppo.learning_rate=1e-3``, ``--set env.offense_defense_balance=2``).
Every problem is one ``ConfigError`` line naming the key, the value and what
is allowed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from sd_env.errors import SdEnvError, did_you_mean
from sd_env.experiments.lab.seating import ACTIONS
from sd_env.experiments.training.backends import BACKENDS
from sd_env.experiments.training.meta_solvers import META_SOLVERS
from sd_env.experiments.training.start import RANDOM_START
from sd_env.params import EnvParams
from sd_env.scenarios import make_params
from sd_env.stances import SCRIPTED_POLICIES, is_policy_name, make_policy

#: The learner's memory (``TrainConfig.memory``).
MEMORIES = ("none", "lstm")
#: Every algorithm some backend trains (:data:`sd_env.experiments.training.backends.BACKENDS` says which).
ALGORITHMS = tuple(dict.fromkeys(name for backend in BACKENDS.values() for name in backend.algorithms))


class ConfigError(SdEnvError):
    """A config file or override that cannot be used; the message is one line."""


@dataclass
class PPOConfig:
    """PPO hyper-parameters, passed to stable-baselines3's ``PPO`` (or RLlib's PPOConfig)."""

    learning_rate: float = 3e-4
    n_steps: int = 128
    batch_size: int = 1024
    n_epochs: int = 4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    net_arch: list[int] = field(default_factory=lambda: [64, 64])


@dataclass
class TrainConfig:
    """Everything that defines a training run. Timesteps count agent-steps (one state, one year)."""

    #: Name of the run; its directory is ``output_dir/name``.
    name: str = "run"
    #: Named scenario (``sd-env scenarios``).
    scenario: str = "bilateral"
    #: Parameter overrides on top of the scenario (any ``EnvParams`` field).
    env: dict[str, Any] = field(default_factory=dict)
    #: ``shared_ppo`` (one policy for every state, self-play), ``independent_ppo`` (one per state,
    #: trained in alternating rounds), ``pool_ppo`` (state_0 learns against scripted opponents) or
    #: ``population_ppo`` (fictitious self-play: state_0 learns against the scripted opponents and a
    #: growing pool of its own past checkpoints), ``psro`` (best responses to the population's equilibrium
    #: mixture, starting from the scripted opponents: ``sd_env.experiments.training.psro``) or, with the
    #: BenchMARL backend, ``mappo``.
    algorithm: str = "shared_ppo"
    #: ``sb3`` (stable-baselines3, default), ``rllib`` (Ray RLlib; the ``[rllib]`` extra) or ``benchmarl``.
    backend: str = "sb3"
    #: Agent-steps of training in all.
    total_timesteps: int = 100_000
    #: Parallel games in the vector environment.
    num_envs: int = 32
    #: Seed of every random draw in the run.
    seed: int = 0
    #: Save a checkpoint every this many agent-steps (checkpoints show how behaviour drifts).
    checkpoint_every: int = 20_000
    #: Scripted opponents for ``pool_ppo`` and for the final evaluation.
    opponents: list[str] = field(default_factory=lambda: ["dove", "hawk", "reciprocator", "deterrer"])
    #: Past checkpoints kept in the opponent pool of ``population_ppo`` (the latest ones).
    population_size: int = 4
    #: Best responses ``psro`` adds to its population (``total_timesteps`` is shared evenly among them).
    psro_iterations: int = 4
    #: How ``psro`` mixes its population: ``prd`` (projected replicator dynamics, an approximate Nash
    #: equilibrium of the population's meta-game) or ``uniform`` (fictitious play).
    meta_solver: str = "prd"
    #: Where each new learner starts: ``random`` (PPO's initial network, about half of all years an attack) or
    #: a stance name (``grim``, ``dove``, ``hawk/grim``, ``grim:burden=0``) cloned into the network before
    #: reinforcement learning (``sd_env.experiments.training.start``). Backend sb3 only.
    start: str = "random"
    #: The learner's memory: ``none`` (PPO with an MLP: it sees only this year's observation, which holds last
    #: year's attacks) or ``lstm`` (sb3-contrib's RecurrentPPO: an LSTM carries what it saw in earlier years of
    #: the game). Backend sb3; loaded and evaluated through the same policy specs.
    memory: str = "none"
    #: Alternating rounds for ``independent_ppo``.
    rounds: int = 4
    #: Episodes per evaluation in the final metrics.
    eval_episodes: int = 64
    #: How the learned policies act in the final metrics and drift: ``stochastic`` (sampled as trained, from a
    #: seeded stream) or ``deterministic`` (the most likely action).
    eval_actions: str = "stochastic"
    #: Where run directories go.
    output_dir: str = "runs"
    #: Show a progress bar during training.
    progress_bar: bool = True
    #: Threads torch may use. 1 is fastest for these small networks on few cores
    #: (measured: about 5x faster than 2 threads on a 2-core machine).
    torch_threads: int = 1
    ppo: PPOConfig = field(default_factory=PPOConfig)

    def env_params(self) -> EnvParams:
        """The environment parameters this run trains in."""
        return make_params(self.scenario, **self.env)

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _type_name(kind: Any) -> str:
    return getattr(kind, "__name__", str(kind))


def _coerce(key: str, value: Any, kind: Any) -> Any:
    """Check ``value`` against the field type ``kind`` (as written in the dataclass)."""
    text = kind if isinstance(kind, str) else _type_name(kind)
    if text == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if text == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return value
    if text == "float":
        if isinstance(value, str):
            # YAML 1.1 reads 1e-3 (no dot) as a string; accept what Python reads as a number.
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    if text == "str":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key} must be a non-empty string, got {value!r}")
        return value
    if text.startswith("list[int]"):
        if not isinstance(value, list) or not value or not all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
            raise ConfigError(f"{key} must be a non-empty list of positive integers, e.g. [64, 64], got {value!r}")
        return value
    if text.startswith("list[str]"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} must be a list of names, got {value!r}")
        return value
    if text.startswith("dict"):
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a mapping of parameter: value, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {text}")  # pragma: no cover - guards new fields


def get_dotted(data: dict[str, Any], dotted: str) -> Any:
    """``data[a][b]`` for ``dotted = "a.b"``; ``KeyError`` where a level is absent or not a mapping."""
    for part in dotted.split("."):
        if not isinstance(data, dict):
            raise KeyError(dotted)
        data = data[part]
    return data


def dotted_keys(cls: type, prefix: str = "") -> list[str]:
    """Every key a config section of type ``cls`` accepts, nested ones dotted (``ppo.n_steps``)."""
    keys = []
    for f in fields(cls):
        keys.append(prefix + f.name)
        if f.type in ("PPOConfig", PPOConfig):
            keys.extend(dotted_keys(PPOConfig, f"{prefix}{f.name}."))
    return keys


def _build(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        listing = f"known keys: {', '.join(prefix + k for k in known)}"
        # The suggestion may be a key of a nested section (learning_rate -> ppo.learning_rate).
        suggestion = did_you_mean(unknown[0], dotted_keys(cls), then=listing, prefix=prefix)
        raise ConfigError(f"unknown config key {prefix + unknown[0]!r}{suggestion}")
    values = {}
    for name, value in data.items():
        kind = known[name].type
        if kind in ("PPOConfig", PPOConfig):
            values[name] = _build(PPOConfig, value, prefix=f"{prefix}{name}.")
        else:
            values[name] = _coerce(prefix + name, value, kind)
    return cls(**values)


def _positive(key: str, value: float) -> None:
    if value <= 0:
        raise ConfigError(f"{key} must be > 0, got {value!r}")


def validate(config: TrainConfig) -> TrainConfig:
    """Check values and cross-field rules; return the config unchanged or raise ``ConfigError``.

    :param config: the config to check.
    :returns: ``config`` itself.
    :raises ConfigError: a value out of range, an unknown algorithm, backend or opponent, an algorithm its
        backend does not train, or scenario parameters that are not valid.
    """
    if config.algorithm not in ALGORITHMS:
        raise ConfigError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {config.algorithm!r}")
    if config.backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {config.backend!r}")
    backend = BACKENDS[config.backend]
    if config.algorithm not in backend.algorithms:
        others = [name for name, each in BACKENDS.items() if config.algorithm in each.algorithms]
        raise ConfigError(f"algorithm {config.algorithm} is available with backend {' or '.join(others)} only; "
                          f"backend {config.backend} trains {' or '.join(backend.algorithms)}")
    for key in ("total_timesteps", "num_envs", "checkpoint_every", "rounds", "eval_episodes", "torch_threads",
                "population_size", "psro_iterations"):
        _positive(key, getattr(config, key))
    if config.meta_solver not in META_SOLVERS:
        raise ConfigError(f"meta_solver must be one of {', '.join(META_SOLVERS)}, got {config.meta_solver!r}")
    if config.eval_actions not in ACTIONS:
        raise ConfigError(f"eval_actions must be {' or '.join(ACTIONS)}, got {config.eval_actions!r}")
    if config.memory not in MEMORIES:
        raise ConfigError(f"memory must be {' or '.join(MEMORIES)}, got {config.memory!r}")
    if config.memory != "none" and config.backend != "sb3":
        raise ConfigError(f"memory {config.memory} is available with backend sb3 only; use memory: none with "
                          f"backend {config.backend}")
    if config.memory != "none" and config.start != RANDOM_START:
        raise ConfigError(f"start {config.start!r} (cloning a stance) is not available with memory {config.memory}; "
                          f"use start: {RANDOM_START}")
    if config.seed < 0:
        raise ConfigError(f"seed must be >= 0, got {config.seed}")
    unknown = [name for name in config.opponents if not is_policy_name(name)]
    if unknown:
        listing = (f"known: {', '.join(SCRIPTED_POLICIES)}, or GREEDY/SEEKER such as hawk/dove, "
                   "or NAME:KEY=VALUE such as defender:burden=0.3")
        raise ConfigError(f"opponents: unknown policy {unknown[0]!r}"
                          f"{did_you_mean(unknown[0], SCRIPTED_POLICIES, then=listing)}")
    if not config.opponents:
        raise ConfigError("opponents must name at least one scripted policy")
    if config.start != RANDOM_START:
        if not is_policy_name(config.start):
            listing = f"{RANDOM_START}, or a stance: {', '.join(SCRIPTED_POLICIES)}, GREEDY/SEEKER or NAME:KEY=VALUE"
            raise ConfigError(f"start: unknown stance {config.start!r}"
                              f"{did_you_mean(config.start, [RANDOM_START, *SCRIPTED_POLICIES], then=listing)}")
        if config.backend != "sb3":
            raise ConfigError(f"start {config.start!r} (cloning a stance) is available with backend sb3 only; "
                              f"use start: {RANDOM_START} with backend {config.backend}")
    if "/" in config.name or config.name in (".", ".."):
        raise ConfigError(f"name must be a plain directory name, got {config.name!r}")
    ppo = config.ppo
    for key in ("learning_rate", "n_steps", "batch_size", "n_epochs", "max_grad_norm"):
        _positive(f"ppo.{key}", getattr(ppo, key))
    for key in ("gamma", "gae_lambda"):
        if not 0.0 < getattr(ppo, key) <= 1.0:
            raise ConfigError(f"ppo.{key} must be in (0, 1], got {getattr(ppo, key)!r}")
    if ppo.clip_range <= 0 or ppo.ent_coef < 0 or ppo.vf_coef < 0:
        raise ConfigError("ppo.clip_range must be > 0 and ppo.ent_coef, ppo.vf_coef >= 0")
    try:
        params = config.env_params()
    except ValueError as error:
        raise ConfigError(f"env: {error}") from None
    for name in [*config.opponents, *([config.start] if config.start != RANDOM_START else [])]:
        try:
            make_policy(name, params)  # options such as defender:burden=0.3 are checked here, not mid-run
        except ValueError as error:
            raise ConfigError(f"{'start' if name == config.start else 'opponents'}: {error}") from None
    return config


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one ``dotted.key=value`` (value read as YAML) to a raw config mapping in place.

    :param data: the raw config mapping, changed in place (missing intermediate mappings are made).
    :param assignment: ``dotted.key=value``, e.g. ``ppo.learning_rate=1e-3``.
    :raises ConfigError: not ``key=value``, a value YAML cannot read, or a key part that is not a mapping.
    """
    key, sep, text = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"an override must be key=value, got {assignment!r}", parameter="set")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"override {key}: cannot read value {text!r}", parameter="set") from None
    parts = key.strip().split(".")
    target = data
    for part in parts[:-1]:
        node = target.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {key}: {part} is not a mapping", parameter="set")
        target = node
    target[parts[-1]] = value


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML config (or start from defaults when ``path`` is None), apply overrides, validate.

    :param path: a YAML config file (str or path); None: the defaults.
    :param overrides: ``dotted.key=value`` assignments, applied in order; None: none.
    :returns: the validated :class:`TrainConfig`.
    :raises ConfigError: a missing file, invalid YAML, an unknown key, a bad override or value.
    """
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} not found")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"config file {str(path)!r} is not valid YAML{where}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config file {str(path)!r} must be a mapping of key: value")
        data = loaded or {}
    for assignment in overrides or []:
        apply_override(data, assignment)
    return validate(_build(TrainConfig, data))


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """Build and validate a config from a mapping (as saved in a run directory).

    :param data: the config as a mapping (``TrainConfig.to_dict()``, ``config.yaml`` of a run).
    :returns: the validated :class:`TrainConfig`.
    :raises ConfigError: an unknown key or a bad value.
    """
    return validate(_build(TrainConfig, data))
