"""Arms races in yearly series: growth, mutual buildups, Richardson fits and interdependence tests.

The maths shared by simulated and historical data, I/O-free: every function
takes yearly levels (or growth rates) as arrays and returns numbers, masks or
runs of years. ``sd_env.experiments.lab.measures`` applies it to simulated
episodes, ``sd_env.experiments.history`` to the Correlates of War record.

* :func:`growth_rates`, :func:`growing`, :func:`runs` and
  :func:`mutual_buildups`: the Gibler, Rider & Hutchison (2005) coding of a
  mutual military buildup (both series grow by at least 8% a year for at
  least three consecutive years), on any two yearly series;
  :func:`combined_buildups`, the same on sides measured by several series
  (GRH's "expenditure or personnel").
* :func:`richardson_fit` and :func:`richardson_combined_fit`: Richardson's
  (1960) discrete reaction model of two rivals, and his fit of two blocs'
  combined level, by ordinary least squares.
* Tests of interdependence around a buildup: :func:`reaction_test`
  (Richardson's reaction coefficients k > 0 and l > 0);
  :func:`outgrows_system` and :func:`buildups_beyond_system` (each side's
  growth beyond the whole system's: a common shock is no race);
  :func:`growth_beyond_system` and :func:`response_test` (each side's growth
  beyond the system answers the rival's).

Errors in the input are :class:`SeriesError` (an ``SdEnvError``).

References: Richardson, L. F. (1960) *Arms and Insecurity*, Boxwood;
Gibler, D. M., Rider, T. J. & Hutchison, M. L. (2005) Taking arms against a
sea of troubles, *Journal of Peace Research* 42(2):131-47.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from sd_env.errors import SdEnvError

#: Default threshold of yearly relative growth (0.08 = 8%), Gibler, Rider & Hutchison (2005).
DEFAULT_GROWTH = 0.08
#: Default minimum run of consecutive growth years, Gibler, Rider & Hutchison (2005).
DEFAULT_YEARS = 3
#: Growth is compared with the threshold up to this much rounding, so that 100, 108, 116.64 is two 8% years.
GROWTH_ROUNDING = 1e-9


class SeriesError(SdEnvError):
    """Yearly series or a rule that cannot be used: unequal lengths, too few years, collinear regressors, a bad
    growth threshold or run length."""


# --------------------------------------------------------------------------------------------------------------
# Yearly series: growth and mutual buildups
# --------------------------------------------------------------------------------------------------------------

def _as_series(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise SeriesError(f"{name} must be a 1-D yearly series, got an array of shape {array.shape}", parameter=name)
    return array


def growth_rates(levels: Sequence[float] | np.ndarray) -> np.ndarray:
    """Relative growth over the previous year, ``levels[t] / levels[t-1] - 1`` (0.08 = 8%).

    Entry 0 and every entry whose level or previous level is missing (NaN)
    or not positive are NaN: growth from or to a zero or negative level is
    undefined (COW records a state with no military spending as 0), so such
    a year breaks a run of growth.

    :param levels: yearly levels, shape (T,), any unit; NaN where missing.
    :returns: the growth rates, shape (T,), as fractions per year (0.08 = 8%).
    :raises SeriesError: ``levels`` is not one-dimensional.
    """
    levels = _as_series(levels, "levels")
    rates = np.full(levels.shape, np.nan)
    if levels.size > 1:
        previous, current = levels[:-1], levels[1:]
        defined = (previous > 0) & (current > 0)  # False where either is NaN
        with np.errstate(divide="ignore", invalid="ignore"):
            rates[1:] = np.where(defined, current / previous - 1.0, np.nan)
    return rates


def check_rule(growth: float, years: int) -> None:
    """Check a buildup rule: a growth threshold above -100% and a whole run length of at least one year.

    :param growth: relative yearly growth threshold, a finite number > -1 (0.08 = 8%).
    :param years: minimum run length in years, an integer >= 1.
    :raises SeriesError: either is out of range (``parameter`` names which).
    """
    if not (isinstance(growth, (int, float)) and math.isfinite(growth) and growth > -1.0):
        raise SeriesError(f"growth must be a relative yearly growth > -1 (0.08 = 8%), got {growth!r}",
                          parameter="growth")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise SeriesError(f"years must be an integer >= 1 (consecutive years of growth), got {years!r}",
                          parameter="years")


def growing(rates: np.ndarray, growth: float = DEFAULT_GROWTH) -> np.ndarray:
    """Boolean mask of the years whose growth rate is at least ``growth`` (up to :data:`GROWTH_ROUNDING`).

    :param rates: yearly growth rates, shape (T,), fractions per year (as :func:`growth_rates` returns); NaN
        where undefined.
    :param growth: relative yearly growth threshold (0.08 = 8%).
    :returns: boolean mask, shape (T,); False where the rate is NaN.
    """
    with np.errstate(invalid="ignore"):
        return np.asarray(rates, dtype=float) >= growth - GROWTH_ROUNDING


def runs(mask: Sequence[bool] | np.ndarray, years: int = DEFAULT_YEARS) -> list[tuple[int, int]]:
    """Maximal runs of True at least ``years`` long.

    :param mask: yearly booleans, shape (T,).
    :param years: minimum run length in years.
    :returns: each run as inclusive ``(first, last)`` indices into ``mask``, in order.
    """
    result: list[tuple[int, int]] = []
    start = None
    for index, value in enumerate([*np.asarray(mask, dtype=bool).tolist(), False]):
        if value and start is None:
            start = index
        elif not value and start is not None:
            if index - start >= years:
                result.append((start, index - 1))
            start = None
    return result


def mutual_buildups(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    growth: float = DEFAULT_GROWTH,
    years: int = DEFAULT_YEARS,
) -> list[tuple[int, int]]:
    """Mutual military buildups of two rivals (Gibler, Rider & Hutchison 2005).

    A mutual buildup is a run of at least ``years`` consecutive years in
    which *both* series grow by at least ``growth`` over the previous year
    (``x[t] / x[t-1] - 1 >= growth``, up to :data:`GROWTH_ROUNDING`).

    :param x: yearly levels of the first rival (e.g. military expenditure or personnel), shape (T,),
        consecutive years, any unit (only ratios matter); NaN where missing. A missing, zero or negative
        level leaves the growth into and out of that year undefined, which breaks a run.
    :param y: yearly levels of the second rival, shape (T,), as ``x``.
    :param growth: relative yearly growth threshold, > -1 (default 0.08 = 8%).
    :param years: minimum run length in years, >= 1 (default 3).
    :returns: each run as ``(first, last)``, the inclusive indices of the years whose value grew: index ``t``
        means growth from ``t - 1`` to ``t``, so ``first >= 1``.
    :raises SeriesError: ``x`` and ``y`` of different lengths or not one-dimensional, or a bad ``growth`` or
        ``years``.
    """
    x = _as_series(x, "x")
    y = _as_series(y, "y")
    if x.shape != y.shape:
        raise SeriesError(f"x and y must be yearly series of the same length, got {x.size} and {y.size} years")
    check_rule(growth, years)
    return runs(growing(growth_rates(x), growth) & growing(growth_rates(y), growth), years)


#: How the two series combine: ``"either"``, a side arms in a year when its expenditure or its personnel grew;
#: ``"same"``, a buildup is one series (both sides' milex, or both sides' milper) growing every year of the run.
RULES: tuple[str, ...] = ("either", "same")


def combined_buildups(
    first_side: Sequence[np.ndarray], second_side: Sequence[np.ndarray], years: int = DEFAULT_YEARS,
    rule: str = "either",
) -> list[tuple[int, int]]:
    """Mutual buildups of two sides each measured by several series (GRH: expenditure or personnel).

    With ``rule="either"`` a side arms in a year when any of its series
    grew, and a buildup is a run of at least ``years`` years in which both
    sides arm; with ``rule="same"`` a buildup is a run of one series growing
    on both sides, and runs of different series that overlap or touch are
    one buildup. The historical coding
    (``sd_env.experiments.history.coding.code_rivalry_buildups``) and the
    simulated one (``sd_env.experiments.lab.measures``) both call this.

    :param first_side: one yearly mask per series, each of shape (T,), True in the years in which that series
        of the first side grew by at least the threshold (see :func:`growing`).
    :param second_side: the second side's masks, the same series in the same order.
    :param years: minimum run length in years.
    :param rule: one of :data:`RULES`.
    :returns: runs as :func:`mutual_buildups` returns them.
    :raises SeriesError: an unknown ``rule``, or sides with different or no series.
    """
    if rule not in RULES:
        raise SeriesError(f"rule must be one of {', '.join(RULES)}, got {rule!r}", parameter="rule")
    if len(first_side) != len(second_side) or not first_side:
        raise SeriesError("both sides need the same, non-empty list of series")
    if rule == "either":
        return runs(np.logical_or.reduce(list(first_side)) & np.logical_or.reduce(list(second_side)), years)
    covered = np.zeros(len(first_side[0]), dtype=bool)
    for mine, theirs in zip(first_side, second_side):
        for first, last in runs(np.asarray(mine) & np.asarray(theirs), years):
            covered[first:last + 1] = True
    return runs(covered, years)


# --------------------------------------------------------------------------------------------------------------
# Richardson's model
# --------------------------------------------------------------------------------------------------------------

def _least_squares(design: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """OLS coefficients, their standard errors and the residual sum of squares."""
    coefficients, _, rank, _ = np.linalg.lstsq(design, target, rcond=None)
    n, p = design.shape
    if rank < p:
        raise SeriesError(f"the regressors are collinear over these {n} years (rank {rank} < {p}); "
                          "choose years in which the series vary")
    residuals = target - design @ coefficients
    rss = float(residuals @ residuals)
    sigma2 = rss / (n - p) if n > p else float("nan")
    covariance = sigma2 * np.linalg.inv(design.T @ design)
    return coefficients, np.sqrt(np.clip(np.diag(covariance), 0.0, None)), rss


@dataclass(frozen=True)
class RichardsonFit:
    """Richardson's (1960) discrete arms-race model fitted to two yearly series by least squares.

    ``x[t+1] - x[t] = k*y[t] - a*x[t] + g`` and ``y[t+1] - y[t] = l*x[t] - b*y[t] + h``.

    ``k`` and ``l`` (per year) are the reaction (defence) coefficients: how
    much of the rival's level is added each year; ``a`` and ``b`` (per
    year) the fatigue (expense) coefficients; ``g`` and ``h`` (in the
    series' unit per year) the grievances. Each ``*_se`` is the OLS
    standard error of the coefficient beside it (``nan`` with no residual
    degrees of freedom). ``n_years`` is the number of yearly changes used
    (year pairs with all four values present).
    """

    k: float
    a: float
    g: float
    l: float  # noqa: E741 (Richardson's name)
    b: float
    h: float
    k_se: float
    a_se: float
    g_se: float
    l_se: float
    b_se: float
    h_se: float
    n_years: int

    @property
    def stable(self) -> bool:
        """Richardson's stability condition ``a*b > k*l``: fatigue outweighs mutual reaction, the race settles.

        Richardson took the fatigues ``a`` and ``b`` positive; with ``a + b > 0``
        added, this is exactly the condition for the equilibrium of his
        continuous model to attract (trace ``-(a+b) < 0``, determinant
        ``a*b - k*l > 0``), so a fit with negative fatigue is not called stable.
        """
        return self.a * self.b > self.k * self.l and self.a + self.b > 0

    @property
    def equilibrium(self) -> tuple[float, float] | None:
        """The levels ``(x, y)`` at which both changes are zero, or None when ``a*b == k*l``."""
        determinant = self.a * self.b - self.k * self.l
        if determinant == 0:
            return None
        return ((self.b * self.g + self.k * self.h) / determinant, (self.a * self.h + self.l * self.g) / determinant)

    def to_dict(self) -> dict[str, float | int | bool | None]:
        """Coefficients, standard errors (NaN as None), ``n_years`` and ``stable``, for JSON."""
        record: dict[str, float | int | bool | None] = {
            key: (None if isinstance(value, float) and not math.isfinite(value) else value)
            for key, value in asdict(self).items()
        }
        record["stable"] = self.stable
        return record


def _transitions(*series: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Values at ``t`` and ``t + 1`` of each series over the year pairs where every value is present."""
    keep = np.ones(series[0].size - 1, dtype=bool)
    for values in series:
        keep &= np.isfinite(values[:-1]) & np.isfinite(values[1:])
    return [values[:-1][keep] for values in series], [values[1:][keep] for values in series]


def richardson_fit(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> RichardsonFit:
    """Fit Richardson's (1960) discrete model to two rivals' yearly levels by ordinary least squares.

    Each equation is a separate regression of the yearly change on the
    rival's level, the own level and a constant (see :class:`RichardsonFit`).

    :param x: yearly levels of the first rival, shape (T,), consecutive years, any unit (the same as ``y``'s
        if the coefficients are to be compared); NaN where missing: year pairs with a NaN are dropped.
    :param y: yearly levels of the second rival over the same years, shape (T,).
    :returns: the coefficients and their standard errors.
    :raises SeriesError: unequal lengths, fewer than 4 usable yearly changes (3 coefficients per equation and
        one degree of freedom for the standard errors), or series that do not vary.
    """
    x = _as_series(x, "x")
    y = _as_series(y, "y")
    if x.shape != y.shape:
        raise SeriesError(f"x and y must be yearly series of the same length, got {x.size} and {y.size} years")
    if x.size < 2:
        raise SeriesError(f"Richardson's fit needs at least 5 years of both series, got {x.size}")
    (x0, y0), (x1, y1) = _transitions(x, y)
    n = x0.size
    if n < 4:
        raise SeriesError(f"Richardson's fit needs at least 4 yearly changes with both series present "
                          f"(5 consecutive years), got {n}")
    ones = np.ones(n)
    (k, minus_a, g), (k_se, a_se, g_se), _ = _least_squares(np.column_stack([y0, x0, ones]), x1 - x0)
    (l, minus_b, h), (l_se, b_se, h_se), _ = _least_squares(np.column_stack([x0, y0, ones]), y1 - y0)
    return RichardsonFit(
        k=float(k), a=float(-minus_a), g=float(g), l=float(l), b=float(-minus_b), h=float(h),
        k_se=float(k_se), a_se=float(a_se), g_se=float(g_se), l_se=float(l_se), b_se=float(b_se),
        h_se=float(h_se), n_years=int(n),
    )


@dataclass(frozen=True)
class CombinedFit:
    """Richardson's fit of two blocs' combined level ``s``: ``s[t+1] - s[t] = rate*((s[t] + s[t+1])/2 - zero_point)``.

    ``rate`` (per year) is the growth of the combined level per unit above
    ``zero_point`` (in the series' unit), the level at which the race would
    stand still: Richardson (1960) read ``rate = k - a`` for symmetric rivals.
    ``r_squared`` is the share of the variance of the yearly changes the line
    explains, ``n_years`` the number of yearly changes used.
    """

    rate: float
    zero_point: float
    r_squared: float
    n_years: int

    def to_dict(self) -> dict[str, float | int | None]:
        """``rate``, ``zero_point``, ``r_squared`` (NaN as None) and ``n_years``, for JSON."""
        return {key: (None if isinstance(value, float) and not math.isfinite(value) else value)
                for key, value in asdict(self).items()}


def richardson_combined_fit(levels: Sequence[float] | np.ndarray) -> CombinedFit:
    """Fit Richardson's line to a combined yearly level (the sum of both blocs' spending).

    Least squares of the yearly change ``s[t+1] - s[t]`` on the mean level
    ``(s[t] + s[t+1]) / 2``: slope ``rate``, intercept ``-rate*zero_point``.
    Year pairs with a NaN are dropped.

    :param levels: the combined yearly level, shape (T,), consecutive years, any unit; NaN where missing.
    :returns: the fitted line (see :class:`CombinedFit`).
    :raises SeriesError: fewer than 3 usable yearly changes, a constant level, or a rate of exactly zero (no
        zero point).
    """
    levels = _as_series(levels, "levels")
    if levels.size < 2:
        raise SeriesError(f"the combined fit needs at least 3 yearly changes (4 years), got {levels.size} years",
                          parameter="levels")
    (s0,), (s1,) = _transitions(levels)
    n = s0.size
    if n < 3:
        raise SeriesError(f"the combined fit needs at least 3 yearly changes with the level present, got {n}",
                          parameter="levels")
    change, mean = s1 - s0, (s0 + s1) / 2
    (rate, intercept), _, rss = _least_squares(np.column_stack([mean, np.ones(n)]), change)
    if rate == 0:
        raise SeriesError("the fitted rate is zero: the combined level has no zero point", parameter="levels")
    total = float(((change - change.mean()) ** 2).sum())
    r_squared = 1.0 - rss / total if total > 0 else float("nan")
    return CombinedFit(rate=float(rate), zero_point=float(-intercept / rate), r_squared=float(r_squared), n_years=n)


# --------------------------------------------------------------------------------------------------------------
# Interdependence: reaction, growth beyond the system, response
# --------------------------------------------------------------------------------------------------------------

def reaction_test(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> bool | None:
    """Interdependence: does each side's yearly change grow with the other's level?

    Richardson's (1960) reaction coefficients of :func:`richardson_fit`
    are both positive (``k > 0`` and ``l > 0``): each rival adds more when
    the other holds more, other things (its own level, a constant
    grievance) equal. This is the action-reaction that defines an arms race
    in Richardson's model and that Gibler, Rider & Hutchison (2005) confirmed
    by hand from historical sources; two series that merely grow together
    (a common trend, inflation, a world war) need not show it. The signs of
    ``k`` and ``l`` do not depend on the units of ``x`` and ``y``.

    :param x: yearly levels of the first rival, shape (T,), any unit; NaN where missing.
    :param y: yearly levels of the second rival over the same years, shape (T,).
    :returns: True or False, or None where the series cannot be fitted (too few years present, or no
        variation).
    """
    try:
        fit = richardson_fit(x, y)
    except (SeriesError, np.linalg.LinAlgError):
        return None
    return fit.k > 0 and fit.l > 0


def outgrows_system(rates: Sequence[float] | np.ndarray, system: Sequence[float] | np.ndarray,
                    growth: float = DEFAULT_GROWTH) -> np.ndarray:
    """Years in which a series arms *beyond the state system*: growth >= ``growth`` and above the system's growth.

    A year counts when the series grew by at least ``growth`` (as
    :func:`growing`) and by strictly more than the system; where the
    system's growth is undefined (NaN) the second condition holds. Growth
    that every state shows (a world war, the inflation of the 1970s in
    current-dollar spending) is thus no evidence of a rivalry-specific
    buildup.

    :param rates: the series' yearly growth rates, shape (T,), fractions per year (:func:`growth_rates`); NaN
        where undefined.
    :param system: the growth of the whole system in the same years, shape (T,), fractions per year (e.g. the
        median state's, ``sd_env.experiments.history.data.system_growth``); NaN where undefined.
    :param growth: relative yearly growth threshold (0.08 = 8%).
    :returns: boolean mask, shape (T,).
    :raises SeriesError: ``rates`` and ``system`` of different lengths.
    """
    rates = _as_series(rates, "rates")
    system = _as_series(system, "system")
    if rates.shape != system.shape:
        raise SeriesError(f"rates and system must cover the same years, got {rates.size} and {system.size} years")
    with np.errstate(invalid="ignore"):
        above = ~(rates <= system) | np.isnan(system)
    return growing(rates, growth) & above


def buildups_beyond_system(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    system: Sequence[float] | np.ndarray,
    growth: float = DEFAULT_GROWTH,
    years: int = DEFAULT_YEARS,
) -> list[tuple[int, int]]:
    """Mutual buildups in which both sides also outgrow the state system every year (see :func:`outgrows_system`).

    Like :func:`mutual_buildups` on the levels ``x`` and ``y``, with the
    further condition that each side's growth exceeds ``system`` year by
    year. Every run returned lies inside a run of :func:`mutual_buildups`.

    :param x: yearly levels of the first rival, shape (T,), any unit; NaN where missing.
    :param y: yearly levels of the second rival over the same years, shape (T,).
    :param system: the system's growth rate of the same series, shape (T,), fractions per year; NaN where
        undefined.
    :param growth: relative yearly growth threshold, > -1 (0.08 = 8%).
    :param years: minimum run length in years, >= 1.
    :returns: runs as :func:`mutual_buildups` returns them.
    :raises SeriesError: series of different lengths, or a bad ``growth`` or ``years``.
    """
    x = _as_series(x, "x")
    y = _as_series(y, "y")
    if x.shape != y.shape:
        raise SeriesError(f"x and y must be yearly series of the same length, got {x.size} and {y.size} years")
    check_rule(growth, years)
    return runs(outgrows_system(growth_rates(x), system, growth) & outgrows_system(growth_rates(y), system, growth),
                years)


#: Fewest usable years (a year with both sides' growth beyond the system in it and the year before) for
#: :func:`response_test`: three coefficients per equation and some degrees of freedom.
RESPONSE_MIN_YEARS = 8


def growth_beyond_system(rates: Sequence[float] | np.ndarray, system: Sequence[float] | np.ndarray) -> np.ndarray:
    """Yearly log-growth beyond the system, ``log(1 + rates) - log(1 + system)``.

    :param rates: the series' yearly growth rates, shape (T,), fractions per year; NaN where undefined.
    :param system: the system's growth rates in the same years, shape (T,); NaN where undefined.
    :returns: log-growth beyond the system, shape (T,), per year; NaN where either rate is.
    :raises SeriesError: ``rates`` and ``system`` of different lengths.
    """
    rates = _as_series(rates, "rates")
    system = _as_series(system, "system")
    if rates.shape != system.shape:
        raise SeriesError(f"rates and system must cover the same years, got {rates.size} and {system.size} years")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log1p(rates) - np.log1p(system)


def response_test(dx: Sequence[float] | np.ndarray, dy: Sequence[float] | np.ndarray,
                  min_years: int = RESPONSE_MIN_YEARS) -> bool | None:
    """Does each side's growth answer the other's? A Granger-style sign test on growth beyond the system.

    Over the years ``t`` in which both are present in ``t`` and ``t - 1``,
    ``dx[t]`` is regressed by least squares on ``dx[t-1]``, ``dy[t-1]`` and
    a constant, and ``dy[t]`` on ``dy[t-1]``, ``dx[t-1]`` and a constant;
    True when both coefficients on the rival's last growth are positive
    (each side grows faster after the other did, given its own last growth
    and beyond the common shock).

    :param dx: the first side's yearly growth beyond the system, shape (T,), log-growth per year
        (:func:`growth_beyond_system`); NaN where missing.
    :param dy: the second side's over the same consecutive years, shape (T,).
    :param min_years: fewest usable years to test (at least 4 are always needed).
    :returns: True or False, or None with fewer than ``min_years`` usable years or regressors that do not
        vary.
    :raises SeriesError: ``dx`` and ``dy`` of different lengths.
    """
    dx = _as_series(dx, "dx")
    dy = _as_series(dy, "dy")
    if dx.shape != dy.shape:
        raise SeriesError(f"dx and dy must cover the same years, got {dx.size} and {dy.size} years")
    (x0, y0), (x1, y1) = _transitions(dx, dy) if dx.size > 1 else ((np.empty(0), np.empty(0)),) * 2
    if x0.size < max(int(min_years), 4):
        return None
    ones = np.ones(x0.size)
    try:
        (_, on_rival_x, _), _, _ = _least_squares(np.column_stack([x0, y0, ones]), x1)
        (_, on_rival_y, _), _, _ = _least_squares(np.column_stack([y0, x0, ones]), y1)
    except (SeriesError, np.linalg.LinAlgError):
        return None
    return bool(on_rival_x > 0 and on_rival_y > 0)
