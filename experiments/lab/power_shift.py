"""Power shifts: what unequal growth does to relative power, to the odds of war, and to the motive to strike first.

Three measures, all from fixed stances so that they show what the model
itself implies, before any learning (``docs/model.md``, "Unequal growth shifts
power"):

- :func:`window_of_opportunity`: every state spends the same burden on an even
  mix of systems and nobody fights. Each year it records every state's share of
  total wealth and the chance that an attack by ``i`` on ``j`` would succeed
  (``Rollout.success_probability``, the model's own contest function at true
  stocks). With unequal growth the rising state's share grows, and at equal
  burdens the declining state's chance of winning an attack falls while the
  rising state's grows: the window of opportunity closes on the declining state.
- :func:`preventive_motive`: the same restraint, except that one state, the
  striker (``sd_env.stances.StrikerPolicy``), attacks its rival once, in an
  early year or in a late one. The gain of a strike is what the striker has
  with the strike minus what it has without (common random numbers: the same
  seed, so the same wealth draws). The preventive motive of a side is its gain
  from striking early minus its gain from striking late (Levy 1987): positive
  when fighting now beats fighting later.
- :func:`power_shift_section`: both, as the Markdown of a scenario card.

Every random draw flows from the ``seed`` argument.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sd_env.experiments.lab.rollout import Rollout, rollout
from sd_env.params import EnvParams
from sd_env.stances import StrikerPolicy

#: Burden every state spends when the measures compare states "at equal burdens" (the defender stance's).
EQUAL_BURDEN = 0.1
#: Types of the striker whose returns :func:`preventive_motive` reports, with the greedy_prior that makes them.
STRIKER_TYPES = {"security_seeker": 0.0, "greedy": 1.0}


def _restraint(params: EnvParams, burden: float, episodes: int, seed: int, striker: int | None = None,
               year: int = -1, target: int = 1) -> Rollout:
    """Every state a striker that never strikes, at ``burden``; ``striker`` (if given) strikes in ``year``."""
    seats = [StrikerPolicy(params, burden=burden) for _ in range(params.n_states)]
    if striker is not None:
        seats[striker] = StrikerPolicy(params, burden=burden, year=year, target=target)
    return rollout(params, seats, episodes, seed)


def wealth_shares(result: Rollout) -> np.ndarray:
    """Each state's share of the system's total wealth at the start of each year, (T, B, N), in [0, 1].

    :param result: the rollout.
    :returns: shares of shape (T, B, N), in [0, 1]; zero for eliminated states.
    """
    wealth = np.where(result.alive, result.wealth, 0.0)
    return wealth / wealth.sum(axis=2, keepdims=True)


@dataclass(frozen=True)
class WindowOfOpportunity:
    """Wealth shares and war odds year by year under restraint at equal burdens (means over episodes).

    ``wealth_share[t, i]``: state i's share of total wealth at the start of year t; ``win_probability[t, i, j]``:
    the chance that an attack by i on j in year t would succeed (no allies joining: nobody is at war).
    """

    params: EnvParams
    burden: float
    episodes: int
    seed: int
    wealth_share: np.ndarray
    win_probability: np.ndarray

    @property
    def years(self) -> int:
        return self.wealth_share.shape[0]

    def trend(self, attacker: int, defender: int) -> float:
        """Least-squares slope of ``win_probability[:, attacker, defender]`` over the years, per year.

        :param attacker: the attacking state, index in [0, N).
        :param defender: the attacked state, index in [0, N).
        :returns: the slope, probability per year.
        """
        years = np.arange(self.years)
        return float(np.polyfit(years, self.win_probability[:, attacker, defender], 1)[0])


def window_of_opportunity(params: EnvParams, burden: float = EQUAL_BURDEN, episodes: int = 64,
                          seed: int = 0) -> WindowOfOpportunity:
    """Every state spends ``burden`` on an even mix and never attacks; shares and odds, year by year.

    :param params: the environment.
    :param burden: military burden of every state, share of wealth in [0, max_burden] (the nearest level).
    :param episodes: episodes averaged over, >= 1.
    :param seed: the game seed.
    :returns: the :class:`WindowOfOpportunity`: ``wealth_share`` (T, N) and ``win_probability`` (T, N, N),
        means over episodes.
    """
    result = _restraint(params, burden, episodes, seed)
    return WindowOfOpportunity(
        params=params, burden=burden, episodes=episodes, seed=seed,
        wealth_share=wealth_shares(result).mean(axis=1),
        win_probability=result.success_probability.mean(axis=1),
    )


def established_and_rising(params: EnvParams) -> tuple[int, int] | None:
    """(established power, rising power), or None where every state grows at the same rate.

    The rising power is the fastest-growing state (the first of equals); the established one is the largest
    of the others at the start (by ``initial_wealth``), the power a transition would overtake.

    :param params: the environment (its per-state ``growth_rate`` and ``initial_wealth``).
    :returns: two state indices in [0, N), or None.
    """
    rates = np.asarray(params.growth_rate)
    if np.all(rates == rates[0]):
        return None
    rising = int(np.argmax(rates))
    others = [i for i in range(params.n_states) if i != rising]
    established = max(others, key=lambda i: params.initial_wealth[i])
    return established, rising


@dataclass(frozen=True)
class StrikeGains:
    """What one striker gains from one attack on ``target`` in ``year``, against no attack at all (means).

    ``win_probability``: the chance the attack succeeded; ``victories``: the share of episodes it did;
    ``share_gain``: the striker's share of total wealth at the end of the episode, with the strike minus
    without; ``return_gain[type]``: its episode return with minus without, for a striker of that type.
    """

    year: int
    win_probability: float
    victories: float
    share_gain: float
    return_gain: dict[str, float]


@dataclass(frozen=True)
class PreventiveMotive:
    """One side's gains from striking early and late; ``motive(key)`` is early minus late."""

    params: EnvParams
    striker: int
    target: int
    burden: float
    episodes: int
    seed: int
    early: StrikeGains
    late: StrikeGains

    def motive(self, key: str = "share") -> float:
        """Gain from striking early minus gain from striking late: ``"share"`` (of total wealth at the end),
        ``"win_probability"``, or a type of :data:`STRIKER_TYPES` (episode return).

        :param key: ``"share"``, ``"win_probability"``, ``"security_seeker"`` or ``"greedy"``.
        :returns: early gain minus late gain: a share of total wealth, a probability, or reward units (a type).
        """
        if key == "share":
            return self.early.share_gain - self.late.share_gain
        if key == "win_probability":
            return self.early.win_probability - self.late.win_probability
        return self.early.return_gain[key] - self.late.return_gain[key]


