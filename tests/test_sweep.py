"""Sweeps: config validation, end-to-end runs (fixed and trained), resume after a kill, executors agree, typed
config to workers, rows kept in memory, the appended invocation log, the one seating path, typed errors."""

from __future__ import annotations

import json
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sd_env.experiments.cli import main
from sd_env.experiments.lab.measures import EPISODE_MEASURES, summarize
from sd_env.experiments.lab.rollout import load_rollout, rollout
from sd_env.experiments.lab.seating import PolicyCache, play
from sd_env.experiments.studies import sweep as sweep_module
from sd_env.experiments.studies.sweep import (
    INVOCATIONS_FILE,
    SweepConfig,
    SweepConfigError,
    pending_tasks,
    prepare_folder,
    read_invocations,
    read_results,
    run_sweep,
    run_task,
    sweep_config_from_dict,
)
from sd_env.experiments.training.config import ConfigError

from sd_env.errors import SdEnvError
from sd_env.scenarios import make_params
from sd_env.stances import make_policy

FIXED = {
    "name": "fixed",
    "scenario": "jervis-1",
    "env": {"max_cycles": 12},
    "grid": {"offense_defense_balance": [0.5, 2.0], "distinguishability": [0.0, 1.0]},
    "seeds": 2,
    "policies": ["baseline:deterrer"],
    "eval_episodes": 6,
}


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"colour": "blue"}, "unknown sweep config key 'colour'; known keys: name,"),
        ({"seed": 1}, "unknown sweep config key 'seed'; did you mean 'seeds'? known keys: name,"),
        ({"grid": {"distinguishabilty": [0.5]}},
         "grid: unknown environment parameter 'distinguishabilty'; did you mean 'distinguishability'?"),
        ({"grid": {"colour": [1, 2]}}, "grid: unknown environment parameter 'colour'; see sd-env params"),
        ({"scenario": "jervis1"}, "unknown scenario 'jervis1'; did you mean 'jervis-1'? choose one of"),
        ({"grid": {}}, "grid must map at least one environment parameter"),
        ({"grid": {"weapons": [1, 2]}}, "grid: unknown environment parameter 'weapons'"),
        ({"grid": {"distinguishability": [0.5, 1.5]}}, "distinguishability must be in [0, 1]"),
        ({"grid": {"distinguishability": []}}, "must be a non-empty list"),
        ({"grid": {"distinguishability": [0.5, 0.5]}}, "lists a value twice"),
        ({"seeds": 0}, "seeds must be a count >= 1"),
        ({"seeds": [1, 1]}, "lists a seed twice"),
        ({"scenario": "atlantis"}, "unknown scenario 'atlantis'"),
        ({"eval_episodes": 0}, "eval_episodes must be an integer >= 1"),
        ({"policies": ["baseline:eagle"]}, "unknown baseline 'eagle'"),
        ({"policies": ["baseline:dove"] * 3}, "one spec for every seat or one per seat"),
        ({"policies": ["no/such/checkpoint.zip"]}, "not found"),
        ({"train": {"total_timesteps": 100}}, "either train"),
        ({"policies": None, "train": {"seed": 3}}, "train: seed is set by the sweep"),
        ({"policies": None, "train": {"algorithm": "dqn"}}, "train: algorithm must be one of"),
        ({"env": {"offense_defense_balance": 1.0}}, "both in env and in grid"),
        ({"grid": {"train.start": ["random", "grim"]}}, "grid: train.start varies a train-config field, but this "
                                                         "sweep plays fixed policies"),
        ({"policies": None, "train": {}, "grid": {"train.strat": ["random"]}},
         "grid: unknown train-config field 'train.strat'; did you mean 'train.start'?"),
        ({"policies": None, "train": {}, "grid": {"train.seed": [1, 2]}}, "grid: train.seed is set by the sweep"),
        ({"policies": None, "train": {"start": "dove"}, "grid": {"train.start": ["random", "grim"]}},
         "start is both in train and in grid (as train.start)"),
        ({"policies": None, "train": {}, "grid": {"train.start": ["random", "gim"]}},
         "grid cell {'train.start': 'gim'}: start: unknown stance 'gim'; did you mean 'grim'?"),
        ({"policies": None, "train": {}, "grid": {"train.ppo.ent_coef": [0.0, -1.0]}},
         "grid cell {'train.ppo.ent_coef': -1.0}: ppo.clip_range must be > 0 and ppo.ent_coef"),
    ],
)
def test_bad_sweep_configs_are_one_line_errors(change, fragment):
    raw = {key: value for key, value in {**FIXED, **change}.items() if value is not None}
    with pytest.raises(SweepConfigError) as error:
        sweep_config_from_dict(raw)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_a_fixed_policy_sweep_has_one_row_per_cell_and_seed_with_every_measure(tmp_path):
    config = sweep_config_from_dict(FIXED)
    table = run_sweep(config, tmp_path, workers=1, progress=False)
    assert list(table.columns) == ["cell", "offense_defense_balance", "distinguishability", "seed",
                                   *EPISODE_MEASURES]
    assert len(table) == 4 * 2 and table[["cell", "seed"]].drop_duplicates().shape[0] == 8
    # Each row is the cell's policies played on the held-out evaluation seed (seed + 1), measured by the registry.
    params = make_params("jervis-1", max_cycles=12, offense_defense_balance=2.0, distinguishability=0.0)
    expected = summarize(rollout(params, [make_policy("deterrer", params, seed=1)] * 2, 6, seed=2))
    row = table[(table.offense_defense_balance == 2.0) & (table.distinguishability == 0.0) & (table.seed == 1)]
    for name, value in expected.items():
        assert row[name].item() == pytest.approx(value, nan_ok=True), name
    trajectory = load_rollout(tmp_path / "fixed" / "trajectories" / "cell0002-seed1.npz")
    assert trajectory.params == params and trajectory.episodes == 3
    # Defence dominant and clearly seen, the deterrer buys nothing; offence dominant and blurred, it arms.
    means = table.groupby(["offense_defense_balance", "distinguishability"]).military_burden.mean()
    assert means.loc[(2.0, 0.0)] > means.loc[(0.5, 1.0)]


