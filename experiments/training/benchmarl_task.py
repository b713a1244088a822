"""sd-env as a BenchMARL task: MAPPO, IPPO and the rest of BenchMARL train on sd-env scenarios.

    pip install torch==2.13.0 && pip install -e ".[benchmarl]"
    python -m sd_env.experiments.training.benchmarl_task --algorithm mappo --scenario jervis-1 --frames 4000

In Python::

    from benchmarl.algorithms import MappoConfig
    from benchmarl.experiment import Experiment
    from benchmarl.models.mlp import MlpConfig
    from sd_env.experiments.training.benchmarl_task import SecurityDilemmaTask, small_experiment_config

    experiment = Experiment(task=SecurityDilemmaTask.JERVIS_1.get_task(), algorithm_config=MappoConfig.get_from_yaml(),
                            model_config=MlpConfig.get_from_yaml(), critic_model_config=MlpConfig.get_from_yaml(),
                            seed=0, config=small_experiment_config(frames=4000, folder="runs/benchmarl"))
    experiment.run()

Every named scenario is a task (``SecurityDilemmaTask.JERVIS_1``, ``PRE_1914``, ...); ``get_task({"scenario":
..., **parameters})`` overrides parameters. Two adaptations make the PettingZoo environment fit BenchMARL (and
TorchRL's ``PettingZooWrapper``), both in :class:`BenchMARLAdapter`:

- **Fixed agents.** TorchRL steps every agent every step, but sd-env removes eliminated states from
  ``env.agents``. An eliminated state stays in the adapter's dicts, as in SB3's "black death": its
  observation is zeros, its reward 0, its actions are ignored, and it is done only when the episode ends.
- **One discrete action.** BenchMARL's discrete policies are single categoricals; sd-env's action is a
  ``MultiDiscrete`` (arms level, procurement, attack, commitments), flattened into one ``Discrete`` of their
  product (88 actions in a Jervis world, 1408 in ``pre-1914``) and unflattened in ``step``.

All agents form one group (``agents``); the global state (``env.state()``) goes to MAPPO's centralised critic.
``train_mappo`` and ``train_ippo`` follow the benchmark protocol (docs/benchmark.md), so BenchMARL's learners can
also go on the leaderboard: ``sd-env benchmark --algo sd_env.experiments.training.benchmarl_task:train_mappo``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

try:  # BenchMARL is an optional extra; the adapter below needs only PettingZoo.
    from benchmarl.environments.common import Task, TaskClass
except ImportError:  # pragma: no cover - exercised where benchmarl is not installed
    Task, TaskClass = Enum, object

import gymnasium
from pettingzoo import ParallelEnv

from sd_env.agents.learned import BenchMARLPolicy
from sd_env.scenarios import SCENARIOS


class BenchMARLAdapter(ParallelEnv):
    """An sd-env ``ParallelEnv`` with a fixed set of agents and one ``Discrete`` action per agent (see above)."""

    def __init__(self, env: ParallelEnv) -> None:
        self.env = env
        self.metadata = dict(getattr(env, "metadata", {}))
        self.possible_agents = list(env.possible_agents)
        self.agents: list[str] = []
        space = env.action_space(self.possible_agents[0])
        self.nvec = np.asarray(space.nvec, dtype=np.int64)
        self.observation_spaces = {agent: env.observation_space(agent) for agent in self.possible_agents}
        self.action_spaces = {agent: gymnasium.spaces.Discrete(int(np.prod(self.nvec)))
                              for agent in self.possible_agents}
        self.state_space = env.unwrapped.state_space
        self._zeros = np.zeros(self.observation_spaces[self.possible_agents[0]].shape, dtype=np.float32)
        self._last_state = None

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        """The observation space of ``agent``, the wrapped environment's.

        :param agent: an agent name, ``state_0`` ... ``state_{N-1}``.
        :returns: a float32 ``Box`` of shape (L,), L the observation length.
        """
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        """The flattened action space of ``agent``: one ``Discrete`` of every action combination.

        :param agent: an agent name, ``state_0`` ... ``state_{N-1}``.
        :returns: a ``Discrete`` of ``prod(nvec)`` actions.
        """
        return self.action_spaces[agent]

    def unflatten(self, action: Any) -> np.ndarray:
        """The MultiDiscrete action of a flat index (row-major over ``nvec``).

        :param action: a flat action index in [0, prod(nvec)), an int or a one-element array.
        :returns: the MultiDiscrete action, int64 (A,), A = action_length.
        """
        return np.array(np.unravel_index(int(action), tuple(self.nvec)), dtype=np.int64)

    def flatten(self, actions: np.ndarray) -> np.ndarray:
        """Flat indices of MultiDiscrete actions, (M, A) -> (M,).

        :param actions: MultiDiscrete actions, ints (M, A), each column inside its ``nvec`` entry.
        :returns: flat indices in [0, prod(nvec)), int64 (M,).
        """
        return np.ravel_multi_index(tuple(np.asarray(actions, dtype=np.int64).T), tuple(self.nvec))

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Reset the wrapped environment; every agent is in the game again.

        :param seed: seed of the environment's draws; None: fresh entropy.
        :param options: passed to the wrapped environment's ``reset``.
        :returns: ``(observations, infos)``: a float32 (L,) observation and an empty info per agent name.
        """
        observations, _ = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return dict(observations), {agent: {} for agent in self.agents}

    def step(self, actions: dict[str, Any]):
        """One year: the living agents' flat actions unflattened and stepped; every agent stays in the dicts.

        :param actions: a flat action index per agent name; those of eliminated agents are ignored.
        :returns: ``(observations, rewards, terminations, truncations, infos)``, each a dict over every possible
            agent: zeros as the observation and reward 0 for the eliminated, every agent done only when the
            episode ends (terminated if eliminated, else truncated), infos empty.
        """
        alive = list(self.env.agents)
        observations, rewards, terminations, truncations, _ = self.env.step(
            {agent: self.unflatten(actions[agent]) for agent in alive})
        ended = not self.env.agents
        out_obs, out_rewards, out_term, out_trunc = {}, {}, {}, {}
        for agent in self.possible_agents:
            out_obs[agent] = observations.get(agent, self._zeros) if agent in alive else self._zeros
            out_rewards[agent] = float(rewards.get(agent, 0.0))
            out_term[agent] = ended and (terminations.get(agent, False) or agent not in alive)
            out_trunc[agent] = ended and not out_term[agent]
        if ended:
            self.agents = []
        return out_obs, out_rewards, out_term, out_trunc, {agent: {} for agent in self.possible_agents}

    def state(self) -> np.ndarray:
        return self.env.state()

    def render(self):
        return self.env.render()

    def close(self) -> None:
        self.env.close()


