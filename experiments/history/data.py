"""Loaders of the standard Correlates of War (COW) formats, and the yearly series read from them.

The project never ships the data (see ``docs/history.md``): every loader
reads a CSV from a path the user gives, checks its columns and codes, and
says in one line what is wrong (:class:`HistoryDataError`).

* :func:`load_nmc`: COW National Material Capabilities (Singer, Bremer &
  Stuckey 1972; v7.0), one row per state-year; :func:`state_series` and
  :func:`system_growth` (the median state's growth, the common shock) read
  yearly series from it, :func:`series_growth` one state's growth.
* :func:`load_rivalries`: Thompson & Dreyer (2012) strategic rivalries.
* :func:`load_races`: a list of arms races as in Gibler, Rider & Hutchison
  (2005).
* :func:`load_wars` and :func:`load_war_years`: COW inter-state war
  dyad-years (v4.0), onsets and every year at war; :func:`war_opponents`.

References: Singer, J. D., Bremer, S. & Stuckey, J. (1972), COW National
Material Capabilities v7.0; Thompson, W. R. & Dreyer, D. (2012) *Handbook of
International Rivalries*, CQ Press; Gibler, D. M., Rider, T. J. &
Hutchison, M. L. (2005) Taking arms against a sea of troubles, *Journal of
Peace Research* 42(2):131-47.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sd_env.errors import SdEnvError
from sd_env.experiments.lab.series import growth_rates

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


class HistoryDataError(SdEnvError):
    """A data file that cannot be used: missing, not a CSV table, a missing column, bad codes or years."""


def _read_csv(path: str | Path, what: str, columns: Sequence[str], example: str,
              measured: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV, checking that ``columns`` exist and hold whole numbers (``measured`` ones: any numbers)."""
    path = Path(path)
    if not path.exists():
        raise HistoryDataError(f"{path}: no such file; give the path of {what} ({example})")
    if path.is_dir():
        raise HistoryDataError(f"{path}: is a folder; give the path of {what} ({example})")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).splitlines()[0] if str(error) else error.__class__.__name__
        raise HistoryDataError(f"{path}: not a CSV table ({reason}); expected {what} with columns "
                               f"{', '.join(columns)}") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise HistoryDataError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                               f"{what} needs {', '.join(columns)} ({example})")
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        whole = column not in measured
        bad = values.isna() | ((values != values.round()) if whole else False)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            kind = "whole numbers" if whole else "numbers"
            raise HistoryDataError(f"{path}: column {column} must hold {kind} (COW codes -9 for missing), "
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
        raise HistoryDataError(f"{path}: has a header but no state-years; NMC has one row per state-year")
    duplicated = frame.duplicated(["ccode", "year"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise HistoryDataError(f"{path}: state {row.ccode} has two rows for {row.year}; NMC has one row per "
                               f"state-year")
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
            raise HistoryDataError(f"{path}: {what} in data row {index + 1} has {column} "
                                   f"{frame[column].iloc[index]}, which is no state in the NMC data; codes are COW "
                                   f"state numbers (2 USA, 200 UKG, 365 RUS)")


def _check_years(frame: pd.DataFrame, path: str | Path, what: str) -> None:
    backwards = frame["styear"] > frame["endyear"]
    if backwards.any():
        index = int(np.flatnonzero(backwards.to_numpy())[0])
        raise HistoryDataError(f"{path}: {what} in data row {index + 1} ends ({frame['endyear'].iloc[index]}) "
                               f"before it starts ({frame['styear'].iloc[index]}); styear must be <= endyear")


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
    filter (:func:`war_opponents`,
    ``sd_env.experiments.history.coding.mobilisation_years``).
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
# Yearly series of the NMC data
# --------------------------------------------------------------------------------------------------------------

def state_series(nmc: pd.DataFrame, ccode: int, years: np.ndarray, column: str) -> np.ndarray:
    """One state's NMC series over consecutive ``years`` (NaN where the state has no row or a missing value)."""
    rows = nmc[nmc["ccode"] == ccode].set_index("year")[column]
    return rows.reindex(years).to_numpy(dtype=float)


def series_growth(levels: np.ndarray, years: np.ndarray, column: str) -> np.ndarray:
    """Growth rates of one state's NMC series (:func:`growth_rates`), with ``milex`` growth into 1914 missing.

    :param levels: the state's yearly levels of ``column``, shape (T,) (as :func:`state_series` returns).
    :param years: the years of ``levels``, shape (T,).
    :param column: ``milex`` or ``milper``: growth of ``milex`` into :data:`MILEX_CURRENCY_CHANGE_YEAR` is NaN
        (pounds to dollars is no growth).
    :returns: the growth rates, shape (T,), fractions per year; NaN where undefined.
    """
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
    (``sd_env.experiments.lab.series.outgrows_system``): one state, one
    vote, robust to the few states at war or in collapse.
    """
    if column not in SERIES:
        raise SdEnvError(f"column must be one of {', '.join(SERIES)}, got {column!r}", parameter="column")
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
