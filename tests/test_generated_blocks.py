"""The one writer of generated documentation blocks (``sd_env.experiments.output.blocks``)."""

from __future__ import annotations

import pytest

from sd_env.experiments.output.blocks import (
    MissingMarkersError,
    markers,
    replace_blocks,
    stale_blocks,
    update_blocks,
    wrap,
)

DOC = ("# Title\n\nProse kept.\n\n<!-- a:start -->\nold a\n<!-- a:end -->\n\n"
       "Middle.\n<!-- b:start -->\nold b\n<!-- b:end -->\nTail\n")


def test_markers_and_wrap():
    assert markers("benchmarks/peers.py") == ("<!-- benchmarks/peers.py:start -->", "<!-- benchmarks/peers.py:end -->")
    assert wrap("a", "body") == "<!-- a:start -->\nbody\n<!-- a:end -->"


def test_replace_puts_each_block_between_its_markers_and_keeps_the_rest():
    text = replace_blocks(DOC, {"a": "new a\n| table |", "b": "new b"})
    assert text == DOC.replace("old a", "new a\n| table |").replace("old b", "new b")
    # Replacing again with the same blocks changes nothing.
    assert replace_blocks(text, {"a": "new a\n| table |", "b": "new b"}) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no markers at all\n", "lacks the marker lines <!-- a:start --> and <!-- a:end -->"),
        ("<!-- a:start -->\nonly the start\n", "lacks the marker line <!-- a:end -->"),
        ("<!-- a:end -->\n<!-- a:start -->\n", "has its end marker before its start marker"),
        ("<!-- a:start -->\n<!-- a:end -->\n<!-- a:start -->\n<!-- a:end -->\n", "2 and 2 times"),
    ],
)
def test_missing_or_misplaced_markers_are_a_clear_error(text, message):
    with pytest.raises(MissingMarkersError, match=message):
        replace_blocks(text, {"a": "x"}, source="doc.md")
    with pytest.raises(MissingMarkersError, match="^doc.md "):
        replace_blocks(text, {"a": "x"}, source="doc.md")


def test_check_detects_stale_blocks_and_writes_nothing(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text(DOC)
    assert update_blocks(path, {"a": "old a", "b": "new b"}, check=True) == ["b"]
    assert path.read_text() == DOC
    # Blank lines around a block do not make it stale; a comparable() that ignores a line does not either.
    assert stale_blocks(DOC, {"a": "\nold a\n\n"}) == []
    def ignore_provenance(block: str) -> list[str]:
        return [line for line in block.strip().splitlines() if not line.startswith("old")]

    assert stale_blocks(DOC, {"a": "old a (other machine)", "b": ""}, comparable=ignore_provenance) == []


def test_update_writes_atomically_and_only_what_changed(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text(DOC)
    assert update_blocks(path, {"a": "new a"}) == ["a"]
    assert path.read_text() == DOC.replace("old a", "new a")
    assert update_blocks(path, {"a": "new a"}, check=True) == []
    assert [p.name for p in tmp_path.iterdir()] == ["doc.md"]  # no temporary file left behind


def test_a_file_without_markers_is_left_alone(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("hand-written\n")
    with pytest.raises(MissingMarkersError, match="lacks the marker lines"):
        update_blocks(path, {"a": "x"}, new_file_head="# Title\n\n")
    assert path.read_text() == "hand-written\n"


def test_a_missing_file_is_created_only_with_a_head(tmp_path):
    path = tmp_path / "new.md"
    with pytest.raises(FileNotFoundError):
        update_blocks(path, {"a": "x"})
    assert update_blocks(path, {"a": "x"}, new_file_head="# Title\n\n") == ["a"]
    assert path.read_text() == "# Title\n\n<!-- a:start -->\nx\n<!-- a:end -->\n"
    assert update_blocks(path, {"a": "x"}, check=True) == []
