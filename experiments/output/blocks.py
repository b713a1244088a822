"""Generated blocks of a document: the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``.

The one writer of every generated block in the repository: ``sd_env.experiments.reporting.docs_tables``
(``docs/model.md``) and ``benchmarks/peers.py`` (``docs/performance.md``) both call
``update_blocks``. A block is replaced whole, the rest of the file is kept to the byte,
and the file is written atomically (``sd_env.experiments.output.files``), so prose around the
markers survives and a reader never sees half a file. With ``check=True`` nothing is
written and the names of the stale blocks are returned (``docs_tables --check``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from sd_env.experiments.output.files import write_text_atomic


class MissingMarkersError(ValueError):
    """A document lacks the marker lines of a block (or has them more than once, or out of order)."""


def markers(name: str) -> tuple[str, str]:
    """The start and end marker lines of block ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def wrap(name: str, body: str) -> str:
    """Block ``name`` with its markers: start line, ``body`` as given, end line."""
    start, end = markers(name)
    return f"{start}\n{body}\n{end}"


def require_markers(text: str, names: Iterable[str], source: str = "the document") -> None:
    """Raise ``MissingMarkersError`` unless ``text`` has each block's start line, then its end line, once each."""
    for name in names:
        start, end = markers(name)
        counts = text.count(start), text.count(end)
        if counts == (1, 1) and text.index(start) < text.index(end):
            continue
        if counts == (1, 1):
            problem = "has its end marker before its start marker"
        elif 0 in counts:
            missing = " and ".join(line for line, count in zip((start, end), counts) if count == 0)
            problem = f"lacks the marker line{'s' if counts == (0, 0) else ''} {missing}"
        else:
            problem = f"has the marker lines {start} and {end} {counts[0]} and {counts[1]} times (once each expected)"
        raise MissingMarkersError(f"{source} {problem}")


def current_block(text: str, name: str) -> str:
    """What stands between the markers of block ``name`` in ``text`` (markers checked)."""
    require_markers(text, [name])
    start, end = markers(name)
    return text.split(start, 1)[1].split(end, 1)[0]


def replace_blocks(text: str, blocks: Mapping[str, str], source: str = "the document") -> str:
    """``text`` with each block of ``blocks`` (name -> body) put between its markers, everything else kept."""
    require_markers(text, blocks, source)
    for name, body in blocks.items():
        start, end = markers(name)
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = head + wrap(name, body) + tail
    return text


def _lines(block: str) -> list[str]:
    return block.strip().splitlines()


def stale_blocks(
    text: str, blocks: Mapping[str, str], comparable: Callable[[str], list[str]] = _lines,
    source: str = "the document",
) -> list[str]:
    """Names of the blocks whose text in ``text`` differs from ``blocks``, as seen through ``comparable``.

    ``comparable`` maps a block to what must match (default: its lines, surrounding blank lines aside);
    a generator whose provenance line differs from machine to machine leaves that line out.
    """
    require_markers(text, blocks, source)
    return [name for name, body in blocks.items() if comparable(current_block(text, name)) != comparable(body)]


def update_blocks(
    path: str | os.PathLike,
    blocks: Mapping[str, str],
    *,
    check: bool = False,
    comparable: Callable[[str], list[str]] = _lines,
    new_file_head: str | None = None,
) -> list[str]:
    """Put ``blocks`` (name -> body) into the file ``path``; return the names of the blocks that were stale.

    The file is rewritten atomically, and only if its text changes. With ``check`` nothing is written.
    A file without a block's markers raises ``MissingMarkersError`` (nothing is written); a file that does
    not exist is created as ``new_file_head`` followed by the blocks if that is given, else
    ``FileNotFoundError`` is raised.
    """
    path = Path(path)
    if not path.exists() and new_file_head is not None:
        if not check:
            body = "\n\n".join(wrap(name, body) for name, body in blocks.items())
            write_text_atomic(path, f"{new_file_head}{body}\n")
        return list(blocks)
    text = path.read_text(encoding="utf-8")
    stale = stale_blocks(text, blocks, comparable, source=str(path))
    updated = replace_blocks(text, blocks, source=str(path))
    if not check and updated != text:
        write_text_atomic(path, updated)
    return stale
