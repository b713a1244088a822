"""Named scenarios: documented starting points a user can sweep from.

A scenario is a set of parameter values with a reason for each. Explicit
keyword arguments always override a scenario's values::

    make_params("jervis-1", observation_noise=0.0)

The Jervis (1978) worlds are numbered as in his table: 1 = offence has the
advantage and offence cannot be told from defence (doubly dangerous); 2 =
defence advantage, indistinguishable; 3 = offence advantage,
distinguishable; 4 = defence advantage and distinguishable (doubly stable).
The balances 3 and 1/3 echo the "3:1 rule" that an attacker needs three
times the defender's strength (Mearsheimer 1989): at theta = 1/3 that rule
holds, at theta = 3 it is reversed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sd_env.params import PARAMETER_NAMES, EnvParams

OFFENSE_ADVANTAGE = 3.0
DEFENSE_ADVANTAGE = 1.0 / 3.0


@dataclass(frozen=True)
class Scenario:
    """A named preset: its one-line summary, its parameter values and why."""

    name: str
    summary: str
    values: dict[str, Any] = field(default_factory=dict)
    rationale: str = ""


def _jervis(number: int, offense_advantage: bool, distinguishable: bool, summary: str) -> Scenario:
    return Scenario(
        name=f"jervis-{number}",
        summary=summary,
        values={
            "offense_defense_balance": OFFENSE_ADVANTAGE if offense_advantage else DEFENSE_ADVANTAGE,
            "distinguishability": 1.0 if distinguishable else 0.0,
        },
        rationale=(
            f"Jervis (1978) world {number}: "
            f"{'offence' if offense_advantage else 'defence'} has the advantage "
            f"(offense_defense_balance={'3' if offense_advantage else '1/3'}) and offensive and defensive "
            f"systems {'can' if distinguishable else 'cannot'} be told apart "
            f"(distinguishability={'1' if distinguishable else '0'}); everything else as in 'bilateral'."
        ),
    )


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in [
        Scenario(
            name="bilateral",
            summary="Two symmetric states, neutral offence-defence balance, partly ambiguous arms (default).",
            values={},
            rationale=(
                "The model's defaults: two equal states (n_states=2), offense_defense_balance=1 (neither side "
                "favoured), distinguishability=0.5 and observation_noise=0.2 (rivals see arms roughly, and "
                "their mix only in part), a quarter of states greedy, no alliances."
            ),
        ),
        _jervis(1, True, False, "Offence dominant and indistinguishable from defence: doubly dangerous."),
        _jervis(2, False, False, "Defence dominant but indistinguishable: a security dilemma, yet compatible needs."),
        _jervis(3, True, True, "Offence dominant but distinguishable: no security dilemma, aggression possible."),
        _jervis(4, False, True, "Defence dominant and distinguishable: doubly stable."),
        Scenario(
            name="pre-1914",
            summary="Four great powers in two alliance blocs; offence believed dominant (the 1914 chain-gang).",
            values={
                "n_states": 4,
                "offense_defense_balance": 2.0,
                "distinguishability": 0.3,
                "observation_noise": 0.3,
                "initial_wealth": (1.3, 0.7, 0.9, 1.1),
                "greedy_prior": 0.3,
                "alliances": True,
                "alliance_blocs": ((0, 1), (2, 3)),
                "renege_cost": 2.0,
                "max_cycles": 50,
            },
            rationale=(
                "state_0..3 stand for Germany, Austria-Hungary, France and Russia, the blocs Richardson (1960) "
                "fitted. The 'cult of the offensive' (Van Evera 1984; J. Snyder 1984) makes offence believed "
                "dominant (offense_defense_balance=2); mobilisation was hard to read as defensive or offensive "
                "(distinguishability=0.3, observation_noise=0.3). Unequal economies are rough relative sizes "
                "chosen for illustration, not data. Firm bloc commitments (alliance_blocs, renege_cost=2) "
                "make entrapment likely: Christensen & Snyder's (1990) chain-ganging."
            ),
        ),
        Scenario(
            name="cold-war",
            summary="Two blocs led by superpowers; second-strike forces favour defence, opaque rival.",
            values={
                "n_states": 4,
                "offense_defense_balance": 0.5,
                "distinguishability": 0.5,
                "observation_noise": 0.4,
                "initial_wealth": (2.0, 0.8, 1.6, 0.6),
                "greedy_prior": 0.3,
                "alliances": True,
                "alliance_blocs": ((0, 1), (2, 3)),
                "renege_cost": 1.0,
                "max_cycles": 50,
            },
            rationale=(
                "state_0 and state_1 stand for the United States and Western Europe, state_2 and state_3 for "
                "the Soviet Union and Eastern Europe (sizes illustrative). Secure second-strike forces favour "
                "the defender (Jervis 1978, offense_defense_balance=0.5); a closed society is hard to observe "
                "(observation_noise=0.4); many systems (bombers, missiles) are ambiguous (distinguishability=0.5)."
            ),
        ),
        Scenario(
            name="missile-crisis",
            summary="Two rivals; one suddenly deploys a concealed, ambiguous missile system (1962).",
            values={
                "weapon_names": ("fortifications", "missiles", "armour"),
                "weapon_offense_weights": (0.0, 0.7, 1.0),
                "weapon_visibility": (1.0, 0.3, 1.0),
                "offense_defense_balance": 1.5,
                "distinguishability": 0.3,
                "observation_noise": 0.3,
                "surprise_deployment": (1, 1, 1.5, 5),
                "max_cycles": 30,
            },
            rationale=(
                "In year 5 state_1 receives 1.5 units of 'missiles' at no cost (the covert deployment in Cuba). "
                "Missiles are ambiguous (offensive weight 0.7: a deterrent to one side, a first-strike threat to "
                "the other), mostly hidden (weapon_visibility 0.3) and hard to type (distinguishability=0.3). "
                "Short horizon (max_cycles=30) and a mild offence advantage (1.5) make the crisis acute."
            ),
        ),
    ]
}


def scenario_names() -> list[str]:
    return list(SCENARIOS)


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; an unknown name raises ``ValueError`` listing the known ones."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known scenarios: {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


def make_params(scenario: str = "bilateral", **overrides: Any) -> EnvParams:
    """Parameters of ``scenario`` with ``overrides`` applied; unknown names raise ``ValueError``."""
    unknown = sorted(set(overrides) - set(PARAMETER_NAMES))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; known parameters: {', '.join(PARAMETER_NAMES)}")
    values = dict(get_scenario(scenario).values)
    if "n_states" in overrides and "initial_wealth" not in overrides and "initial_wealth" in values:
        # A scenario's per-state wealth no longer fits a different number of states.
        del values["initial_wealth"]
    if "n_states" in overrides and "alliance_blocs" not in overrides and "alliance_blocs" in values:
        blocs = tuple(tuple(m for m in bloc if m < overrides["n_states"]) for bloc in values["alliance_blocs"])
        values["alliance_blocs"] = tuple(b for b in blocs if b)
    if overrides.get("alliances") is False and "alliance_blocs" not in overrides:
        values.pop("alliance_blocs", None)
    values.update(overrides)
    return EnvParams(**values)
