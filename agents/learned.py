"""Learned policies behind the batched ``act(observations) -> actions`` of :class:`sd_env.policy.Policy`:
stable-baselines3 checkpoints, RLlib modules, BenchMARL experiments, and a pool of policies side by side.

Every learned policy acts with torch pinned to one thread (:func:`torch_threads`), as training is: these
small networks are fastest that way, and more threads only contend with the rest of the machine."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

from sd_env.agents.policy_files import (UntrustedPolicyFileError, read_benchmarl_actor, read_torch_weights,
                                        trusted)
from sd_env.errors import PolicyError
from sd_env.policy import Policy
from sd_env.params import EnvParams
from sd_env.spaces import action_space, observation_space


@contextlib.contextmanager
def torch_threads(count: int):
    """Run the block with torch limited to ``count`` threads, then give back the count it had.

    :param count: threads, >= 1.
    """
    import torch

    before = torch.get_num_threads()
    if before != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if before != count:
            torch.set_num_threads(before)


def sample_categorical(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of ``probabilities`` (M, K), each row a distribution over K choices, from ``rng``.

    The policy's own seeded generator, not torch's global one, so that sampled actions follow sd-env's seeding
    rule (:func:`sd_env.experiments.lab.seating.play` reseeds every policy before a game).

    :returns: the chosen indices, (M,) int64.
    """
    cumulative = np.cumsum(probabilities, axis=1)
    draws = rng.random((probabilities.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((draws >= cumulative).sum(axis=1), probabilities.shape[1] - 1).astype(np.int64)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits along the last axis (shifted by the maximum for stability)."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def sample_components(logits: np.ndarray, nvec: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """MultiDiscrete actions from the concatenated logits of each component, (M, sum(nvec)) -> (M, len(nvec)):
    the most likely value of each component where ``rng`` is None, else a draw from it."""
    parts = np.split(logits, np.cumsum(nvec)[:-1], axis=1)
    if rng is None:
        return np.stack([part.argmax(axis=1) for part in parts], axis=1).astype(np.int64)
    return np.stack([sample_categorical(softmax(part), rng) for part in parts], axis=1)


class SB3Policy(Policy):
    """A stable-baselines3 model acting through ``act(observations) -> actions``.

    ``deterministic=True`` plays the most likely value of each action component; ``False`` samples them from
    the policy's distribution, as training does, with the policy's own seeded generator (``reset(seed)``), so
    sampled evaluations are reproducible.
    """

    name = "learned"
    #: torch threads while acting: these small networks are fastest on one, as training pins it
    #: (``TrainConfig.torch_threads``); more threads only contend with the other work of the machine.
    threads = 1

    def __init__(self, model, params: EnvParams, deterministic: bool = True, name: str = "learned") -> None:
        super().__init__(params)
        self.model = model
        self.deterministic = deterministic
        self.name = name

    @classmethod
    def load(cls, path: str | Path, params: EnvParams, deterministic: bool = True) -> SB3Policy:
        """Load a PPO or recurrent PPO checkpoint (``.zip``) saved by ``sd-env train``."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint {str(path)!r} not found")
        return cls(load_sb3_model(path), params, deterministic, name=path.stem)

    @property
    def recurrent(self) -> bool:
        """Whether the model carries a memory (sb3-contrib's ``RecurrentPPO``: an LSTM before its heads)."""
        return hasattr(self.model.policy, "lstm_actor")

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self._memory = None  # a recurrent policy forgets everything before a new game

    def act(self, observations: np.ndarray) -> np.ndarray:
        if observations.shape[0] == 0:
            return np.zeros((0, self.params.action_length), dtype=np.int64)
        if self.recurrent:
            return self._act_with_memory(observations)
        if self.deterministic:
            with torch_threads(self.threads):
                actions, _ = self.model.predict(observations, deterministic=True)
            return np.asarray(actions, dtype=np.int64).reshape(observations.shape[0], -1)
        import torch

        policy = self.model.policy
        with torch.no_grad(), torch_threads(self.threads):
            distribution = policy.get_distribution(policy.obs_to_tensor(observations)[0])
        return self._choose(distribution.distribution, observations.shape[0])

    def _choose(self, components, rows: int) -> np.ndarray:
        """Actions (rows, components) from SB3's per-component categorical distributions: each component's
        most likely choice (``deterministic``) or a draw with this policy's generator."""
        components = components if isinstance(components, list) else [components]
        if self.deterministic:
            return np.stack([part.probs.argmax(dim=1).numpy() for part in components], axis=1).astype(np.int64)
        return np.stack([sample_categorical(part.probs.numpy().reshape(rows, -1), self.rng) for part in components],
                        axis=1)

    def _act_with_memory(self, observations: np.ndarray) -> np.ndarray:
        """A recurrent model's actions: row r of every call is the same game, as rollouts and vector environments
        pass them; a row whose year is 0 (``time_elapsed`` 0) starts a new game and its memory is cleared, and so is
        every row when the number of rows changes or after :meth:`reset`."""
        import torch

        policy = self.model.policy
        rows = observations.shape[0]
        starts = observations[:, self.layout.time_elapsed] <= 0.0
        memory = getattr(self, "_memory", None)
        if memory is None or memory[0].shape[1] != rows:
            shape = (policy.lstm_actor.num_layers, rows, policy.lstm_actor.hidden_size)
            memory = (torch.zeros(shape), torch.zeros(shape))
            starts = np.ones(rows, dtype=bool)
        with torch.no_grad(), torch_threads(self.threads):
            distribution, self._memory = policy.get_distribution(
                policy.obs_to_tensor(observations)[0], memory, torch.as_tensor(starts, dtype=torch.float32))
        return self._choose(distribution.distribution, rows)


#: The module of sb3-contrib's recurrent policies, as a checkpoint's ``data`` names its policy class's module.
_RECURRENT_MODULE = "sb3_contrib.common.recurrent"


def is_recurrent_checkpoint(path: str | Path) -> bool:
    """Whether an SB3 checkpoint (``.zip``) holds a recurrent PPO model (sb3-contrib), read from its ``data``.

    :param path: the checkpoint.
    :returns: True for ``RecurrentPPO`` models, False for others or files that are not SB3 checkpoints.
    """
    from sd_env.agents.policy_files import read_sb3_data

    try:
        return _is_recurrent_data(read_sb3_data(path))
    except PolicyError:
        return False


def _is_recurrent_data(data: dict) -> bool:
    """Whether an SB3 checkpoint's ``data`` (:func:`~sd_env.agents.policy_files.read_sb3_data`) is sb3-contrib's."""
    policy_class = data.get("policy_class")
    return isinstance(policy_class, dict) and str(policy_class.get("__module__", "")).startswith(_RECURRENT_MODULE)


def load_sb3_model(path: str | Path, env=None, **kwargs):
    """Load an SB3 checkpoint as the class that wrote it: ``RecurrentPPO`` (sb3-contrib) or ``PPO``, on the CPU.

    Without running code from the file: its pickled entries are read by
    :func:`sd_env.agents.policy_files.sb3_custom_objects` (data only), unless the user trusts policy files
    (``--trust-policy-files``), when stable-baselines3 loads it its own way.

    :param path: the checkpoint (``.zip``).
    :param env: the environment to attach, or None.
    :param kwargs: more keyword arguments of ``load`` (``tensorboard_log``).
    :raises UntrustedPolicyFileError: the file holds code to run and policy files are not trusted.
    """
    from sd_env.agents.policy_files import read_sb3_data, sb3_custom_objects, trusted

    if trusted():
        recurrent = is_recurrent_checkpoint(path)
    else:  # the zip's data read once, for its class and its pickles
        data = read_sb3_data(path)
        recurrent = _is_recurrent_data(data)
        kwargs["custom_objects"] = {**sb3_custom_objects(path, data), **kwargs.get("custom_objects", {})}
    if recurrent:
        from sb3_contrib import RecurrentPPO

        return RecurrentPPO.load(path, env=env, device="cpu", **kwargs)
    from stable_baselines3 import PPO

    return PPO.load(path, env=env, device="cpu", **kwargs)


class PoolPolicy(Policy):
    """Plays a fixed pool of policies side by side: the rows of each call are split into contiguous chunks,
    chunk k played by ``policies[k]``: equal chunks, or chunks in proportion to ``weights`` (a mixture).

    A vector environment passes its games in the same order every step, and so does a rollout, so each game
    meets one member of the pool for its whole life: a mixture over whole episodes, not over single years.

    :param params: the environment.
    :param policies: the members, at least one.
    :param weights: each member's share of the rows (non-negative, summing to a positive number), or None
        for equal chunks.
    """

    name = "pool"

    def __init__(self, params: EnvParams, policies: list[Policy], weights=None) -> None:
        super().__init__(params)
        if not policies:
            raise ValueError("PoolPolicy needs at least one policy")
        self.policies = policies
        self.weights = None
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != (len(policies),) or (weights < 0).any() or weights.sum() <= 0:
                raise ValueError(f"weights must be {len(policies)} non-negative shares with a positive sum")
            self.weights = weights / weights.sum()

    def chunks(self, rows: int) -> list[np.ndarray]:
        """The rows each member plays, in member order: contiguous, equal or in proportion to the weights."""
        if self.weights is None:
            return np.array_split(np.arange(rows), len(self.policies))
        bounds = np.rint(np.concatenate([[0.0], np.cumsum(self.weights)]) * rows).astype(np.int64)
        bounds[-1] = rows
        return [np.arange(bounds[k], bounds[k + 1]) for k in range(len(self.policies))]

    def reset(self, seed: int | None = None) -> None:
        for offset, policy in enumerate(self.policies):
            policy.reset(None if seed is None else seed + offset)

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = np.zeros((observations.shape[0], self.params.action_length), dtype=np.int64)
        chunks = self.chunks(observations.shape[0])
        # Rows whose rules are equal act in one call (e.g. the greedy hawks of several hawk/SEEKER stances):
        # the same actions, fewer calls on small arrays, which is most of what a pool costs per step.
        groups: dict[object, tuple[Policy, list[np.ndarray]]] = {}
        for member, rows in zip(self.policies, chunks):
            for policy, routed in member.route(observations, rows) if rows.size else ():
                key = policy.merge_key if policy.merge_key is not None else id(policy)
                groups.setdefault(key, (policy, []))[1].append(routed)
        for policy, parts in groups.values():
            rows = np.concatenate(parts)
            if rows.size:
                actions[rows] = policy.act(observations[rows])
        return actions


class RLlibModulePolicy(Policy):
    """An RLlib RLModule behind the shared ``Policy`` interface: the most likely action (``deterministic``) or a
    draw from the module's distribution with the policy's own seeded generator."""

    name = "learned"

    def __init__(self, module, params: EnvParams, name: str = "learned", deterministic: bool = True) -> None:
        super().__init__(params)
        self.module = module
        self.nvec = self.action_bounds
        self.name = name
        self.deterministic = deterministic

    @classmethod
    def load(cls, checkpoint: str | Path, params: EnvParams, module_id: str = "shared",
             deterministic: bool = True) -> RLlibModulePolicy:
        """Load module ``module_id`` (``shared``, or ``state_i`` for independent learners) of an RLlib checkpoint
        directory as ``sd-env train --set backend=rllib`` writes it (``checkpoints/rllib``).

        Without running code from it unless policy files are trusted
        (:func:`sd_env.agents.policy_files.read_rllib_module`): RLlib's default PPO module, which sd-env trains,
        loads either way; anything else needs ``--trust-policy-files``."""
        folder = Path(checkpoint) / "learner_group" / "learner" / "rl_module" / module_id
        if not folder.is_dir():
            raise FileNotFoundError(f"RLlib checkpoint {str(checkpoint)!r} has no module {module_id!r}")
        from sd_env.agents.policy_files import read_rllib_module, trusted

        if trusted():
            from ray.rllib.core.rl_module.rl_module import RLModule

            module = RLModule.from_checkpoint(str(folder.resolve()))
        else:  # built by sd-env from the checkpoint read as data (sd_env.agents.policy_files)
            module_class, kwargs, state = read_rllib_module(folder)
            module = module_class(**kwargs)
            module.set_state(state)
        return cls(module, params, name=module_id, deterministic=deterministic)

    def act(self, observations: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad(), torch_threads(SB3Policy.threads):
            output = self.module.forward_inference({"obs": torch.as_tensor(observations, dtype=torch.float32)})
        logits = output["action_dist_inputs"].numpy()
        return sample_components(logits, self.nvec, None if self.deterministic else self.rng)


def actor_from_weights(weights: dict, params: EnvParams, name: str) -> tuple:
    """BenchMARL's actor, rebuilt from its weights: the ``torchrl.modules.MultiAgentMLP`` (tanh between layers,
    as sd-env's benchmarl backend trains it) from observations to the logits of the flattened action.

    :param weights: the MLP's weights as :func:`~sd_env.agents.policy_files.read_benchmarl_actor` reads them.
    :param params: the environment the policy must fit (observation length, action sizes, number of states).
    :param name: the checkpoint, named in errors.
    :returns: ``(actor, shared)``: a ``TensorDictModule`` from ``("agents", "observation")`` to
        ``("agents", "logits")``, and whether one network serves every state.
    :raises PolicyError: the weights do not fit this environment, or do not form an MLP.
    """
    import torch
    from tensordict.nn import TensorDictModule
    from torchrl.modules import MultiAgentMLP

    layers = sorted({int(key.split(".")[0]) for key in weights})
    try:
        shapes = [tuple(weights[f"{layer}.weight"].shape) for layer in layers]
    except KeyError as missing:
        raise PolicyError(f"BenchMARL checkpoint {name!r} is damaged: its actor lacks the weight {missing}") from None
    shared = len(shapes[0]) == 2
    observations, actions = observation_space(params).shape[0], int(np.prod(action_space(params).nvec))
    if (shapes[0][-1], shapes[-1][-2]) != (observations, actions) or (not shared and shapes[0][0] != params.n_states):
        raise PolicyError(
            f"BenchMARL checkpoint {name!r} was trained on observations ({shapes[0][-1]},) and {shapes[-1][-2]} "
            f"flattened actions{'' if shared else f' for {shapes[0][0]} states'}; this scenario has "
            f"({observations},), {actions} and {params.n_states} states")
    network = MultiAgentMLP(n_agent_inputs=observations, n_agent_outputs=actions, n_agents=params.n_states,
                            centralized=False, share_params=shared, num_cells=[shape[-2] for shape in shapes[:-1]],
                            activation_class=torch.nn.Tanh)
    state = network.state_dict()  # its weights, and the batch size and device its TensorDictParams keep beside them
    expected = {key.removeprefix("params.") for key in state if "__" not in key}
    if expected != set(weights):
        raise PolicyError(f"BenchMARL checkpoint {name!r} does not form an MLP of the layers its weights give "
                          f"(expected {sorted(expected)}, found {sorted(weights)})")
    try:
        network.load_state_dict({**state, **{f"params.{key}": value for key, value in weights.items()}})
    except RuntimeError as error:
        raise PolicyError(f"BenchMARL checkpoint {name!r} does not form an MLP ({str(error).splitlines()[0]})") from None
    return TensorDictModule(network, in_keys=[("agents", "observation")], out_keys=[("agents", "logits")]), shared


class BenchMARLPolicy:
    """A trained BenchMARL policy behind the batched ``act(observations) -> actions``.

    :param policy: the experiment's policy (a TensorDict module over the group ``agents``).
    :param nvec: the MultiDiscrete action sizes, (A,).
    :param n_agents: states in the game.
    :param seat: the state whose policy this is, where each state has its own (independent learners); None
        where one policy is shared: then any rows may be played, in groups of ``n_agents``.
    """

    name = "learned"

    def __init__(self, policy, nvec: np.ndarray, n_agents: int, seat: int | None = None,
                 deterministic: bool = True) -> None:
        self.policy = policy
        self.nvec, self.n_agents, self.seat = np.asarray(nvec, dtype=np.int64), n_agents, seat
        self.deterministic = deterministic
        self.rng = np.random.default_rng()

    def reset(self, seed: int | None = None) -> None:
        """Reseed the draws of sampled actions."""
        self.rng = np.random.default_rng(seed)

    @staticmethod
    def latest_checkpoint(folder: str | Path) -> Path | None:
        """The newest whole checkpoint under a BenchMARL save folder (``RUN/benchmarl``), or None where it holds none.

        Checkpoints are read newest first with ``torch.load(weights_only=True)``; a damaged one (BenchMARL
        writes them in place, so a kill can cut one short) is passed over with a warning on standard error.

        :raises UntrustedPolicyFileError: the newest checkpoint holds code.
        :raises PolicyError: every checkpoint is damaged (one line naming the newest).
        """
        found = BenchMARLPolicy._latest_checkpoint_read(folder)
        return None if found is None else found[0]

    @staticmethod
    def _latest_checkpoint_read(folder: str | Path) -> tuple[Path, Any] | None:
        """:meth:`latest_checkpoint` with what it read of the checkpoint (loading reads it once, not twice)."""
        found = sorted(((int(path.stem.split("_")[-1]), path)
                        for path in Path(folder).glob("*/checkpoints/checkpoint_*.pt")
                        if path.stem.split("_")[-1].isdigit()), reverse=True)
        damaged = []
        for _, path in found:
            try:
                state = read_torch_weights(path)
            except UntrustedPolicyFileError:
                raise
            except PolicyError as error:
                damaged.append(str(error))
                continue
            if damaged:
                print(f"sd-env: warning: {damaged[0]}; using the previous checkpoint, {path.name}",
                      file=sys.stderr, flush=True)
            return path, state
        if damaged:
            raise PolicyError(f"{damaged[0]}, and so is every earlier one")
        return None

    @classmethod
    def load(cls, folder: str | Path, params: EnvParams, seat: int = 0, deterministic: bool = True) -> BenchMARLPolicy:
        """The policy of ``seat`` from the last checkpoint under BenchMARL's save folder of a run
        (``RUN/benchmarl``, as ``sd-env train --set backend=benchmarl`` writes it).

        The actor is rebuilt from the weights in the checkpoint (:func:`actor_from_weights`), read without
        running code; BenchMARL's pickled ``config.pkl`` is read (``Experiment.reload_from_file``) only for a
        checkpoint without such an actor, and only under ``--trust-policy-files``.
        """
        found = cls._latest_checkpoint_read(folder)
        if found is None:
            raise FileNotFoundError(f"{str(folder)!r} holds no BenchMARL checkpoint (*/checkpoints/checkpoint_*.pt)")
        checkpoint, state = found
        try:
            actor, shared = actor_from_weights(read_benchmarl_actor(checkpoint, state), params, str(checkpoint))
        except UntrustedPolicyFileError:
            if not trusted():
                raise
            from benchmarl.experiment import Experiment

            experiment = Experiment.reload_from_file(str(checkpoint), experiment_patch={"loggers": []})
            actor, shared = experiment.policy, experiment.config.share_policy_params
        return cls(actor, np.asarray(action_space(params).nvec), params.n_states, None if shared else seat,
                   deterministic)

    def act(self, observations: np.ndarray) -> np.ndarray:
        import torch
        from tensordict import TensorDict
        from torchrl.envs.utils import ExplorationType, set_exploration_type

        m, n = observations.shape[0], self.n_agents
        if self.seat is None:  # shared parameters: an agent's action depends on its own row only
            groups = -(-m // n)
            grouped = np.zeros((groups * n, observations.shape[1]), dtype=np.float32)
            grouped[:m] = observations
            grouped = grouped.reshape(groups, n, -1)
        else:  # this seat's own network: every row in the seat's position
            groups = m
            grouped = np.zeros((m, n, observations.shape[1]), dtype=np.float32)
            grouped[:, self.seat] = observations
        data = TensorDict({("agents", "observation"): torch.as_tensor(grouped)}, batch_size=[groups])
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC), torch_threads(SB3Policy.threads):
            output = self.policy(data)
        logits = output.get(("agents", "logits")).numpy()
        if self.deterministic:  # the mode of the categorical distribution, as BenchMARL's deterministic actor
            actions = logits.argmax(axis=-1)
        else:  # a draw from the policy's distribution over the flattened actions, with this policy's generator
            actions = sample_categorical(softmax(logits.reshape(-1, logits.shape[-1])), self.rng).reshape(
                logits.shape[:-1])
        flat = actions.reshape(-1)[:m] if self.seat is None else actions[:, self.seat]
        return np.stack(np.unravel_index(flat.astype(np.int64), tuple(self.nvec)), axis=1).astype(np.int64)


def set_deterministic(policy, deterministic: bool) -> None:
    """Make a learned policy, or every learned member of a pool, act deterministically or by sampling.

    :param policy: an :class:`SB3Policy`, :class:`RLlibModulePolicy`, :class:`BenchMARLPolicy`, a
        :class:`PoolPolicy` of them, or a scripted policy (left as it is).
    :param deterministic: play the most likely action (True) or sample as trained (False).
    """
    if hasattr(policy, "deterministic"):
        policy.deterministic = deterministic
    for member in getattr(policy, "policies", ()):
        set_deterministic(member, deterministic)


def load_member(member: dict, params: EnvParams, folder: str | Path, deterministic: bool = False):
    """A member of a PSRO population: ``{"name", "stance"}`` (a scripted stance) or ``{"name", "file"}`` (a
    stable-baselines3 checkpoint, relative to ``folder``, the run directory)."""
    from sd_env.stances import make_policy

    if "stance" in member:
        return make_policy(member["stance"], params)
    return SB3Policy.load(Path(folder) / member["file"], params, deterministic=deterministic)


def mixture_policy(params: EnvParams, members: list, weights) -> PoolPolicy:
    """The mixture over ``members`` with ``weights`` (shares of the episodes), members of zero share left out."""
    weights = np.asarray(weights, dtype=np.float64)
    kept = [k for k, weight in enumerate(weights) if weight > 0]
    return PoolPolicy(params, [members[k] for k in kept], weights=weights[kept])


def load_psro_mixture(run_dir: str | Path, params: EnvParams, deterministic: bool = False) -> PoolPolicy:
    """The policy of a PSRO run directory (``sd-env train`` with ``algorithm: psro``): the final mixture over its
    population, as its ``psro.json`` records it."""
    import json

    state = json.loads((Path(run_dir) / "psro.json").read_text())
    members = [load_member(member, params, run_dir, deterministic) for member in state["members"]]
    return mixture_policy(params, members, state["mixture"])
