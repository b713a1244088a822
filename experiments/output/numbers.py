"""Numbers as text and as JSON: the one formatter every table, figure and report uses.

I/O-free and without project imports: the bottom of the experiments package.
"""

from __future__ import annotations

import math
from typing import Any


def format_number(value: Any, digits: int = 4, *, decimals: int | None = None, missing: str = "n/a",
                  plain_from: float | None = 1000.0, signed_zero: bool = True) -> str:
    """A number as text for tables, reports and figures.

    :param value: a number (Python or NumPy), a bool (``yes``/``no``) or None.
    :param digits: significant digits (``g`` format), used when ``decimals`` is None; 1 or more.
    :param decimals: a fixed count of decimals instead (``f`` format).
    :param missing: the text for None, NaN and infinities.
    :param plain_from: in significant-digit form, numbers of at least this magnitude are written with one
        decimal rather than in exponent notation (``1234.5`` rather than ``1235`` or ``1.234e+04``); None
        keeps the ``g`` format at every magnitude.
    :param signed_zero: with ``decimals``, a small negative value that rounds to zero keeps its sign (``-0.0``,
        it was below zero); False writes ``0.00`` (a table of scores where the sign of nothing would distract).
    :returns: the text, e.g. ``format_number(0.123456)`` is ``'0.1235'``, ``format_number(2.5, decimals=2)``
        is ``'2.50'``.
    """
    if value is None:
        return missing
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    value = float(value)
    if not math.isfinite(value):
        return missing
    if decimals is not None:
        text = f"{value + 0.0:.{decimals}f}"
        return text[1:] if not signed_zero and text.startswith("-") and float(text) == 0.0 else text
    if plain_from is not None and abs(value) >= plain_from:
        return f"{value:.1f}"
    return f"{value:.{digits}g}"


def json_number(value: Any) -> float | None:
    """A float for JSON: NaN and infinities become None (written as ``null``)."""
    value = float(value)
    return value if math.isfinite(value) else None


def json_numbers(table: Any) -> Any:
    """``table`` (nested dicts and lists of numbers) with every float made JSON-safe by :func:`json_number`."""
    if isinstance(table, dict):
        return {key: json_numbers(item) for key, item in table.items()}
    if isinstance(table, (list, tuple)):
        return [json_numbers(item) for item in table]
    if isinstance(table, float) or type(table).__name__ in ("float64", "float32"):
        return json_number(table)
    return table
