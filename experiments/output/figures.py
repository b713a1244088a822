"""The one way a figure leaves the program: a matplotlib ``Figure`` rendered by the Agg canvas to PNG (or PDF or
SVG, by the file's extension).

No ``pyplot`` (no global state, no display), so figures can be drawn in worker processes and on headless
machines; matplotlib is imported only when a figure is rendered.
"""

from __future__ import annotations

import io
import os

from pathlib import Path

from sd_env.errors import SdEnvError
from sd_env.experiments.output.files import write_bytes_atomic

#: Resolution of every raster figure (dots per inch).
DPI = 110
#: File extensions a figure may be written as, and matplotlib's name of each format.
FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def figure_format(path: str | os.PathLike) -> str:
    """The format a figure file's extension names: ``png``, ``pdf`` or ``svg``.

    :param path: the file to write.
    :raises SdEnvError: another extension (``parameter="plot"``).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise SdEnvError(f"plot {str(path)!r}: a figure is written as {', '.join(FORMATS)} (by the file's "
                         f"extension), not {suffix or 'a file without an extension'}", parameter="plot")
    return FORMATS[suffix]


def figure_bytes(figure, fmt: str = "png", dpi: int = DPI, tight: bool = False) -> bytes:
    """The bytes of a ``matplotlib.figure.Figure`` in format ``fmt``.

    :param figure: the figure (built with ``matplotlib.figure.Figure``, or by pyplot).
    :param fmt: ``png``, ``pdf`` or ``svg``.
    :param dpi: dots per inch (of a PNG, and of raster parts of the others).
    :param tight: crop the canvas to what is drawn (``bbox_inches="tight"``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    return buffer.getvalue()


def png_bytes(figure, dpi: int = DPI, tight: bool = False) -> bytes:
    """The PNG bytes of a figure (:func:`figure_bytes` in PNG)."""
    return figure_bytes(figure, "png", dpi, tight)


def save_figure(figure, path: str | os.PathLike, dpi: int = DPI, tight: bool = False) -> None:
    """Write ``figure`` to ``path`` in the format its extension names (:func:`figure_format`), atomically."""
    write_bytes_atomic(path, figure_bytes(figure, figure_format(path), dpi, tight))
