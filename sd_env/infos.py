"""Per-agent info dicts of the single-environment adapters: the same keys at reset and at every step.

Libraries such as TorchRL build their info specs from the infos ``reset``
returns, so every key that a step reports is present, with a neutral value,
at reset too.
"""

from __future__ import annotations

from sd_env.core import CoreState, StepOutcome
from sd_env.measures import STEP_MEASURES

#: The keys of every info dict, with their meaning: the own type, then every per-step measure
#: (``sd_env.measures.STEP_MEASURES``, the one declaration; neutral values at reset).
INFO_KEYS = {
    "greedy": "the state's private type: True greedy, False security seeker (own type only)",
    **{measure.name: f"{measure.description} ({measure.neutral} at reset)" for measure in STEP_MEASURES},
}


def agent_infos(state: CoreState, outcome: StepOutcome | None, environment: int = 0) -> list[dict]:
    """The info dict of every state (living or not) in environment ``environment``; ``outcome`` None at reset.

    Values are plain Python bools, floats and ints (read with one ``tolist``
    per array: this runs every step of the single-environment adapters).
    The values are those of ``sd_env.measures.STEP_MEASURES``, computed here
    without NumPy reductions because at a batch of one those cost a quarter
    of a step; ``tests/test_measures_registry.py`` checks that both agree.
    """
    greedy = state.greedy[environment].tolist()
    if outcome is None:
        return [{"greedy": own_type, "military_burden": 0.0, "welfare": 0.0, "attacks": 0, "victories": 0,
                 "attacked_by": 0} for own_type in greedy]
    burden = outcome.burden[environment].tolist()
    welfare = outcome.welfare[environment].tolist()
    attacks = outcome.attacks[environment].tolist()  # attacks[i][j]: i attacked j
    victories = outcome.victories[environment].tolist()
    attacked_by = [sum(column) for column in zip(*attacks)]
    return [
        {
            "greedy": greedy[i],
            "military_burden": burden[i],
            "welfare": welfare[i],
            "attacks": sum(attacks[i]),
            "victories": sum(victories[i]),
            "attacked_by": attacked_by[i],
        }
        for i in range(len(greedy))
    ]


def agent_info(state: CoreState, outcome: StepOutcome | None, index: int, environment: int = 0) -> dict:
    """The info of state ``index`` in environment ``environment``; ``outcome`` None at reset."""
    return agent_infos(state, outcome, environment)[index]