def test_a_rerun_finishes_missing_rows_and_never_rewrites_finished_ones(tmp_path):
    config = sweep_config_from_dict(FIXED)
    first = run_sweep(config, tmp_path, workers=1, progress=False)
    rows = tmp_path / "fixed" / "rows"
    kept = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in rows.iterdir()}
    (rows / "cell0001-seed0.json").unlink()
    (tmp_path / "fixed" / "results.csv").unlink()
    again = run_sweep(config, tmp_path, workers=1, progress=False)
    pd.testing.assert_frame_equal(first, again)
    run_sweep(config, tmp_path, workers=1, progress=False)  # nothing left to do: no invocation recorded
    calls = read_invocations(tmp_path / "fixed")
    assert [call["rows_computed"] for call in calls] == [8, 1]
    assert all(call["rows_total"] == 8 and call["workers"] == 1 and call["seconds"] >= 0 for call in calls)
    for path in rows.iterdir():
        if path.name != "cell0001-seed0.json":
            assert (path.read_bytes(), path.stat().st_mtime_ns) == kept[path.name], path.name


def test_a_different_sweep_in_the_same_folder_is_refused(tmp_path, capsys):
    run_sweep(sweep_config_from_dict(FIXED), tmp_path, workers=1, progress=False)
    changed = {**FIXED, "seeds": 3}
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(changed, sort_keys=False))
    assert main(["sweep", "--config", str(path), "--output-dir", str(tmp_path), "--no-progress"]) == 2
    error = capsys.readouterr().err.strip()
    assert "holds a different sweep" in error and "\n" not in error


