"""The report of ``sd-env history``: every result as a JSON-ready dict, and its readable text.

:func:`run_history` reads the COW files (``sd_env.experiments.history.data``),
codes every rivalry dyad (``coding``), scores the plain rule and every
interdependence filter against a list of races and the wars that followed
(``scoring``) and fits Richardson's model to blocs (``blocs``);
:func:`history_text` writes the summary that ``sd-env history`` prints and
``docs/history.md`` shows (``sd_env.experiments.history.doc``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sd_env.errors import SdEnvError
from sd_env.experiments.history.blocs import fit_blocs, parse_bloc_spec
from sd_env.experiments.history.coding import FILTERS, PRIMARY_FILTER, Buildup, code_rivalry_buildups
from sd_env.experiments.history.data import (
    MILEX_CURRENCY_CHANGE_YEAR,
    SERIES,
    load_nmc,
    load_races,
    load_rivalries,
    load_war_years,
    load_wars,
)
from sd_env.experiments.history.scoring import (
    RECALL_KEPT,
    SPLIT_SEED,
    RaceScore,
    filter_succeeds,
    score_races,
    split_races,
    war_onsets_after_buildups,
)
from sd_env.experiments.lab.series import DEFAULT_GROWTH, DEFAULT_YEARS, check_rule
from sd_env.experiments.output.numbers import format_number

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


def _summary(score: RaceScore) -> dict[str, object]:
    record = score.to_dict()
    return {key: record[key] for key in SUMMARY_KEYS}


def parse_years(text: str, parameter: str = "list_years") -> tuple[int, int]:
    """Read a span of years, ``"1816-1993"`` to ``(1816, 1993)``.

    :param text: ``FIRST-LAST``, whole years, first <= last.
    :param parameter: the name of the argument ``text`` is for (e.g. ``list_years`` of :func:`run_history`):
        the error's message starts with it and its ``parameter`` is it.
    :returns: ``(first, last)``.
    :raises SdEnvError: ``text`` is no such span, in one line.
    """
    match = re.fullmatch(r"\s*(\d{1,4})\s*-\s*(\d{1,4})\s*", text)
    if not match or int(match[1]) > int(match[2]):
        raise SdEnvError(f"{parameter} {text!r}: expected FIRST-LAST years, first <= last, e.g. 1816-1993",
                         parameter=parameter)
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
        raise SdEnvError(f"filter_name must be one of {', '.join(FILTERS)}, got {filter_name!r}",
                         parameter="filter_name")
    if filter_name == "war" and wars_path is None:
        raise SdEnvError("filter_name war needs the COW war dyad-years: give wars_path", parameter="wars_path")
    check_rule(growth, years)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, np.integer)) or tolerance < 0:
        raise SdEnvError(f"tolerance must be a whole number of years >= 0, got {tolerance!r}", parameter="tolerance")
    if isinstance(war_years, bool) or not isinstance(war_years, (int, np.integer)) or war_years < 0:
        raise SdEnvError(f"war_years must be a whole number of years >= 0, got {war_years!r}", parameter="war_years")
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
                         f"{format_number(score['recall'], decimals=3):>8}{score['buildups_detected']:>10}"
                         f"{score['buildups_matched']:>9}{format_number(score['precision'], decimals=3):>11}")
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
                    row += (f"{str(s['races_found']) + '/' + str(s['races_listed']):>18}"
                            f"{format_number(s['recall'], decimals=3):>8}"
                            f"{format_number(s['precision'], decimals=3):>11}")
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
                         f"({format_number(w['share_after_buildups'], decimals=3)}) "
                         f"vs {w['years_with_war']}/{w['rivalry_years']} "
                         f"other rivalry-years ({format_number(w['share_after_other_years'], decimals=3)})")
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