def _strike_gains(params: EnvParams, striker: int, target: int, year: int, burden: float, episodes: int,
                  seed: int, baselines: dict[str, Rollout]) -> StrikeGains:
    offset = (target - striker) % params.n_states
    end = -1  # the start of the last year, the last state recorded
    gains, struck = {}, {}
    for kind, prior in STRIKER_TYPES.items():
        typed = params.replace(greedy_prior=prior)
        struck[kind] = _restraint(typed, burden, episodes, seed, striker=striker, year=year, target=offset)
        gains[kind] = float((struck[kind].returns[:, striker] - baselines[kind].returns[:, striker]).mean())
    # Types change rewards only, never the draws: both types see the same wars, so either has the dynamics.
    dynamics, baseline = struck["security_seeker"], baselines["security_seeker"]
    share_gain = (wealth_shares(dynamics)[end, :, striker] - wealth_shares(baseline)[end, :, striker]).mean()
    return StrikeGains(
        year=year,
        win_probability=float(dynamics.success_probability[year, :, striker, target].mean()),
        victories=float(dynamics.victories[year, :, striker, target].mean()),
        share_gain=float(share_gain),
        return_gain=gains,
    )


def preventive_motive(params: EnvParams, striker: int, target: int, early_year: int, late_year: int,
                      burden: float = EQUAL_BURDEN, episodes: int = 200, seed: int = 0) -> PreventiveMotive:
    """``striker`` attacks ``target`` once, in ``early_year`` or in ``late_year``; everyone else (and the
    striker in all other years) spends ``burden`` on an even mix and never attacks.

    Years count from 0 and must lie within the episode, early before late.

    :param params: the environment.
    :param striker: the state that strikes, index in [0, N).
    :param target: the state it strikes, index in [0, N), not ``striker``.
    :param early_year: year of the early strike, in [0, ``late_year``).
    :param late_year: year of the late strike, in (``early_year``, max_cycles).
    :param burden: military burden of every state, share of wealth in [0, max_burden] (the nearest level).
    :param episodes: episodes per rollout, >= 1.
    :param seed: the game seed of every rollout (common random numbers).
    :returns: the :class:`PreventiveMotive`, with the :class:`StrikeGains` of each strike year.
    :raises ValueError: ``striker`` and ``target`` are not two different states, or the years are not
        ``0 <= early_year < late_year < max_cycles``.
    """
    if striker == target or not (0 <= striker < params.n_states and 0 <= target < params.n_states):
        raise ValueError(f"striker and target must be two different states in 0..{params.n_states - 1}, "
                         f"got {striker} and {target}")
    if not 0 <= early_year < late_year < params.max_cycles:
        raise ValueError(f"need 0 <= early_year < late_year < max_cycles ({params.max_cycles}), "
                         f"got {early_year} and {late_year}")
    baselines = {kind: _restraint(params.replace(greedy_prior=prior), burden, episodes, seed)
                 for kind, prior in STRIKER_TYPES.items()}
    return PreventiveMotive(
        params=params, striker=striker, target=target, burden=burden, episodes=episodes, seed=seed,
        early=_strike_gains(params, striker, target, early_year, burden, episodes, seed, baselines),
        late=_strike_gains(params, striker, target, late_year, burden, episodes, seed, baselines),
    )


