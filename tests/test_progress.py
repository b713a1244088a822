"""The one progress bar of long jobs (sd_env.experiments.output.progress): it counts, it writes to standard error
only (one plain line where that is not a terminal, nothing when disabled or when the job fails), and it changes
no result: evaluate, crossplay and exploit print and write the same with and without ``--no-progress``, and a
sweep still reports its rows."""

from __future__ import annotations

import re

import pytest
from sd_env.experiments.cli import build_parser, main
from sd_env.experiments.output.progress import progress_bar

#: A cheap world: short episodes.
SHORT = ["--set", "max_cycles=8"]


def test_a_disabled_bar_counts_and_writes_nothing(capfd):
    with progress_bar(5, "job", "things", enabled=False, initial=1) as bar:
        bar.advance()
        bar.advance(2)
        bar.status("running 1, queued 0")
        bar.update(description="renamed")
        assert not bar.enabled
    assert bar.completed == 4 and bar.total == 5 and bar.description == "renamed"
    assert capfd.readouterr() == ("", "")


def test_a_drawn_bar_counts_and_leaves_one_plain_line_on_standard_error(capfd):
    with progress_bar(5, "job", "things", enabled=True, initial=1) as bar:
        assert bar.enabled
        bar.status("running 2, queued 1")
        bar.advance(3)
    assert bar.completed == 4 and not bar.enabled
    out, err = capfd.readouterr()
    assert out == ""
    # Standard error is not a terminal here: the bar's last state, once, without control codes and without the
    # status of work that is over.
    assert err.count("\n") == 1 and "job" in err and "4/5 things" in err and "\x1b" not in err
    assert "running" not in err


def test_a_bar_whose_job_fails_is_taken_away(capfd):
    with pytest.raises(RuntimeError):
        with progress_bar(3, "job", "things", enabled=True) as bar:
            bar.advance()
            raise RuntimeError("the job failed")
    assert capfd.readouterr() == ("", "")  # the command line's error stays the one line on standard error


def test_closing_twice_is_harmless(capfd):
    bar = progress_bar(2, "job", "things", enabled=True)
    bar.advance(2)
    bar.close()
    bar.close()
    assert capfd.readouterr().err.count("2/2 things") == 1


@pytest.mark.parametrize("command", ["evaluate", "crossplay", "exploit", "sweep", "benchmark"])
def test_every_long_command_has_the_same_no_progress_option(command):
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    option = next(action for action in commands[command]._actions if "--no-progress" in action.option_strings)
    assert option.help == "no progress bar" and option.default is False


def _twice(argv: list[str], json_path, capsys) -> tuple[tuple[str, str, bytes], tuple[str, str, bytes]]:
    """``argv`` with the bar and with ``--no-progress``: (stdout, stderr, the --json file's bytes) of each."""
    runs = []
    for extra in ([], ["--no-progress"]):
        assert main([*argv, "--json", str(json_path), *extra]) == 0
        captured = capsys.readouterr()
        runs.append((captured.out, captured.err, json_path.read_bytes()))
    return runs[0], runs[1]


def test_evaluate_shows_episodes_on_standard_error_and_prints_and_writes_the_same(tmp_path, capsys):
    shown, quiet = _twice(["evaluate", "--policy", "baseline:dove", "--episodes", "3", "--every-seat", *SHORT],
                          tmp_path / "e.json", capsys)
    assert shown[0] == quiet[0] and shown[2] == quiet[2]
    assert "evaluate" in shown[1] and "6/6 episodes" in shown[1] and "\x1b" not in shown[1]
    assert quiet[1] == ""


def test_crossplay_shows_pairs_and_prints_and_writes_the_same(tmp_path, capsys):
    shown, quiet = _twice(["crossplay", "--policies", "baseline:dove", "baseline:hawk", "--episodes", "2", *SHORT],
                          tmp_path / "c.json", capsys)
    assert shown[0] == quiet[0] and shown[2] == quiet[2]
    assert "crossplay" in shown[1] and "4/4 pairs" in shown[1] and quiet[1] == ""


def test_exploit_shows_its_phases_and_its_report_is_the_same(tmp_path, capsys):
    """The bar follows training through an SB3 callback: the best response, and so the report, is unchanged."""
    shown, quiet = _twice(["exploit", "--policy", "baseline:hawk", "--budget", "64", "--episodes", "4", *SHORT],
                          tmp_path / "x.json", capsys)
    assert shown[2] == quiet[2]
    # Only the seconds training took may differ on standard output.
    assert re.sub(r"in [\d.]+ s,", "in S s,", shown[0]) == re.sub(r"in [\d.]+ s,", "in S s,", quiet[0])
    assert "exploit" in shown[1] and "9/9 phases" in shown[1] and quiet[1] == ""


def test_a_sweep_still_reports_its_rows_and_its_table_is_the_same(tmp_path, capfd):
    from sd_env.experiments.studies.sweep import run_sweep, sweep_config_from_dict

    config = sweep_config_from_dict({"name": "bar", "scenario": "bilateral", "env": {"max_cycles": 8},
                                     "grid": {"offense_defense_balance": [0.5, 2.0]}, "seeds": 1,
                                     "policies": ["baseline:dove"], "eval_episodes": 2})
    shown = run_sweep(config, tmp_path / "shown", workers=1, progress=True)
    err = capfd.readouterr().err
    assert "sweep bar" in err and "2/2 rows" in err and "\x1b" not in err
    quiet = run_sweep(config, tmp_path / "quiet", workers=1, progress=False)
    assert capfd.readouterr().err == ""
    assert shown.equals(quiet)
    # A call with every row done shows them as done before it started.
    run_sweep(config, tmp_path / "shown", workers=1, progress=True)
    assert "2/2 rows" in capfd.readouterr().err
