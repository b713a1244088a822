"""The ``sd-env`` command line: output of each command, and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from experiments.cli import main
from sd_env.scenarios import SCENARIOS


def test_scenarios_lists_every_scenario_with_one_line(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(SCENARIOS)
    for line, name in zip(lines, SCENARIOS):
        assert line.startswith(name)


def test_dilemma_prints_table_and_verdict(capsys):
    assert main(["dilemma", "--scenario", "jervis-1", "--episodes", "20", "--set", "max_cycles=40"]) == 0
    out = capsys.readouterr().out
    assert "hawk" in out and "dove" in out and "security dilemma" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["dilemma", "--scenario", "atlantis"], "unknown scenario 'atlantis'"),
        (["dilemma", "--set", "offense_defense_balance=-1"], "offense_defense_balance must be in"),
        (["dilemma", "--set", "colour=blue"], "unknown parameter(s) ['colour']"),
        (["dilemma", "--set", "novalue"], "--set expects key=value"),
        (["dilemma", "--stances", "dove,eagle"], "unknown policy 'eagle'"),
        (["quickstart", "--scenario", "atlantis"], "unknown scenario"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_unwritable_output_folder_is_one_line_and_exit_code_2(tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the run folder should go")
    assert main(["train", "--output-dir", str(blocker), "--set", "total_timesteps=64", "--set", "progress_bar=false"]) == 2
    err = capsys.readouterr().err
    assert "not-a-folder" in err and len(err.strip().splitlines()) == 1


def test_console_script_exit_code_on_bad_input():
    completed = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "dilemma", "--set", "distinguishability=2"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "distinguishability must be in [0, 1], got 2.0" in completed.stderr
