"""The ``sd-env`` command line: output of each command, and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sd_env.experiments.cli import main
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


def test_dilemma_json_is_the_documented_contract(tmp_path, capsys):
    import json
    import math

    out = tmp_path / "jervis1.json"
    stances = ["dove", "hawk", "hawk/dove"]
    argv = ["dilemma", "--scenario", "jervis-1", "--stances", ",".join(stances), "--episodes", "8", "--seed", "3",
            "--set", "max_cycles=20", "--set", "greedy_prior=0.5", "--json", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "focal state a security seeker" in printed and "focal state greedy" in printed
    data = json.loads(out.read_text())
    assert set(data) == {"scenario", "parameters", "episodes", "seed", "stances", "tables", "no_good_policy"}
    assert data["scenario"] == "jervis-1" and data["episodes"] == 8 and data["seed"] == 3
    assert data["stances"] == stances
    assert data["parameters"]["offense_defense_balance"] == 3.0 and data["parameters"]["max_cycles"] == 20
    assert data["parameters"]["weapon_names"] == ["fortifications", "dual_use", "armour"]
    assert set(data["tables"]) == {"all", "security_seeker", "greedy"}
    for table in data["tables"].values():
        assert list(table) == stances
        for row in table.values():
            assert list(row) == stances
            for cell in row.values():
                assert set(cell) == {"mean", "se"} and math.isfinite(cell["mean"]) and cell["se"] >= 0.0
    # The type tables are the pooled focal states split by type: the pooled mean lies between them.
    for row in stances:
        for column in stances:
            means = sorted(data["tables"][key][row][column]["mean"] for key in ("security_seeker", "greedy"))
            assert means[0] - 1e-9 <= data["tables"]["all"][row][column]["mean"] <= means[1] + 1e-9


def test_dilemma_json_gives_null_cells_for_a_type_that_never_occurs(tmp_path, capsys):
    import json

    out = tmp_path / "none.json"
    assert main(["dilemma", "--stances", "dove,hawk", "--episodes", "3", "--set", "max_cycles=5",
                 "--set", "greedy_prior=0", "--json", str(out)]) == 0
    assert "no greedy occurred" in capsys.readouterr().out
    tables = json.loads(out.read_text())["tables"]
    assert tables["greedy"] == {"dove": {"dove": None, "hawk": None}, "hawk": {"dove": None, "hawk": None}}
    assert tables["security_seeker"] == tables["all"]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["dilemma", "--scenario", "atlantis"], "unknown scenario 'atlantis'"),
        (["dilemma", "--set", "offense_defense_balance=-1"], "offense_defense_balance must be in"),
        (["dilemma", "--set", "colour=blue"], "unknown parameter(s) ['colour']"),
        (["dilemma", "--set", "novalue"], "--set: an override must be key=value"),
        (["dilemma", "--stances", "dove,eagle"], "unknown policy 'eagle'"),
        (["dilemma", "--stances", "hawk/eagle"], "unknown policy 'eagle'"),
        (["dilemma", "--stances", ","], "stances must name at least one stance"),
        (["dilemma", "--episodes", "1"], "episodes must be >= 2"),
        (["dilemma", "--json", "."], "--json"),
        (["quickstart", "--scenario", "atlantis"], "unknown scenario"),
        (["dilemma", "--seed", "-1"], "argument --seed: expected a whole number >= 0, got -1"),
        (["scenarios", "--describe", "bilateral", "--seed", "-1"], "argument --seed: expected a whole number >= 0"),
        (["evaluate", "--policy", "baseline:dove", "--seed", "-3"], "argument --seed"),
        (["quickstart", "--timesteps", "0"], "argument --timesteps: expected a whole number >= 1, got 0"),
        (["train", "--set", "ppo.net_arch=[]"], "ppo.net_arch must be a non-empty list of positive integers"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
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
        [sys.executable, "-m", "sd_env.experiments.cli", "dilemma", "--set", "distinguishability=2"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "distinguishability must be in [0, 1], got 2.0" in completed.stderr


@pytest.mark.slow
def test_docs_tables_check_passes_on_fresh_tables_and_fails_on_stale_ones(tmp_path, capsys):
    from sd_env.experiments.reporting import docs_tables
    from sd_env.experiments.output.blocks import wrap
    from sd_env.experiments.reporting.scenario_cards import PROVENANCE_BLOCK, block_name

    doc = tmp_path / "model.md"
    doc.write_text(f"intro\n{docs_tables.PARAMETERS_START}\n{docs_tables.PARAMETERS_END}\n"
                   f"{wrap(docs_tables.SCENARIO_TABLE, '')}\n{docs_tables.START}\n{docs_tables.END}\noutro\n")
    # The other documents in tmp_path too: this test must not rewrite the repository's docs.
    measures = tmp_path / "measures.md"
    measures.write_text(wrap(docs_tables.MEASURES, "") + "\n")
    cards = tmp_path / "scenarios.md"
    cards.write_text("\n".join(wrap(name, "") for name in [PROVENANCE_BLOCK, *map(block_name, SCENARIOS)]) + "\n")
    documents = ["--doc", str(doc), "--measures-doc", str(measures), "--scenarios-doc", str(cards)]
    # The docs' own episodes and seed: the tables are computed once in a process (dilemma_text.scenario_tables),
    # and the check of the repository's docs (tests/test_scenario_cards.py) reads the same ones.
    assert docs_tables.main(documents) == 0
    assert docs_tables.main([*documents, "--check"]) == 0
    assert "### `thucydides`" in cards.read_text() and "| [`thucydides`]" in doc.read_text()
    fresh = doc.read_text()
    # One changed cell makes the file stale; --check says so, exits 1 and writes nothing.
    stale = fresh.replace("| **dove** | ", "| **dove** | 1.0 ± 0.0 | ", 1)
    doc.write_text(stale)
    capsys.readouterr()
    assert docs_tables.main([*documents, "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert doc.read_text() == stale


# ---------------------------------------------------------------------------------------------------------
# Errors typed by who must act: user errors are one line with the flag; bugs keep their traceback


def test_an_internal_error_reaches_the_user_with_its_traceback(monkeypatch):
    """A bug (here a NumPy shape error injected into a measure) is not bad input: main lets it raise."""
    import numpy as np

    from sd_env.experiments.lab import measures

    def broken(result, seats):
        return measures.Ratio(np.ones(3) + np.ones(4), np.ones(3))  # operands could not be broadcast

    import dataclasses

    monkeypatch.setitem(measures.EPISODE_MEASURES, "welfare",
                        dataclasses.replace(measures.EPISODE_MEASURES["welfare"], compute=broken))
    with pytest.raises(ValueError, match="could not be broadcast"):
        main(["evaluate", "--policy", "baseline:dove", "--episodes", "2", "--set", "max_cycles=5"])


def test_an_internal_error_prints_a_traceback_from_the_console_command(tmp_path):
    code = (
        "import dataclasses, sys, numpy as np\n"
        "from sd_env.experiments.lab import measures\n"
        "measures.EPISODE_MEASURES['welfare'] = dataclasses.replace(measures.EPISODE_MEASURES['welfare'], "
        "compute=lambda r, s: measures.Ratio(np.ones(3) + np.ones(4), np.ones(3)))\n"
        "from sd_env.experiments.cli import main\n"
        "sys.exit(main(['evaluate', '--policy', 'baseline:dove', '--episodes', '2', '--set', 'max_cycles=5']))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 1
    assert "Traceback" in completed.stderr and "could not be broadcast" in completed.stderr
    assert "sd-env evaluate: error:" not in completed.stderr


def test_a_library_error_names_the_parameter_and_the_cli_its_flag(capsys):
    from sd_env.errors import SdEnvError
    from sd_env.experiments.lab.evaluation import check_counts

    with pytest.raises(SdEnvError) as error:
        check_counts(0, 0)
    assert str(error.value) == "episodes must be at least 1, got 0" and error.value.parameter == "episodes"
    assert main(["evaluate", "--policy", "baseline:dove", "--episodes", "0"]) == 2
    assert capsys.readouterr().err == "sd-env evaluate: error: --episodes must be at least 1, got 0\n"
    assert main(["sweep", "--config", "no-such-sweep.yaml", "--format", "csv"]) == 2
    assert "sweep config 'no-such-sweep.yaml' not found" in capsys.readouterr().err


def test_every_user_error_is_an_sd_env_error():
    """The families of user errors share one root, which is still a ValueError for older callers."""
    from sd_env.errors import ActionError, ParameterError, PolicyError, SdEnvError
    from sd_env.experiments.history.data import HistoryDataError
    from sd_env.experiments.lab.series import SeriesError
    from sd_env.experiments.lab.specs import PolicySpecError
    from sd_env.experiments.reporting.report import ReportError
    from sd_env.experiments.studies.benchmark import BenchmarkError
    from sd_env.experiments.studies.sweep import SweepConfigError
    from sd_env.experiments.training.config import ConfigError

    for family in (ActionError, ParameterError, PolicyError, HistoryDataError, SeriesError, PolicySpecError,
                   ReportError, BenchmarkError, SweepConfigError, ConfigError):
        assert issubclass(family, SdEnvError)
    assert issubclass(SdEnvError, ValueError)


def test_a_missing_package_that_no_extra_provides_is_a_bug_not_an_install_hint(monkeypatch):
    from sd_env.experiments import cli

    def handler(args):
        raise ModuleNotFoundError("No module named 'sd_env_nonexistent_helper'", name="sd_env_nonexistent_helper")

    parser = cli.build_parser()
    args = parser.parse_args(["params"])
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["params"].set_defaults(handler=handler)
    with pytest.raises(ModuleNotFoundError):
        cli.main(["params"])
    assert args.command == "params"


# ---------------------------------------------------------------------------------------------------------
# Output hygiene: figure formats by extension, no folders created behind the user's back, resume hints


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-"), (".svg", b"<?xml")])
def test_plot_writes_the_format_its_extension_names(suffix, magic, tmp_path, cli):
    path = tmp_path / f"figure{suffix}"
    code, printed, _ = cli(["evaluate", "--policy", "baseline:dove", "--episodes", "2", "--set", "max_cycles=8",
                            "--plot", str(path)])
    assert code == 0 and f"wrote {path}" in printed
    assert path.read_bytes().startswith(magic)


def test_output_files_in_missing_folders_or_of_unknown_formats_are_refused_before_any_work(tmp_path, cli):
    missing = tmp_path / "no" / "such" / "folder" / "t.json"
    for argv, fragment in ((["dilemma", "--json", str(missing)], "does not exist"),
                           (["evaluate", "--policy", "baseline:dove", "--json", str(missing)], "does not exist"),
                           (["evaluate", "--policy", "baseline:dove", "--plot", str(tmp_path / "f.jpg")],
                            "give a .png, .pdf or .svg file")):
        code, _, error = cli(argv)
        assert code == 2 and fragment in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "no").exists()


def test_an_interrupted_run_says_how_to_resume(monkeypatch, cli):
    from sd_env.experiments.training import train as train_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "train", interrupted)
    code, _, error = cli(["train", "--set", "total_timesteps=64"])
    assert code == 130
    assert error.strip() == ("sd-env train: interrupted; the run keeps its last checkpoint: continue it with the "
                             "same command and --resume")


def test_output_options_of_long_runs_are_checked_before_the_run(tmp_path, cli):
    """``benchmark --doc`` and ``sweep --report`` used to fail only after the whole run."""
    sweep_config = tmp_path / "sweep.yaml"
    sweep_config.write_text("name: s\nspecs: [baseline:dove]\nseeds: [0]\nepisodes: 2\ngrid: {}\n")
    document = tmp_path / "doc.md"
    document.write_text("# no leaderboard block here\n")
    for argv, fragment in (
        (["benchmark", "--algo", "sd_env.agents.reinforce:train", "--doc", str(tmp_path / "missing.md"),
          "--output", str(tmp_path / "bench")], "--doc"),
        (["benchmark", "--algo", "sd_env.agents.reinforce:train", "--doc", str(document),
          "--output", str(tmp_path / "bench")], "lacks the marker lines"),
        (["sweep", "--config", str(sweep_config), "--output-dir", str(tmp_path / "sweeps"), "--report",
          str(tmp_path)], "--report"),
    ):
        code, _, error = cli(argv)
        assert code == 2 and fragment in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "bench").exists() and not (tmp_path / "sweeps").exists()
