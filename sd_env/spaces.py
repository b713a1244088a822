"""Action, observation and global-state spaces, and a named view of the observation vector.

Action (``MultiDiscrete``), one per state, ego-centric (rival r of state i is
state ``(i + r) % N``):

====== ============================ =====================================================
index  meaning                      values
====== ============================ =====================================================
0      burden level                 0 .. burden_levels-1; burden = level / (levels-1) * max_burden
1      procurement                  0 .. K-1: spend all on system k;  K: spread evenly over all
2      attack                       0: no attack;  r in 1 .. N-1: attack rival r
3+r-1  commit to defend rival r     0 / 1 (only when ``alliances=True``), r in 1 .. N-1
====== ============================ =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from sd_env.core import action_upper_bounds, global_state_length, observation_length
from sd_env.params import EnvParams


def action_space(params: EnvParams) -> spaces.MultiDiscrete:
    """The MultiDiscrete action space of one state (table in the module docstring)."""
    return spaces.MultiDiscrete(action_upper_bounds(params), dtype=np.int64)


@dataclass(frozen=True)
class ObservationLayout:
    """Where each quantity sits in one state's observation vector.

    Own block (indices 0 .. K+3): wealth, own stocks (K, exact), own type
    (1 = greedy), fraction of the episode elapsed, own home wealth (the part
    of wealth not taken by conquest). Then one block of K + 6
    entries per rival r = 1 .. N-1: alive, wealth, apparent stocks (K, noisy
    and type-blurred), rival attacked me last year, I attacked rival last
    year, rival committed to defend me, I am committed to defend rival.
    """

    n_states: int
    n_systems: int

    @property
    def own_wealth(self) -> int:
        return 0

    @property
    def own_stocks(self) -> slice:
        return slice(1, 1 + self.n_systems)

    @property
    def own_greedy(self) -> int:
        return 1 + self.n_systems

    @property
    def time_elapsed(self) -> int:
        return 2 + self.n_systems

    @property
    def own_home_wealth(self) -> int:
        return 3 + self.n_systems

    @property
    def own_block_length(self) -> int:
        return 4 + self.n_systems

    @property
    def rival_block_length(self) -> int:
        return self.n_systems + 6

    @property
    def length(self) -> int:
        return self.own_block_length + (self.n_states - 1) * self.rival_block_length

    def rival_blocks(self, observations: np.ndarray) -> np.ndarray:
        """View observations (..., length) as rival blocks (..., N-1, K+6)."""
        tail = observations[..., self.own_block_length :]
        return tail.reshape(*observations.shape[:-1], self.n_states - 1, self.rival_block_length)

    # Offsets inside a rival block.
    RIVAL_ALIVE = 0
    RIVAL_WEALTH = 1
    RIVAL_STOCKS_START = 2

    def rival_stocks(self, observations: np.ndarray) -> np.ndarray:
        """Apparent rival stocks, shape (..., N-1, K)."""
        return self.rival_blocks(observations)[..., 2 : 2 + self.n_systems]

    def rival_flag(self, observations: np.ndarray, name: str) -> np.ndarray:
        """One of ``alive``, ``wealth``, ``attacked_me``, ``attacked_by_me``, ``committed_to_me``,
        ``my_commitment`` for every rival, shape (..., N-1)."""
        offsets = {
            "alive": 0,
            "wealth": 1,
            "attacked_me": 2 + self.n_systems,
            "attacked_by_me": 3 + self.n_systems,
            "committed_to_me": 4 + self.n_systems,
            "my_commitment": 5 + self.n_systems,
        }
        if name not in offsets:
            raise ValueError(f"unknown rival field {name!r}; known: {sorted(offsets)}")
        return self.rival_blocks(observations)[..., offsets[name]]


def observation_layout(params: EnvParams) -> ObservationLayout:
    layout = ObservationLayout(params.n_states, params.n_systems)
    assert layout.length == observation_length(params)
    return layout


def observation_space(params: EnvParams) -> spaces.Box:
    """Box of one state's observation: wealth and stocks in [0, inf), flags and fractions in [0, 1]."""
    layout = observation_layout(params)
    high = np.full(layout.length, np.inf, dtype=np.float32)
    high[layout.own_greedy] = 1.0
    high[layout.time_elapsed] = 1.0
    blocks = high[layout.own_block_length :].reshape(params.n_states - 1, layout.rival_block_length)
    blocks[:, 0] = 1.0
    blocks[:, 2 + params.n_systems :] = 1.0
    return spaces.Box(low=0.0, high=high, dtype=np.float32)


def state_space(params: EnvParams) -> spaces.Box:
    """Box of the global state (``sd_env.core.global_state``): all entries >= 0."""
    return spaces.Box(low=0.0, high=np.inf, shape=(global_state_length(params),), dtype=np.float32)
