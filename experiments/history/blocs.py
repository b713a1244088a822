"""Richardson's fits of two blocs of states over chosen years, as in ``220+365:255+300@1909-1913``.

:func:`parse_bloc_spec` reads a spec (:class:`BlocSpec`), :func:`bloc_levels`
sums the NMC series of a bloc's members, and :func:`fit_blocs` fits
Richardson's (1960) pair model and his line of the blocs' combined level
(``sd_env.experiments.lab.series.richardson_fit`` and
``richardson_combined_fit``), as :class:`BlocFit`.

Reference: Richardson, L. F. (1960) *Arms and Insecurity*, Boxwood.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sd_env.errors import SdEnvError
from sd_env.experiments.history.data import MILEX_CURRENCY_CHANGE_YEAR, state_series
from sd_env.experiments.lab.series import (
    CombinedFit,
    RichardsonFit,
    SeriesError,
    richardson_combined_fit,
    richardson_fit,
)

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
        SdEnvError: a malformed spec, a state in both blocs, years backwards,
            or milex years across 1913/1914 (two currencies); its ``parameter``
            is ``richardson``, the argument of
            ``sd_env.experiments.history.report.run_history`` that carries specs.
    """
    match = _SPEC.match(spec)
    if not match:
        raise SdEnvError(f"richardson {spec!r}: expected BLOC:BLOC@FIRST-LAST[/milper] with blocs of COW codes "
                         f"joined by +, e.g. 220+365:255+300@1909-1913", parameter="richardson")
    bloc1 = tuple(int(code) for code in match["a"].split("+"))
    bloc2 = tuple(int(code) for code in match["b"].split("+"))
    first, last = int(match["first"]), int(match["last"])
    series = match["series"] or "milex"
    if set(bloc1) & set(bloc2):
        raise SdEnvError(f"richardson {spec!r}: state {sorted(set(bloc1) & set(bloc2))[0]} is in both blocs",
                         parameter="richardson")
    if first >= last:
        raise SdEnvError(f"richardson {spec!r}: the first year must come before the last, got {first}-{last}",
                         parameter="richardson")
    if series == "milex" and first < MILEX_CURRENCY_CHANGE_YEAR <= last:
        raise SdEnvError(f"richardson {spec!r}: NMC milex is in pounds up to {MILEX_CURRENCY_CHANGE_YEAR - 1} and "
                         f"in dollars from {MILEX_CURRENCY_CHANGE_YEAR}; choose years on one side (e.g. 1909-1913) "
                         f"or fit personnel with /milper", parameter="richardson")
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
            raise SdEnvError(f"richardson {spec}: state {code} is not in the NMC data; codes are COW state "
                             f"numbers (e.g. 220 France, 255 Germany, 300 Austria-Hungary, 365 Russia)",
                             parameter="richardson")
    years = np.arange(spec.first, spec.last + 1)
    x = bloc_levels(nmc, spec.bloc1, years, spec.series)
    y = bloc_levels(nmc, spec.bloc2, years, spec.series)
    try:
        fit = richardson_fit(x, y)
        combined = richardson_combined_fit(x + y)
    except (SeriesError, np.linalg.LinAlgError) as error:
        raise SdEnvError(f"richardson {spec}: {error}", parameter="richardson") from None
    return BlocFit(spec, x.tolist(), y.tolist(), fit, combined)
