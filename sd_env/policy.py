"""The one policy interface that scripted and learned policies share."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from sd_env.core import action_upper_bounds, first_out_of_bounds
from sd_env.layout import ACTION_FIELDS, ACTION_FIRST_COMMITMENT, ActionLayout, ObservationLayout
from sd_env.params import EnvParams
from sd_env.spaces import action_layout, observation_layout


class Policy(ABC):
    """A batched policy: ``act(observations) -> actions``.

    ``observations`` has shape (M, observation_length) for M states (of one or
    many environments; the observation is ego-centric, so one policy can play
    any seat); the result is an int64 array (M, action_length) inside the
    MultiDiscrete action space of ``sd_env.spaces.action_space``.
    """

    #: Short name used in tables and configs.
    name: str = "policy"

    def __init__(self, params: EnvParams, seed: int | None = None) -> None:
        self.params = params
        self.layout: ObservationLayout = observation_layout(params)
        self.action_layout: ActionLayout = action_layout(params)
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed the policy's own random draws (scripted policies here are deterministic but random)."""
        self.rng = np.random.default_rng(seed)

    #: Policies with equal keys act alike on every row (deterministic, same rule, same options), so a pool may
    #: act for their rows in one call; ``None``: never merged with another object.
    merge_key: object = None

    @abstractmethod
    def act(self, observations: np.ndarray) -> np.ndarray:
        """Actions for a batch of observations, shape (M, action_length), int64."""

    def route(self, observations: np.ndarray, rows: np.ndarray) -> list[tuple[Policy, np.ndarray]]:
        """Which policy acts for which of ``rows`` (indices into ``observations``): here, this one for all."""
        return [(self, rows)]

    # Helpers for subclasses -------------------------------------------------

    def empty_actions(self, count: int) -> np.ndarray:
        """No arms spending, even procurement, no attack, no commitments (components in ``sd_env.layout``)."""
        actions = np.zeros((count, self.action_layout.length), dtype=np.int64)
        actions[:, self.action_layout.procurement] = self.params.n_systems  # spread evenly
        return actions

    def keep_commitments(self, actions: np.ndarray, observations: np.ndarray) -> np.ndarray:
        """Set the commitment entries to what the observation says is in force now."""
        if self.params.alliances:
            actions[:, self.action_layout.commitments] = self.layout.rival_flag(observations, "my_commitment") > 0.5
        return actions

    def burden_level(self, burden: np.ndarray | float) -> np.ndarray:
        """The action level whose burden is nearest ``burden`` (share of wealth), clipped to the space."""
        step = self.params.max_burden / (self.params.burden_levels - 1)
        level = np.rint(np.asarray(burden, dtype=np.float64) / step)
        return np.clip(level, 0, self.params.burden_levels - 1).astype(np.int64)

    @property
    def most_offensive_system(self) -> int:
        return int(np.argmax(self.params.weapon_offense_weights))

    @property
    def most_defensive_system(self) -> int:
        return int(np.argmin(self.params.weapon_offense_weights))

    @property
    def action_bounds(self) -> np.ndarray:
        return action_upper_bounds(self.params)


def action_component_name(component: int) -> str:
    """Name of action component ``component`` (``sd_env.layout``): burden, procurement, attack, or a commitment."""
    if component >= ACTION_FIRST_COMMITMENT:
        return f"commit to defend rival {component - ACTION_FIRST_COMMITMENT + 1}"
    return ACTION_FIELDS[component][0]


def action_problem(params: EnvParams, actions: np.ndarray, rows: int) -> str | None:
    """What is wrong with a policy's answer ``actions`` to ``rows`` observations, or None if it fits.

    The answer must be integers of shape (rows, action_length) inside the MultiDiscrete action space. The
    text says what is wrong and what would be right; callers put the policy's name in front. Every
    command that runs someone else's policy (evaluate, crossplay, exploit, benchmark, imported specs)
    checks with this one function.
    """
    actions = np.asarray(actions)
    expected = (rows, params.action_length)
    if actions.shape != expected or actions.dtype.kind not in "iu":
        return f"act() returned {actions.dtype} actions of shape {actions.shape}; expected integers of shape {expected}"
    where = first_out_of_bounds(params, actions)
    if where is None:
        return None
    row, component = where
    upper = action_upper_bounds(params)
    return (f"action component {component} ({action_component_name(component)}) is {actions[row, component]} "
            f"(row {row}), outside the action space: allowed range [0, {upper[component] - 1}]")
