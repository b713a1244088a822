"""The mutual-buildup coding on every rivalry dyad, and the interdependence filters that need the record.

:func:`code_rivalry_buildups` runs the Gibler, Rider & Hutchison (2005)
coding (``sd_env.experiments.lab.series``) on the NMC series of every dyad of
a rivalry table and gives each buildup the verdicts of the interdependence
filters (:data:`FILTERS`, ``docs/history.md``): ``reaction`` (Richardson's
reaction coefficients around the run), ``system`` (growth beyond the median
state's, the primary filter, :data:`PRIMARY_FILTER`), ``war``
(:func:`mobilisation_years`, :func:`war_test`: growth while fighting a third
state is mobilisation, after Diehl 1983) and ``response`` (each side's growth
beyond the system answers the rival's).

References: Gibler, D. M., Rider, T. J. & Hutchison, M. L. (2005) Taking
arms against a sea of troubles, *Journal of Peace Research* 42(2):131-47;
Richardson, L. F. (1960) *Arms and Insecurity*, Boxwood; Diehl, P. F. (1983)
Arms races and escalation: a closer look, *Journal of Peace Research*
20(3):205-12.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from sd_env.errors import SdEnvError
from sd_env.experiments.history.data import (
    MILEX_CURRENCY_CHANGE_YEAR,
    SERIES,
    series_growth,
    state_series,
    system_growth,
    war_opponents,
)
from sd_env.experiments.lab.series import (
    DEFAULT_GROWTH,
    DEFAULT_YEARS,
    RULES,
    check_rule,
    combined_buildups,
    growing,
    growth_beyond_system,
    outgrows_system,
    reaction_test,
    response_test,
)

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


def mobilisation_years(
    ccode1: int, ccode2: int, first: int, last: int, opponents: dict[tuple[int, int], set[int]],
) -> list[int]:
    """Years of a buildup in which either side fights a war in which it is not fighting the other (Diehl 1983).

    ``opponents[(state, year)]`` is the set of states ``state`` is at war
    with in ``year`` (``sd_env.experiments.history.data.war_opponents``). A
    year from ``first`` to ``last`` is a mobilisation year when ``ccode1``
    is at war that year and not with ``ccode2``, or the other way round: its
    growth is then mobilisation for a war with a third party rather than
    arming against the rival. War years against the rival are not
    mobilisation years.
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
    another). ``interdependent`` is the result of
    ``sd_env.experiments.lab.series.reaction_test`` around the run (None
    where it could not be fitted), ``reaction_series`` the series it was
    fitted on. ``filters`` holds each interdependence filter's verdict,
    ``(name, True/False/None)`` pairs for the names of :data:`FILTERS`
    (None: could not be computed, e.g. ``war`` without war data);
    :meth:`passes` reads it.
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
    ``mutual_buildups`` in one series (both sides' milex, or both
    sides' milper); runs of the two series that overlap or touch form one
    episode (``sd_env.experiments.lab.series.combined_buildups``). Growth of
    ``milex`` into 1914 is missing (a change of currency, see
    ``sd_env.experiments.history.data.MILEX_CURRENCY_CHANGE_YEAR``).

    Runs are found on the dyad's whole NMC record and kept when they
    overlap one of its rivalries' years: rivalry dates are themselves
    uncertain by a year or two, and a run is not cut at a rivalry's first
    year. A dyad with several rivalries (e.g. Britain-Germany 1 and 2) is
    coded once.

    Each buildup also gets the interdependence filters (:data:`FILTERS`):
    ``reaction``, ``reaction_test`` on the dyad's levels over the run
    widened by ``years`` on each side (within one milex currency), fitted on
    milex, or on milper where the run is a milper one or milex cannot be
    fitted; ``system``, whether the run contains a run of at least ``years``
    years in which both sides arm beyond the state system
    (``outgrows_system`` against ``system_growth`` of the same
    series, combined across series by ``rule`` as the plain coding is);
    ``war``, :func:`war_test` with the opponents of ``war_years`` (as
    ``load_war_years`` returns; None without them); ``response``,
    ``response_test`` on both sides' growth beyond the system
    (``growth_beyond_system``) over the years of the dyad's rivalries,
    in milex, or in milper where milex cannot be tested (None where
    neither can).

    Returns:
        The buildups (dyad-episodes), sorted by dyad and first year.
    """
    check_rule(growth, years)
    unknown = [name for name in series if name not in SERIES]
    if unknown or not series:
        raise SdEnvError(f"series must be a non-empty subset of {', '.join(SERIES)}, got {list(series)!r}",
                         parameter="series")
    if rule not in RULES:
        raise SdEnvError(f"rule must be one of {', '.join(RULES)}, got {rule!r}", parameter="rule")
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
        rates = {key: series_growth(value, all_years, key[1]) for key, value in levels.items()}
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
