"""Per-step measures, declared once: what every adapter reports about each state's year.

Each :class:`StepMeasure` computes one number per state from a
:class:`sd_env.core.StepOutcome`. The single-environment adapters put them in
every agent's info dict (under the measure's name, with a neutral value at
reset), the SB3 vector environment exposes them as ``last_measures`` arrays,
and training logs their means to TensorBoard as ``security/<name>``. Adding a
measure here adds it everywhere.

Episode-level measures (arms races, wars, efficiency...) are computed from
whole rollouts in ``sd_env.experiments.lab.measures``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sd_env.core import StepOutcome


@dataclass(frozen=True)
class StepMeasure:
    """One number per state and year, computed from the year's outcome."""

    name: str
    description: str
    unit: str
    #: Counts are reported as Python ints, everything else as floats.
    integer: bool
    #: ``compute(outcome)`` -> array (B, N): the measure of every state of every environment.
    compute: Callable[[StepOutcome], np.ndarray]

    @property
    def neutral(self) -> int | float:
        """The value reported before any year has passed (at reset)."""
        return 0 if self.integer else 0.0


STEP_MEASURES: tuple[StepMeasure, ...] = (
    StepMeasure("military_burden", "share of wealth spent on arms this year", "share of wealth", False,
                lambda outcome: outcome.burden),
    StepMeasure("welfare", "log(1 + consumption) this year (material welfare, both types)", "welfare units", False,
                lambda outcome: outcome.welfare),
    StepMeasure("attacks", "attacks the state launched this year", "attacks", True,
                lambda outcome: outcome.attacks.sum(axis=2)),
    StepMeasure("victories", "of those, the successful ones", "attacks", True,
                lambda outcome: outcome.victories.sum(axis=2)),
    StepMeasure("attacked_by", "number of states that attacked it this year", "states", True,
                lambda outcome: outcome.attacks.sum(axis=1)),
)


def step_measures(outcome: StepOutcome) -> dict[str, np.ndarray]:
    """Every registered measure of every state, ``{name: array (B, N)}``."""
    return {measure.name: measure.compute(outcome) for measure in STEP_MEASURES}
