"""Atomic writes give their files the mode a plain ``open()`` would: the umask is honoured."""

from __future__ import annotations

import os
import stat

import pytest
from sd_env.experiments.output.files import write_bytes_atomic, write_json_atomic, write_text_atomic

pytestmark = pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX file modes")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_written_file_has_the_mode_open_would_give_it(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        write_text_atomic(tmp_path / "new.txt", "text\n")
        write_json_atomic(tmp_path / "new.json", {"a": 1})
        existing = tmp_path / "existing.bin"
        existing.write_bytes(b"old")
        existing.chmod(0o640)
        write_bytes_atomic(existing, b"new")  # a file that was there gets the same mode as a new one
        with open(tmp_path / "plain.txt", "w") as stream:
            stream.write("text\n")
    finally:
        os.umask(previous)
    for name in ("new.txt", "new.json", "existing.bin", "plain.txt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
    assert existing.read_bytes() == b"new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["existing.bin", "new.json", "new.txt", "plain.txt"]


def test_reading_the_umask_leaves_it_as_it_was(tmp_path):
    previous = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "file.txt", "text\n")
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(previous)


def test_a_full_disk_names_the_file_being_written_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    import errno

    from sd_env.experiments.output import files

    def full(_descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    target = tmp_path / "results.csv"
    with pytest.raises(OSError) as refused:
        files.write_text_atomic(target, "cell,seed\n")
    assert refused.value.errno == errno.ENOSPC and refused.value.filename == str(target)
    assert str(target) in str(refused.value) and ".tmp" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_created_names_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError) as refused:
        write_text_atomic(blocker / "run" / "config.yaml", "x")
    assert str(blocker / "run" / "config.yaml") in str(refused.value)
