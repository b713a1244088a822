"""Detected buildups scored against the record: a list of races, and the wars that followed.

* :func:`score_races`: recall and precision against a list of races (as in
  Gibler, Rider & Hutchison 2005), :class:`RaceScore`.
* :func:`war_onsets_after_buildups`: war onsets in the dyad after buildups
  and after other rivalry-years (Wallace 1979; Sample 1997), :class:`WarOnsets`.
* :func:`split_races` and :func:`filter_succeeds`: how the interdependence
  filters are compared, fixed before scoring (``docs/history.md``).

References: Gibler, D. M., Rider, T. J. & Hutchison, M. L. (2005) Taking
arms against a sea of troubles, *Journal of Peace Research* 42(2):131-47;
Wallace, M. D. (1979) Arms races and escalation, *Journal of Conflict
Resolution* 23(1):3-16; Sample, S. G. (1997) Arms races and dispute
escalation, *Journal of Peace Research* 34(1):7-22; Diehl, P. F. &
Crescenzi, M. J. C. (1998) Reconfiguring the arms race-war debate, *Journal
of Peace Research* 35(1):111-18.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from sd_env.errors import SdEnvError
from sd_env.experiments.history.coding import Buildup

#: Seed of the one split of a race list into a selection half and a check half (:func:`split_races`).
SPLIT_SEED = 2005
#: A filter keeps recall when its recall is at least this share of the plain rule's (with higher precision,
#: the criterion of success fixed before scoring, ``docs/history.md``).
RECALL_KEPT = 0.9


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
        buildups: detected buildups, e.g. from
            ``sd_env.experiments.history.coding.code_rivalry_buildups``.
        races: a list of races as ``sd_env.experiments.history.data.load_races`` returns.
        tolerance: years, >= 0, by which each race's years are widened on
            each side before looking for an overlap.
        rivalries: the rivalry table, to name the races whose dyad has no
            rivalry (optional).
        list_years: first and last year the list covers (e.g. 1816-1993 for
            Gibler, Rider & Hutchison 2005); buildups outside them are not
            counted in precision. None counts every buildup.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, np.integer)) or tolerance < 0:
        raise SdEnvError(f"tolerance must be a whole number of years >= 0, got {tolerance!r}", parameter="tolerance")
    if list_years is not None and list_years[0] > list_years[1]:
        raise SdEnvError(f"list_years must be (first, last) with first <= last, got {list_years!r}",
                         parameter="list_years")
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
        wars: onsets as ``sd_env.experiments.history.data.load_wars`` returns.
        nmc: the capability data, as ``sd_env.experiments.history.data.load_nmc`` returns.
        within: years after a buildup's last year (or after a rivalry-year)
            in which an onset counts, >= 0.
    """
    if isinstance(within, bool) or not isinstance(within, (int, np.integer)) or within < 0:
        raise SdEnvError(f"within must be a whole number of years >= 0, got {within!r}", parameter="within")
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
# Comparing filters: one split of the race list, one criterion of success
# --------------------------------------------------------------------------------------------------------------

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
