"""Action, observation and global-state spaces of one state, built from the layouts of ``sd_env.layout``.

The layouts (which entry of an observation or an action means what) are
declared once, in ``sd_env.layout``; ``observation_layout`` and
``action_layout`` give them for a parameter set.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from sd_env.core import action_upper_bounds, global_state_length
from sd_env.layout import ActionLayout, ObservationLayout
from sd_env.params import EnvParams


def action_layout(params: EnvParams) -> ActionLayout:
    """The action layout of ``params`` (components by name; ``sd_env.layout``)."""
    return ActionLayout(params.n_states, params.alliances)


def action_space(params: EnvParams) -> spaces.MultiDiscrete:
    """The MultiDiscrete action space of one state (components in ``sd_env.layout``)."""
    return spaces.MultiDiscrete(action_upper_bounds(params), dtype=np.int64)


def observation_layout(params: EnvParams) -> ObservationLayout:
    """The observation layout of ``params`` (offsets by name; ``sd_env.layout``)."""
    return ObservationLayout(params.n_states, params.n_systems)


def observation_space(params: EnvParams) -> spaces.Box:
    """Box of one state's observation: bounds of every entry from the layout's declarations (``sd_env.layout``)."""
    low, high = observation_layout(params).bounds()
    return spaces.Box(low=low, high=high, dtype=np.float32)


def state_space(params: EnvParams) -> spaces.Box:
    """Box of the global state (``sd_env.core.global_state``): all entries >= 0."""
    return spaces.Box(low=0.0, high=np.inf, shape=(global_state_length(params),), dtype=np.float32)
