"""Parameters of the security-dilemma model, validated once, in one place.

Every mechanism of the model (see ``docs/model.md``) is governed by one field
of :class:`EnvParams`. Units: one step is one year; wealth and arms stocks
are measured in units of a state's initial wealth (a state starting with
``initial_wealth=1`` produces one unit of output a year).

An invalid value raises ``ValueError`` naming the parameter, the value and
the allowed range. Nothing is silently clipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

DEFAULT_WEAPON_NAMES: tuple[str, ...] = ("fortifications", "dual_use", "armour")
DEFAULT_WEAPON_OFFENSE_WEIGHTS: tuple[float, ...] = (0.0, 0.5, 1.0)


def _check_range(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float, or raise naming ``name`` and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if math.isnan(value) or below or above:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        high_text = "inf" if math.isinf(high) else f"{high:g}"
        raise ValueError(f"{name} must be in {left}{low:g}, {high_text}{right}, got {value!r}")
    return value


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    # Python and numpy integers are accepted; booleans and floats such as 2.0 are not, to keep types honest.
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return value


def _as_tuple(name: str, value: Any, length: int | None = None) -> tuple:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name} must be a sequence, got {value!r}")
    items = tuple(value)
    if length is not None and len(items) != length:
        raise ValueError(f"{name} must have {length} entries (one per weapon system), got {len(items)}: {value!r}")
    return items


@dataclass(frozen=True)
class EnvParams:
    """All parameters of the security-dilemma model.

    Attributes are documented with their unit, range and source in the
    literature; ``docs/model.md`` gives the equations they enter.
    """

    #: Number of states (agents), named ``state_0 ... state_{n-1}``. Integer >= 2.
    n_states: int = 2
    #: Episode length in years; episodes are truncated after this many steps. Integer >= 1.
    max_cycles: int = 100
    #: Multiplier on the attacker's offence in the contest success function
    #: (Glaser & Kaufmann 1998: cost ratio of offence to the defence it overcomes).
    #: > 1 offence advantage, < 1 defence advantage. Range (0, 100].
    offense_defense_balance: float = 1.0
    #: How well observers can tell offensive from defensive systems (Jervis 1978).
    #: 1 = every system is seen as what it is; 0 = only total arms are seen. Range [0, 1].
    distinguishability: float = 0.5
    #: Log-normal scale of the multiplicative noise on observed rival stocks
    #: (0 = perfect intelligence). Range [0, 5].
    observation_noise: float = 0.2
    #: Names of the procurable weapon systems (one entry per system).
    weapon_names: tuple[str, ...] = DEFAULT_WEAPON_NAMES
    #: True offensive weight of each system in [0, 1] (fortifications 0, armour 1).
    weapon_offense_weights: tuple[float, ...] = DEFAULT_WEAPON_OFFENSE_WEIGHTS
    #: Cost of one unit of each system, in wealth units. Each > 0.
    weapon_costs: tuple[float, ...] = (1.0, 1.0, 1.0)
    #: Fraction of each system's stock that rivals can see at all (concealment). Each in [0, 1].
    weapon_visibility: tuple[float, ...] = (1.0, 1.0, 1.0)
    #: Share of every arms stock lost each year to obsolescence. Range [0, 1].
    depreciation: float = 0.1
    #: Yearly growth rate of wealth in peacetime (0.03 = 3 % a year). Range [-0.5, 0.5].
    growth_rate: float = 0.03
    #: Initial wealth of each state: one number for all or one per state. Each > 0.
    initial_wealth: float | tuple[float, ...] = 1.0
    #: Initial wealth is multiplied by a uniform draw in [1 - j, 1 + j]. Range [0, 0.9].
    initial_wealth_jitter: float = 0.1
    #: Initial arms stock, as a multiple of initial wealth, spread evenly over systems. Range [0, 100].
    initial_arms: float = 0.5
    #: Largest share of wealth a state can spend on arms in one year. Range (0, 1).
    max_burden: float = 0.5
    #: Number of evenly spaced burden levels from 0 to ``max_burden`` in the action. Integer >= 2.
    burden_levels: int = 11
    #: Exponent m of the Tullock contest success function (decisiveness of war). Range (0, 20].
    contest_decisiveness: float = 2.0
    #: Intrinsic defence of a state's territory, as a multiple of its wealth. Range [0, 100].
    territorial_defense: float = 0.5
    #: Share of the loser's wealth the winner of an attack takes. Range [0, 1].
    conquest_share: float = 0.3
    #: Share of wealth every party to a war loses to destruction, per war. Range [0, 1).
    war_cost: float = 0.05
    #: Share of arms stocks every party to a war loses, per war. Range [0, 1].
    war_attrition: float = 0.2
    #: A state whose wealth falls below this share of its initial wealth is eliminated. Range [0, 1).
    elimination_threshold: float = 0.2
    #: Reward lost once when a state is eliminated, in welfare units. Range [0, 1e6].
    elimination_penalty: float = 10.0
    #: Prior probability that a state is greedy (values conquest) rather than a
    #: security seeker (Kydd 1997; Glaser 2010). Drawn per state per episode. Range [0, 1].
    greedy_prior: float = 0.25
    #: Extra reward a greedy state gets for each successful attack, in welfare units. Range [0, 1e6].
    greed_bonus: float = 0.5
    #: Weight a security seeker puts on wealth taken by conquest (its wealth above its home wealth, the
    #: own economy that spoils never add to); 0 = a pure status-quo state, 1 = values it like a greedy
    #: state (Schweller 1994; Glaser 2010). Range [0, 1].
    seeker_conquest_value: float = 0.0
    #: Whether states may commit to defend each other (Snyder 1984).
    alliances: bool = False
    #: Initial alliance blocs: groups of state indices whose members are committed to each other.
    alliance_blocs: tuple[tuple[int, ...], ...] = ()
    #: Welfare cost of reneging on a commitment when the ally is attacked (abandonment). Range [0, 1e6].
    renege_cost: float = 1.0
    #: Optional sudden hidden deployment ``(state, system, amount, year)``: in year ``year``
    #: state ``state`` receives ``amount`` units of system ``system`` at no cost.
    surprise_deployment: tuple[int, int, float, int] | None = None

    def __post_init__(self) -> None:
        setter = object.__setattr__
        setter(self, "n_states", _check_int("n_states", self.n_states, 2, 64))
        setter(self, "max_cycles", _check_int("max_cycles", self.max_cycles, 1))
        setter(
            self,
            "offense_defense_balance",
            _check_range("offense_defense_balance", self.offense_defense_balance, 0.0, 100.0, low_open=True),
        )
        setter(self, "distinguishability", _check_range("distinguishability", self.distinguishability, 0.0, 1.0))
        setter(self, "observation_noise", _check_range("observation_noise", self.observation_noise, 0.0, 5.0))

        names = _as_tuple("weapon_names", self.weapon_names)
        if not names:
            raise ValueError("weapon_names must name at least one weapon system, got ()")
        if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"weapon_names must be distinct non-empty strings, got {names!r}")
        setter(self, "weapon_names", tuple(names))
        n_systems = len(names)
        weights = _as_tuple("weapon_offense_weights", self.weapon_offense_weights, n_systems)
        setter(
            self,
            "weapon_offense_weights",
            tuple(_check_range(f"weapon_offense_weights[{k}]", w, 0.0, 1.0) for k, w in enumerate(weights)),
        )
        costs = _as_tuple("weapon_costs", self.weapon_costs, n_systems)
        setter(
            self,
            "weapon_costs",
            tuple(_check_range(f"weapon_costs[{k}]", c, 0.0, 1e6, low_open=True) for k, c in enumerate(costs)),
        )
        visibility = _as_tuple("weapon_visibility", self.weapon_visibility, n_systems)
        setter(
            self,
            "weapon_visibility",
            tuple(_check_range(f"weapon_visibility[{k}]", v, 0.0, 1.0) for k, v in enumerate(visibility)),
        )

        setter(self, "depreciation", _check_range("depreciation", self.depreciation, 0.0, 1.0))
        setter(self, "growth_rate", _check_range("growth_rate", self.growth_rate, -0.5, 0.5))
        if isinstance(self.initial_wealth, (int, float)) and not isinstance(self.initial_wealth, bool):
            wealth = (self.initial_wealth,) * self.n_states
        else:
            wealth = _as_tuple("initial_wealth", self.initial_wealth)
            if len(wealth) != self.n_states:
                raise ValueError(
                    f"initial_wealth must be one number or {self.n_states} numbers (one per state), "
                    f"got {len(wealth)}: {self.initial_wealth!r}"
                )
        setter(
            self,
            "initial_wealth",
            tuple(_check_range(f"initial_wealth[{i}]", w, 0.0, 1e6, low_open=True) for i, w in enumerate(wealth)),
        )
        setter(
            self,
            "initial_wealth_jitter",
            _check_range("initial_wealth_jitter", self.initial_wealth_jitter, 0.0, 0.9),
        )
        setter(self, "initial_arms", _check_range("initial_arms", self.initial_arms, 0.0, 100.0))
        setter(self, "max_burden", _check_range("max_burden", self.max_burden, 0.0, 1.0, low_open=True, high_open=True))
        setter(self, "burden_levels", _check_int("burden_levels", self.burden_levels, 2, 1001))
        setter(
            self,
            "contest_decisiveness",
            _check_range("contest_decisiveness", self.contest_decisiveness, 0.0, 20.0, low_open=True),
        )
        setter(self, "territorial_defense", _check_range("territorial_defense", self.territorial_defense, 0.0, 100.0))
        setter(self, "conquest_share", _check_range("conquest_share", self.conquest_share, 0.0, 1.0))
        setter(self, "war_cost", _check_range("war_cost", self.war_cost, 0.0, 1.0, high_open=True))
        setter(self, "war_attrition", _check_range("war_attrition", self.war_attrition, 0.0, 1.0))
        setter(
            self,
            "elimination_threshold",
            _check_range("elimination_threshold", self.elimination_threshold, 0.0, 1.0, high_open=True),
        )
        setter(self, "elimination_penalty", _check_range("elimination_penalty", self.elimination_penalty, 0.0, 1e6))
        setter(self, "greedy_prior", _check_range("greedy_prior", self.greedy_prior, 0.0, 1.0))
        setter(self, "greed_bonus", _check_range("greed_bonus", self.greed_bonus, 0.0, 1e6))
        setter(
            self,
            "seeker_conquest_value",
            _check_range("seeker_conquest_value", self.seeker_conquest_value, 0.0, 1.0),
        )
        if not isinstance(self.alliances, bool):
            raise ValueError(f"alliances must be true or false, got {self.alliances!r}")
        setter(self, "alliance_blocs", self._validated_blocs())
        setter(self, "renege_cost", _check_range("renege_cost", self.renege_cost, 0.0, 1e6))
        setter(self, "surprise_deployment", self._validated_deployment())

    def _validated_blocs(self) -> tuple[tuple[int, ...], ...]:
        blocs = _as_tuple("alliance_blocs", self.alliance_blocs)
        if blocs and not self.alliances:
            raise ValueError(f"alliance_blocs={blocs!r} needs alliances=True (alliances are off)")
        seen: set[int] = set()
        result = []
        for bloc in blocs:
            members = tuple(
                _check_int("alliance_blocs member", m, 0, self.n_states - 1)
                for m in _as_tuple("alliance_blocs entry", bloc)
            )
            if seen.intersection(members) or len(set(members)) != len(members):
                raise ValueError(f"alliance_blocs must not share or repeat states, got {blocs!r}")
            seen.update(members)
            result.append(members)
        return tuple(result)

    def _validated_deployment(self) -> tuple[int, int, float, int] | None:
        if self.surprise_deployment is None:
            return None
        entry = _as_tuple("surprise_deployment", self.surprise_deployment)
        if len(entry) != 4:
            raise ValueError(
                f"surprise_deployment must be (state, system, amount, year) or None, got {self.surprise_deployment!r}"
            )
        state, system, amount, year = entry
        return (
            _check_int("surprise_deployment state", state, 0, self.n_states - 1),
            _check_int("surprise_deployment system", system, 0, self.n_systems - 1),
            _check_range("surprise_deployment amount", amount, 0.0, 1e6),
            _check_int("surprise_deployment year", year, 0),
        )

    # Derived sizes: computed from the fields, never stored twice.
    @property
    def n_systems(self) -> int:
        """Number of procurable weapon systems K."""
        return len(self.weapon_names)

    @property
    def action_length(self) -> int:
        """Entries in one state's MultiDiscrete action (see ``sd_env.spaces``)."""
        return 3 + (self.n_states - 1 if self.alliances else 0)

    def replace(self, **changes: Any) -> EnvParams:
        """Return a copy with ``changes`` applied (and validated)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        unknown = sorted(set(changes) - set(values))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; known parameters: {sorted(values)}")
        if "n_states" in changes and "initial_wealth" not in changes and len(set(self.initial_wealth)) == 1:
            # A uniform wealth stays uniform when the number of states changes.
            values["initial_wealth"] = self.initial_wealth[0]
        values.update(changes)
        return EnvParams(**values)


PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(EnvParams))
