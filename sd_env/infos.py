"""Per-agent info dicts of the single-environment adapters: the same keys at reset and at every step.

Libraries such as TorchRL build their info specs from the infos ``reset``
returns, so every key that a step reports is present, with a neutral value,
at reset too.
"""

from __future__ import annotations

from sd_env.core import CoreState, StepOutcome

#: The keys of every info dict, with their meaning.
INFO_KEYS = {
    "greedy": "the state's private type: True greedy, False security seeker (own type only)",
    "military_burden": "share of wealth spent on arms this year (0 at reset)",
    "welfare": "log(1 + consumption) this year (0 at reset)",
    "attacks": "attacks the state launched this year",
    "victories": "of those, the successful ones",
    "attacked_by": "number of states that attacked it this year",
}


def agent_info(state: CoreState, outcome: StepOutcome | None, index: int, environment: int = 0) -> dict:
    """The info of state ``index`` in environment ``environment``; ``outcome`` None at reset."""
    if outcome is None:
        return {"greedy": bool(state.greedy[environment, index]), "military_burden": 0.0, "welfare": 0.0,
                "attacks": 0, "victories": 0, "attacked_by": 0}
    return {
        "greedy": bool(state.greedy[environment, index]),
        "military_burden": float(outcome.burden[environment, index]),
        "welfare": float(outcome.welfare[environment, index]),
        "attacks": int(outcome.attacks[environment, index].sum()),
        "victories": int(outcome.victories[environment, index].sum()),
        "attacked_by": int(outcome.attacks[environment, :, index].sum()),
    }
