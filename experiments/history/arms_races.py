"""Arms races in yearly historical series: mutual buildups, Richardson fits, and their check against the record.

The environment's agents are asked whether they drift into arms races; this
module applies the same measures to what states did. It reads the standard
Correlates of War (COW) formats from paths the user gives (the project never
ships the data; see ``docs/history.md``):

* :func:`mutual_buildups`: the Gibler, Rider & Hutchison (2005) coding of a
  mutual military buildup (both series grow by at least 8% a year for at
  least three consecutive years), on any two yearly series.
* :func:`richardson_fit` and :func:`richardson_combined_fit`: Richardson's
  (1960) discrete reaction model of two rivals, and his fit of two blocs'
  combined spending, by ordinary least squares.
* Interdependence filters (:data:`FILTERS`, ``--filter``): ``reaction``
  (:func:`reaction_test`, Richardson's reaction coefficients k > 0 and
  l > 0 around a buildup); ``system`` (:func:`outgrows_system`, each
  side's growth beyond the median state's, :func:`system_growth`: a common
  shock is no race; the primary); ``war`` (:func:`mobilisation_years`,
  :func:`war_test`: growth while fighting a third state is mobilisation,
  after Diehl 1983); ``response`` (:func:`response_test`: each side's
  growth beyond the system answers the rival's). :func:`split_races` and
  :func:`filter_succeeds` fix how they are compared (``docs/history.md``).
* Loaders (:func:`load_nmc`, :func:`load_rivalries`, :func:`load_races`,
  :func:`load_wars`, :func:`load_war_years`), :func:`code_rivalry_buildups` (the coding run on every
  rivalry dyad), :func:`score_races` (recall and precision against a list of
  races) and :func:`war_onsets_after_buildups` (Wallace 1979; Sample 1997).

References: Richardson, L. F. (1960) *Arms and Insecurity*, Boxwood;
Gibler, D. M., Rider, T. J. & Hutchison, M. L. (2005) Taking arms against a
sea of troubles, *Journal of Peace Research* 42(2):131-47; Thompson, W. R. &
Dreyer, D. (2012) *Handbook of International Rivalries*, CQ Press; Singer,
J. D., Bremer, S. & Stuckey, J. (1972), COW National Material Capabilities
v7.0; Wallace, M. D. (1979) Arms races and escalation, *Journal of Conflict
Resolution* 23(1):3-16; Sample, S. G. (1997) Arms races and dispute
escalation, *Journal of Peace Research* 34(1):7-22; Diehl, P. F. (1983)
Arms races and escalation: a closer look, *Journal of Peace Research*
20(3):205-12; Diehl, P. F. & Crescenzi, M. J. C. (1998) Reconfiguring the
arms race-war debate, *Journal of Peace Research* 35(1):111-18.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: Default threshold of yearly relative growth (0.08 = 8%), Gibler, Rider & Hutchison (2005).
DEFAULT_GROWTH = 0.08
#: Default minimum run of consecutive growth years, Gibler, Rider & Hutchison (2005).
DEFAULT_YEARS = 3
#: Growth is compared with the threshold up to this much rounding, so that 100, 108, 116.64 is two 8% years.
GROWTH_ROUNDING = 1e-9
#: COW's NMC ``milex`` is in thousands of British pounds up to 1913 and thousands of current US dollars from
#: this year on: growth into this year, and a fit across it, compare two currencies.
MILEX_CURRENCY_CHANGE_YEAR = 1914
#: The two NMC series of military effort, in the order they are tried.
SERIES: tuple[str, ...] = ("milex", "milper")
#: COW's code for a missing value.
COW_MISSING = -9
#: Thompson & Dreyer (2012) code North Yemen 679 before unification; COW's state list (and NMC) give the
#: Yemen Arab Republic 678 up to 1990-05-21 and unified Yemen 679 from 1990-05-22. A rivalry that starts
#: before 1990 with 679 is recoded to 678: {T&D code: (COW code, first year the T&D code is right)}.
RIVALRY_CODE_FIXES: dict[int, tuple[int, int]] = {679: (678, 1990)}


# --------------------------------------------------------------------------------------------------------------
# Yearly series: growth and mutual buildups
# --------------------------------------------------------------------------------------------------------------

def _as_series(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D yearly series, got an array of shape {array.shape}")
    return array


def growth_rates(levels: Sequence[float] | np.ndarray) -> np.ndarray:
    """Relative growth over the previous year, ``levels[t] / levels[t-1] - 1`` (0.08 = 8%).

    Returns an array as long as ``levels``; entry 0 and every entry whose
    level or previous level is missing (NaN) or not positive are NaN: growth
    from or to a zero or negative level is undefined (COW records a state
    with no military spending as 0), so such a year breaks a run of growth.
    """
    levels = _as_series(levels, "levels")
    rates = np.full(levels.shape, np.nan)
    if levels.size > 1:
        previous, current = levels[:-1], levels[1:]
        defined = (previous > 0) & (current > 0)  # False where either is NaN
        with np.errstate(divide="ignore", invalid="ignore"):
            rates[1:] = np.where(defined, current / previous - 1.0, np.nan)
    return rates


def _check_rule(growth: float, years: int) -> None:
    if not (isinstance(growth, (int, float)) and math.isfinite(growth) and growth > -1.0):
        raise ValueError(f"growth must be a relative yearly growth > -1 (0.08 = 8%), got {growth!r}")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise ValueError(f"years must be an integer >= 1 (consecutive years of growth), got {years!r}")


def growing(rates: np.ndarray, growth: float = DEFAULT_GROWTH) -> np.ndarray:
    """Boolean mask of the years whose growth rate is at least ``growth`` (NaN is False)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(rates, dtype=float) >= growth - GROWTH_ROUNDING


