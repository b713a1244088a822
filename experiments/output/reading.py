"""Reading back what sd-env wrote: every file checked, a damaged one named in one line and never used.

Files are written atomically (:mod:`sd_env.experiments.output.files`), so sd-env itself leaves none half
written; these readers guard against everything else (a disk that filled, a copy cut short, a hand edit).
Each raises :class:`CorruptFileError` (an :class:`~sd_env.errors.SdEnvError`: one line, exit code 2 on the
command line) naming the file, what is wrong with it and what to do.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from sd_env.errors import SdEnvError


class CorruptFileError(SdEnvError):
    """A file sd-env reads back is damaged: one line naming it and what is wrong."""


def damaged(path: str | os.PathLike, problem: str, remedy: str = "") -> CorruptFileError:
    """The error for ``path``: ``'PATH' is damaged: PROBLEM[; REMEDY]``."""
    return CorruptFileError(f"{str(path)!r} is damaged: {problem}" + (f"; {remedy}" if remedy else ""))


def read_json_file(path: str | os.PathLike, remedy: str = "") -> Any:
    """The JSON document in ``path``; :class:`CorruptFileError` if it does not parse (a file cut short)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise damaged(path, f"not valid JSON at line {error.lineno}, column {error.colno} ({error.msg})",
                      remedy) from None


def read_json_mapping(path: str | os.PathLike, required: tuple[str, ...] = (), remedy: str = "") -> dict[str, Any]:
    """A JSON object with at least the keys ``required``; :class:`CorruptFileError` otherwise."""
    data = read_json_file(path, remedy)
    if not isinstance(data, dict):
        raise damaged(path, f"it holds a JSON {type(data).__name__}, not an object", remedy)
    missing = [key for key in required if key not in data]
    if missing:
        raise damaged(path, f"it lacks {', '.join(map(repr, missing))}", remedy)
    return data


def read_yaml_mapping(path: str | os.PathLike, remedy: str = "") -> dict[str, Any]:
    """A YAML mapping (``yaml.safe_load``); :class:`CorruptFileError` if it does not parse or is not a mapping."""
    import yaml

    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise damaged(path, f"not valid YAML{where}", remedy) from None
    if not isinstance(data, dict):
        raise damaged(path, "it does not hold a mapping of keys to values", remedy)
    return data


def check_csv_text(text: str, path: str | os.PathLike, remedy: str = "") -> None:
    """Refuse a CSV table with a row cut short: every row must have the header's number of fields and the
    file must end with a line break (a file cut mid-row ends without one)."""
    if not text:
        raise damaged(path, "it is empty", remedy)
    rows = list(csv.reader(io.StringIO(text)))
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise damaged(path, f"row {number} has {len(row)} fields, the header {width}", remedy)
    if not text.endswith("\n"):
        raise damaged(path, f"its last row ({len(rows)}) is cut short (no line break after it)", remedy)


def read_csv_table(path: str | os.PathLike, remedy: str = ""):
    """A CSV table (pandas), every row complete (:func:`check_csv_text`); :class:`CorruptFileError` if not."""
    import pandas as pd

    text = Path(path).read_text(encoding="utf-8")
    check_csv_text(text, path, remedy)
    try:
        return pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as error:
        raise damaged(path, f"not a readable table ({str(error).splitlines()[0]})", remedy) from None
