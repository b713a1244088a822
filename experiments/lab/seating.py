"""The one way policies are loaded, checked, seated and played: every command that plays policies goes through here.

``sd-env evaluate``, ``crossplay``, ``exploit``, sweeps of fixed policies, the final metrics and drift of
training runs and the historical-scenario runs all load policies through a :class:`PolicyCache`, seat them
with :meth:`PolicyCache.seat` and play them with :func:`play`; the benchmark checks its submissions with the
same :class:`CheckedPolicy`.

**Loading.** A policy is named by a spec (:mod:`sd_env.experiments.lab.specs`). The cache loads each spec
once, behind the action check, and keeps it: once per seat for a spec that may hold one policy per seat (a
run directory of ``independent_ppo``, an RLlib checkpoint with ``state_i`` modules), once for all seats
otherwise. Policies already in memory (a run's learned policies) join the cache under a name with
:meth:`PolicyCache.add`.

**Checking.** Every ``act`` is checked (:class:`CheckedPolicy`): actions of the wrong shape or type, or outside
the action space, are a :class:`sd_env.errors.PolicyError` in one format, ``<label>: <problem>``
(:func:`sd_env.policy.action_problem` says what the problem is).

**Seating.** Seats that hold the same policy object act in one batched call (:func:`rollout`).

**Seeding: one rule.** Before every game, :func:`play` reseeds each distinct policy object, in the order of
the seats where it first appears (k = 0, 1, ...), with :func:`seat_seed` ``(seed, 1000 + k)``, then plays
the game with the environment seed ``seed``. A result therefore never depends on what was played before, and
the same seed gives the same numbers bit for bit. The benchmark alone keeps its published protocol's seeds
(``docs/benchmark.md``), so that leaderboards stay comparable across versions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sd_env.errors import PolicyError, SdEnvError, describe_exception
from sd_env.experiments.lab.rollout import Rollout, rollout
from sd_env.experiments.lab.specs import SEAT_DEPENDENT_KINDS, load_policy, spec_kind
from sd_env.params import PER_STATE_PARAMETERS, EnvParams
from sd_env.policy import Policy, action_problem


#: How learned policies act when they are evaluated: sampled as trained (the default), or the most likely action.
ACTIONS = ("stochastic", "deterministic")


def asymmetries(params: EnvParams) -> list[str]:
    """What makes the seats of ``params`` differ: ``["growth_rate=(0.01, 0.04)", ...]``, empty when symmetric.

    :param params: the environment.
    :returns: one ``name=value`` string for each per-state parameter that differs between states, then
        ``alliance_blocs`` and ``surprise_deployment`` where set.
    """
    reasons = []
    for name in PER_STATE_PARAMETERS:  # initial_wealth, growth_rate: one value per state
        if len(set(getattr(params, name))) > 1:
            reasons.append(f"{name}={getattr(params, name)}")
    if params.alliance_blocs:
        reasons.append(f"alliance_blocs={params.alliance_blocs}")
    if params.surprise_deployment is not None:
        reasons.append(f"surprise_deployment={params.surprise_deployment}")
    return reasons


def focal_seats(params: EnvParams, every_seat: bool = False) -> list[int]:
    """Seats a focal policy plays in turn: every seat in an asymmetric game (or when asked), else ``[0]``.

    :param params: the environment.
    :param every_seat: every seat, even in a symmetric game.
    :returns: seat indices in [0, N), in order.
    """
    return list(range(params.n_states)) if every_seat or asymmetries(params) else [0]


def seat_seed(seed: int, seat: int) -> int:
    """A seed derived from ``seed`` and ``seat`` (NumPy's ``SeedSequence``): streams for different seats, or
    different policy objects, never overlap. An int in [0, 2**32).

    :param seed: the game seed, >= 0.
    :param seat: the focal seat, or ``1000 + k`` for the k-th distinct policy object of a game (:func:`play`).
    :returns: the derived seed.
    """
    return int(np.random.SeedSequence([int(seed), int(seat)]).generate_state(1)[0])


class CheckedPolicy(Policy):
    """A policy whose every ``act`` is checked: shape (M, action_length), integers, inside the action space.

    :param policy: any object with ``act(observations (M, L) float32) -> actions (M, A) int``; ``reset(seed)``
        is called through when it has one.
    :param params: the environment parameters the actions must fit.
    :param label: how errors name the policy, e.g. ``"policy 'baseline:hawk'"``.
    :param foreign: the policy is code from outside sd-env (an imported factory, a benchmark submission): an
        exception raised by its ``act`` is a :class:`~sd_env.errors.PolicyError` naming the policy, the
        exception and where it was raised. Otherwise exceptions propagate with their traceback.
    """

    def __init__(self, policy: Any, params: EnvParams, label: str, foreign: bool = False) -> None:
        super().__init__(params)
        self.policy, self.label, self.foreign = policy, label, foreign
        self.name = getattr(policy, "name", label)

    def reset(self, seed: int | None = None) -> None:
        """Reseed this policy's random draws, and the wrapped policy's where it has ``reset``.

        :param seed: the seed; None: fresh entropy.
        """
        super().reset(seed)
        if callable(getattr(self.policy, "reset", None)):
            self.policy.reset(seed)

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The wrapped policy's actions, checked.

        :param observations: one observation per row, float32 (M, L), L the observation length.
        :returns: the actions, int64 (M, action_length), inside the action space.
        :raises PolicyError: actions of the wrong shape or type, or outside the action space; for a foreign
            policy, any exception its ``act`` raises (``<label>: <problem>``).
        """
        try:
            actions = np.asarray(self.policy.act(observations))
        except Exception as error:
            if not self.foreign:
                raise
            raise PolicyError(f"{self.label}: act() on observations of shape {observations.shape} raised "
                              f"{describe_exception(error)}") from error
        problem = action_problem(self.params, actions, observations.shape[0])
        if problem is not None:
            raise PolicyError(f"{self.label}: {problem}")
        return actions.astype(np.int64, copy=False)


def spec_label(spec: str) -> str:
    """How errors name the policy of a spec: ``policy 'SPEC'``.

    :param spec: a policy spec, or the name of policies added to a cache.
    :returns: the label, e.g. ``policy 'baseline:hawk'``.
    """
    return f"policy {spec!r}"


class PolicyCache:
    """Policies by spec, each loaded once and checked (see the module docstring).

    :param params: the environment the policies play in.
    :param seed: the seed a scripted stance is made with (:func:`play` reseeds before every game anyway).
    :param actions: how learned policies act: ``stochastic`` (sampled as trained, from each policy's own seeded
        generator; the default) or ``deterministic`` (the most likely action). Scripted stances and imported
        policies act by their own rule either way.
    """

    def __init__(self, params: EnvParams, seed: int = 0, actions: str = "stochastic") -> None:
        if actions not in ACTIONS:
            raise SdEnvError(f"actions must be {' or '.join(ACTIONS)}, got {actions!r}", parameter="actions")
        self.params, self.seed, self.actions = params, seed, actions
        self._kinds: dict[str, str] = {}
        self._loaded: dict[tuple[str, int | None], CheckedPolicy] = {}

    def kind(self, spec: str) -> str:
        """The kind of ``spec`` (:func:`~sd_env.experiments.lab.specs.spec_kind`), worked out once per spec.

        :param spec: a policy spec, or a name given to :meth:`add`.
        :returns: ``baseline``, ``sb3``, ``rllib``, ``run``, ``import``, or ``memory`` for policies added.
        :raises PolicySpecError: a spec of no kind.
        """
        if spec not in self._kinds:
            self._kinds[spec] = spec_kind(spec)
        return self._kinds[spec]

    def add(self, name: str, policies: Policy | Sequence[Policy]) -> None:
        """Put policies already in memory into the cache as ``name``: one for every seat, or one per seat.

        :param name: the name the policies go by in the cache, used as a spec.
        :param policies: one policy for every seat, or a sequence of N policies, one per seat.
        :raises ValueError: a sequence of other than N policies.
        """
        per_seat = isinstance(policies, Sequence)
        if per_seat and len(policies) != self.params.n_states:
            raise ValueError(f"{name}: one policy per seat needs {self.params.n_states}, got {len(policies)}")
        self._kinds[name] = "memory"
        for seat in range(self.params.n_states) if per_seat else [None]:
            policy = policies[seat] if per_seat else policies
            self._loaded[(name, seat)] = CheckedPolicy(policy, self.params, spec_label(name))

    def get(self, spec: str, seat: int) -> CheckedPolicy:
        """The checked policy ``spec`` names, for ``seat``.

        :param spec: a policy spec, or a name given to :meth:`add`.
        :param seat: the seat it plays, in [0, N).
        :returns: the :class:`CheckedPolicy` (the same object for every seat unless the spec holds one per seat).
        :raises PolicySpecError: a spec that names no loadable policy.
        """
        if (spec, seat) in self._loaded:  # a policy per seat added from memory
            return self._loaded[(spec, seat)]
        kind = self.kind(spec)
        key = (spec, seat if kind in SEAT_DEPENDENT_KINDS else None)
        if key not in self._loaded:
            policy = load_policy(spec, self.params, seed=self.seed, seat=seat, kind=kind,
                                 deterministic=self.actions == "deterministic")
            self._loaded[key] = CheckedPolicy(policy, self.params, spec_label(spec), foreign=kind == "import")
        return self._loaded[key]

    def check(self, specs: Sequence[str]) -> None:
        """Load every spec for every seat now, so that a bad one fails before any episode is played.

        :param specs: the policy specs (or names given to :meth:`add`).
        :raises PolicySpecError: a spec that names no loadable policy.
        """
        for spec in specs:
            for seat in range(self.params.n_states):
                self.get(spec, seat)

    def seat(self, specs: Sequence[str]) -> list[CheckedPolicy]:
        """The policy of every seat: ``specs[i]`` in seat ``i`` (one spec per seat).

        :param specs: one spec per seat, N of them.
        :returns: N checked policies, in seat order.
        :raises ValueError: other than N specs.
        :raises PolicySpecError: a spec that names no loadable policy.
        """
        if len(specs) != self.params.n_states:
            raise ValueError(f"need one spec per seat ({self.params.n_states}), got {len(specs)}")
        return [self.get(spec, seat) for seat, spec in enumerate(specs)]

    def match(self, focal: str, opponent: str, seat: int) -> list[CheckedPolicy]:
        """``focal`` in ``seat``, ``opponent`` in every other seat.

        :param focal: the focal policy's spec.
        :param opponent: the spec of the policy in every other seat.
        :param seat: the focal seat, in [0, N).
        :returns: N checked policies, in seat order.
        :raises PolicySpecError: a spec that names no loadable policy.
        """
        return self.seat([focal if j == seat else opponent for j in range(self.params.n_states)])


def play(params: EnvParams, seat_policies: Sequence[Policy], episodes: int, seed: int) -> Rollout:
    """Reseed every distinct policy object by the one rule (module docstring), then play ``episodes`` games.

    :param params: the environment.
    :param seat_policies: the policy of each seat, ``n_states`` of them.
    :param episodes: games played at once, >= 1.
    :param seed: the game's seed: the environment's draws, and the policies' through :func:`seat_seed`.
    :returns: the :class:`~sd_env.experiments.lab.rollout.Rollout`.
    """
    distinct: dict[int, Any] = {}
    for policy in seat_policies:
        distinct.setdefault(id(policy), policy)
    for index, policy in enumerate(distinct.values()):
        if callable(getattr(policy, "reset", None)):
            policy.reset(seed=seat_seed(seed, 1000 + index))
    return rollout(params, list(seat_policies), episodes, seed)


@dataclass(frozen=True)
class SeatGame:
    """The episodes in which the focal policy played ``seat``, with the game seed they were played with."""

    seat: int
    seed: int
    result: Rollout


def play_match(params: EnvParams, cache: PolicyCache, focal: str, opponent: str, seats: Sequence[int],
               episodes: int, seed: int, played: Callable[[int], None] | None = None) -> list[SeatGame]:
    """``focal`` in each of ``seats`` in turn, ``opponent`` in every other seat, ``episodes`` episodes each.

    The games with the focal policy in seat ``s`` are played with the game seed :func:`seat_seed` ``(seed, s)``.

    :param params: the environment.
    :param cache: the policy cache that loads and checks the specs.
    :param focal: the focal policy's spec.
    :param opponent: the spec of the policy in every other seat.
    :param seats: the focal seats, indices in [0, N).
    :param episodes: episodes per focal seat, >= 1.
    :param seed: the seed the game seeds derive from, >= 0.
    :param played: called with ``episodes`` after each focal seat's games (a progress bar's ``advance``); it
        sees the count only, so it cannot change the games.
    :returns: one :class:`SeatGame` per focal seat, in the order of ``seats``.
    """
    games = []
    for seat in seats:
        game_seed = seat_seed(seed, seat)
        games.append(SeatGame(seat, game_seed, play(params, cache.match(focal, opponent, seat), episodes, game_seed)))
        if played is not None:
            played(episodes)
    return games