class SecurityDilemmaClass(TaskClass):
    """BenchMARL's task class for sd-env (config: ``scenario`` and any parameter overrides)."""

    #: A factory of the PettingZoo environment to adapt; None makes ``sd_env.parallel_env(**config)``.
    env_factory: Callable[[], ParallelEnv] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # BenchMARL pickles the task into its run folder (config.pkl); a factory (the benchmark's, counting
        # steps) stays out: the pickled task makes environments from its config.
        state = dict(self.__dict__)
        state.pop("env_factory", None)
        return state

    def _scenario_config(self) -> dict[str, Any]:
        config = dict(self.config)
        config.setdefault("scenario", self.name.lower().replace("_", "-"))
        return config

    def get_env_fun(self, num_envs: int, continuous_actions: bool, seed: int | None, device) -> Callable:
        """A factory of the task's TorchRL environment: the adapted PettingZoo environment in a ``PettingZooWrapper``.

        :param num_envs: environments in a batch (not read: each call makes one, which BenchMARL batches).
        :param continuous_actions: not read: the task's actions are discrete.
        :param seed: seed of the environment; None: unseeded.
        :param device: torch device of the environment's tensors.
        :returns: a function of no arguments that makes one environment, with one group, ``agents``.
        """
        from torchrl.envs import PettingZooWrapper

        import sd_env

        factory = self.env_factory or (lambda: sd_env.parallel_env(**self._scenario_config()))

        def make():
            env = BenchMARLAdapter(factory())
            # One group, named "agents": TorchRL's default would name it "state" after state_0.., which is the
            # key of the global state.
            return PettingZooWrapper(env=env, return_state=True, group_map={"agents": env.possible_agents},
                                     categorical_actions=True, seed=seed, device=device, use_mask=False)

        return make

    def supports_continuous_actions(self) -> bool:
        return False

    def supports_discrete_actions(self) -> bool:
        return True

    def has_render(self, env) -> bool:
        """False: BenchMARL renders nothing of this task.

        :param env: an environment made by :meth:`get_env_fun` (not read).
        """
        return False

    def max_steps(self, env) -> int:
        """Years per episode: the scenario's ``max_cycles``, with the task's overrides.

        :param env: an environment made by :meth:`get_env_fun` (not read).
        :returns: max_cycles, T >= 1.
        """
        from sd_env.scenarios import make_params

        config = self._scenario_config()
        return make_params(config.pop("scenario"), **config).max_cycles

    def group_map(self, env) -> dict[str, list[str]]:
        """The agent groups of ``env``: ``{"agents": ["state_0", ...]}``.

        :param env: an environment made by :meth:`get_env_fun`.
        :returns: group name -> agent names.
        """
        return env.group_map

    def state_spec(self, env):
        """The spec of the global state (``env.state()``, read by MAPPO's critic).

        :param env: an environment made by :meth:`get_env_fun`.
        :returns: a ``Composite`` with one entry, ``state``.
        """
        from torchrl.data import Composite

        return Composite({"state": env.observation_spec["state"].clone()})

    def action_mask_spec(self, env):
        """None: every action is allowed (no action mask).

        :param env: an environment made by :meth:`get_env_fun` (not read).
        """
        return None

    def _group_keys(self, env, keep: str):
        spec = env.observation_spec.clone()
        for group in self.group_map(env):
            for key in list(spec[group].keys()):
                if key != keep:
                    del spec[group][key]
        if "state" in spec.keys():
            del spec["state"]
        return spec

    def observation_spec(self, env):
        """The observation spec: each group's ``observation`` only.

        :param env: an environment made by :meth:`get_env_fun`.
        :returns: a ``Composite`` without the global state and any other key.
        """
        return self._group_keys(env, "observation")

    def info_spec(self, env):
        """None: the task passes no infos.

        :param env: an environment made by :meth:`get_env_fun` (not read).
        """
        return None

    def action_spec(self, env):
        """The action spec of ``env``.

        :param env: an environment made by :meth:`get_env_fun`.
        :returns: ``env.full_action_spec``: one categorical action per agent, in group ``agents``.
        """
        return env.full_action_spec

    @staticmethod
    def env_name() -> str:
        return "sd_env"


