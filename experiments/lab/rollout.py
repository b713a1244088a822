"""Play fixed policies in the batched core and collect what happened, year by year."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sd_env import core
from sd_env.params import EnvParams
from sd_env.policy import Policy
from sd_env.spaces import observation_layout


@dataclass(frozen=True)
class Rollout:
    """Histories of ``B`` parallel episodes of ``T`` years. Shapes: (T, B, N) unless stated.

    State quantities (wealth, stocks, ...) are those at the start of each
    year, when the states chose their actions; outcome quantities (rewards,
    attacks, ...) are those of the year. Every episode lasts the same ``T``
    years (``max_cycles``); eliminated states stay in the arrays, marked by
    ``alive``.
    """

    #: The model parameters the episodes were played with.
    params: EnvParams
    #: Reward per year.
    rewards: np.ndarray
    #: Welfare from consumption per year, log(1 + consumption).
    welfare: np.ndarray
    #: Military burden (arms spending / wealth) per year, in [0, max_burden].
    burden: np.ndarray
    #: Arms spending per year, wealth units.
    spending: np.ndarray
    #: Arms stock of each weapon system at the start of each year, (T, B, N, K), arms units.
    stocks: np.ndarray
    #: Wealth at the start of each year, wealth units.
    wealth: np.ndarray
    #: Home wealth (wealth not taken by conquest) at the start of each year, wealth units.
    home_wealth: np.ndarray
    #: Attacks launched, (T, B, N, N) bool, ``[t, b, i, j]`` = i attacked j.
    attacks: np.ndarray
    #: Successful attacks, (T, B, N, N) bool.
    victories: np.ndarray
    #: Chance that an attack by i on j would succeed this year (whether or not made), (T, B, N, N) in [0, 1].
    success_probability: np.ndarray
    #: Eliminations, (T, B, N) bool.
    eliminated: np.ndarray
    #: Whether each state was alive at the start of each year.
    alive: np.ndarray
    #: What each state saw of every state's stocks when it chose this year's action, (T, B, N, N, K):
    #: ``[t, b, i, j]`` is i's (noisy, type-blurred) view of j, its exact own stocks where ``i == j``,
    #: zeros where i was eliminated.
    observed_stocks: np.ndarray
    #: Private type of each state for the episode, (B, N) bool: True = greedy, False = security seeker.
    greedy: np.ndarray
    #: Commitments in force at the start of each year, (T, B, N, N) bool, ``[t, b, h, j]`` = h is committed to
    #: defend j. None in rollouts saved before sd-env 0.4.0.
    commitments: np.ndarray | None = None
    #: Allies that joined a defence, (T, B, N, N) bool, ``[t, b, h, j]`` = h joined j's defence. None before 0.4.0.
    joins: np.ndarray | None = None
    #: Allies that reneged on an attacked partner, (T, B, N, N) bool. None before 0.4.0.
    reneges: np.ndarray | None = None

    @property
    def returns(self) -> np.ndarray:
        """Episode return of every state, shape (B, N)."""
        return self.rewards.sum(axis=0)

    @property
    def arms(self) -> np.ndarray:
        """Total arms stock (all systems) at the start of each year, (T, B, N), arms units."""
        return self.stocks.sum(axis=3)

    @property
    def years(self) -> int:
        """Years per episode, T."""
        return self.rewards.shape[0]

    @property
    def episodes(self) -> int:
        """Episodes, B."""
        return self.rewards.shape[1]


#: Outcome fields recorded every year, by their ``sd_env.core.StepOutcome`` name.
_OUTCOME_FIELDS = ("rewards", "welfare", "burden", "spending", "attacks", "victories", "success_probability", "eliminated",
                   "joins", "reneges")
#: State fields recorded at the start of every year, by their ``sd_env.core.CoreState`` name.
_STATE_FIELDS = ("stocks", "wealth", "home_wealth", "alive", "commitments")


def observed_stocks(params: EnvParams, state: core.CoreState, observations: np.ndarray) -> np.ndarray:
    """Every state's view of every state's stocks, (B, N, N, K), from the observations (B, N, length).

    :param params: the environment.
    :param state: the core state the observations were made of (not read: the view is in the observations).
    :param observations: every state's observation, float32 (B, N, L), L the observation length.
    :returns: arms units, (B, N, N, K): ``[b, i, j]`` is i's view of j's stocks, i's exact own stocks where
        ``i == j``, zeros where i is eliminated.
    """
    layout = observation_layout(params)
    n = params.n_states
    seen = np.zeros((*observations.shape[:2], n, params.n_systems))
    apparent = layout.rival_stocks(observations)  # (B, N, N-1, K), rival r of i is (i + r) % N
    for i in range(n):
        for r in range(1, n):
            seen[:, i, (i + r) % n] = apparent[:, i, r - 1]
        seen[:, i, i] = observations[:, i, layout.own_stocks]
    return seen


def rollout(
    params: EnvParams,
    seat_policies: Sequence[Policy],
    episodes: int,
    seed: int,
) -> Rollout:
    """Run ``episodes`` episodes at once, state ``i`` played by ``seat_policies[i]``.

    Seats that share one policy object are acted for in a single batched call.
    Every random draw of the environment flows from ``seed``.

    :param params: the environment.
    :param seat_policies: the policy of each seat, N of them, each with ``act(observations (M, L)) -> actions
        (M, action_length)``.
    :param episodes: episodes played at once, B >= 1.
    :param seed: seed of every random draw of the environment.
    :returns: the :class:`Rollout` of B episodes of T = max_cycles years.
    :raises ValueError: not one policy per state.
    """
    if len(seat_policies) != params.n_states:
        raise ValueError(f"need one policy per state ({params.n_states}), got {len(seat_policies)}")
    rng = np.random.default_rng(seed)
    state = core.reset(params, episodes, rng)
    groups: dict[int, list[int]] = {}
    for seat, policy in enumerate(seat_policies):
        groups.setdefault(id(policy), []).append(seat)
    history: dict[str, list[np.ndarray]] = {name: [] for name in (*_OUTCOME_FIELDS, *_STATE_FIELDS, "observed_stocks")}
    for _ in range(params.max_cycles):
        observations = core.observe(params, state, rng)
        actions = np.zeros((episodes, params.n_states, params.action_length), dtype=np.int64)
        for seats in groups.values():
            policy = seat_policies[seats[0]]
            batch = observations[:, seats].reshape(-1, observations.shape[-1])
            actions[:, seats] = policy.act(batch).reshape(episodes, len(seats), -1)
        for name in _STATE_FIELDS:
            history[name].append(getattr(state, name))
        history["observed_stocks"].append(observed_stocks(params, state, observations))
        state, outcome = core.step(params, state, actions, rng)
        for name in _OUTCOME_FIELDS:
            history[name].append(getattr(outcome, name))
    return Rollout(params=params, greedy=state.greedy.copy(),
                   **{name: np.stack(values) for name, values in history.items()})


def save_rollout(path, result: Rollout, episodes: int | None = None) -> None:
    """Write the first ``episodes`` episodes (all if None) of a rollout to ``path`` (``.npz``, atomically).

    The parameters travel as JSON, so :func:`load_rollout` gives back the same rollout (those episodes).

    :param path: the ``.npz`` file to write (str or path).
    :param result: the rollout.
    :param episodes: how many of the first episodes to keep, >= 1; None: all B.
    """
    import dataclasses
    import io
    import json
    from pathlib import Path

    from sd_env.experiments.output.files import write_bytes_atomic

    keep = slice(None) if episodes is None else slice(0, episodes)
    arrays = {}
    for field in dataclasses.fields(Rollout):
        if field.name == "params":
            continue
        array = getattr(result, field.name)
        if array is None:  # a field a rollout from an older version lacks
            continue
        arrays[field.name] = array[keep] if field.name == "greedy" else array[:, keep]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, params=np.array(json.dumps(dataclasses.asdict(result.params))), **arrays)
    write_bytes_atomic(Path(path), buffer.getvalue())


def load_rollout(path) -> Rollout:
    """A rollout written by :func:`save_rollout`.

    :param path: a ``.npz`` file of :func:`save_rollout` (str or path).
    :returns: the :class:`Rollout`; ``commitments``, ``joins`` and ``reneges`` are None in files saved before
        sd-env 0.4.0.
    """
    import json

    import zipfile

    from sd_env.errors import SdEnvError

    try:
        with np.load(path) as data:
            fields = {name: data[name] for name in data.files if name != "params"}
            settings = json.loads(str(data["params"]))
        return Rollout(params=EnvParams(**settings), **fields)  # EnvParams turns JSON's lists back into tuples
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, TypeError) as error:
        if isinstance(error, SdEnvError):
            raise
        raise SdEnvError(f"{str(path)!r} is damaged: not a whole rollout file ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else 'no detail'})") from None
