"""Importable policies for the ``module.path:factory`` policy-spec tests."""

from __future__ import annotations

import numpy as np


class AlwaysArm:
    """Spends the most it can on the last weapon system and never attacks (a class: called with the params)."""

    def __init__(self, params) -> None:
        self.params = params

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = np.zeros((observations.shape[0], self.params.action_length), dtype=np.int64)
        actions[:, 0] = self.params.burden_levels - 1
        actions[:, 1] = self.params.n_systems - 1
        return actions


def always_arm(params) -> AlwaysArm:
    """A factory function."""
    return AlwaysArm(params)


class WrongShape:
    def act(self, observations: np.ndarray) -> np.ndarray:
        return np.zeros((observations.shape[0], 1), dtype=np.int64)


#: An object with act(), used as it is.
wrong_shape = WrongShape()
NOT_A_POLICY = 42
