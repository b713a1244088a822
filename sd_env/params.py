"""Parameters of the security-dilemma model, validated once, in one place.

Every mechanism of the model (see ``docs/model.md``) is governed by one field
of :class:`EnvParams`. Units: one step is one year; wealth and arms stocks
are measured in units of a state's initial wealth (a state starting with
``initial_wealth=1`` produces one unit of output a year).

An invalid value raises ``ParameterError`` (a ``ValueError``) naming the parameter, the value and
the allowed range. Nothing is silently clipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from sd_env.errors import ParameterError, did_you_mean
from sd_env.layout import ACTION_FIRST_COMMITMENT

DEFAULT_WEAPON_NAMES: tuple[str, ...] = ("fortifications", "dual_use", "armour")
DEFAULT_WEAPON_OFFENSE_WEIGHTS: tuple[float, ...] = (0.0, 0.5, 1.0)

#: The most wealth, in wealth units, that parameters may let one state reach within an episode (see
#: :func:`wealth_ceiling`). Observations are float32, finite up to 3.4e38: the margin of more than 1e8 leaves
#: room for the arms that wealth buys (stocks are observed too) and for observation noise on them.
MAX_WEALTH = 1e30


def _number(value: float) -> str:
    """A bound as people write it: 0.5, 100, 1e6 (not 1e+06)."""
    return f"{value:g}".replace("e+0", "e").replace("e+", "e")


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
        raise ParameterError(f"{name} must be a number, got {value!r}")
    value = float(value)
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if math.isnan(value) or below or above:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        high_text = "inf" if math.isinf(high) else _number(high)
        raise ParameterError(f"{name} must be in {left}{_number(low)}, {high_text}{right}, got {value!r}")
    return value


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    # Python and numpy integers are accepted; booleans and floats such as 2.0 are not, to keep types honest.
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ParameterError(f"{name} must be an integer {bound}, got {value!r}")
    return value


def _as_tuple(name: str, value: Any, length: int | None = None) -> tuple:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ParameterError(f"{name} must be a sequence, got {value!r}")
    items = tuple(value)
    if length is not None and len(items) != length:
        raise ParameterError(f"{name} must have {length} entries (one per weapon system), got {len(items)}: {value!r}")
    return items


@dataclass(frozen=True)
class ParameterSpec:
    """The one declaration of a model parameter: its bounds, unit, symbol, meaning and source.

    Validation reads its bounds from here; the environment docstring's
    argument table, ``docs/model.md``'s parameter table and ``sd-env params``
    are generated from here. The default is the :class:`EnvParams` field's.
    ``low``/``high`` of None mean an open-ended side (or a value that is not a
    number, such as names); for a tuple-valued parameter they bound each entry.
    """

    name: str
    symbol: str
    unit: str
    description: str
    source: str = "modelling choice"
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    integer: bool = False
    #: How the value is shaped: "" one number, "per system" / "per state" one entry per system / state
    #: (per state: or one number for all), or a word for the non-numeric parameters.
    shape: str = ""

    @property
    def default(self) -> Any:
        return _FIELD_DEFAULTS[self.name]

    def range_text(self) -> str:
        """The allowed values in interval notation, e.g. ``(0, 100]``, ``integer, 2 to 64``, ``>= 1``."""
        if self.low is None and self.high is None:
            return self.shape
        if self.integer:
            text = (f"integer, {_number(self.low)} to {_number(self.high)}" if self.high is not None
                    else f"integer >= {_number(self.low)}")
        else:
            left = "[" if self.low_inclusive else "("
            right = "]" if self.high_inclusive else ")"
            high = "inf" if self.high is None else _number(self.high)
            text = f"{left}{_number(self.low)}, {high}{right}"
        return f"{self.shape}, each in {text}" if self.shape.startswith("per") else text


#: Every parameter of the model, in the order of the EnvParams fields.
PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec("n_states", "N", "states", "number of great powers in the system (polarity); agents "
                  "state_0 ... state_{N-1}", low=2, high=64, integer=True),
    ParameterSpec("max_cycles", "T", "years", "horizon; one step is one year so yearly thresholds carry over; "
                  f"also short enough that growth keeps wealth below {_number(MAX_WEALTH)} wealth units (checked "
                  "with growth_rate and initial_wealth)", "Gibler, Rider & Hutchison 2005 (8% a year rule)",
                  low=1, high=1000, integer=True),
    ParameterSpec("offense_defense_balance", r"\theta", "ratio", "multiplier on the attacker's offence; > 1 "
                  "offence advantage, < 1 defence advantage", "Jervis 1978; Glaser & Kaufmann 1998",
                  low=0, high=100, low_inclusive=False),
    ParameterSpec("distinguishability", "d", "share", "how well rivals can tell offensive from defensive systems "
                  "(1: each seen as it is; 0: only total arms seen)", "Jervis 1978", low=0, high=1),
    ParameterSpec("observation_noise", r"\sigma", "sd of log error", "quality of intelligence on rival arms "
                  "(0 = perfect)", "Jervis 1976 (misperception); modelling choice", low=0, high=5),
    ParameterSpec("weapon_names", "", "names", "the procurable weapon systems (their number is K)",
                  shape="distinct names"),
    ParameterSpec("weapon_offense_weights", r"\omega_k", "share", "true offensive value of each system",
                  "Jervis 1978; Glaser & Kaufmann 1998", low=0, high=1, shape="per system"),
    ParameterSpec("weapon_costs", "c_k", "wealth units per arms unit", "price of each system; unequal prices "
                  "shift the effective balance", "Glaser & Kaufmann 1998 (balance as cost ratio)",
                  low=1e-3, high=1e6, shape="per system"),  # cheaper arms could grow stocks past float32
    ParameterSpec("weapon_visibility", "v_k", "share", "share of each stock rivals can see at all (concealment)",
                  low=0, high=1, shape="per system"),
    ParameterSpec("depreciation", r"\delta", "share per year", "obsolescence and wear of arms", low=0, high=1),
    ParameterSpec("growth_rate", "g_i", "share per year", "peacetime economic growth (one rate for all or one per "
                  "state: unequal rates shift power)", "Organski 1958 (power transition); Gilpin 1981",
                  low=-0.5, high=0.5, shape="per state"),
    ParameterSpec("initial_wealth", r"\bar W_i", "wealth units", "relative economic size (one value for all "
                  "or one per state)", low=0, high=1e6, low_inclusive=False, shape="per state"),
    ParameterSpec("initial_wealth_jitter", r"\phi", "share", "random spread of initial sizes, so no two "
                  "episodes start identical", low=0, high=0.9),
    ParameterSpec("initial_arms", "x_0", "multiple of initial wealth", "arms inherited at the start, spread "
                  "evenly over systems", low=0, high=100),
    ParameterSpec("max_burden", r"\bar b", "share of wealth", "largest share of output a state can devote to "
                  "arms in one year", low=0, high=1, low_inclusive=False, high_inclusive=False),
    ParameterSpec("burden_levels", "L", "levels", "resolution of the burden choice (evenly spaced from 0 to "
                  "max_burden)", low=2, high=1001, integer=True),
    ParameterSpec("contest_decisiveness", "m", "exponent", "how surely the stronger side wins a war",
                  "Tullock 1980; Hirshleifer 1989", low=0, high=20, low_inclusive=False),
    ParameterSpec("territorial_defense", r"\tau", "arms units per wealth unit", "intrinsic defence of a "
                  "homeland (terrain, population, militia)", low=0, high=100),
    ParameterSpec("conquest_share", "s", "share of wealth", "what a victorious attacker takes from the loser",
                  low=0, high=1),
    ParameterSpec("war_cost", r"\kappa", "share of wealth per war", "destruction suffered by every party to a "
                  "war", low=0, high=1, high_inclusive=False),
    ParameterSpec("war_attrition", r"\alpha", "share of arms per war", "arms lost in fighting by every party",
                  low=0, high=1),
    ParameterSpec("elimination_threshold", r"\varepsilon", "share of initial wealth", "collapse below which a "
                  "state ceases to exist", low=0, high=1, high_inclusive=False),
    ParameterSpec("elimination_penalty", "P", "welfare units", "value of survival beyond lost future welfare",
                  low=0, high=1e6),
    ParameterSpec("greedy_prior", r"\pi", "probability", "prior that a state is greedy rather than a security "
                  "seeker, drawn per state and episode", "Kydd 1997; Glaser 2010", low=0, high=1),
    ParameterSpec("greed_bonus", r"\beta", "welfare units per victory", "value a greedy state puts on conquest "
                  "itself", "Kydd 1997; Glaser 2010", low=0, high=1e6),
    ParameterSpec("seeker_conquest_value", r"\nu", "share", "weight a security seeker puts on wealth taken by "
                  "conquest (wealth above its home wealth); 0 = a pure status-quo state",
                  "Schweller 1994; Glaser 2010", low=0, high=1),
    ParameterSpec("alliances", "", "boolean", "whether states may commit to defend each other", "G. Snyder 1984",
                  shape="true or false"),
    ParameterSpec("alliance_blocs", "", "state indices", "initial blocs, members committed to one another; a "
                  "state in several blocs is a hub of bilateral alliances (hub and spoke); needs alliances",
                  "G. Snyder 1984; Christensen & Snyder 1990; Cha 2010",
                  shape="tuples of distinct state indices"),
    ParameterSpec("renege_cost", r"\rho", "welfare units per abandoned partner", "reputational and domestic cost "
                  "of abandoning an attacked ally", "G. Snyder 1984", low=0, high=1e6),
    ParameterSpec("surprise_deployment", "(i^*, k^*, x^*, t^*)", "state, system, arms units, year",
                  "a sudden, free, possibly hidden deployment", "modelling choice (missile-crisis scenario)",
                  shape="None or (state, system, amount in [0, 1e6], year >= 0)"),
)
SPECS: dict[str, ParameterSpec] = {spec.name: spec for spec in PARAMETERS}
#: The parameters that take one number for every state or one per state (stored as one per state).
PER_STATE_PARAMETERS: tuple[str, ...] = tuple(spec.name for spec in PARAMETERS if spec.shape == "per state")


def _declared(name: str, value: Any, entry: str | None = None) -> Any:
    """``value`` checked against the declared bounds of parameter ``name`` (``entry`` names a tuple entry)."""
    spec = SPECS[name]
    label = entry or name
    if spec.integer:
        return _check_int(label, value, int(spec.low), None if spec.high is None else int(spec.high))
    return _check_range(label, value, spec.low, math.inf if spec.high is None else spec.high,
                        low_open=not spec.low_inclusive, high_open=not spec.high_inclusive)


@dataclass(frozen=True)
class EnvParams:
    """All parameters of the security-dilemma model.

    Each field's bounds, unit, symbol, meaning and source are declared once,
    in :data:`PARAMETERS` (``sd-env params`` prints them); ``docs/model.md``
    gives the equations they enter. The comments below say what each is.
    """

    #: Number of states (agents), named ``state_0 ... state_{n-1}``.
    n_states: int = 2
    #: Episode length in years; episodes are truncated after this many steps.
    max_cycles: int = 100
    #: Multiplier on the attacker's offence in the contest success function
    #: (Glaser & Kaufmann 1998: cost ratio of offence to the defence it overcomes).
    #: > 1 offence advantage, < 1 defence advantage.
    offense_defense_balance: float = 1.0
    #: How well observers can tell offensive from defensive systems (Jervis 1978).
    #: 1 = every system is seen as what it is; 0 = only total arms are seen.
    distinguishability: float = 0.5
    #: Log-normal scale of the multiplicative noise on observed rival stocks
    #: (0 = perfect intelligence).
    observation_noise: float = 0.2
    #: Names of the procurable weapon systems (one entry per system).
    weapon_names: tuple[str, ...] = DEFAULT_WEAPON_NAMES
    #: True offensive weight of each system in [0, 1] (fortifications 0, armour 1).
    weapon_offense_weights: tuple[float, ...] = DEFAULT_WEAPON_OFFENSE_WEIGHTS
    #: Cost of one unit of each system, in wealth units.
    weapon_costs: tuple[float, ...] = (1.0, 1.0, 1.0)
    #: Fraction of each system's stock that rivals can see at all (concealment).
    weapon_visibility: tuple[float, ...] = (1.0, 1.0, 1.0)
    #: Share of every arms stock lost each year to obsolescence.
    depreciation: float = 0.1
    #: Yearly growth rate of wealth in peacetime (0.03 = 3 % a year): one number for all or one per state.
    growth_rate: float | tuple[float, ...] = 0.03
    #: Initial wealth of each state: one number for all or one per state.
    initial_wealth: float | tuple[float, ...] = 1.0
    #: Initial wealth is multiplied by a uniform draw in [1 - j, 1 + j].
    initial_wealth_jitter: float = 0.1
    #: Initial arms stock, as a multiple of initial wealth, spread evenly over systems.
    initial_arms: float = 0.5
    #: Largest share of wealth a state can spend on arms in one year.
    max_burden: float = 0.5
    #: Number of evenly spaced burden levels from 0 to ``max_burden`` in the action.
    burden_levels: int = 11
    #: Exponent m of the Tullock contest success function (decisiveness of war).
    contest_decisiveness: float = 2.0
    #: Intrinsic defence of a state's territory, as a multiple of its wealth.
    territorial_defense: float = 0.5
    #: Share of the loser's wealth the winner of an attack takes.
    conquest_share: float = 0.3
    #: Share of wealth every party to a war loses to destruction, per war.
    war_cost: float = 0.05
    #: Share of arms stocks every party to a war loses, per war.
    war_attrition: float = 0.2
    #: A state whose wealth falls below this share of its initial wealth is eliminated.
    elimination_threshold: float = 0.2
    #: Reward lost once when a state is eliminated, in welfare units.
    elimination_penalty: float = 10.0
    #: Prior probability that a state is greedy (values conquest) rather than a
    #: security seeker (Kydd 1997; Glaser 2010). Drawn per state per episode.
    greedy_prior: float = 0.25
    #: Extra reward a greedy state gets for each successful attack, in welfare units.
    greed_bonus: float = 0.5
    #: Weight a security seeker puts on wealth taken by conquest (its wealth above its home wealth, the
    #: own economy that spoils never add to); 0 = a pure status-quo state, 1 = values it like a greedy
    #: state (Schweller 1994; Glaser 2010).
    seeker_conquest_value: float = 0.0
    #: Whether states may commit to defend each other (Snyder 1984).
    alliances: bool = False
    #: Initial alliance blocs: groups of state indices whose members are committed to each other.
    alliance_blocs: tuple[tuple[int, ...], ...] = ()
    #: Welfare cost of reneging on a commitment when the ally is attacked (abandonment).
    renege_cost: float = 1.0
    #: Optional sudden hidden deployment ``(state, system, amount, year)``: in year ``year``
    #: state ``state`` receives ``amount`` units of system ``system`` at no cost.
    surprise_deployment: tuple[int, int, float, int] | None = None

    def __post_init__(self) -> None:
        setter = object.__setattr__
        # The system count fixes the length of the per-system parameters: names first.
        names = _as_tuple("weapon_names", self.weapon_names)
        if not names:
            raise ParameterError("weapon_names must name at least one weapon system, got ()")
        if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
            raise ParameterError(f"weapon_names must be distinct non-empty strings, got {names!r}")
        setter(self, "weapon_names", tuple(names))
        # Every numeric parameter against its declared bounds, in declaration order (n_states comes first,
        # so the per-state ones can rely on it).
        for spec in PARAMETERS:
            if spec.low is None and spec.high is None:
                continue  # not a number: checked below
            value = getattr(self, spec.name)
            if spec.shape == "per system":
                entries = _as_tuple(spec.name, value, self.n_systems)
            elif spec.shape == "per state":
                entries = self._per_state(spec.name, value)
            else:
                setter(self, spec.name, _declared(spec.name, value))
                continue
            setter(self, spec.name, tuple(_declared(spec.name, entry, f"{spec.name}[{index}]")
                                          for index, entry in enumerate(entries)))
        if not isinstance(self.alliances, bool):
            raise ParameterError(f"alliances must be true or false, got {self.alliances!r}")
        setter(self, "alliance_blocs", self._validated_blocs())
        setter(self, "surprise_deployment", self._validated_deployment())
        self._check_wealth_stays_finite()

    def _per_state(self, name: str, value: Any) -> tuple:
        """One number for every state, or one per state."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (value,) * self.n_states
        entries = _as_tuple(name, value)
        if len(entries) != self.n_states:
            raise ParameterError(f"{name} must be one number or {self.n_states} numbers (one per state), "
                             f"got {len(entries)}: {value!r}")
        return entries

    def _validated_blocs(self) -> tuple[tuple[int, ...], ...]:
        blocs = _as_tuple("alliance_blocs", self.alliance_blocs)
        if blocs and not self.alliances:
            raise ParameterError(f"alliance_blocs={blocs!r} needs alliances=True (alliances are off)")
        result = []
        for bloc in blocs:
            members = tuple(
                _check_int("alliance_blocs member", m, 0, self.n_states - 1)
                for m in _as_tuple("alliance_blocs entry", bloc)
            )
            # A state may sit in several blocs (a hub of bilateral alliances), but not twice in one.
            if len(set(members)) != len(members):
                raise ParameterError(f"alliance_blocs must not repeat a state within a bloc, got {blocs!r}")
            result.append(members)
        return tuple(result)

    def _validated_deployment(self) -> tuple[int, int, float, int] | None:
        if self.surprise_deployment is None:
            return None
        entry = _as_tuple("surprise_deployment", self.surprise_deployment)
        if len(entry) != 4:
            raise ParameterError(
                f"surprise_deployment must be (state, system, amount, year) or None, got {self.surprise_deployment!r}"
            )
        state, system, amount, year = entry
        return (
            _check_int("surprise_deployment state", state, 0, self.n_states - 1),
            _check_int("surprise_deployment system", system, 0, self.n_systems - 1),
            _check_range("surprise_deployment amount", amount, 0.0, 1e6),
            _check_int("surprise_deployment year", year, 0),
        )

    def _check_wealth_stays_finite(self) -> None:
        """Refuse a horizon over which compound growth could overflow the float32 observations.

        Each bound alone allows it: growth_rate 0.5 for 1000 years multiplies wealth by 1e176.
        """
        longest = longest_horizon(self)
        if self.max_cycles > longest:
            fastest = max(self.growth_rate)
            raise ParameterError(
                f"max_cycles must be at most {longest} with growth_rate up to {_number(fastest)}, got "
                f"{self.max_cycles}: wealth could reach {_number(float(f'{wealth_ceiling(self):.2g}'))} wealth "
                f"units, past the {_number(MAX_WEALTH)} that keeps observations finite; shorten max_cycles or "
                f"lower growth_rate"
            )

    # Derived sizes: computed from the fields, never stored twice.
    @property
    def n_systems(self) -> int:
        """Number of procurable weapon systems K."""
        return len(self.weapon_names)

    @property
    def action_length(self) -> int:
        """Entries in one state's MultiDiscrete action (see ``sd_env.layout.ActionLayout``)."""
        # Plain arithmetic, not an ActionLayout: core.check_actions reads this on every step.
        return ACTION_FIRST_COMMITMENT + (self.n_states - 1 if self.alliances else 0)

    def replace(self, **changes: Any) -> EnvParams:
        """Return a copy with ``changes`` applied (and validated)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        unknown = sorted(set(changes) - set(values))
        if unknown:
            known = f"known parameters: {sorted(values)}"
            raise ParameterError(f"unknown parameter(s) {unknown}{did_you_mean(unknown[0], values, then=known)}")
        if "n_states" in changes:
            for name in PER_STATE_PARAMETERS:
                if name not in changes and len(set(values[name])) == 1:
                    # A value common to all states stays common when the number of states changes.
                    values[name] = values[name][0]
        values.update(changes)
        return EnvParams(**values)


def _log_wealth_ceiling(params: EnvParams, years: int) -> float:
    """Natural log of :func:`wealth_ceiling` after ``years`` years (logs: 1.5 ** 1000 needs no float to hold it)."""
    start = sum(params.initial_wealth) * (1.0 + params.initial_wealth_jitter)
    return math.log(start) + years * math.log1p(max(0.0, *params.growth_rate))


def wealth_ceiling(params: EnvParams) -> float:
    """An upper bound on the wealth any one state can hold within an episode, in wealth units (may be inf).

    Every state starts with at most ``initial_wealth * (1 + initial_wealth_jitter)``. Wars only move
    wealth between states (spoils, annexation) or destroy it, so one state holds at most the total: the
    sum over states, up to ``n_states`` times the largest. The total grows at most at the fastest
    ``growth_rate`` each year, for ``max_cycles`` years (the last observation is after the last year).
    """
    log_ceiling = _log_wealth_ceiling(params, params.max_cycles)
    return math.inf if log_ceiling > 709.0 else math.exp(log_ceiling)


def longest_horizon(params: EnvParams) -> int:
    """The largest ``max_cycles`` (years, at most the declared bound) that keeps :func:`wealth_ceiling` of
    ``params`` within :data:`MAX_WEALTH`, the other parameters as they are."""
    declared = int(SPECS["max_cycles"].high)
    yearly = math.log1p(max(0.0, *params.growth_rate))  # log of the fastest yearly growth factor, >= 0
    headroom = math.log(MAX_WEALTH) - _log_wealth_ceiling(params, 0)
    # Compared before dividing: no growth, or growth too slow to matter (even 1e-300), allows every horizon.
    if declared * yearly <= headroom:
        return declared
    return max(0, math.floor(headroom / yearly))


PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(EnvParams))
_FIELD_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(EnvParams)}
if PARAMETER_NAMES != tuple(SPECS):  # a field without a declaration, or the other way round
    raise ImportError(f"EnvParams fields and PARAMETERS differ: {set(PARAMETER_NAMES) ^ set(SPECS)}")


def value_text(value: Any) -> str:
    """A parameter value as the docs write it: 0.03, (1, 0.6), True, ()."""
    if isinstance(value, tuple):
        return "(" + ", ".join(value_text(v) for v in value) + ")" if value else "()"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parameter_table_markdown() -> str:
    """The parameter table of ``docs/model.md``: symbol, default, unit and range, meaning, source."""
    lines = ["| parameter | symbol | default | unit, range | meaning in international-relations terms | source |",
             "| --- | --- | --- | --- | --- | --- |"]
    for spec in PARAMETERS:
        symbol = f"${spec.symbol}$" if spec.symbol else ""
        lines.append(f"| `{spec.name}` | {symbol} | `{value_text(spec.default)}` | {spec.unit}, "
                     f"{spec.range_text()} | {spec.description} | {spec.source} |")
    return "\n".join(lines)


def parameter_table_text(width: int = 72) -> str:
    """The parameters as a plain-text table (the environment docstring and ``sd-env params``)."""
    rows = [(spec.name, value_text(spec.default), spec.range_text(), spec.description) for spec in PARAMETERS]
    name_width = max(len(row[0]) for row in rows)
    default_width = max(len(row[1]) for row in rows)
    lines = []
    for name, default, allowed, description in rows:
        lines.append(f"{name:<{name_width}}  {default:<{default_width}}  {allowed}")
        lines.append(f"{'':<{name_width}}  {description}")
    return "\n".join(lines)


def parameter_records() -> list[dict[str, Any]]:
    """Every parameter as a plain record (the form of ``sd-env params --json``): name, default, low, high,
    low_inclusive, high_inclusive (null for an open-ended or non-numeric side), unit, description."""
    records = []
    for spec in PARAMETERS:
        default = spec.default
        records.append({
            "name": spec.name,
            "default": list(default) if isinstance(default, tuple) else default,
            "low": spec.low,
            "high": spec.high,
            "low_inclusive": None if spec.low is None else spec.low_inclusive,
            "high_inclusive": None if spec.high is None else spec.high_inclusive,
            "unit": spec.unit,
            "description": spec.description,
        })
    return records
