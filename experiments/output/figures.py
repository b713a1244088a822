"""The one way a figure leaves the program: a matplotlib ``Figure`` rendered to PNG by the Agg canvas.

No ``pyplot`` (no global state, no display), so figures can be drawn in worker processes and on headless
machines; matplotlib is imported only when a figure is rendered.
"""

from __future__ import annotations

import io
import os

from sd_env.experiments.output.files import write_bytes_atomic

#: Resolution of every PNG (dots per inch).
DPI = 110


def png_bytes(figure, dpi: int = DPI, tight: bool = False) -> bytes:
    """The PNG bytes of a ``matplotlib.figure.Figure``.

    :param figure: the figure (built with ``matplotlib.figure.Figure``, or by pyplot).
    :param dpi: dots per inch.
    :param tight: crop the canvas to what is drawn (``bbox_inches="tight"``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    return buffer.getvalue()


def save_figure(figure, path: str | os.PathLike, dpi: int = DPI, tight: bool = False) -> None:
    """Write ``figure`` as a PNG to ``path``, atomically (:func:`png_bytes`, then an atomic write)."""
    write_bytes_atomic(path, png_bytes(figure, dpi, tight))