class SecurityDilemmaTask(Task):
    """Every named sd-env scenario as a BenchMARL task (``JERVIS_1`` is ``jervis-1``)."""

    BILATERAL = None
    JERVIS_1 = None
    JERVIS_2 = None
    JERVIS_3 = None
    JERVIS_4 = None
    PRE_1914 = None
    COLD_WAR = None
    MISSILE_CRISIS = None

    @staticmethod
    def associated_class():
        return SecurityDilemmaClass

    def get_from_yaml(self, path: str | None = None):
        """The task with the scenario's own parameters (no YAML needed), or the config in the YAML at ``path``.

        :param path: a YAML file of the task's config (``scenario`` and parameter overrides); None: none.
        :returns: the task, a :class:`SecurityDilemmaClass`.
        """
        if path is None:
            return self.get_task(config={})
        from benchmarl.utils import _read_yaml_config

        return self.get_task(config=_read_yaml_config(path))


def task_for(scenario: str, **parameters: Any):
    """The BenchMARL task of a named scenario with parameter overrides.

    :param scenario: a named scenario (``sd-env scenarios``), e.g. ``jervis-1``.
    :param parameters: overrides of ``EnvParams`` fields.
    :returns: the task, a :class:`SecurityDilemmaClass`.
    :raises ValueError: an unknown scenario.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known scenarios: {', '.join(SCENARIOS)}")
    return SecurityDilemmaTask[scenario.upper().replace("-", "_")].get_task({"scenario": scenario, **parameters})


def small_experiment_config(frames: int, folder: str | Path, frames_per_batch: int = 1000, envs: int = 4):
    """BenchMARL's experiment config for a short CPU run: ``frames`` environment steps, CSV logs in ``folder``.

    No evaluation rollouts (they would step environments beyond ``frames``), no rendering, no wandb.

    :param frames: parallel environment steps in all.
    :param folder: BenchMARL's save folder, made if missing.
    :param frames_per_batch: frames collected per training iteration (minibatches of up to 400 frames).
    :param envs: parallel environments per worker.
    :returns: the ``ExperimentConfig``.
    """
    from benchmarl.experiment import ExperimentConfig

    config = ExperimentConfig.get_from_yaml()
    config.sampling_device = config.train_device = config.buffer_device = "cpu"
    config.max_n_frames = frames
    config.on_policy_collected_frames_per_batch = frames_per_batch
    config.on_policy_n_envs_per_worker = envs
    config.on_policy_n_minibatch_iters = 4
    config.on_policy_minibatch_size = min(400, frames_per_batch)
    config.lr = 3e-4
    config.evaluation = False
    config.render = False
    config.loggers = ["csv"]
    config.create_json = False
    config.checkpoint_interval = 0
    config.checkpoint_at_end = False
    Path(folder).mkdir(parents=True, exist_ok=True)
    config.save_folder = str(folder)
    return config


def algorithm_config(name: str):
    """BenchMARL's config of ``mappo`` or ``ippo`` (its own defaults).

    :param name: ``mappo`` or ``ippo``.
    :returns: the ``MappoConfig`` or ``IppoConfig``.
    :raises ValueError: another name.
    """
    from benchmarl.algorithms import IppoConfig, MappoConfig

    configs = {"mappo": MappoConfig, "ippo": IppoConfig}
    if name not in configs:
        raise ValueError(f"algorithm must be one of {', '.join(configs)}, got {name!r}")
    return configs[name].get_from_yaml()


def make_experiment(algorithm: str, task, frames: int, seed: int, folder: str | Path, **config: Any):
    """A BenchMARL ``Experiment`` of ``algorithm`` on ``task`` for ``frames`` frames (parallel environment steps).

    :param algorithm: ``mappo`` or ``ippo``.
    :param task: the BenchMARL task (:func:`task_for`, or ``SecurityDilemmaTask.NAME.get_task()``).
    :param frames: parallel environment steps in all.
    :param seed: seed of the experiment.
    :param folder: BenchMARL's save folder (CSV logs), made if missing.
    :param config: keyword arguments of :func:`small_experiment_config` (``frames_per_batch``, ``envs``).
    :returns: the ``Experiment``, not yet run.
    :raises ValueError: an unknown algorithm.
    """
    import torch
    from benchmarl.experiment import Experiment
    from benchmarl.models.mlp import MlpConfig

    torch.set_num_threads(1)
    return Experiment(task=task, algorithm_config=algorithm_config(algorithm), model_config=MlpConfig.get_from_yaml(),
                      critic_model_config=MlpConfig.get_from_yaml(), seed=seed,
                      config=small_experiment_config(frames, folder, **config))


def _train_protocol(algorithm: str, env_factory, budget: int, seed: int) -> BenchMARLPolicy:
    """The benchmark protocol for a BenchMARL learner: its environments come from ``env_factory``."""
    import tempfile

    frames_per_batch = 1000
    frames = budget // frames_per_batch * frames_per_batch
    if frames < frames_per_batch:
        raise ValueError(f"a BenchMARL run needs a budget of at least {frames_per_batch} steps, got {budget}")
    task = SecurityDilemmaTask[env_factory.scenario.upper().replace("-", "_")].get_task({})
    task.env_factory = env_factory
    with tempfile.TemporaryDirectory() as folder:
        experiment = make_experiment(algorithm, task, frames, seed, folder, frames_per_batch=frames_per_batch)
        experiment.run()
    probe = env_factory()
    return BenchMARLPolicy(experiment.policy, np.asarray(probe.action_space(probe.possible_agents[0]).nvec),
                           len(probe.possible_agents))


def train_mappo(env_factory, budget: int, seed: int) -> BenchMARLPolicy:
    """BenchMARL's MAPPO under the benchmark protocol (``sd-env benchmark --algo ...benchmarl_task:train_mappo``).

    :param env_factory: the benchmark's environment factory (``scenario`` names the scenario; every
        ``step`` of the PettingZoo environments it makes counts against the budget).
    :param budget: parallel environment steps allowed, >= 1000; used in whole batches of 1000.
    :param seed: seed of the experiment.
    :returns: the learned policy, one shared by every seat, played greedily.
    :raises ValueError: a budget under 1000 steps.
    """
    return _train_protocol("mappo", env_factory, budget, seed)


def train_ippo(env_factory, budget: int, seed: int) -> BenchMARLPolicy:
    """BenchMARL's IPPO under the benchmark protocol.

    :param env_factory: the benchmark's environment factory (``scenario`` names the scenario; every
        ``step`` of the PettingZoo environments it makes counts against the budget).
    :param budget: parallel environment steps allowed, >= 1000; used in whole batches of 1000.
    :param seed: seed of the experiment.
    :returns: the learned policy, one shared by every seat, played greedily.
    :raises ValueError: a budget under 1000 steps.
    """
    return _train_protocol("ippo", env_factory, budget, seed)


def main(argv: list[str] | None = None) -> int:
    """Train one BenchMARL algorithm on one scenario from the command line.

    :param argv: command-line arguments; None: ``sys.argv[1:]``.
    :returns: the exit status, 0.
    """
    parser = argparse.ArgumentParser(prog="python -m sd_env.experiments.training.benchmarl_task",
                                     description="Train a BenchMARL algorithm on an sd-env scenario.")
    parser.add_argument("--algorithm", default="mappo", choices=("mappo", "ippo"))
    parser.add_argument("--scenario", default="jervis-1", choices=list(SCENARIOS))
    parser.add_argument("--frames", type=int, default=4000, help="environment steps in all (default: 4000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="runs/benchmarl", help="BenchMARL's save folder (CSV logs)")
    args = parser.parse_args(argv)
    experiment = make_experiment(args.algorithm, task_for(args.scenario), args.frames, args.seed, args.output)
    experiment.run()
    print(f"{args.algorithm} on {args.scenario}: {experiment.total_frames} frames; logs in {experiment.folder_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
