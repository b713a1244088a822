"""Runs and sweeps survive kills and each other: one writer per output folder, workers that die with their
sweep, temporary files of killed writers removed, every call on record, training time that adds up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from sd_env.experiments.output.locks import LOCK_FILE, FolderInUseError, FolderLock
from sd_env.experiments.studies.sweep import read_invocations, run_sweep, sweep_config_from_dict
from sd_env.experiments.training.config import load_config
from sd_env.experiments.training.train import train

FIXED = {"name": "fixed", "scenario": "jervis-1", "env": {"max_cycles": 12},
         "grid": {"offense_defense_balance": [0.5, 2.0]}, "seeds": 1, "policies": ["baseline:deterrer"],
         "eval_episodes": 4}
TINY = ["total_timesteps=512", "num_envs=2", "ppo.n_steps=64", "ppo.batch_size=128", "ppo.n_epochs=1",
        "checkpoint_every=256", "eval_episodes=2", "progress_bar=false", "opponents=[dove]", "env.max_cycles=10"]

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups and flock are POSIX")


def _holder(folder: Path) -> subprocess.Popen:
    """Another process that takes ``folder``'s lock and holds it until killed."""
    code = textwrap.dedent(f"""
        import sys, time
        from sd_env.experiments.output.locks import FolderLock
        with FolderLock({str(folder)!r}, "the sweep"):
            print("locked", flush=True)
            time.sleep(600)
    """)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_sweep_on_a_folder_is_refused_naming_the_first_and_a_killed_ones_lock_is_taken_over(tmp_path, cli):
    holder = _holder(tmp_path / "fixed")
    try:
        with pytest.raises(FolderInUseError, match=f"being written by the sweep of process {holder.pid}"):
            run_sweep(sweep_config_from_dict(FIXED), tmp_path, workers=1, progress=False)
        config = tmp_path / "sweep.yaml"
        config.write_text(yaml.safe_dump(FIXED))
        code, _, error = cli(["sweep", "--config", str(config), "--output-dir", str(tmp_path), "--no-progress"])
        assert code == 2 and len(error.strip().splitlines()) == 1 and str(holder.pid) in error
        assert not (tmp_path / "fixed" / "rows").exists()  # refused before any work
    finally:
        holder.kill()  # kill -9: the lock is left behind, stale
        holder.wait()
    table = run_sweep(sweep_config_from_dict(FIXED), tmp_path, workers=1, progress=False)
    assert len(table) == 2
    assert (tmp_path / "fixed" / LOCK_FILE).read_text() == ""  # released, holding no one


def test_a_lock_in_the_same_process_is_refused_too_and_a_refused_new_folder_is_not_left_behind(tmp_path):
    with FolderLock(tmp_path / "run", "training"):
        with pytest.raises(FolderInUseError, match="being written by training of process"):
            with FolderLock(tmp_path / "run", "training"):
                pass
    assert not (tmp_path / "run").exists()  # it held nothing but the lock


def test_training_into_a_run_directory_another_call_is_training_is_refused(tmp_path):
    config = load_config(None, [*TINY, f"output_dir={tmp_path}", "name=busy"])
    holder = _holder(tmp_path / "busy")
    try:
        with pytest.raises(FolderInUseError, match=str(holder.pid)):
            train(config)
        assert not (tmp_path / "busy" / "config.yaml").exists()
    finally:
        holder.kill()
        holder.wait()


def test_temporary_files_of_killed_writers_are_removed_when_the_folder_is_next_written(tmp_path):
    run_sweep(sweep_config_from_dict(FIXED), tmp_path, workers=1, progress=False)
    folder = tmp_path / "fixed"
    left = [folder / ".results.csv.k1ll3d00.tmp", folder / "rows" / ".cell0000-seed0.json.x7y8z9ab.tmp"]
    for path in left:
        path.write_text("half a file")
    kept = folder / "notes.tmp"  # not a temporary file of the atomic writer: kept
    kept.write_text("mine")
    (folder / "rows" / "cell0001-seed0.json").unlink()
    run_sweep(sweep_config_from_dict(FIXED), tmp_path, workers=1, progress=False)
    assert not any(path.exists() for path in left) and kept.exists()


def test_killing_a_two_worker_sweep_leaves_no_process_behind(tmp_path):
    """The sweep runs in its own process group; after ``kill -9`` of the sweep process alone, every process
    of the group (its workers, multiprocessing's helpers) is gone within seconds."""
    config = {**FIXED, "env": {"max_cycles": 100}, "grid": {"offense_defense_balance": [0.5, 1.0, 2.0, 3.0]},
              "seeds": 2, "eval_episodes": 4000}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config))
    sweep = subprocess.Popen([sys.executable, "-m", "sd_env.experiments.cli", "sweep", "--config", str(path),
                              "--output-dir", str(tmp_path), "--workers", "2", "--no-progress"],
                             start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    group = os.getpgid(sweep.pid)
    try:
        deadline = time.monotonic() + 120
        while len(_group_members(group)) < 3:  # the sweep and its two workers
            assert time.monotonic() < deadline and sweep.poll() is None, "the sweep never started its workers"
            time.sleep(0.2)
        assert not (tmp_path / "fixed" / "results.csv").exists()  # still working
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait()
        deadline = time.monotonic() + 30
        while _group_members(group):
            assert time.monotonic() < deadline, f"left behind: {_group_members(group)}"
            time.sleep(0.2)
    finally:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    calls = read_invocations(tmp_path / "fixed")
    assert [call["status"] for call in calls] == ["not finished"]  # the killed call is on record


def _group_members(group: int) -> list[int]:
    """Live (not zombie) processes of process group ``group``, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def test_training_seconds_add_up_over_resumes(tmp_path):
    config = load_config(None, [*TINY, f"output_dir={tmp_path}", "name=run"])
    first = train(config)["training_seconds"]
    run_json = tmp_path / "run" / "run.json"
    assert json.loads(run_json.read_text())["training_seconds"] == first > 0
    # As if earlier calls, killed or not, had trained for 1000 s up to the last checkpoint.
    json.dump({**json.loads(run_json.read_text()), "training_seconds": 1000.0}, open(run_json, "w"))
    began = time.perf_counter()
    resumed = load_config(None, [*TINY, f"output_dir={tmp_path}", "name=run", "total_timesteps=1024"])
    total = train(resumed, resume=True)["training_seconds"]
    assert 1000.0 < total <= 1000.0 + (time.perf_counter() - began)
    assert json.loads(run_json.read_text())["training_seconds"] == total
