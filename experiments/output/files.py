"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder and a rename."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, data: object, indent: int | None = 2) -> None:
    """Write ``data`` as JSON (NaN refused: pass it through ``numbers.json_numbers`` first) and a newline."""
    write_text_atomic(path, json.dumps(data, indent=indent, allow_nan=False) + "\n")


def _umask() -> int:
    """The process's umask: from ``/proc/self/status`` where Linux gives it (no change to the process), else
    by setting and restoring it (``os.umask`` can only read it that way)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets the mode ``open(path, "w")`` gives a new file, ``0o666`` less the umask (``mkstemp``'s
    temporary file is ``0o600`` whatever the umask), whether or not ``path`` existed before.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise _naming(error, path) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            mode = 0o666 & ~_umask()
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), mode)
            else:  # pragma: no cover - platforms without fchmod (Windows)
                os.chmod(temporary, mode)
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _naming(error, path) from None
        raise


def _naming(error: OSError, path: Path) -> OSError:
    """``error`` as the file ``path`` met it (not its hidden temporary file): a full disk, a read-only folder."""
    return type(error)(error.errno, error.strerror or str(error), str(path))