def test_cli_sweep_errors_exit_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**FIXED, "grid": {"offense_defense_balance": [-1.0]}}, sort_keys=False))
    assert main(["sweep", "--config", str(path), "--output-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("sd-env sweep: error:") and "offense_defense_balance" in error and "\n" not in error
    assert main(["sweep", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_a_killed_sweep_rerun_gives_the_table_of_an_uninterrupted_one(tmp_path):
    config = {**FIXED, "name": "killed", "env": {"max_cycles": 40}, "seeds": 6, "eval_episodes": 48}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    command = [sys.executable, "-m", "sd_env.experiments.cli", "sweep", "--config", str(path), "--output-dir",
               str(tmp_path / "out"), "--workers", "1", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=Path(__file__).resolve().parents[1])
    rows = tmp_path / "out" / "killed" / "rows"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(rows.glob("*.json"))) < 3:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {path.name: path.read_bytes() for path in rows.glob("*.json")}
    assert 3 <= len(before) < 4 * 6, "killed midway"
    assert main(["sweep", "--config", str(path), "--output-dir", str(tmp_path / "out"), "--workers", "1",
                 "--no-progress"]) == 0
    for name, content in before.items():
        assert (rows / name).read_bytes() == content, "a finished row was rewritten"
    straight = run_sweep(sweep_config_from_dict({**config, "name": "straight"}), tmp_path / "out", workers=1,
                         progress=False)
    pd.testing.assert_frame_equal(read_results(tmp_path / "out" / "killed"), straight)


def test_a_reordered_grid_is_a_different_sweep(tmp_path):
    run_sweep(sweep_config_from_dict(FIXED), tmp_path, workers=1, progress=False)
    reordered = {**FIXED, "grid": dict(reversed(list(FIXED["grid"].items())))}
    with pytest.raises(SweepConfigError, match="holds a different sweep"):
        run_sweep(sweep_config_from_dict(reordered), tmp_path, workers=1, progress=False)


def test_local_worker_processes_give_the_table_of_one_process(tmp_path):
    config = sweep_config_from_dict(FIXED)
    one = run_sweep(config, tmp_path / "one", workers=1, progress=False)
    two = run_sweep(config, tmp_path / "two", workers=2, progress=False)
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.slow
def test_ray_tasks_give_the_table_of_local_workers(tmp_path):
    config = sweep_config_from_dict(FIXED)
    local = run_sweep(config, tmp_path / "local", workers=1, progress=False)
    on_ray = run_sweep(config, tmp_path / "ray", executor="ray", workers=2, progress=False)
    pd.testing.assert_frame_equal(local, on_ray)


def test_a_tiny_training_sweep_trains_every_cell_and_reports_its_final_drift_row(tmp_path):
    config = sweep_config_from_dict({
        "name": "trained", "scenario": "bilateral", "env": {"max_cycles": 12},
        "grid": {"offense_defense_balance": [0.5, 2.0]}, "seeds": [3], "eval_episodes": 4,
        "train": {"total_timesteps": 1024, "num_envs": 4, "checkpoint_every": 512, "opponents": ["dove"],
                  "ppo": {"n_steps": 64, "batch_size": 256, "n_epochs": 1}},
    })
    table = run_sweep(config, tmp_path, workers=1, progress=False)
    assert len(table) == 2
    for cell in (0, 1):
        run = tmp_path / "trained" / "runs" / f"cell{cell:04d}-seed3"
        assert (run / "policy.zip").is_file() and (run / "checkpoints").is_dir()
        saved = yaml.safe_load((run / "config.yaml").read_text())
        assert saved["seed"] == 3 and saved["env"]["offense_defense_balance"] == [0.5, 2.0][cell]
        drift = pd.read_csv(run / "drift.csv")
        assert drift.timesteps.tolist() == [512, 1024]  # one PPO rollout is 4 envs x 64 steps x 2 states
        row = table[table.cell == cell].iloc[0]
        for name in EPISODE_MEASURES:
            assert row[name] == pytest.approx(drift.iloc[-1][name], nan_ok=True), name
    # Rerunning a finished training sweep trains nothing and changes nothing.
    again = run_sweep(config, tmp_path, workers=1, progress=False)
    pd.testing.assert_frame_equal(table, again)
    assert json.loads((tmp_path / "trained" / "rows" / "cell0000-seed3.json").read_text())["row"]["seed"] == 3


def test_a_training_sweep_may_vary_train_config_fields_beside_environment_parameters(tmp_path):
    config = sweep_config_from_dict({
        "name": "starts", "scenario": "bilateral", "env": {"max_cycles": 8},
        "grid": [{"offense_defense_balance": [0.5, 2.0], "train.start": ["random", "dove"]},
                 {"offense_defense_balance": [2.0], "train.ppo.ent_coef": [0.0]}],
        "seeds": [1], "eval_episodes": 2,
        "train": {"total_timesteps": 256, "num_envs": 4, "checkpoint_every": 256, "opponents": ["dove"],
                  "ppo": {"n_steps": 32, "batch_size": 128, "n_epochs": 1}},
    })
    cells = config.cells()
    # The second plane holds train.start at the train section's (here the default) value, and the first holds
    # ppo.ent_coef at the train section's default.
    assert cells[-1] == {"offense_defense_balance": 2.0, "train.start": "random", "train.ppo.ent_coef": 0.0}
    assert cells[0]["train.ppo.ent_coef"] == 0.01
    built = config.train_config(1, cells[1], 1, tmp_path)
    assert built.start == "dove" and built.ppo.ent_coef == 0.01 and built.ppo.n_steps == 32
    assert built.env == {"max_cycles": 8, "offense_defense_balance": 0.5}  # train. parameters stay out of env
    assert config.train_config(4, cells[-1], 1, tmp_path).ppo.ent_coef == 0.0
    assert config.train["ppo"] == {"n_steps": 32, "batch_size": 128, "n_epochs": 1}  # the sweep's own untouched
    table = run_sweep(sweep_config_from_dict({**config.to_dict(), "grid": {"train.start": ["random", "dove"]}}),
                      tmp_path, workers=1, progress=False)
    assert table["train.start"].tolist() == ["random", "dove"]
    cloned = json.loads((tmp_path / "starts" / "runs" / "cell0001-seed1" / "start.json").read_text())
    assert cloned["shared"]["stance"] == "dove" and cloned["shared"]["agreement"]["attack"] >= 0.98
    assert not (tmp_path / "starts" / "runs" / "cell0000-seed1" / "start.json").exists()


def test_a_grid_of_planes_sweeps_their_union_at_the_defaults_of_what_each_plane_holds_fixed(tmp_path):
    config = sweep_config_from_dict({
        **FIXED, "seeds": 1,
        "grid": [{"offense_defense_balance": [0.5, 2.0], "distinguishability": [0.0, 1.0]},
                 {"offense_defense_balance": [0.5, 2.0], "observation_noise": [0.0, 0.4]}],
    })
    defaults = make_params("jervis-1", max_cycles=12)
    cells = config.cells()
    assert config.parameters == ["offense_defense_balance", "distinguishability", "observation_noise"]
    assert len(cells) == 4 + 4
    assert all(cell["observation_noise"] == defaults.observation_noise for cell in cells[:4])
    assert all(cell["distinguishability"] == defaults.distinguishability for cell in cells[4:])
    table = run_sweep(config, tmp_path, workers=1, progress=False)
    assert list(table.columns[:5]) == ["cell", "offense_defense_balance", "distinguishability", "observation_noise",
                                       "seed"]
    assert len(table) == 8
    # A cell two planes share is swept once.
    shared = sweep_config_from_dict({**FIXED, "grid": [{"offense_defense_balance": [0.5, 2.0]},
                                                       {"offense_defense_balance": [2.0, 3.0]}]})
    assert [cell["offense_defense_balance"] for cell in shared.cells()] == [0.5, 2.0, 3.0]


def test_cli_sweep_can_write_its_report_when_complete(tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({**FIXED, "seeds": 1}, sort_keys=False))
    report = tmp_path / "docs" / "fixed.md"
    report.parent.mkdir()
    assert main(["sweep", "--config", str(path), "--output-dir", str(tmp_path / "out"), "--workers", "1",
                 "--no-progress", "--report", str(report)]) == 0
    text = report.read_text()
    assert "sd-env sweep --config" in text and "--report" in text  # the one command that remakes it
    assert (tmp_path / "docs" / "fixed-figures").is_dir()
    assert f"wrote {report}" in capsys.readouterr().out


def test_tasks_carry_the_validated_config_and_run_task_does_not_validate_it_again(tmp_path, monkeypatch):
    config = sweep_config_from_dict({**FIXED, "seeds": 1})
    folder = prepare_folder(config, tmp_path)
    tasks = pending_tasks(config, folder)
    assert len(tasks) == 4 and all(task.config is config for task in tasks)
    assert isinstance(tasks[0].config, SweepConfig)
    # Picklable, for the spawned worker processes and for Ray.
    assert pickle.loads(pickle.dumps(tasks[0])) == tasks[0]

    def refuse(*args, **kwargs):
        raise AssertionError("run_task validated the config again")

    monkeypatch.setattr(sweep_module, "sweep_config_from_dict", refuse)
    outcome = run_task(tasks[1])
    assert outcome["row"]["cell"] == 1 and outcome["row"]["seed"] == 0
    assert set(EPISODE_MEASURES) <= set(outcome["row"])


def test_the_finished_rows_are_read_once_per_call_and_the_returned_table_is_the_files(tmp_path, monkeypatch):
    config = sweep_config_from_dict(FIXED)
    calls = []
    original = sweep_module.read_rows
    monkeypatch.setattr(sweep_module, "read_rows", lambda folder: calls.append(folder) or original(folder))
    table = run_sweep(config, tmp_path, workers=1, progress=False)
    assert len(calls) == 1  # not once more after every row
    pd.testing.assert_frame_equal(table, read_results(tmp_path / "fixed"), check_exact=True)
    # The table on disk is the one the row files give (sorted by cell, then seed).
    rebuilt = pd.DataFrame([entry["row"] for entry in original(tmp_path / "fixed").values()])
    rebuilt = rebuilt.sort_values(["cell", "seed"], kind="stable").reset_index(drop=True)
    assert (tmp_path / "fixed" / "results.csv").read_text() == rebuilt.to_csv(index=False)
    parquet = run_sweep(config, tmp_path / "parquet", workers=1, progress=False, fmt="parquet")
    pd.testing.assert_frame_equal(parquet, read_results(tmp_path / "parquet" / "fixed"), check_exact=True)
    pd.testing.assert_frame_equal(parquet, table)


def test_each_call_is_on_record_from_its_start_and_a_truncated_last_line_is_skipped(tmp_path):
    config = sweep_config_from_dict({**FIXED, "seeds": 1})
    folder = tmp_path / "fixed"
    run_sweep(config, tmp_path, workers=1, progress=False)
    (folder / "rows" / "cell0001-seed0.json").unlink()
    run_sweep(config, tmp_path, workers=1, progress=False)
    log = folder / INVOCATIONS_FILE
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["started", "finished"] * 2
    assert [line["rows_pending"] for line in lines[::2]] == [4, 1]
    calls = read_invocations(folder)
    assert [(call["status"], call["rows_computed"]) for call in calls] == [("finished", 4), ("finished", 1)]
    # A call killed after it started leaves its first line only: on record, as not finished ...
    with open(log, "a") as stream:
        stream.write(json.dumps({**lines[0], "call": "killed"}) + "\n")
    killed = read_invocations(folder)[-1]
    assert killed["status"] == "not finished" and killed["seconds"] is None and killed["rows_computed"] is None
    # ... and one killed while appending a line leaves part of it: readers skip it ...
    with open(log, "a") as stream:
        stream.write('{"started": "2024-01-01T00:0')
    assert [call["rows_computed"] for call in read_invocations(folder)] == [4, 1, None]
    # ... and the next call drops it before appending its own, so the file stays one record per line.
    (folder / "rows" / "cell0002-seed0.json").unlink()
    run_sweep(config, tmp_path, workers=1, progress=False)
    assert all(json.loads(line) for line in log.read_text().splitlines())
    assert [call["rows_computed"] for call in read_invocations(folder)] == [4, 1, None, 1]
    # Lines of older sweeps (one per finished call, no "call" key) read as finished calls.
    with open(log, "a") as stream:
        stream.write(json.dumps({"started": "2024-01-01T00:00:00+00:00", "seconds": 3.0, "rows_computed": 2,
                                 "rows_total": 4, "executor": "local", "workers": 1, "cpus": 2, "machine": "m"}) + "\n")
    assert read_invocations(folder)[-1]["status"] == "finished"
    # A damaged line before the last is named, not skipped.
    log.write_text('{"broken\n' + log.read_text())
    with pytest.raises(SweepConfigError, match="invocations.jsonl.*line 1 is not JSON"):
        read_invocations(folder)
    assert read_invocations(tmp_path / "nowhere") == []


@pytest.mark.parametrize("policies", [["baseline:random"], ["baseline:random", "baseline:deterrer"]])
def test_a_fixed_policy_row_is_the_seated_policies_played_by_the_one_seeding_rule(tmp_path, policies):
    config = sweep_config_from_dict({**FIXED, "seeds": [4], "policies": policies})
    table = run_sweep(config, tmp_path, workers=1, progress=False)
    params = make_params("jervis-1", max_cycles=12, offense_defense_balance=0.5, distinguishability=1.0)
    specs = policies if len(policies) > 1 else policies * params.n_states
    expected = summarize(play(params, PolicyCache(params, seed=4).seat(specs), 6, 4 + 1))
    row = table[(table.offense_defense_balance == 0.5) & (table.distinguishability == 1.0)]
    assert len(row) == 1
    for name, value in expected.items():
        assert row[name].item() == pytest.approx(value, nan_ok=True), name
    trajectory = load_rollout(tmp_path / "fixed" / "trajectories" / "cell0001-seed4.npz")
    assert trajectory.params == params and trajectory.episodes == 3


def test_argument_errors_are_typed_name_the_parameter_and_no_flag(tmp_path, monkeypatch):
    config = sweep_config_from_dict(FIXED)
    assert issubclass(SweepConfigError, ConfigError) and issubclass(SweepConfigError, SdEnvError)
    cases = [({"executor": "slurm"}, "executor", "executor must be one of"),
             ({"fmt": "xlsx"}, "fmt", "fmt must be"),
             ({"workers": -1}, "workers", "workers must be >= 1")]
    for arguments, parameter, fragment in cases:
        with pytest.raises(SweepConfigError) as error:
            run_sweep(config, tmp_path, progress=False, **arguments)
        assert error.value.parameter == parameter and fragment in str(error.value)
        assert "--" not in str(error.value)
    run_sweep(config, tmp_path, workers=1, progress=False)
    with pytest.raises(SweepConfigError) as error:
        run_sweep(sweep_config_from_dict({**FIXED, "seeds": 3}), tmp_path, workers=1, progress=False)
    assert error.value.parameter == "output_dir" and "output_dir" in str(error.value)
    assert "--" not in str(error.value)
    # Without Ray installed, the ray executor says so in the library's terms.
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(SweepConfigError) as error:
        run_sweep(sweep_config_from_dict({**FIXED, "name": "on-ray"}), tmp_path, executor="ray", workers=1,
                  progress=False)
    assert error.value.parameter == "executor" and str(error.value).startswith("executor 'ray' needs Ray")
    # Config errors name no parameter of a function.
    with pytest.raises(SweepConfigError) as error:
        sweep_config_from_dict({**FIXED, "seeds": 0})
    assert error.value.parameter is None
