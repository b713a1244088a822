"""One progress bar for every long job of the command line: rich's, on standard error.

Training shows stable-baselines3's own bar (rich too); every other long job shows this one: the rows of a
sweep, the episodes of ``sd-env evaluate``, the policy pairs of ``sd-env crossplay``, the phases of
``sd-env exploit`` and the runs x seats of ``exploit --sweep``, the entries a benchmark trains and evaluates::

    with progress_bar(total, "rows", "rows", enabled=progress, initial=done) as bar:
        for task in tasks:
            bar.status(f"running {running}, queued {queued}")
            ...
            bar.advance()

The bar only shows: it never changes a result, a file or what the job prints on standard output. On a
terminal it is redrawn in place (lines printed meanwhile appear above it); where standard error is a file
or a pipe, nothing is drawn while the job runs and the bar's last state is written once, as one plain line
without control codes, when it ends. A job that ends with an error or Ctrl-C takes its bar away, so that
the error stays the one line on standard error that the command line promises. A disabled bar writes
nothing at all and still counts.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any


class ProgressBar:
    """A bar over ``total`` units of work, drawn on standard error while it is open (see the module docstring).

    Made by :func:`progress_bar`; a context manager, closed on leaving it. ``completed`` counts the units
    done (``initial`` included) whether the bar is drawn or not.
    """

    def __init__(self, total: int, description: str, unit: str, enabled: bool = True, initial: int = 0) -> None:
        self.total = total
        self.completed = initial
        self.description = description
        self.unit = unit
        self.status_text = ""
        self._progress: Any = None  # rich.progress.Progress while drawn, else None
        self._task: Any = None
        if enabled:
            self._start()

    def _start(self) -> None:
        from rich.console import Console

        self._progress = _progress_class()(
            *_columns(),
            console=Console(stderr=True),
            # Rich sends lines printed during the bar through its console, above the bar: right when standard
            # output is the terminal the bar is on, wrong when it is a file or a pipe (the command's output would
            # land on standard error), so only then.
            redirect_stdout=_stdout_is_terminal(),
        )
        self._task = self._progress.add_task(self.description, total=self.total, completed=self.completed,
                                             unit=self.unit, status=self.status_text)
        self._progress.start()

    @property
    def enabled(self) -> bool:
        """Whether the bar is being drawn (enabled and not closed yet)."""
        return self._progress is not None

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units done (in the bar's unit)."""
        self.completed += n
        if self._progress is not None:
            self._progress.update(self._task, completed=self.completed)

    def update(self, description: str | None = None, status: str | None = None) -> None:
        """Change what the bar says: its ``description`` (before the bar) and its ``status`` (after the counts,
        e.g. ``"running 2, queued 5"``); None keeps that part as it is."""
        if description is not None:
            self.description = description
        if status is not None:
            self.status_text = status
        if self._progress is not None:
            self._progress.update(self._task, description=self.description, status=self.status_text)

    def status(self, text: str) -> None:
        """Show ``text`` after the counts (what is running now, the current phase)."""
        self.update(status=text)

    def close(self, erase: bool = False) -> None:
        """Stop drawing: the last state stays on the terminal (or is written once where standard error is a
        file), unless ``erase``. Closing twice does nothing."""
        if self._progress is None:
            return
        progress, self._progress = self._progress, None
        if erase:
            # A transient display is neither left on the terminal nor written to a file; Progress.stop would
            # still end a non-terminal's (empty) line, so the display is stopped directly.
            progress.live.transient = True
            progress.live.stop()
            return
        progress.update(self._task, status="")  # the work is done: its last status is stale
        progress.stop()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        # An error (or Ctrl-C) takes the bar away: the command line's error stays one line on standard error.
        self.close(erase=kind is not None)


def progress_bar(total: int, description: str, unit: str, enabled: bool = True, initial: int = 0) -> ProgressBar:
    """A progress bar on standard error, drawn from now until it is closed (use it in a ``with`` block).

    :param total: units of work in all, >= 0 (rows, episodes, pairs, phases, entries).
    :param description: what the job is, shown before the bar (``"rows"``, ``"evaluate"``).
    :param unit: the unit's name, plural, shown after the counts (``"rows"``, ``"episodes"``).
    :param enabled: draw it; False gives a bar that writes nothing (``--no-progress``) but counts all the same.
    :param initial: units already done before this call (a resumed sweep's finished rows).
    :returns: the open :class:`ProgressBar`.
    """
    return ProgressBar(total, description, unit, enabled, initial)


def _columns() -> list:
    """One line: ``DESCRIPTION ━━━━━━━━━━ DONE/TOTAL UNIT H:MM:SS elapsed, H:MM:SS left`` (``-:--:--`` while
    unknown). Fixed parts do not wrap, so that a narrow terminal shortens the bar, not the counts."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Column

    def fixed() -> Column:
        return Column(no_wrap=True)

    return [TextColumn("{task.description}", table_column=fixed()), BarColumn(bar_width=24),
            MofNCompleteColumn(table_column=fixed()), TextColumn("{task.fields[unit]}", table_column=fixed()),
            TimeElapsedColumn(table_column=fixed()), TextColumn("elapsed,", table_column=fixed()),
            TimeRemainingColumn(table_column=fixed()), TextColumn("left", table_column=fixed())]


def _progress_class() -> type:
    """rich's ``Progress`` with the status (what runs now) on a line of its own under the bar, cut to the
    width with an ellipsis: long statuses would otherwise squeeze the counts on a narrow terminal."""
    from rich.progress import Progress
    from rich.text import Text

    class StatusProgress(Progress):
        def get_renderables(self):
            yield self.make_tasks_table(self.tasks)
            for task in self.tasks:
                if task.fields.get("status"):
                    yield Text(f"  {task.fields['status']}", no_wrap=True, overflow="ellipsis")

    return StatusProgress


def _stdout_is_terminal() -> bool:
    """Whether standard output is a terminal (a replaced ``sys.stdout`` without ``isatty`` is not)."""
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
