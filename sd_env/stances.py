"""Scripted baseline policies, each a stance from the security-dilemma literature.

They live in ``sd_env`` so that the environment's own adapters (the Gymnasium
opponents) use them too.

All are batched (one call acts for many states), ego-centric, and read only
what the acting state observes. Where a policy estimates war odds it calls
the model's own contest function, never a copy of it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np

from sd_env.contest import success_probability
from sd_env.errors import PolicyError, did_you_mean
from sd_env.params import EnvParams
from sd_env.policy import Policy

#: A bound of a stance option: a number, or one computed from the environment's parameters (``max_burden``).
Bound = float | Callable[[EnvParams], float]


def _bound_text(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:g}"


@dataclass(frozen=True)
class StanceOption:
    """The allowed values of one stance option (a keyword argument of a scripted policy's constructor).

    ``low``/``high`` are numbers or functions of the :class:`EnvParams` the policy plays under (the burden
    options end at that world's ``max_burden``); ``meaning`` says what the number is, in the error line.
    """

    low: Bound
    high: Bound
    meaning: str
    low_inclusive: bool = True
    high_inclusive: bool = True
    integer: bool = False

    def bounds(self, params: EnvParams) -> tuple[float, float]:
        """The numeric bounds under ``params``."""
        low = self.low(params) if callable(self.low) else self.low
        high = self.high(params) if callable(self.high) else self.high
        return float(low), float(high)

    def range_text(self, params: EnvParams) -> str:
        """The allowed values in interval notation under ``params``, e.g. ``[0, 0.5]``, ``an integer in [1, 2]``."""
        low, high = self.bounds(params)
        left = "[" if self.low_inclusive else "("
        right = "]" if self.high_inclusive else ")"
        interval = f"{left}{_bound_text(low)}, {_bound_text(high)}{right}"
        return f"an integer in {interval}" if self.integer else f"in {interval}"

    def problem(self, params: EnvParams, value: Any) -> str | None:
        """Why ``value`` is not allowed under ``params`` (``"must be in [0, 0.5] (...), got 3.0"``), or None."""
        is_number = isinstance(value, Real) and not isinstance(value, (bool, np.bool_))
        if is_number:
            number, (low, high) = float(value), self.bounds(params)
            inside = (
                not math.isnan(number)
                and (number > low if not self.low_inclusive else number >= low)
                and (number < high if not self.high_inclusive else number <= high)
                # Whole numbers written as floats (year=4.0) count as integers, as they always have.
                and (not self.integer or isinstance(value, Integral) or number.is_integer())
            )
            if inside:
                return None
        kind = "" if is_number or self.integer else "a number "  # "an integer in ..." already says the type
        return f"must be {kind}{self.range_text(params)} ({self.meaning}), got {value!r}"


def _max_burden(params: EnvParams) -> float:
    return params.max_burden


def _last_year(params: EnvParams) -> float:
    return params.max_cycles - 1


def _last_rival(params: EnvParams) -> float:
    return params.n_states - 1


#: The burden option of every stance that has one: a share of wealth, at most what the world allows.
BURDEN = StanceOption(0.0, _max_burden, "share of wealth spent on arms a year, up to max_burden")


def check_stance_options(cls: type[Policy], params: EnvParams, options: Mapping[str, Any]) -> None:
    """Raise :class:`PolicyError` for the first of ``options`` outside the range ``cls.option_ranges`` declares
    for it under ``params``, e.g. ``stance defender: burden must be in [0, 0.5] (...), got 3.0``."""
    ranges: Mapping[str, StanceOption] = getattr(cls, "option_ranges", {})
    for name, value in options.items():
        problem = ranges[name].problem(params, value) if name in ranges else None
        if problem:
            # No ``parameter``: the option sits inside a stance name, not in an argument of its own.
            raise PolicyError(f"stance {cls.name}: {name} {problem}")


class RandomPolicy(Policy):
    """Uniform over the action space: the floor any learner must beat."""

    name = "random"
    option_ranges: ClassVar[dict[str, StanceOption]] = {}

    def act(self, observations: np.ndarray) -> np.ndarray:
        count = observations.shape[0]
        return self.rng.integers(0, self.action_bounds, size=(count, len(self.action_bounds)), dtype=np.int64)


class DovePolicy(Policy):
    """Restraint: spend (almost) nothing on arms and never attack.

    The spiral model's prescription (Jervis 1976): reassure rivals by not
    arming. Keeps whatever alliance commitments are in force.
    """

    name = "dove"
    option_ranges: ClassVar[dict[str, StanceOption]] = {"burden": BURDEN}

    def __init__(self, params: EnvParams, seed: int | None = None, burden: float = 0.0) -> None:
        super().__init__(params, seed)
        self.burden = burden

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = self.empty_actions(observations.shape[0])
        actions[:, self.action_layout.burden] = self.burden_level(self.burden)
        return self.keep_commitments(actions, observations)


class DefenderPolicy(Policy):
    """Purely defensive arming: a moderate burden, all on the most defensive system, never attacks.

    Jervis's (1978) way out of the dilemma where defence can be told apart:
    security without threatening anyone.
    """

    name = "defender"
    option_ranges: ClassVar[dict[str, StanceOption]] = {"burden": BURDEN}

    def __init__(self, params: EnvParams, seed: int | None = None, burden: float = 0.1) -> None:
        super().__init__(params, seed)
        self.burden = burden

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = self.empty_actions(observations.shape[0])
        actions[:, self.action_layout.burden] = self.burden_level(self.burden)
        actions[:, self.action_layout.procurement] = self.most_defensive_system
        return self.keep_commitments(actions, observations)


def estimated_success(policy: Policy, observations: np.ndarray) -> np.ndarray:
    """The acting state's estimate of its chance to win an attack on each rival, shape (M, N-1).

    Own offence is known exactly; the rival's defence is read off its
    apparent (noisy, type-blurred) stocks plus its territory. Dead rivals get 0.
    """
    params, layout = policy.params, policy.layout
    weights = np.asarray(params.weapon_offense_weights)
    own_offense = observations[:, layout.own_stocks] @ weights
    rival_defense = (
        layout.rival_stocks(observations) @ (1.0 - weights)
        + params.territorial_defense * layout.rival_flag(observations, "wealth")
    )
    probability = success_probability(
        own_offense[:, None], rival_defense, params.offense_defense_balance, params.contest_decisiveness
    )
    return probability * (layout.rival_flag(observations, "alive") > 0.5)


def attack_best_target(policy: Policy, observations: np.ndarray, threshold: float) -> np.ndarray:
    """Attack component: the rival with the best estimated odds if those exceed ``threshold``, else 0."""
    odds = estimated_success(policy, observations)
    best = np.argmax(odds, axis=1)
    favourable = odds[np.arange(len(best)), best] > threshold
    return np.where(favourable, best + 1, 0)


class HawkPolicy(Policy):
    """Arming: a heavy burden, all on the most offensive system, attacking when the odds favour it.

    The deterrence model's worst case and the offensive realist's stance
    (Mearsheimer 2001): maximise relative power and use it.
    """

    name = "hawk"
    option_ranges: ClassVar[dict[str, StanceOption]] = {
        "burden": BURDEN,
        # Compared with an estimated chance of winning (attack when the odds exceed it): 1 never attacks.
        "attack_threshold": StanceOption(0.0, 1.0, "estimated chance of winning above which it attacks"),
    }

    def __init__(
        self, params: EnvParams, seed: int | None = None, burden: float = 0.3, attack_threshold: float = 0.5
    ) -> None:
        super().__init__(params, seed)
        self.burden = burden
        self.attack_threshold = attack_threshold

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = self.empty_actions(observations.shape[0])
        actions[:, self.action_layout.burden] = self.burden_level(self.burden)
        actions[:, self.action_layout.procurement] = self.most_offensive_system
        actions[:, self.action_layout.attack] = attack_best_target(self, observations, self.attack_threshold)
        return self.keep_commitments(actions, observations)


class ReciprocatorPolicy(Policy):
    """Matches the largest rival's observed buildup, and strikes back at whoever attacked it last year.

    Tit-for-tat in arms (Axelrod 1984; Downs, Rocke & Siverson 1985): arms to
    the level it sees, spread over all systems, never attacks first.
    """

    name = "reciprocator"
    option_ranges: ClassVar[dict[str, StanceOption]] = {}

    def act(self, observations: np.ndarray) -> np.ndarray:
        layout, params = self.layout, self.params
        actions = self.empty_actions(observations.shape[0])
        wealth = np.maximum(observations[:, layout.own_wealth], 1e-9)
        own_total = observations[:, layout.own_stocks].sum(axis=1)
        rival_total = layout.rival_stocks(observations).sum(axis=2).max(axis=1)
        needed = np.maximum(rival_total - (1.0 - params.depreciation) * own_total, 0.0)
        actions[:, self.action_layout.burden] = self.burden_level(needed * np.mean(params.weapon_costs) / wealth)
        attacked_me = layout.rival_flag(observations, "attacked_me") > 0.5
        retaliate = attacked_me.any(axis=1)
        actions[:, self.action_layout.attack] = np.where(retaliate, np.argmax(attacked_me, axis=1) + 1, 0)
        return self.keep_commitments(actions, observations)


class RichardsonPolicy(Policy):
    """Richardson's (1960) reaction process: change arms by k * rival - a * own + g.

    ``reaction`` k (defence), ``fatigue`` a (economic burden) and
    ``grievance`` g (arms units a year) are the coefficients of his equations;
    own and rival levels are total stocks (the rival's as observed). Never attacks.
    """

    name = "richardson"
    option_ranges: ClassVar[dict[str, StanceOption]] = {
        "reaction": StanceOption(0.0, 1.0, "k, share of the rival's arms added a year"),
        "fatigue": StanceOption(0.0, 1.0, "a, share of its own arms given up a year"),
        "grievance": StanceOption(-1.0, 1.0, "g, arms units a year, initial wealth being 1; negative: goodwill"),
    }

    def __init__(
        self,
        params: EnvParams,
        seed: int | None = None,
        reaction: float = 0.3,
        fatigue: float = 0.2,
        grievance: float = 0.05,
    ) -> None:
        super().__init__(params, seed)
        self.reaction, self.fatigue, self.grievance = reaction, fatigue, grievance

    def act(self, observations: np.ndarray) -> np.ndarray:
        layout, params = self.layout, self.params
        actions = self.empty_actions(observations.shape[0])
        wealth = np.maximum(observations[:, layout.own_wealth], 1e-9)
        own_total = observations[:, layout.own_stocks].sum(axis=1)
        rival_total = layout.rival_stocks(observations).sum(axis=2).max(axis=1)
        change = self.reaction * rival_total - self.fatigue * own_total + self.grievance
        target = np.maximum(own_total + change, 0.0)
        spending = np.maximum(target - (1.0 - params.depreciation) * own_total, 0.0) * np.mean(params.weapon_costs)
        actions[:, self.action_layout.burden] = self.burden_level(spending / wealth)
        return self.keep_commitments(actions, observations)


def apparent_rival_offense(policy: Policy, observations: np.ndarray) -> np.ndarray:
    """Each rival's offence as the acting state reads it off the apparent stocks (true weights), (M, N-1)."""
    return policy.layout.rival_stocks(observations) @ np.asarray(policy.params.weapon_offense_weights)


def estimated_threat(policy: Policy, observations: np.ndarray) -> np.ndarray:
    """The acting state's estimate of each rival's chance to win an attack on it, shape (M, N-1).

    The rival's offence is read off its apparent (noisy, type-blurred) stocks
    with the true offensive weights; own defence (arms defence plus territory)
    is known exactly. Dead rivals get 0.
    """
    params, layout = policy.params, policy.layout
    weights = np.asarray(params.weapon_offense_weights)
    own_defense = (
        observations[:, layout.own_stocks] @ (1.0 - weights)
        + params.territorial_defense * observations[:, layout.own_wealth]
    )
    rival_offense = apparent_rival_offense(policy, observations)
    probability = success_probability(
        rival_offense, own_defense[:, None], params.offense_defense_balance, params.contest_decisiveness
    )
    return probability * (layout.rival_flag(observations, "alive") > 0.5)


class DeterrerPolicy(Policy):
    """A security seeker's best response to what it observes: deterrence by denial, else by pre-emption.

    It reads each rival's apparent offence and estimates that rival's chance
    of beating its defence. Where defence can hold the most threatening rival's
    chance at ``target_risk`` within the largest burden, it buys the shortfall
    in its most defensive system (deterrence by denial; Snyder 1961). Where it
    cannot (offence dominance), defensive arms are futile, and it buys
    nothing until a rival's threat exceeds ``preemption_threshold``; then it
    arms offensively (``preemption_burden`` on its most offensive system) and
    strikes that rival first (Jervis 1978: when offence has the advantage,
    "the best defence is a good offence"; Van Evera 1999 on windows and
    pre-emption). It never attacks a rival it does not fear. Because it acts
    on *apparent* offence, it is the stance whose returns distinguishability
    and noise change most: a rival's fortifications that cannot be told from
    armour look like a threat.
    """

    name = "deterrer"
    option_ranges: ClassVar[dict[str, StanceOption]] = {
        # Open at both ends: the denial burden inverts the contest function at target_risk, (1 - r) / r.
        "target_risk": StanceOption(0.0, 1.0, "rival's chance of winning it will tolerate", False, False),
        "preemption_threshold": StanceOption(0.0, 1.0, "rival's chance of winning above which it strikes first",
                                             False, False),
        "preemption_burden": StanceOption(0.0, _max_burden, "share of wealth spent on arms a year when it "
                                          "pre-empts, up to max_burden"),
    }

    def __init__(
        self,
        params: EnvParams,
        seed: int | None = None,
        target_risk: float = 0.2,
        preemption_threshold: float = 0.7,
        preemption_burden: float = 0.5,
    ) -> None:
        super().__init__(params, seed)
        # Built directly (not by make_policy) too: the odds it inverts need these inside (0, 1).
        check_stance_options(DeterrerPolicy, params, {"target_risk": target_risk,
                                                      "preemption_threshold": preemption_threshold})
        self.target_risk = target_risk
        self.preemption_threshold = preemption_threshold
        self.preemption_burden = preemption_burden

    def act(self, observations: np.ndarray) -> np.ndarray:
        layout, params = self.layout, self.params
        weights = np.asarray(params.weapon_offense_weights)
        actions = self.empty_actions(observations.shape[0])
        wealth = np.maximum(observations[:, layout.own_wealth], 1e-9)
        threat = estimated_threat(self, observations)
        rival_offense = apparent_rival_offense(self, observations).max(axis=1)
        # Invert p = 1 / (1 + (D / (theta O))^m) for D at p = target_risk.
        needed_defense = (
            params.offense_defense_balance
            * rival_offense
            * ((1.0 - self.target_risk) / self.target_risk) ** (1.0 / params.contest_decisiveness)
        )
        own_stocks = observations[:, layout.own_stocks]
        arms_defense_next = (1.0 - params.depreciation) * (own_stocks @ (1.0 - weights))
        shortfall = needed_defense - params.territorial_defense * wealth - arms_defense_next
        system = self.most_defensive_system
        cost_per_defense = params.weapon_costs[system] / max(1.0 - weights[system], 1e-9)
        denial_burden = np.maximum(shortfall, 0.0) * cost_per_defense / wealth
        denial_feasible = denial_burden <= params.max_burden
        preempt = ~denial_feasible & (threat.max(axis=1) > self.preemption_threshold)
        actions[:, self.action_layout.burden] = np.where(
            denial_feasible,
            self.burden_level(denial_burden),
            np.where(preempt, self.burden_level(self.preemption_burden), 0),
        )
        actions[:, self.action_layout.procurement] = np.where(preempt, self.most_offensive_system, system)
        actions[:, self.action_layout.attack] = np.where(preempt, np.argmax(threat, axis=1) + 1, 0)
        return self.keep_commitments(actions, observations)


class TypeConditionalPolicy(Policy):
    """Plays one stance as a greedy state and another as a security seeker (it reads its own type).

    Written ``GREEDY/SEEKER`` in stance lists, e.g. ``hawk/dove``: the rival
    population of the spiral model (Jervis 1976; Kydd 1997), in which some
    states are aggressors and the rest are not, and nobody can see which.
    """

    def __init__(self, params: EnvParams, seed: int | None = None, *, greedy: str, seeker: str) -> None:
        super().__init__(params, seed)
        self.greedy_policy = make_policy(greedy, params, seed)
        self.seeker_policy = make_policy(seeker, params, None if seed is None else seed + 1)
        self.name = f"{greedy}/{seeker}"

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.greedy_policy.reset(seed)
        self.seeker_policy.reset(None if seed is None else seed + 1)

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = self.empty_actions(observations.shape[0])
        for policy, rows in self.route(observations, np.arange(observations.shape[0])):
            if rows.size:
                actions[rows] = policy.act(observations[rows])
        return actions

    def route(self, observations: np.ndarray, rows: np.ndarray) -> list[tuple[Policy, np.ndarray]]:
        """Greedy rows to the greedy stance, the others to the seeker stance (each routed further)."""
        is_greedy = observations[rows, self.layout.own_greedy] > 0.5
        return [*self.greedy_policy.route(observations, rows[is_greedy]),
                *self.seeker_policy.route(observations, rows[~is_greedy])]


class StrikerPolicy(Policy):
    """A fixed preventive striker: a constant burden spread evenly over all systems, and one attack, in one year.

    It attacks rival ``target`` (1: the next state, as in the action's attack entry) in year ``year`` only
    (counting from 0; never if ``year`` is -1, the default), whatever it observes, and never otherwise. At equal
    burdens two strikers' arms follow their wealth, which makes this the instrument of the power-shift
    measures (``sd_env.experiments.lab.power_shift``): the odds of its one attack trace the window of opportunity, and
    striking early rather than late measures the preventive motive (Levy 1987). Keeps commitments in force.
    """

    name = "striker"
    option_ranges: ClassVar[dict[str, StanceOption]] = {
        "burden": BURDEN,
        "year": StanceOption(-1.0, _last_year, "the year of its one attack, counting from 0; -1: never",
                             integer=True),
        "target": StanceOption(1.0, _last_rival, "the rival it attacks, as an offset: 1 is the next state",
                               integer=True),
    }

    def __init__(self, params: EnvParams, seed: int | None = None, burden: float = 0.1, year: int = -1,
                 target: int = 1) -> None:
        super().__init__(params, seed)
        check_stance_options(StrikerPolicy, params, {"target": target, "year": year})  # built directly too
        self.burden, self.year, self.target = burden, int(year), int(target)

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = self.empty_actions(observations.shape[0])
        actions[:, self.action_layout.burden] = self.burden_level(self.burden)
        if self.year >= 0:
            # The observation carries the year as the elapsed fraction of the episode.
            year = np.rint(observations[:, self.layout.time_elapsed].astype(np.float64) * self.params.max_cycles)
            actions[:, self.action_layout.attack] = np.where(year == self.year, self.target, 0)
        return self.keep_commitments(actions, observations)


class TitForTatPolicy(Policy):
    """Never strikes first; strikes back at a rival the year after it attacked, then forgives (Axelrod 1984).

    A reciprocal state that repays restraint with restraint and an attack with one attack: it holds a fixed
    ``burden`` (share of wealth a year) spread over all systems, so it neither races nor disarms, and each year
    attacks a living rival that attacked it the year before (the one seen first, if several did). Peace held up
    by retaliation is an equilibrium of the model under an offence advantage (``docs/model.md``); this stance
    and :class:`GrimPolicy` put that reciprocity into training populations, which the hawk (attacks whatever
    one does), the dove and the defender (never strike back) do not. Keeps commitments in force.
    """

    name = "tit-for-tat"
    option_ranges: ClassVar[dict[str, StanceOption]] = {"burden": BURDEN}
    #: Whether a punishment ends when the rival stops attacking (tit-for-tat) or never (grim trigger).
    forgives = True

    def __init__(self, params: EnvParams, seed: int | None = None, burden: float = 0.1) -> None:
        super().__init__(params, seed)
        self.burden = burden

    def punished(self, observations: np.ndarray) -> np.ndarray:
        """(M, N-1) bool: the living rivals this state strikes this year, in rival order."""
        layout = self.layout
        alive = layout.rival_flag(observations, "alive") > 0.5
        provoked = layout.rival_flag(observations, "attacked_me") > 0.5
        if not self.forgives:
            # It attacks only to punish, so an attack of its own last year is a punishment still running.
            provoked = provoked | (layout.rival_flag(observations, "attacked_by_me") > 0.5)
        return provoked & alive

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = self.empty_actions(observations.shape[0])
        actions[:, self.action_layout.burden] = self.burden_level(self.burden)
        layout = self.layout
        punished = self.punished(observations)
        # A rival that attacked it last year comes first; grim's running punishments after.
        first = punished & (layout.rival_flag(observations, "attacked_me") > 0.5)
        target = np.where(first.any(axis=1), np.argmax(first, axis=1), np.argmax(punished, axis=1))
        actions[:, self.action_layout.attack] = np.where(punished.any(axis=1), target + 1, 0)
        return self.keep_commitments(actions, observations)


class GrimPolicy(TitForTatPolicy):
    """Never strikes first; once a rival attacked it, attacks that rival every year after (the grim trigger).

    As :class:`TitForTatPolicy` but it never forgives: the observation holds only last year's attacks, so it
    keeps a punishment going by reading its own attack of last year (it attacks only to punish). With two
    states that is exactly the grim trigger (Friedman 1971); with more, one attack a year means that a second
    aggressor it could not strike that year is forgiven once it stops attacking.
    """

    name = "grim"
    forgives = False


SCRIPTED_POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in [RandomPolicy, DovePolicy, DefenderPolicy, HawkPolicy, ReciprocatorPolicy, RichardsonPolicy, DeterrerPolicy,
                StrikerPolicy, TitForTatPolicy, GrimPolicy]
}


def stance_options(cls: type[Policy]) -> list[str]:
    """The options of a scripted stance: its constructor's keyword arguments after ``params`` and ``seed``."""
    return [name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "params", "seed")]


for _cls in SCRIPTED_POLICIES.values():  # every option has its range declared, and only options do
    if set(stance_options(_cls)) != set(getattr(_cls, "option_ranges", {})):
        raise ImportError(f"stance {_cls.name}: options {stance_options(_cls)} and option_ranges "
                          f"{sorted(getattr(_cls, 'option_ranges', {}))} differ")


def parse_stance(spec: str) -> tuple[str, dict[str, float]]:
    """``NAME`` or ``NAME:KEY=VALUE[:KEY=VALUE...]`` -> (name, options); values are numbers.

    For example ``defender:burden=0.3`` is a defender that spends 30% of its wealth on arms.
    """
    name, *assignments = [part.strip() for part in spec.strip().split(":")]
    options: dict[str, float] = {}
    for assignment in assignments:
        key, equals, text = assignment.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = None
        if not equals or not key.strip() or value is None:
            raise PolicyError(f"stance option {assignment!r} in {spec!r} must be KEY=NUMBER, e.g. defender:burden=0.3")
        options[key.strip()] = int(value) if text.strip().lstrip("-").isdigit() else value
    return name, options


def is_policy_name(name: str) -> bool:
    """Whether ``name`` is a scripted stance (with options or not) or a ``GREEDY/SEEKER`` pair of them."""
    parts = name.split("/")
    try:
        return len(parts) in (1, 2) and all(parse_stance(part)[0] in SCRIPTED_POLICIES for part in parts)
    except ValueError:
        return False


def make_policy(name: str, params: EnvParams, seed: int | None = None, **options) -> Policy:
    """A scripted policy by name; an unknown name or option raises ``PolicyError`` (a ``ValueError``) saying what is known.

    ``GREEDY/SEEKER`` (e.g. ``hawk/dove``) names a :class:`TypeConditionalPolicy`;
    ``NAME:KEY=VALUE`` (e.g. ``defender:burden=0.3``) sets a constructor option.
    """
    if "/" in name:
        greedy, _, seeker = name.partition("/")
        if options:
            raise PolicyError(f"options {sorted(options)} cannot be passed to the type-conditional stance {name!r}")
        return TypeConditionalPolicy(params, seed, greedy=greedy.strip(), seeker=seeker.strip())
    base, spec_options = parse_stance(name)
    if base not in SCRIPTED_POLICIES:
        known_text = f"known policies: {', '.join(SCRIPTED_POLICIES)}, or GREEDY/SEEKER pairs such as hawk/dove"
        raise PolicyError(f"unknown policy {base!r}{did_you_mean(base, SCRIPTED_POLICIES, then=known_text)}")
    cls = SCRIPTED_POLICIES[base]
    options = {**spec_options, **options}
    known = sorted(stance_options(cls))
    unknown = sorted(set(options) - set(known))
    if unknown:
        known_text = f"its options: {', '.join(known) or 'none'}"
        raise PolicyError(f"policy {base!r} has no option {unknown[0]!r}{did_you_mean(unknown[0], known, then=known_text)}")
    check_stance_options(cls, params, options)  # before the policy is built, in the one table's terms
    policy = cls(params, seed, **options)
    if spec_options:
        policy.name = name.strip()
    if cls is not RandomPolicy:  # the others are deterministic, row by row: equal rules may act together
        policy.merge_key = (cls, params, tuple(sorted(options.items())))
    return policy
