"""One writer per output folder: a lock that a second run is refused by, and that a killed run leaves free.

A sweep folder or a run directory is written by one process at a time. :class:`FolderLock` takes an
operating-system lock (``fcntl.flock``) on a file ``.sd-env.lock`` in the folder and writes into it who
holds it (process id, machine, command, since when). The operating system releases the lock when its
holder ends, however it ends (``kill -9`` included), so a lock left by a killed run is stale by
construction: the next run takes it over, and says nothing. A second live writer is refused with one line
naming the holder (:class:`FolderInUseError`, exit code 2 on the command line).

Under the lock, a run may also remove what killed writers left behind: the temporary files of
:func:`sd_env.experiments.output.files.write_bytes_atomic` (:func:`remove_stale_temporaries`).

On platforms without ``fcntl`` (Windows) the lock is not taken; nothing else changes.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from types import TracebackType

from sd_env.errors import SdEnvError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

#: The lock file inside a locked folder.
LOCK_FILE = ".sd-env.lock"


class FolderInUseError(SdEnvError):
    """Another live process writes the folder (one line naming it and its holder)."""


class FolderLock:
    """Hold ``folder`` for this process while the ``with`` block runs (the folder is created if missing).

    :param folder: the output folder (a sweep folder or a run directory).
    :param what: what writes it, for the refusal of a second writer (``"the sweep"``, ``"training"``).
    :raises FolderInUseError: on entry, when another live process holds it.
    """

    def __init__(self, folder: str | os.PathLike, what: str = "a run") -> None:
        self.folder = Path(folder)
        self.what = what
        self._stream = None
        self._created = False

    def __enter__(self) -> FolderLock:
        self._created = not self.folder.exists()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / LOCK_FILE
        stream = open(path, "a+", encoding="utf-8")
        if fcntl is not None:
            try:
                fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                stream.seek(0)
                holder = _describe(stream.read())
                stream.close()
                raise FolderInUseError(
                    f"{str(self.folder)!r} is being written by {holder}; wait for it to finish or stop it, "
                    f"or write to another folder"
                ) from None
        stream.seek(0)
        stream.truncate()
        stream.write(json.dumps({"pid": os.getpid(), "host": platform.node(), "what": self.what,
                                 "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                                 "since": time.strftime("%Y-%m-%d %H:%M:%S %Z")}) + "\n")
        stream.flush()
        self._stream = stream
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._stream is None:
            return
        self._stream.seek(0)
        self._stream.truncate()  # no holder any more
        self._stream.close()  # closing the file releases the lock
        self._stream = None
        # A run refused before it wrote anything leaves no folder behind it.
        if self._created and [path.name for path in self.folder.iterdir()] == [LOCK_FILE]:
            (self.folder / LOCK_FILE).unlink(missing_ok=True)
            self.folder.rmdir()


def _describe(text: str) -> str:
    """Who holds a lock, from its file (best effort: the holder may be writing it)."""
    try:
        holder = json.loads(text)
        return (f"{holder['what']} of process {holder['pid']} on {holder['host'] or 'this machine'} "
                f"(`{holder['command']}`, since {holder['since']})")
    except (ValueError, KeyError, TypeError):
        return "another process"


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed writers left under ``folder`` (call it holding its lock).

    They are the files ``.NAME.XXXXXXXX.tmp`` of
    :func:`~sd_env.experiments.output.files.write_bytes_atomic`: a writer renames its temporary file to
    ``NAME`` when done, so one still there was being written when its writer died.

    :returns: the files removed.
    """
    removed = []
    for path in Path(folder).rglob(".*.tmp"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