def default_years(params: EnvParams) -> tuple[int, int]:
    """The early and late years the reports compare: a tenth and three fifths of the way through.

    :param params: the environment (its ``max_cycles``).
    :returns: ``(early, late)`` years, early >= 1.
    """
    return max(1, round(0.1 * params.max_cycles)), round(0.6 * params.max_cycles)


def _seat(state: int, names: tuple[str, ...]) -> str:
    """``state_3`` or, where the scenario names its seats, ``state_3`` China."""
    return f"`state_{state}`" + (f" {names[state]}" if names and names[state] != f"state_{state}" else "")


def power_shift_section(params: EnvParams, episodes: int = 100, seed: int = 0,
                        seat_names: tuple[str, ...] = ()) -> list[str] | None:
    """Markdown lines on a scenario's power shift (shares, window of opportunity, preventive motive), or
    None where every state grows at the same rate. ``seat_names`` say whom each seat stands for.

    :param params: the scenario's parameters.
    :param episodes: episodes per rollout, >= 1.
    :param seed: the game seed of every rollout.
    :param seat_names: the name of each seat, N of them (e.g. ``"China"``); empty: none.
    :returns: the Markdown lines, or None.
    """
    pair = established_and_rising(params)
    if pair is None:
        return None
    established, rising = pair
    old, new = _seat(established, seat_names), _seat(rising, seat_names)
    window = window_of_opportunity(params, episodes=episodes, seed=seed)
    last = window.years - 1
    early, late = default_years(params)
    lines = [
        f"Fixed stances, {episodes} episodes, seed {seed}: every state spends a burden of {EQUAL_BURDEN:g} on an "
        "even mix of systems (`striker` stance); `experiments/power_shift.py` computes every number.",
        "",
        f"**Power shift.** In peace the rising power {new} grows at {params.growth_rate[rising]:.1%} a year and "
        f"the established power {old} at {params.growth_rate[established]:.1%}. The rising power's share of all "
        f"wealth goes "
        f"from {window.wealth_share[0, rising]:.2f} in year 0 to {window.wealth_share[last, rising]:.2f} in year "
        f"{last}; the established power's from {window.wealth_share[0, established]:.2f} to "
        f"{window.wealth_share[last, established]:.2f}.",
        "",
        "**Window of opportunity.** Chance that one attack would succeed, at equal burdens and with nobody at war:",
        "",
        "| year | established attacks rising | rising attacks established |",
        "|---|---|---|",
    ]
    for year in sorted({0, early, (early + late) // 2, late, last}):
        lines.append(f"| {year} | {window.win_probability[year, established, rising]:.3f} | "
                     f"{window.win_probability[year, rising, established]:.3f} |")
    lines += [
        "",
        f"Trend over the episode (least-squares slope, per year): {window.trend(established, rising):+.4f} when the "
        f"established power attacks, {window.trend(rising, established):+.4f} when the rising power does.",
        "",
        f"**Preventive motive.** One side strikes the other once, in year {early} (early) or year {late} (late); "
        "everyone else, and the striker in every other year, keeps the same burden and never attacks. Gains are "
        "with the strike minus without it (same seeds). Motive = early gain minus late gain; positive: better "
        "to fight now than later.",
        "",
        "| striker | chance of winning, early / late | end share gain, early / late | return gain as a security "
        "seeker, early / late | return gain as a greedy state, early / late | motive: share / seeker / greedy |",
        "|---|---|---|---|---|---|",
    ]
    for striker, target, label in ((established, rising, f"established: {old}"),
                                   (rising, established, f"rising: {new}")):
        motive = preventive_motive(params, striker, target, early, late, episodes=episodes, seed=seed)
        a, b = motive.early, motive.late
        lines.append(
            f"| {label} | {a.win_probability:.3f} / {b.win_probability:.3f} | {a.share_gain:+.4f} / "
            f"{b.share_gain:+.4f} | {a.return_gain['security_seeker']:+.2f} / {b.return_gain['security_seeker']:+.2f}"
            f" | {a.return_gain['greedy']:+.2f} / {b.return_gain['greedy']:+.2f} | {motive.motive('share'):+.4f} / "
            f"{motive.motive('security_seeker'):+.2f} / {motive.motive('greedy'):+.2f} |"
        )
    return lines
