"""Training time that adds up over resumes and survives kills: ``run.json``'s ``training_seconds``.

A run's ``training_seconds`` is the wall-clock time spent training what its checkpoints hold, over every
call of ``sd-env train`` on the run: a resumed call starts its clock at the time the run had trained by
its last checkpoint, and every checkpoint (each ``drift.csv`` row) writes the running total into
``run.json``, so a run killed between checkpoints keeps the time up to its last one (the work after it is
lost, and so is its time).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from sd_env.experiments.output.files import write_text_atomic

#: The run file that holds the total.
RUN_FILE = "run.json"

#: The clock of each run training in this process: run directory -> ``time.perf_counter()`` at which the
#: run's total was zero. Checkpoints write from it without each backend having to carry it.
_STARTS: dict[Path, float] = {}


def trained_seconds(run_dir: Path) -> float:
    """The training time a run's ``run.json`` records (0 for a new run, or a run.json without it)."""
    try:
        return float(json.loads((Path(run_dir) / RUN_FILE).read_text()).get("training_seconds", 0.0))
    except (OSError, ValueError, AttributeError, TypeError):
        return 0.0


def start(run_dir: Path, previous: float) -> float:
    """Start the clock of the run in ``run_dir`` at ``previous`` seconds; return the ``perf_counter`` origin."""
    origin = time.perf_counter() - previous
    _STARTS[Path(run_dir).resolve()] = origin
    return origin


def stop(run_dir: Path) -> None:
    """Forget the run's clock (the run has ended in this process)."""
    _STARTS.pop(Path(run_dir).resolve(), None)


def checkpoint(run_dir: Path) -> None:
    """Write the run's total so far into its ``run.json`` (nothing if the run has no clock in this process)."""
    origin = _STARTS.get(Path(run_dir).resolve())
    path = Path(run_dir) / RUN_FILE
    if origin is None or not path.is_file():
        return
    info = json.loads(path.read_text())
    info["training_seconds"] = round(time.perf_counter() - origin, 2)
    write_text_atomic(path, json.dumps(info, indent=2))
