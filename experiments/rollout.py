"""Play fixed policies in the batched core and collect what happened, year by year."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sd_env.policy import Policy
from sd_env import core
from sd_env.params import EnvParams


@dataclass(frozen=True)
class Rollout:
    """Histories of ``episodes`` parallel episodes. Shapes: (T, B, N) unless stated."""

    #: Reward per year.
    rewards: np.ndarray
    #: Welfare from consumption per year.
    welfare: np.ndarray
    #: Military burden (arms spending / wealth) per year.
    burden: np.ndarray
    #: Arms spending per year, wealth units.
    spending: np.ndarray
    #: Total arms stock at the start of each year, arms units.
    arms: np.ndarray
    #: Wealth at the start of each year.
    wealth: np.ndarray
    #: Attacks launched, (T, B, N, N) bool, ``[t, b, i, j]`` = i attacked j.
    attacks: np.ndarray
    #: Successful attacks, (T, B, N, N) bool.
    victories: np.ndarray
    #: Eliminations, (T, B, N) bool.
    eliminated: np.ndarray
    #: Whether each state was alive at the start of each year.
    alive: np.ndarray
    #: Private type of each state for the episode, (B, N) bool: True = greedy, False = security seeker.
    greedy: np.ndarray

    @property
    def returns(self) -> np.ndarray:
        """Episode return of every state, shape (B, N)."""
        return self.rewards.sum(axis=0)


def rollout(
    params: EnvParams,
    seat_policies: Sequence[Policy],
    episodes: int,
    seed: int,
) -> Rollout:
    """Run ``episodes`` episodes at once, state ``i`` played by ``seat_policies[i]``.

    Seats that share one policy object are acted for in a single batched call.
    Every random draw of the environment flows from ``seed``.
    """
    if len(seat_policies) != params.n_states:
        raise ValueError(f"need one policy per state ({params.n_states}), got {len(seat_policies)}")
    rng = np.random.default_rng(seed)
    state = core.reset(params, episodes, rng)
    groups: dict[int, list[int]] = {}
    for seat, policy in enumerate(seat_policies):
        groups.setdefault(id(policy), []).append(seat)
    history: dict[str, list[np.ndarray]] = {name: [] for name in Rollout.__dataclass_fields__ if name != "greedy"}
    for _ in range(params.max_cycles):
        observations = core.observe(params, state, rng)
        actions = np.zeros((episodes, params.n_states, params.action_length), dtype=np.int64)
        for seats in groups.values():
            policy = seat_policies[seats[0]]
            batch = observations[:, seats].reshape(-1, observations.shape[-1])
            actions[:, seats] = policy.act(batch).reshape(episodes, len(seats), -1)
        history["arms"].append(state.stocks.sum(axis=2))
        history["wealth"].append(state.wealth)
        history["alive"].append(state.alive)
        state, outcome = core.step(params, state, actions, rng)
        for name in ("rewards", "welfare", "burden", "spending", "attacks", "victories", "eliminated"):
            history[name].append(getattr(outcome, name))
    return Rollout(greedy=state.greedy.copy(), **{name: np.stack(values) for name, values in history.items()})