def runs(mask: Sequence[bool] | np.ndarray, years: int = DEFAULT_YEARS) -> list[tuple[int, int]]:
    """Maximal runs of True at least ``years`` long, as inclusive ``(first, last)`` indices."""
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

    Args:
        x, y: yearly levels of the two rivals (e.g. military expenditure or
            personnel), same length, consecutive years, NaN where missing.
            Any unit; only ratios matter. A missing, zero or negative level
            leaves the growth into and out of that year undefined, which
            breaks a run.
        growth: relative yearly growth threshold, > -1 (default 0.08 = 8%).
        years: minimum run length in years, >= 1 (default 3).

    Returns:
        Each run as ``(first, last)``, the inclusive indices of the years
        whose value grew: index ``t`` means growth from ``t - 1`` to ``t``,
        so ``first >= 1``.
    """
    x = _as_series(x, "x")
    y = _as_series(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x and y must be yearly series of the same length, got {x.size} and {y.size} years")
    _check_rule(growth, years)
    return runs(growing(growth_rates(x), growth) & growing(growth_rates(y), growth), years)


# --------------------------------------------------------------------------------------------------------------
# Richardson's model
# --------------------------------------------------------------------------------------------------------------

def _least_squares(design: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """OLS coefficients, their standard errors and the residual sum of squares."""
    coefficients, _, rank, _ = np.linalg.lstsq(design, target, rcond=None)
    n, p = design.shape
    if rank < p:
        raise ValueError(f"the regressors are collinear over these {n} years (rank {rank} < {p}); "
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

    Args:
        x, y: yearly levels of the two rivals over the same consecutive
            years (any unit, the same for both if the coefficients are to be
            compared; NaN where missing: year pairs with a NaN are dropped).

    Raises:
        ValueError: unequal lengths, fewer than 4 usable yearly changes
            (3 coefficients per equation and one degree of freedom for the
            standard errors), or series that do not vary.
    """
    x = _as_series(x, "x")
    y = _as_series(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x and y must be yearly series of the same length, got {x.size} and {y.size} years")
    if x.size < 2:
        raise ValueError(f"Richardson's fit needs at least 5 years of both series, got {x.size}")
    (x0, y0), (x1, y1) = _transitions(x, y)
    n = x0.size
    if n < 4:
        raise ValueError(f"Richardson's fit needs at least 4 yearly changes with both series present "
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
        return {key: (None if isinstance(value, float) and not math.isfinite(value) else value)
                for key, value in asdict(self).items()}


def richardson_combined_fit(levels: Sequence[float] | np.ndarray) -> CombinedFit:
    """Fit Richardson's line to a combined yearly level (the sum of both blocs' spending).

    Least squares of the yearly change ``s[t+1] - s[t]`` on the mean level
    ``(s[t] + s[t+1]) / 2``: slope ``rate``, intercept ``-rate*zero_point``.
    Year pairs with a NaN are dropped.

    Raises:
        ValueError: fewer than 3 usable yearly changes, a constant level, or a
            rate of exactly zero (no zero point).
    """
    levels = _as_series(levels, "levels")
    if levels.size < 2:
        raise ValueError(f"the combined fit needs at least 3 yearly changes (4 years), got {levels.size} years")
    (s0,), (s1,) = _transitions(levels)
    n = s0.size
    if n < 3:
        raise ValueError(f"the combined fit needs at least 3 yearly changes with the level present, got {n}")
    change, mean = s1 - s0, (s0 + s1) / 2
    (rate, intercept), _, rss = _least_squares(np.column_stack([mean, np.ones(n)]), change)
    if rate == 0:
        raise ValueError("the fitted rate is zero: the combined level has no zero point")
    total = float(((change - change.mean()) ** 2).sum())
    r_squared = 1.0 - rss / total if total > 0 else float("nan")
    return CombinedFit(rate=float(rate), zero_point=float(-intercept / rate), r_squared=float(r_squared), n_years=n)


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

    Returns:
        True or False, or None where the series cannot be fitted (too few
        years present, or no variation).
    """
    try:
        fit = richardson_fit(x, y)
    except ValueError:
        return None
    return fit.k > 0 and fit.l > 0


def outgrows_system(rates: Sequence[float] | np.ndarray, system: Sequence[float] | np.ndarray,
                    growth: float = DEFAULT_GROWTH) -> np.ndarray:
    """Years in which a series arms *beyond the state system*: growth >= ``growth`` and above the system's growth.

    ``rates`` are the series' yearly growth rates (:func:`growth_rates`),
    ``system`` the growth of the whole state system in the same years (the
    median state's, :func:`system_growth`). A year counts when the series
    grew by at least ``growth`` (as :func:`growing`) and by strictly more
    than the system; where the system's growth is undefined (NaN) the
    second condition holds. Growth that every state shows (a world war,
    the inflation of the 1970s in current-dollar spending) is thus no
    evidence of a rivalry-specific buildup.
    """
    rates = _as_series(rates, "rates")
    system = _as_series(system, "system")
    if rates.shape != system.shape:
        raise ValueError(f"rates and system must cover the same years, got {rates.size} and {system.size} years")
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
    further condition that each side's growth exceeds ``system`` (the
    system's growth rate of the same series, year by year, NaN where
    undefined). Every run returned lies inside a run of
    :func:`mutual_buildups`.
    """
    x = _as_series(x, "x")
    y = _as_series(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x and y must be yearly series of the same length, got {x.size} and {y.size} years")
    _check_rule(growth, years)
    return runs(outgrows_system(growth_rates(x), system, growth) & outgrows_system(growth_rates(y), system, growth),
                years)


#: Fewest usable years (a year with both sides' growth beyond the system in it and the year before) for
#: :func:`response_test`: three coefficients per equation and some degrees of freedom.
RESPONSE_MIN_YEARS = 8


def growth_beyond_system(rates: Sequence[float] | np.ndarray, system: Sequence[float] | np.ndarray) -> np.ndarray:
    """Yearly log-growth beyond the state system, ``log(1 + rates) - log(1 + system)`` (NaN where either is)."""
    rates = _as_series(rates, "rates")
    system = _as_series(system, "system")
    if rates.shape != system.shape:
        raise ValueError(f"rates and system must cover the same years, got {rates.size} and {system.size} years")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log1p(rates) - np.log1p(system)


def response_test(dx: Sequence[float] | np.ndarray, dy: Sequence[float] | np.ndarray,
                  min_years: int = RESPONSE_MIN_YEARS) -> bool | None:
    """Does each side's growth answer the other's? A Granger-style sign test on growth beyond the system.

    ``dx`` and ``dy`` are the two sides' yearly growth beyond the system
    (:func:`growth_beyond_system`) over the same consecutive years, NaN
    where missing. Over the years ``t`` in which both are present in ``t``
    and ``t - 1``, ``dx[t]`` is regressed by least squares on ``dx[t-1]``,
    ``dy[t-1]`` and a constant, and ``dy[t]`` on ``dy[t-1]``, ``dx[t-1]``
    and a constant; True when both coefficients on the rival's last growth
    are positive (each side grows faster after the other did, given its own
    last growth and beyond the common shock).

    Returns:
        True or False, or None with fewer than ``min_years`` usable years or
        regressors that do not vary.
    """
    dx = _as_series(dx, "dx")
    dy = _as_series(dy, "dy")
    if dx.shape != dy.shape:
        raise ValueError(f"dx and dy must cover the same years, got {dx.size} and {dy.size} years")
    (x0, y0), (x1, y1) = _transitions(dx, dy) if dx.size > 1 else ((np.empty(0), np.empty(0)),) * 2
    if x0.size < max(int(min_years), 4):
        return None
    ones = np.ones(x0.size)
    try:
        (_, on_rival_x, _), _, _ = _least_squares(np.column_stack([x0, y0, ones]), x1)
        (_, on_rival_y, _), _, _ = _least_squares(np.column_stack([y0, x0, ones]), y1)
    except ValueError:
        return None
    return bool(on_rival_x > 0 and on_rival_y > 0)


def mobilisation_years(
    ccode1: int, ccode2: int, first: int, last: int, opponents: dict[tuple[int, int], set[int]],
) -> list[int]:
    """Years of a buildup in which either side fights a war in which it is not fighting the other (Diehl 1983).

    ``opponents[(state, year)]`` is the set of states ``state`` is at war
    with in ``year`` (:func:`war_opponents`). A year from ``first`` to
    ``last`` is a mobilisation year when ``ccode1`` is at war that year and
    not with ``ccode2``, or the other way round: its growth is then
    mobilisation for a war with a third party rather than arming against
    the rival. War years against the rival are not mobilisation years.
    """
    years = []
    for year in range(first, last + 1):
        for state, rival in ((ccode1, ccode2), (ccode2, ccode1)):
            enemies = opponents.get((state, year))
            if enemies and rival not in enemies:
                years.append(year)
                break
    return years


def war_test(ccode1: int, ccode2: int, first: int, last: int, opponents: dict[tuple[int, int], set[int]]) -> bool:
    """The ``war`` filter: True unless more than half of the years ``first``-``last`` are :func:`mobilisation_years`."""
    return 2 * len(mobilisation_years(ccode1, ccode2, first, last, opponents)) <= last - first + 1


# --------------------------------------------------------------------------------------------------------------
# Loaders of the standard formats
# --------------------------------------------------------------------------------------------------------------

def _read_csv(path: str | Path, what: str, columns: Sequence[str], example: str,
              measured: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV, checking that ``columns`` exist and hold whole numbers (``measured`` ones: any numbers)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file; give the path of {what} ({example})")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give the path of {what} ({example})")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0] if str(error) else error.__class__.__name__
        raise ValueError(f"{path}: not a CSV table ({reason}); expected {what} with columns "
                         f"{', '.join(columns)}") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                         f"{what} needs {', '.join(columns)} ({example})")
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        whole = column not in measured
        bad = values.isna() | ((values != values.round()) if whole else False)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            kind = "whole numbers" if whole else "numbers"
            raise ValueError(f"{path}: column {column} must hold {kind} (COW codes -9 for missing), "
                             f"got {frame[column].iloc[row]!r} in data row {row + 1}")
        frame[column] = values.astype(np.int64) if whole else values.astype(float)
    return frame


def load_nmc(path: str | Path) -> pd.DataFrame:
    """COW National Material Capabilities (``NMC-70-abridged.csv`` or later), one row per state-year.

    Returns columns ``ccode``, ``year``, ``milex`` (thousands of British
    pounds up to 1913, of current US dollars from 1914), ``milper``
    (thousands of personnel), as floats with NaN for COW's -9, and
    ``stateabb`` where the file has it; sorted by state and year.
    """
    columns = ("ccode", "year", "milex", "milper")
    frame = _read_csv(path, "a COW National Material Capabilities table", columns,
                      "NMC-70-abridged.csv from correlatesofwar.org", measured=SERIES)
    if frame.empty:
        raise ValueError(f"{path}: has a header but no state-years; NMC has one row per state-year")
    duplicated = frame.duplicated(["ccode", "year"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise ValueError(f"{path}: state {row.ccode} has two rows for {row.year}; NMC has one row per state-year")
    result = frame[list(columns)].copy()
    for column in SERIES:
        result[column] = result[column].astype(float).where(result[column] != COW_MISSING)
    result["stateabb"] = frame["stateabb"].astype(str) if "stateabb" in frame.columns else result["ccode"].astype(str)
    return result.sort_values(["ccode", "year"]).reset_index(drop=True)


def _check_codes(frame: pd.DataFrame, path: str | Path, nmc: pd.DataFrame | None, what: str,
                 rows: pd.Series | None = None) -> None:
    """Every ``ccode1``/``ccode2`` (of the ``rows`` selected, default all) is a state of the NMC data."""
    if nmc is None:
        return
    known = set(nmc["ccode"].tolist())
    for column in ("ccode1", "ccode2"):
        unknown = ~frame[column].isin(known)
        if rows is not None:
            unknown &= rows
        if unknown.any():
            index = int(np.flatnonzero(unknown.to_numpy())[0])
            raise ValueError(f"{path}: {what} in data row {index + 1} has {column} {frame[column].iloc[index]}, "
                             f"which is no state in the NMC data; codes are COW state numbers (2 USA, 200 UKG, "
                             f"365 RUS)")


def _check_years(frame: pd.DataFrame, path: str | Path, what: str) -> None:
    backwards = frame["styear"] > frame["endyear"]
    if backwards.any():
        index = int(np.flatnonzero(backwards.to_numpy())[0])
        raise ValueError(f"{path}: {what} in data row {index + 1} ends ({frame['endyear'].iloc[index]}) before "
                         f"it starts ({frame['styear'].iloc[index]}); styear must be <= endyear")


def load_rivalries(path: str | Path, nmc: pd.DataFrame | None = None) -> pd.DataFrame:
    """Thompson & Dreyer (2012) strategic rivalries: one row per rivalry.

    Returns ``rivalryno``, ``rivalryname``, ``ccode1 < ccode2``, ``styear``,
    ``endyear``, with T&D's code for North Yemen before 1990 recoded to
    COW's (:data:`RIVALRY_CODE_FIXES`). With ``nmc``, a rivalry that
    overlaps the NMC years must name states in it (rivalries before 1816,
    e.g. of Venice, are kept and simply have no series).
    """
    frame = _read_csv(path, "a strategic-rivalry table", ("ccode1", "ccode2", "styear", "endyear"),
                      "Thompson & Dreyer 2012, td_rivalries.csv")
    frame = frame.copy()
    if "rivalryno" not in frame.columns:
        frame["rivalryno"] = np.arange(1, len(frame) + 1)
    if "rivalryname" not in frame.columns:
        frame["rivalryname"] = frame["ccode1"].astype(str) + "-" + frame["ccode2"].astype(str)
    for column in ("ccode1", "ccode2"):
        for code, (cow_code, correct_from) in RIVALRY_CODE_FIXES.items():
            frame.loc[(frame[column] == code) & (frame["styear"] < correct_from), column] = cow_code
    low, high = frame[["ccode1", "ccode2"]].min(axis=1), frame[["ccode1", "ccode2"]].max(axis=1)
    frame["ccode1"], frame["ccode2"] = low, high
    _check_years(frame, path, "the rivalry")
    if nmc is not None:
        _check_codes(frame, path, nmc, f"the rivalry (reaching the NMC years from {int(nmc['year'].min())})",
                     rows=frame["endyear"] >= int(nmc["year"].min()))
    return frame[["rivalryno", "rivalryname", "ccode1", "ccode2", "styear", "endyear"]].reset_index(drop=True)


def load_races(path: str | Path, nmc: pd.DataFrame | None = None) -> pd.DataFrame:
    """A list of arms races (as in Gibler, Rider & Hutchison 2005).

    Returns ``race_id`` (row numbers where the file has none), ``ccode1 < ccode2``, ``styear``, ``endyear``.
    """
    frame = _read_csv(path, "a list of arms races", ("ccode1", "ccode2", "styear", "endyear"),
                      "race_id,ccode1,ccode2,styear,endyear as in Gibler, Rider & Hutchison 2005")
    frame = frame.copy()
    if "race_id" not in frame.columns:
        frame["race_id"] = np.arange(1, len(frame) + 1)
    low, high = frame[["ccode1", "ccode2"]].min(axis=1), frame[["ccode1", "ccode2"]].max(axis=1)
    frame["ccode1"], frame["ccode2"] = low, high
    _check_years(frame, path, "the race")
    _check_codes(frame, path, nmc, "the race")
    return frame[["race_id", "ccode1", "ccode2", "styear", "endyear"]].reset_index(drop=True)


def load_wars(path: str | Path, nmc: pd.DataFrame | None = None) -> pd.DataFrame:
    """War onsets of COW's inter-state war dyad-years (v4.0): unordered dyads ``ccode1 < ccode2`` and ``year``.

    Rows with ``cowinteronset`` 1 are onsets; -9 (unknown) is dropped.
    """
    frame = _read_csv(path, "COW inter-state war dyad-years", ("ccode1", "ccode2", "year", "cowinteronset"),
                      "cow_interstate_war_dyad_years.csv from correlatesofwar.org")
    _check_codes(frame, path, nmc, "the war dyad-year")
    onsets = frame[frame["cowinteronset"] == 1]
    low, high = onsets[["ccode1", "ccode2"]].min(axis=1), onsets[["ccode1", "ccode2"]].max(axis=1)
    return (pd.DataFrame({"ccode1": low, "ccode2": high, "year": onsets["year"]})
            .drop_duplicates().sort_values(["ccode1", "ccode2", "year"]).reset_index(drop=True))


def load_war_years(path: str | Path, nmc: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every dyad-year at war of COW's inter-state war dyad-years (v4.0): ``warnum``, ``ccode1 < ccode2``, ``year``.

    ``warnum`` is 0 where the file has no such column.

    Each row of the file is a dyad at war in a year; where the file has
    ``cowinterongoing``, only rows with 1 are kept. Used by the ``war``
    filter (:func:`war_opponents`, :func:`mobilisation_years`).
    """
    frame = _read_csv(path, "COW inter-state war dyad-years", ("ccode1", "ccode2", "year", "cowinteronset"),
                      "cow_interstate_war_dyad_years.csv from correlatesofwar.org")
    _check_codes(frame, path, nmc, "the war dyad-year")
    if "cowinterongoing" in frame.columns:
        frame = frame[pd.to_numeric(frame["cowinterongoing"], errors="coerce") == 1]
    warnum = (pd.to_numeric(frame["warnum"], errors="coerce").fillna(0).astype(np.int64)
              if "warnum" in frame.columns else pd.Series(0, index=frame.index, dtype=np.int64))
    low, high = frame[["ccode1", "ccode2"]].min(axis=1), frame[["ccode1", "ccode2"]].max(axis=1)
    return (pd.DataFrame({"warnum": warnum, "ccode1": low, "ccode2": high, "year": frame["year"]})
            .drop_duplicates().sort_values(["ccode1", "ccode2", "year"]).reset_index(drop=True))


def war_opponents(war_years: pd.DataFrame) -> dict[tuple[int, int], set[int]]:
    """``{(state, year): states it is at war with that year}`` from :func:`load_war_years`."""
    opponents: dict[tuple[int, int], set[int]] = {}
    for row in war_years.itertuples(index=False):
        c1, c2, year = int(row.ccode1), int(row.ccode2), int(row.year)
        opponents.setdefault((c1, year), set()).add(c2)
        opponents.setdefault((c2, year), set()).add(c1)
    return opponents


# --------------------------------------------------------------------------------------------------------------
# The coding on every rivalry dyad
# --------------------------------------------------------------------------------------------------------------

def state_series(nmc: pd.DataFrame, ccode: int, years: np.ndarray, column: str) -> np.ndarray:
    """One state's NMC series over consecutive ``years`` (NaN where the state has no row or a missing value)."""
    rows = nmc[nmc["ccode"] == ccode].set_index("year")[column]
    return rows.reindex(years).to_numpy(dtype=float)


def _series_growth(levels: np.ndarray, years: np.ndarray, column: str) -> np.ndarray:
    rates = growth_rates(levels)
    if column == "milex":
        rates[years == MILEX_CURRENCY_CHANGE_YEAR] = np.nan  # pounds to dollars: not a growth
    return rates


def system_growth(nmc: pd.DataFrame, column: str, years: np.ndarray | None = None) -> np.ndarray:
    """Growth of the whole state system: the median growth of ``column`` over all states with a defined growth.

    For each of ``years`` (default: every NMC year), the median, over all
    states of ``nmc``, of the growth of their ``column`` (``milex`` or
    ``milper``) into that year, as :func:`growth_rates` defines it (a
    missing, zero or negative level leaves a state's growth undefined, and
    ``milex`` growth into 1914 is undefined for all: pounds to dollars).
    NaN where no state has a defined growth. The median state's growth is
    the common shock that the ``system`` filter removes
    (:func:`outgrows_system`): one state, one vote, robust to the few
    states at war or in collapse.
    """
    if column not in SERIES:
        raise ValueError(f"column must be one of {', '.join(SERIES)}, got {column!r}")
    if years is None:
        years = np.arange(int(nmc["year"].min()), int(nmc["year"].max()) + 1)
    years = np.asarray(years)
    wide = nmc.pivot(index="year", columns="ccode", values=column)
    wide = wide.reindex(np.arange(min(int(years.min()) - 1, int(wide.index.min())),
                                  max(int(years.max()), int(wide.index.max())) + 1))
    levels = wide.to_numpy(dtype=float)
    previous = np.vstack([np.full((1, levels.shape[1]), np.nan), levels[:-1]])
    defined = (previous > 0) & (levels > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(defined, levels / previous - 1.0, np.nan)
    if column == "milex":
        rates[wide.index.to_numpy() == MILEX_CURRENCY_CHANGE_YEAR] = np.nan
    counts = np.isfinite(rates).sum(axis=1)
    medians = np.full(rates.shape[0], np.nan)
    medians[counts > 0] = np.nanmedian(rates[counts > 0], axis=1)
    return pd.Series(medians, index=wide.index).reindex(years).to_numpy(dtype=float)


def _fit_window_years(first: int, last: int, margin: int, column: str) -> tuple[int, int]:
    """Level years of a window of ``margin`` growth years either side, within one currency for milex."""
    start, end = first - margin - 1, last + margin
    if column == "milex":
        if first >= MILEX_CURRENCY_CHANGE_YEAR:
            start = max(start, MILEX_CURRENCY_CHANGE_YEAR)
        else:
            end = min(end, MILEX_CURRENCY_CHANGE_YEAR - 1)
    return start, end


@dataclass(frozen=True)
class Buildup:
    """A mutual military buildup of one rivalry dyad: years ``first`` to ``last`` (inclusive) both grew.

    ``series`` says which NMC series carry the run: ``"milex"`` or
    ``"milper"`` when that series of both sides grew every year of it,
    ``"milex+milper"`` when either would, ``"mixed"`` when only the two
    together do (a side grew in expenditure one year, in personnel
    another). ``interdependent`` is the result of :func:`reaction_test`
    around the run (None where it could not be fitted), ``reaction_series``
    the series it was fitted on. ``filters`` holds each interdependence
    filter's verdict, ``(name, True/False/None)`` pairs for the names of
    :data:`FILTERS` (None: could not be computed, e.g. ``war`` without war
    data); :meth:`passes` reads it.
    """

    ccode1: int
    ccode2: int
    first: int
    last: int
    rivalries: tuple[str, ...]
    series: str
    interdependent: bool | None = None
    reaction_series: str | None = None
    filters: tuple[tuple[str, bool | None], ...] = ()

    @property
    def years(self) -> int:
        return self.last - self.first + 1

    def passes(self, name: str) -> bool | None:
        """The verdict of filter ``name`` (``reaction`` is :attr:`interdependent`); None if it was not computed."""
        if name == "reaction":
            return self.interdependent
        return dict(self.filters).get(name)

    def to_dict(self) -> dict[str, object]:
        record = asdict(self)
        record["rivalries"] = list(self.rivalries)
        record["filters"] = {"reaction": self.interdependent, **dict(self.filters)}
        return record


#: How the two series combine: ``"either"``, a side arms in a year when its expenditure or its personnel grew;
#: ``"same"``, a buildup is one series (both sides' milex, or both sides' milper) growing every year of the run.
RULES: tuple[str, ...] = ("either", "same")


def combined_buildups(
    first_side: Sequence[np.ndarray], second_side: Sequence[np.ndarray], years: int = DEFAULT_YEARS,
    rule: str = "either",
) -> list[tuple[int, int]]:
    """Mutual buildups of two sides each measured by several series (GRH: expenditure or personnel).

    ``first_side[s]`` and ``second_side[s]`` are yearly masks of the years in
    which series ``s`` of that side grew by at least the threshold (see
    :func:`growing`), in the same order on both sides. With ``rule="either"``
    a side arms in a year when any of its series grew, and a buildup is a run
    of at least ``years`` years in which both sides arm; with ``rule="same"``
    a buildup is a run of one series growing on both sides, and runs of
    different series that overlap or touch are one buildup. Runs as
    :func:`mutual_buildups` returns them. The historical coding
    (:func:`code_rivalry_buildups`) and the simulated one
    (``sd_env.experiments.lab.measures``) both call this.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    if len(first_side) != len(second_side) or not first_side:
        raise ValueError("both sides need the same, non-empty list of series")
    if rule == "either":
        return runs(np.logical_or.reduce(list(first_side)) & np.logical_or.reduce(list(second_side)), years)
    covered = np.zeros(len(first_side[0]), dtype=bool)
    for mine, theirs in zip(first_side, second_side):
        for first, last in runs(np.asarray(mine) & np.asarray(theirs), years):
            covered[first:last + 1] = True
    return runs(covered, years)


def code_rivalry_buildups(
    nmc: pd.DataFrame,
    rivalries: pd.DataFrame,
    growth: float = DEFAULT_GROWTH,
    years: int = DEFAULT_YEARS,
    series: Sequence[str] = SERIES,
    rule: str = "either",
    war_years: pd.DataFrame | None = None,
) -> list[Buildup]:
    """Run the mutual-buildup coding on every rivalry dyad (Gibler, Rider & Hutchison 2005).

    With ``rule="either"`` (the default, GRH's wording: "military
    expenditures or military personnel") a side *arms* in year ``t`` when
    at least one of ``series`` grew by at least ``growth`` over ``t - 1``,
    and a mutual buildup is a run of at least ``years`` consecutive years in
    which both sides arm. With ``rule="same"`` a buildup is a run of
    :func:`mutual_buildups` in one series (both sides' milex, or both
    sides' milper); runs of the two series that overlap or touch form one
    episode. Growth of ``milex`` into 1914 is missing (a change of
    currency, see :data:`MILEX_CURRENCY_CHANGE_YEAR`).

    Runs are found on the dyad's whole NMC record and kept when they
    overlap one of its rivalries' years: rivalry dates are themselves
    uncertain by a year or two, and a run is not cut at a rivalry's first
    year. A dyad with several rivalries (e.g. Britain-Germany 1 and 2) is
    coded once.

    Each buildup also gets the interdependence filters (:data:`FILTERS`):
    ``reaction``, :func:`reaction_test` on the dyad's levels over the run
    widened by ``years`` on each side (within one milex currency), fitted on
    milex, or on milper where the run is a milper one or milex cannot be
    fitted; ``system``, whether the run contains a run of at least ``years``
    years in which both sides arm beyond the state system
    (:func:`outgrows_system` against :func:`system_growth` of the same
    series, combined across series by ``rule`` as the plain coding is);
    ``war``, :func:`war_test` with the opponents of ``war_years`` (as
    :func:`load_war_years` returns; None without them); ``response``,
    :func:`response_test` on both sides' growth beyond the system
    (:func:`growth_beyond_system`) over the years of the dyad's rivalries,
    in milex, or in milper where milex cannot be tested (None where
    neither can).

    Returns:
        The buildups (dyad-episodes), sorted by dyad and first year.
    """
    _check_rule(growth, years)
    unknown = [name for name in series if name not in SERIES]
    if unknown or not series:
        raise ValueError(f"series must be a non-empty subset of {', '.join(SERIES)}, got {list(series)!r}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    first_year, last_year = int(nmc["year"].min()), int(nmc["year"].max())
    rivalries = rivalries[rivalries["endyear"] >= first_year + 1]
    periods: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for row in rivalries.itertuples(index=False):
        periods.setdefault((int(row.ccode1), int(row.ccode2)), []).append(
            (int(row.styear), int(row.endyear), str(row.rivalryname)))
    found: list[Buildup] = []
    all_years = np.arange(first_year, last_year + 1)
    system = {column: system_growth(nmc, column, all_years) for column in SERIES}
    opponents = None if war_years is None else war_opponents(war_years)
    for (ccode1, ccode2), spans in sorted(periods.items()):
        levels = {(side, column): state_series(nmc, code, all_years, column)
                  for side, code in ((1, ccode1), (2, ccode2)) for column in SERIES}
        rates = {key: _series_growth(value, all_years, key[1]) for key, value in levels.items()}
        grew = {key: growing(value, growth) for key, value in rates.items()}
        episodes = combined_buildups([grew[(1, column)] for column in series],
                                     [grew[(2, column)] for column in series], years, rule)
        beyond = {key: outgrows_system(value, system[key[1]], growth) for key, value in rates.items()}
        beyond_episodes = (combined_buildups([beyond[(1, column)] for column in series],
                                             [beyond[(2, column)] for column in series], years, rule)
                           if episodes else [])
        responsive = None
        if episodes:
            in_rivalry = np.zeros(all_years.size, dtype=bool)
            for start, end, _ in spans:
                in_rivalry |= (all_years >= start) & (all_years <= end)
            for column in SERIES:
                dx, dy = (np.where(in_rivalry, growth_beyond_system(rates[(side, column)], system[column]), np.nan)
                          for side in (1, 2))
                responsive = response_test(dx, dy)
                if responsive is not None:
                    break
        for first_index, last_index in episodes:
            first, last = int(all_years[first_index]), int(all_years[last_index])
            names = tuple(name for start, end, name in spans if first <= end and last >= start)
            if not names:
                continue
            span = slice(first_index, last_index + 1)
            carried = [column for column in series if grew[(1, column)][span].all() and grew[(2, column)][span].all()]
            label = "+".join(carried) if carried else "mixed"
            order = ["milper", "milex"] if carried == ["milper"] else ["milex", "milper"]
            interdependent, fitted_on = None, None
            for column in order:
                start, end = _fit_window_years(first, last, years, column)
                window = (all_years >= start) & (all_years <= end)
                verdict = reaction_test(levels[(1, column)][window], levels[(2, column)][window])
                if verdict is not None:
                    interdependent, fitted_on = verdict, column
                    break
            beyond_system = any(first_index <= start and end <= last_index for start, end in beyond_episodes)
            at_war = None if opponents is None else war_test(ccode1, ccode2, first, last, opponents)
            found.append(Buildup(ccode1, ccode2, first, last, names, label, interdependent, fitted_on,
                                 (("system", beyond_system), ("war", at_war), ("response", responsive))))
    return found


# --------------------------------------------------------------------------------------------------------------
# Scoring against a list of races
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RaceScore:
    """Detected buildups scored against a list of races.

    A listed race is *found* when a detected buildup of its dyad overlaps
    its years widened by ``tolerance`` on each side. ``recall`` is
    ``races_found / races_listed``; ``precision`` is
    ``buildups_matched / buildups_detected``, the share of detected
    buildups (dyad-episodes) that overlap a listed race so widened, counting
    only buildups that overlap ``list_years`` (the years the list covers;
    ``buildups_outside_list_years`` are left out). Races whose dyad is no
    rivalry of the rivalry file cannot be found; they are named in
    ``races_without_rivalry``.
    """

    tolerance: int
    list_years: tuple[int, int] | None
    races_listed: int
    races_found: int
    recall: float
    buildups_detected: int
    buildups_matched: int
    precision: float
    buildups_outside_list_years: int
    races: list[dict[str, object]] = field(default_factory=list)
    unlisted_buildups: list[dict[str, object]] = field(default_factory=list)
    races_without_rivalry: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        record = {key: (None if isinstance(value, float) and not math.isfinite(value) else value)
                  for key, value in asdict(self).items()}
        record["list_years"] = None if self.list_years is None else list(self.list_years)
        return record


def score_races(
    buildups: Sequence[Buildup],
    races: pd.DataFrame,
    tolerance: int = 2,
    rivalries: pd.DataFrame | None = None,
    list_years: tuple[int, int] | None = None,
) -> RaceScore:
    """Recall and precision of ``buildups`` against ``races`` (see :class:`RaceScore`).

    Args:
        buildups: detected buildups, e.g. from :func:`code_rivalry_buildups`.
        races: a list of races as :func:`load_races` returns.
        tolerance: years, >= 0, by which each race's years are widened on
            each side before looking for an overlap.
        rivalries: the rivalry table, to name the races whose dyad has no
            rivalry (optional).
        list_years: first and last year the list covers (e.g. 1816-1993 for
            Gibler, Rider & Hutchison 2005); buildups outside them are not
            counted in precision. None counts every buildup.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, np.integer)) or tolerance < 0:
        raise ValueError(f"tolerance must be a whole number of years >= 0, got {tolerance!r}")
    if list_years is not None and list_years[0] > list_years[1]:
        raise ValueError(f"list_years must be (first, last) with first <= last, got {list_years!r}")
    inside = [b for b in buildups if list_years is None or list_years[0] <= b.last and b.first <= list_years[1]]
    outside_count = len(buildups) - len(inside)
    buildups = inside
    by_dyad: dict[tuple[int, int], list[Buildup]] = {}
    for buildup in buildups:
        by_dyad.setdefault((buildup.ccode1, buildup.ccode2), []).append(buildup)
    rivalry_dyads = (None if rivalries is None
                     else set(zip(rivalries["ccode1"].astype(int), rivalries["ccode2"].astype(int))))
    records: list[dict[str, object]] = []
    without_rivalry: list[int] = []
    for race in races.itertuples(index=False):
        dyad = (int(race.ccode1), int(race.ccode2))
        low, high = int(race.styear) - tolerance, int(race.endyear) + tolerance
        hits = [b for b in by_dyad.get(dyad, []) if b.first <= high and b.last >= low]
        in_rivalries = None if rivalry_dyads is None else dyad in rivalry_dyads
        if in_rivalries is False:
            without_rivalry.append(int(race.race_id))
        records.append({
            "race_id": int(race.race_id), "ccode1": dyad[0], "ccode2": dyad[1],
            "styear": int(race.styear), "endyear": int(race.endyear), "found": bool(hits),
            "detected": [[b.first, b.last, b.series] for b in hits], "in_rivalries": in_rivalries,
        })
    # A buildup matching no race of the list, widened by the tolerance.
    windows: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for race in races.itertuples(index=False):
        windows.setdefault((int(race.ccode1), int(race.ccode2)), []).append(
            (int(race.styear) - tolerance, int(race.endyear) + tolerance))
    unlisted = [b for b in buildups
                if not any(b.first <= high and b.last >= low for low, high in windows.get((b.ccode1, b.ccode2), []))]
    listed, found = len(records), sum(record["found"] for record in records)
    detected = len(buildups)
    return RaceScore(
        tolerance=int(tolerance), list_years=None if list_years is None else (int(list_years[0]), int(list_years[1])),
        races_listed=listed, races_found=found,
        recall=found / listed if listed else float("nan"),
        buildups_detected=detected, buildups_matched=detected - len(unlisted),
        precision=(detected - len(unlisted)) / detected if detected else float("nan"),
        buildups_outside_list_years=outside_count,
        races=records, unlisted_buildups=[b.to_dict() for b in unlisted], races_without_rivalry=without_rivalry,
    )


# --------------------------------------------------------------------------------------------------------------
# War onsets after buildups
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WarOnsets:
    """War onsets in a dyad after mutual buildups and after rivalry-years without one (Wallace 1979; Sample 1997).

    ``buildups_with_war / buildups`` is the share of buildups with a war
    onset in the dyad from the buildup's first year to ``within`` years after
    its last; ``years_with_war / rivalry_years`` the share of rivalry-years
    (both states in the NMC data, in no buildup) with an onset in the dyad in that
    year or the ``within`` years after. The buildup's window is longer (its
    own years plus ``within``), so the comparison favours finding wars after
    buildups by a factor of about ``(years + within) / (1 + within)``;
    ``ratio`` is the plain ratio of the two shares.
    """

    within: int
    buildups: int
    buildups_with_war: int
    share_after_buildups: float
    rivalry_years: int
    years_with_war: int
    share_after_other_years: float
    ratio: float

    def to_dict(self) -> dict[str, object]:
        return {key: (None if isinstance(value, float) and not math.isfinite(value) else value)
                for key, value in asdict(self).items()}


def war_onsets_after_buildups(
    buildups: Sequence[Buildup],
    rivalries: pd.DataFrame,
    wars: pd.DataFrame,
    nmc: pd.DataFrame,
    within: int = 5,
) -> WarOnsets:
    """Share of buildups followed by a war onset in the dyad within ``within`` years, beside other rivalry-years.

    Args:
        buildups: detected buildups.
        rivalries: the rivalry table: its years in which both states have
            a row in ``nmc`` (could be coded) are the baseline's years.
        wars: onsets as :func:`load_wars` returns.
        nmc: the capability data, as :func:`load_nmc` returns.
        within: years after a buildup's last year (or after a rivalry-year)
            in which an onset counts, >= 0.
    """
    if isinstance(within, bool) or not isinstance(within, (int, np.integer)) or within < 0:
        raise ValueError(f"within must be a whole number of years >= 0, got {within!r}")
    onsets: dict[tuple[int, int], list[int]] = {}
    for row in wars.itertuples(index=False):
        onsets.setdefault((int(row.ccode1), int(row.ccode2)), []).append(int(row.year))

    def war_between(dyad: tuple[int, int], low: int, high: int) -> bool:
        return any(low <= year <= high for year in onsets.get(dyad, []))

    in_buildup: set[tuple[int, int, int]] = set()
    with_war = 0
    for b in buildups:
        in_buildup.update((b.ccode1, b.ccode2, year) for year in range(b.first, b.last + 1))
        with_war += war_between((b.ccode1, b.ccode2), b.first, b.last + within)
    present = set(zip(nmc["ccode"].astype(int), nmc["year"].astype(int)))
    dyad_years: set[tuple[int, int, int]] = set()
    for row in rivalries.itertuples(index=False):
        c1, c2 = int(row.ccode1), int(row.ccode2)
        dyad_years.update((c1, c2, year) for year in range(int(row.styear), int(row.endyear) + 1)
                          if (c1, year) in present and (c2, year) in present)
    other = sorted(dyad_years - in_buildup)
    years_with_war = sum(war_between((c1, c2), year, year + within) for c1, c2, year in other)
    share_buildups = with_war / len(buildups) if buildups else float("nan")
    share_other = years_with_war / len(other) if other else float("nan")
    ratio = share_buildups / share_other if share_other and math.isfinite(share_other) else float("nan")
    return WarOnsets(int(within), len(buildups), with_war, share_buildups, len(other), years_with_war, share_other,
                     ratio)


# --------------------------------------------------------------------------------------------------------------
# Richardson fits of blocs named on the command line
# --------------------------------------------------------------------------------------------------------------

_SPEC = re.compile(r"^\s*(?P<a>\d+(?:\+\d+)*)\s*:\s*(?P<b>\d+(?:\+\d+)*)\s*@\s*(?P<first>\d{4})\s*-\s*(?P<last>\d{4})"
                   r"\s*(?:/\s*(?P<series>milex|milper))?\s*$")


@dataclass(frozen=True)
class BlocSpec:
    """Two blocs of COW state codes and the years of a Richardson fit, as in ``220+365:255+300@1909-1913``."""

    bloc1: tuple[int, ...]
    bloc2: tuple[int, ...]
    first: int
    last: int
    series: str = "milex"

    def __str__(self) -> str:
        text = f"{'+'.join(map(str, self.bloc1))}:{'+'.join(map(str, self.bloc2))}@{self.first}-{self.last}"
        return text if self.series == "milex" else f"{text}/{self.series}"


def parse_bloc_spec(spec: str) -> BlocSpec:
    """Parse ``A1+A2:B1+B2@FIRST-LAST[/milper]``: COW codes of each bloc, inclusive years, series (default milex).

    Raises:
        ValueError: a malformed spec, a state in both blocs, years backwards,
            or milex years across 1913/1914 (two currencies).
    """
    match = _SPEC.match(spec)
    if not match:
        raise ValueError(f"--richardson {spec!r}: expected BLOC:BLOC@FIRST-LAST[/milper] with blocs of COW codes "
                         f"joined by +, e.g. 220+365:255+300@1909-1913")
    bloc1 = tuple(int(code) for code in match["a"].split("+"))
    bloc2 = tuple(int(code) for code in match["b"].split("+"))
    first, last = int(match["first"]), int(match["last"])
    series = match["series"] or "milex"
    if set(bloc1) & set(bloc2):
        raise ValueError(f"--richardson {spec!r}: state {sorted(set(bloc1) & set(bloc2))[0]} is in both blocs")
    if first >= last:
        raise ValueError(f"--richardson {spec!r}: the first year must come before the last, got {first}-{last}")
    if series == "milex" and first < MILEX_CURRENCY_CHANGE_YEAR <= last:
        raise ValueError(f"--richardson {spec!r}: NMC milex is in pounds up to {MILEX_CURRENCY_CHANGE_YEAR - 1} and "
                         f"in dollars from {MILEX_CURRENCY_CHANGE_YEAR}; choose years on one side (e.g. 1909-1913) "
                         f"or fit personnel with /milper")
    return BlocSpec(bloc1, bloc2, first, last, series)


@dataclass(frozen=True)
class BlocFit:
    """Richardson's fits of two blocs over chosen years: the pair (``fit``) and their summed level (``combined``)."""

    spec: BlocSpec
    bloc1_levels: list[float]
    bloc2_levels: list[float]
    fit: RichardsonFit
    combined: CombinedFit

    def to_dict(self) -> dict[str, object]:
        return {
            "spec": str(self.spec), "bloc1": list(self.spec.bloc1), "bloc2": list(self.spec.bloc2),
            "years": [self.spec.first, self.spec.last], "series": self.spec.series,
            "bloc1_levels": [None if math.isnan(v) else v for v in self.bloc1_levels],
            "bloc2_levels": [None if math.isnan(v) else v for v in self.bloc2_levels],
            "fit": self.fit.to_dict(), "combined": self.combined.to_dict(),
        }


def bloc_levels(nmc: pd.DataFrame, bloc: Iterable[int], years: np.ndarray, column: str) -> np.ndarray:
    """Summed level of a bloc's states over ``years``; NaN in a year where any member's value is missing."""
    return np.sum([state_series(nmc, code, years, column) for code in bloc], axis=0)


def fit_blocs(nmc: pd.DataFrame, spec: BlocSpec | str) -> BlocFit:
    """Richardson's pair fit and combined fit of the two blocs of ``spec`` (see :func:`parse_bloc_spec`)."""
    if isinstance(spec, str):
        spec = parse_bloc_spec(spec)
    known = set(nmc["ccode"].tolist())
    for code in (*spec.bloc1, *spec.bloc2):
        if code not in known:
            raise ValueError(f"--richardson {spec}: state {code} is not in the NMC data; codes are COW state "
                             f"numbers (e.g. 220 France, 255 Germany, 300 Austria-Hungary, 365 Russia)")
    years = np.arange(spec.first, spec.last + 1)
    x = bloc_levels(nmc, spec.bloc1, years, spec.series)
    y = bloc_levels(nmc, spec.bloc2, years, spec.series)
    try:
        fit = richardson_fit(x, y)
        combined = richardson_combined_fit(x + y)
    except ValueError as error:
        raise ValueError(f"--richardson {spec}: {error}") from None
    return BlocFit(spec, x.tolist(), y.tolist(), fit, combined)


# --------------------------------------------------------------------------------------------------------------
# The report of ``sd-env history``
# --------------------------------------------------------------------------------------------------------------

#: What the interdependence filter tests, as written into reports.
FILTER_DESCRIPTION = ("Richardson reaction coefficients k > 0 and l > 0, fitted on the dyad's levels over the run "
                      "widened by `years` on each side (Richardson 1960)")
#: The interdependence filters, by name, as written into reports (see ``docs/history.md``).
FILTERS: dict[str, str] = {
    "reaction": FILTER_DESCRIPTION,
    "system": ("each side's growth also above the median state's growth of the same series that year, for >= "
               "`years` consecutive years within the run (a common shock is no race)"),
    "war": ("no more than half of the run's years are years in which either side fights a war, but not against "
            "the other (mobilisation for a third war is no race; Diehl 1983)"),
    "response": ("over the dyad's rivalry years, each side's log-growth beyond the system rises with the rival's of "
                 "the year before, given its own (both least-squares coefficients on the rival > 0)"),
}
#: The filter chosen on principle before any scoring (``docs/history.md``).
PRIMARY_FILTER = "system"
#: Seed of the one split of a race list into a selection half and a check half (:func:`split_races`).
SPLIT_SEED = 2005
#: A filter keeps recall when its recall is at least this share of the plain rule's (with higher precision,
#: the criterion of success fixed before scoring, ``docs/history.md``).
RECALL_KEPT = 0.9
#: Keys of a :class:`RaceScore` that a report carries for each rule (the rest are parameters).
SCORE_KEYS: tuple[str, ...] = ("races_listed", "races_found", "recall", "buildups_detected", "buildups_matched",
                               "precision", "buildups_outside_list_years", "races", "unlisted_buildups",
                               "races_without_rivalry")


def _score_record(score: RaceScore | None) -> dict[str, object]:
    if score is None:
        return dict.fromkeys(SCORE_KEYS)
    record = score.to_dict()
    return {key: record[key] for key in SCORE_KEYS}


#: Keys of the short scores of the split (:func:`run_history`, ``split``).
SUMMARY_KEYS: tuple[str, ...] = ("races_listed", "races_found", "recall", "buildups_detected", "buildups_matched",
                                 "precision")


def split_races(race_ids: Iterable[int], seed: int = SPLIT_SEED) -> tuple[list[int], list[int]]:
    """Split race ids once into a *selection* half (the larger if odd) and a *check* half, by a seeded permutation.

    The ids are sorted and permuted with ``numpy.random.default_rng(seed)``;
    the first half of the permutation is the selection half. Filters are
    compared only on the selection half; the check half tests the choice.
    """
    ids = sorted({int(race_id) for race_id in race_ids})
    order = np.random.default_rng(seed).permutation(len(ids))
    half = (len(ids) + 1) // 2
    return sorted(ids[i] for i in order[:half]), sorted(ids[i] for i in order[half:])


def filter_succeeds(filtered: dict[str, object], plain: dict[str, object], recall_kept: float = RECALL_KEPT) -> bool:
    """The criterion fixed before scoring: higher precision than the plain rule, recall >= ``recall_kept`` x plain's."""
    values = [filtered.get("precision"), plain.get("precision"), filtered.get("recall"), plain.get("recall")]
    if any(value is None or not math.isfinite(value) for value in values):
        return False
    return filtered["precision"] > plain["precision"] and filtered["recall"] >= recall_kept * plain["recall"]


def _summary(score: RaceScore) -> dict[str, object]:
    record = score.to_dict()
    return {key: record[key] for key in SUMMARY_KEYS}


def parse_years(text: str, option: str) -> tuple[int, int]:
    """``"1816-1993"`` to ``(1816, 1993)``, with a one-line error naming ``option``."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*-\s*(\d{1,4})\s*", text)
    if not match or int(match[1]) > int(match[2]):
        raise ValueError(f"{option} {text!r}: expected FIRST-LAST years, first <= last, e.g. 1816-1993")
    return int(match[1]), int(match[2])


def run_history(
    nmc_path: str | Path,
    rivalries_path: str | Path,
    races_path: str | Path | None = None,
    wars_path: str | Path | None = None,
    growth: float = DEFAULT_GROWTH,
    years: int = DEFAULT_YEARS,
    tolerance: int = 2,
    rule: str = "either",
    list_years: tuple[int, int] | None = None,
    war_years: int = 5,
    richardson: Sequence[str] = (),
    filter_name: str = "reaction",
) -> dict[str, object]:
    """Everything ``sd-env history`` reports, as a JSON-ready dict.

    Keys: ``parameters`` (``filter``, the description of the filter
    ``filter_name``, and ``filter_name``); ``rivalries`` (counts);
    ``buildups`` (every detected dyad-episode, :meth:`Buildup.to_dict`);
    the scoring of the plain rule at the top level (:data:`SCORE_KEYS`:
    ``races_listed``, ``races_found``, ``recall``, ``precision``,
    ``races``, ``unlisted_buildups``, ...; None without ``races_path``);
    ``filtered``, the same keys for the buildups that pass the filter
    ``filter_name`` (one of :data:`FILTERS`; ``war`` needs ``wars_path``);
    ``filters``, the same keys and a ``description`` for every filter that
    could be computed (``war`` only with ``wars_path``); ``split`` (None
    without races): the race ids of the selection and check halves
    (:func:`split_races`), the short scores (:data:`SUMMARY_KEYS`, and for
    filters ``succeeds``, :func:`filter_succeeds`) of the plain rule and
    every filter on ``whole``, ``selection`` and ``check``, and the filter
    ``recommended`` on the selection half (the primary,
    :data:`PRIMARY_FILTER`, unless it fails there and another succeeds);
    ``wars`` (``{"plain", "filtered"}`` of :class:`WarOnsets`, or None);
    ``richardson`` (:class:`BlocFit` records); ``names`` (COW code to
    state abbreviation, for the dyads mentioned).
    """
    specs = [parse_bloc_spec(spec) for spec in richardson]  # a bad spec fails before any file is read
    if filter_name not in FILTERS:
        raise ValueError(f"--filter must be one of {', '.join(FILTERS)}, got {filter_name!r}")
    if filter_name == "war" and wars_path is None:
        raise ValueError("--filter war needs the COW war dyad-years: give --wars FILE")
    _check_rule(growth, years)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, np.integer)) or tolerance < 0:
        raise ValueError(f"--tolerance must be a whole number of years >= 0, got {tolerance!r}")
    if isinstance(war_years, bool) or not isinstance(war_years, (int, np.integer)) or war_years < 0:
        raise ValueError(f"--war-years must be a whole number of years >= 0, got {war_years!r}")
    nmc = load_nmc(nmc_path)
    rivalries = load_rivalries(rivalries_path, nmc)
    races = None if races_path is None else load_races(races_path, nmc)
    wars = None if wars_path is None else load_wars(wars_path, nmc)
    war_dyad_years = None if wars_path is None else load_war_years(wars_path, nmc)
    fits = [fit_blocs(nmc, spec) for spec in specs]
    buildups = code_rivalry_buildups(nmc, rivalries, growth, years, rule=rule, war_years=war_dyad_years)
    available = [name for name in FILTERS if name != "war" or war_dyad_years is not None]
    kept = {name: [b for b in buildups if b.passes(name)] for name in available}
    filtered = kept[filter_name]
    nmc_years = (int(nmc["year"].min()), int(nmc["year"].max()))
    coded = rivalries[rivalries["endyear"] >= nmc_years[0] + 1]

    def score(selected: Sequence[Buildup], listed: pd.DataFrame | None = races) -> RaceScore | None:
        return None if listed is None else score_races(selected, listed, tolerance, rivalries, list_years)

    plain_score = score(buildups)
    scores = {name: score(kept[name]) for name in available}
    filter_records = {}
    for name in available:
        filter_records[name] = {**_score_record(scores[name]), "description": FILTERS[name]}
        if races is None:
            filter_records[name]["buildups_detected"] = len(kept[name])
    split = None
    if races is not None:
        selection, check = split_races(races["race_id"])
        halves = {"whole": races, "selection": races[races["race_id"].isin(selection)],
                  "check": races[races["race_id"].isin(check)]}
        split_scores: dict[str, dict[str, dict[str, object]]] = {}
        for half, listed in halves.items():
            plain_summary = _summary(score(buildups, listed))
            split_scores[half] = {"plain": plain_summary}
            for name in available:
                summary = _summary(score(kept[name], listed))
                split_scores[half][name] = {**summary, "succeeds": filter_succeeds(summary, plain_summary)}
        recommended = PRIMARY_FILTER
        if not split_scores["selection"][PRIMARY_FILTER]["succeeds"]:
            winners = [name for name in available
                       if name != PRIMARY_FILTER and split_scores["selection"][name]["succeeds"]]
            if winners:
                recommended = max(winners, key=lambda name: split_scores["selection"][name]["precision"])
        split = {"seed": SPLIT_SEED, "selection": selection, "check": check, "primary": PRIMARY_FILTER,
                 "recall_kept": RECALL_KEPT, "recommended": recommended, "scores": split_scores}
    names = nmc.drop_duplicates("ccode", keep="last").set_index("ccode")["stateabb"].to_dict()
    report: dict[str, object] = {
        "parameters": {
            "nmc": str(nmc_path), "rivalries": str(rivalries_path),
            "races": None if races_path is None else str(races_path),
            "wars": None if wars_path is None else str(wars_path),
            "growth": growth, "years": years, "tolerance": tolerance, "rule": rule, "series": list(SERIES),
            "list_years": None if list_years is None else list(list_years), "war_years": war_years,
            "filter": FILTERS[filter_name], "filter_name": filter_name, "nmc_years": list(nmc_years),
        },
        "rivalries": {"in_file": len(rivalries), "in_nmc_years": len(coded),
                      "dyads": len(set(zip(coded["ccode1"], coded["ccode2"])))},
        "buildups": [b.to_dict() for b in buildups],
        **_score_record(plain_score),
        "filtered": filter_records[filter_name],
        "filters": filter_records,
        "split": split,
        "wars": None,
        "richardson": [fit.to_dict() for fit in fits],
    }
    if races is None:
        report["buildups_detected"] = len(buildups)
    if wars is not None:
        report["wars"] = {
            "plain": war_onsets_after_buildups(buildups, rivalries, wars, nmc, war_years).to_dict(),
            "filtered": war_onsets_after_buildups(filtered, rivalries, wars, nmc, war_years).to_dict(),
        }
    mentioned = {code for b in buildups for code in (b.ccode1, b.ccode2)}
    if races is not None:
        mentioned |= set(races["ccode1"]) | set(races["ccode2"])
    report["names"] = {str(int(code)): str(names.get(code, code)) for code in sorted(mentioned)}
    return report


def _years_text(first: int, last: int) -> str:
    return f"{first}-{last}"


def _ratio_text(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3f}"


def history_text(report: dict[str, object], show: int = 10) -> str:
    """The readable summary that ``sd-env history`` prints for a report of :func:`run_history`."""
    parameters = report["parameters"]
    names = report["names"]

    def dyad(c1: int, c2: int) -> str:
        return f"{names.get(str(c1), c1)}-{names.get(str(c2), c2)}"

    def episodes(records: Sequence[Sequence[object]]) -> str:
        return ", ".join(f"{first}-{last} ({series})" for first, last, series in records) or "-"

    rule = ("each side's milex or milper grows" if parameters["rule"] == "either"
            else "both sides' milex, or both sides' milper, grow")
    lines = [
        "Mutual military buildups in strategic rivalries (Gibler, Rider & Hutchison 2005)",
        f"rule: {rule} by >= {parameters['growth']:.0%} a year for >= {parameters['years']} consecutive years "
        f"(milex growth into {MILEX_CURRENCY_CHANGE_YEAR} missing: pounds to dollars)",
    ]
    rivalries = report["rivalries"]
    lines.append(f"rivalries: {rivalries['in_nmc_years']} of {rivalries['in_file']} reach the NMC years "
                 f"{parameters['nmc_years'][0]}-{parameters['nmc_years'][1]} ({rivalries['dyads']} dyads)")
    buildups = report["buildups"]
    by_series: dict[str, int] = {}
    for b in buildups:
        by_series[b["series"]] = by_series.get(b["series"], 0) + 1
    chosen = parameters.get("filter_name", "reaction")
    available = list(report.get("filters") or {chosen: None})

    def verdict(b: dict[str, object], name: str) -> bool | None:
        return b["interdependent"] if name == "reaction" else (b.get("filters") or {}).get(name)

    passing = sum(verdict(b, chosen) is True for b in buildups)
    unfitted = sum(verdict(b, chosen) is None for b in buildups)
    lines.append(f"buildups: {len(buildups)} dyad-episodes in {len({(b['ccode1'], b['ccode2']) for b in buildups})} "
                 f"dyads (carried by " + ", ".join(f"{k} {v}" for k, v in sorted(by_series.items())) + ")")
    lines.append(f"interdependence filter {chosen} ({parameters['filter']}): {passing} pass, "
                 f"{len(buildups) - passing - unfitted} fail, {unfitted} could not be computed")
    others = [name for name in available if name != chosen]
    if others:
        lines.append("  other filters: " + ", ".join(
            f"{name} {sum(verdict(b, name) is True for b in buildups)} pass" for name in others))
    filtered = report["filtered"]
    split = report.get("split")
    half_of = {}
    if split:
        half_of = {**dict.fromkeys(split["selection"], "sel"), **dict.fromkeys(split["check"], "chk")}
    if report["races_listed"] is not None:
        period = ("" if parameters["list_years"] is None else
                  f", precision over buildups overlapping {parameters['list_years'][0]}-{parameters['list_years'][1]}")
        lines += ["", f"races of {Path(parameters['races']).name}, found within {parameters['tolerance']} years of "
                      f"their dates{period}:",
                  f"  {'rule':<10}{'listed':>7}{'found':>7}{'recall':>8}{'detected':>10}{'matched':>9}"
                  f"{'precision':>11}"]
        for label, score in (("plain", report), (f"{chosen}", filtered)):
            lines.append(f"  {label:<10}{score['races_listed']:>7}{score['races_found']:>7}"
                         f"{_ratio_text(score['recall']):>8}{score['buildups_detected']:>10}"
                         f"{score['buildups_matched']:>9}{_ratio_text(score['precision']):>11}")
        if split:
            lines += ["", f"plain rule and filters on the whole sample and its halves (split seed {split['seed']}; "
                          f"selection half: races {' '.join(map(str, split['selection']))}; check half: races "
                          f"{' '.join(map(str, split['check']))}):",
                      f"  {'rule':<10}" + "".join(f"{half + ': found':>18}{'recall':>8}{'precision':>11}"
                                                  for half in ("whole", "selection", "check")) + "  succeeds"]
            for name in ["plain", *available]:
                row = f"  {name:<10}"
                for half in ("whole", "selection", "check"):
                    s = split["scores"][half][name]
                    row += (f"{str(s['races_found']) + '/' + str(s['races_listed']):>18}{_ratio_text(s['recall']):>8}"
                            f"{_ratio_text(s['precision']):>11}")
                if name != "plain":
                    row += "  " + "/".join("yes" if split["scores"][half][name]["succeeds"] else "no"
                                           for half in ("whole", "selection", "check"))
                lines.append(row)
            chk = split["scores"]["check"][split["recommended"]]
            lines.append(f"  succeeds: precision above the plain rule's and recall >= {split['recall_kept']:g} x "
                         f"its (whole/selection/check); recommended on the selection half: {split['recommended']} "
                         f"(primary: {split['primary']}), which on the check half "
                         + ("succeeds" if chk["succeeds"] else "fails"))
        per_filter = {name: (report["filters"][name]["races"] if report.get("filters") else filtered["races"])
                      for name in available}
        header = "".join(f"{name:>9}" for name in available)
        lines += ["", f"  {'race':>5}  {'dyad':<9}{'years':<11}{'half':<6}{'detected (plain rule)':<40}{header}"]
        for index, plain in enumerate(report["races"]):
            note = "" if plain["in_rivalries"] is not False else "  (dyad not in the rivalry file)"
            marks = "".join(f"{'yes' if per_filter[name][index]['found'] else 'no':>9}" for name in available)
            lines.append(f"  {plain['race_id']:>5}  {dyad(plain['ccode1'], plain['ccode2']):<9}"
                         f"{_years_text(plain['styear'], plain['endyear']):<11}"
                         f"{half_of.get(plain['race_id'], '-'):<6}{episodes(plain['detected']):<40}{marks}{note}")
        unlisted = report["unlisted_buildups"]
        carried: dict[str, int] = {}
        for b in unlisted:
            carried[b["series"]] = carried.get(b["series"], 0) + 1
        lines += ["", f"buildups the list lacks: {len(unlisted)} (plain rule; carried by "
                      + ", ".join(f"{k} {v}" for k, v in sorted(carried.items()))
                      + f"), {len(filtered['unlisted_buildups'])} (filter {chosen}); the first "
                      + f"{min(show, len(unlisted))}:"]
        for b in unlisted[:show]:
            lines.append(f"  {dyad(b['ccode1'], b['ccode2']):<9}{_years_text(b['first'], b['last']):<11}"
                         f"{b['series']:<14}{'; '.join(b['rivalries'])}")
    wars = report["wars"]
    if wars is not None:
        lines += ["", f"war onsets in the dyad within {parameters['war_years']} years (Wallace 1979; Sample 1997):"]
        for label in ("plain", "filtered"):
            w = wars[label]
            lines.append(f"  {label if label == 'plain' else chosen:<9} after {w['buildups_with_war']}/{w['buildups']} "
                         f"buildups "
                         f"({_ratio_text(w['share_after_buildups'])}) vs {w['years_with_war']}/{w['rivalry_years']} "
                         f"other rivalry-years ({_ratio_text(w['share_after_other_years'])})")
        lines.append("  (a buildup's window is its years plus the horizon; a rivalry-year's is one year plus it)")
    for fit in report["richardson"]:
        unit = ("thousands of personnel" if fit["series"] == "milper" else
                "thousands of pounds" if fit["years"][1] < MILEX_CURRENCY_CHANGE_YEAR else "thousands of US dollars")
        f, c = fit["fit"], fit["combined"]

        def value(key: str) -> str:
            se = f[f"{key}_se"]
            return f"{key} = {f[key]:.4g}" + ("" if se is None else f" ± {se:.2g}")

        lines += ["", f"Richardson fit {fit['spec']} ({fit['series']}, {unit}; x = first bloc, y = second bloc):",
                  f"  x[t+1]-x[t] = k*y - a*x + g:  {value('k')}, {value('a')}, {value('g')}",
                  f"  y[t+1]-y[t] = l*x - b*y + h:  {value('l')}, {value('b')}, {value('h')}",
                  f"  stable (a*b > k*l, a+b > 0): {'yes' if f['stable'] else 'no'} (a*b = {f['a'] * f['b']:.4g}, "
                  f"k*l = {f['k'] * f['l']:.4g}, a+b = {f['a'] + f['b']:.4g}); {f['n_years']} yearly changes",
                  f"  combined s = x+y, s[t+1]-s[t] = rate*((s[t]+s[t+1])/2 - zero_point): rate = {c['rate']:.4g} "
                  f"per year, zero_point = {c['zero_point']:.6g}, r² = "
                  + ("n/a" if c["r_squared"] is None else f"{c['r_squared']:.3f}")]
    return "\n".join(lines)
