"""Every file sd-env reads back is checked: a damaged one is one line naming it (exit code 2 on the command
line) and is never used; a damaged latest checkpoint falls back to the previous whole one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from sd_env.errors import SdEnvError
from sd_env.experiments.lab.rollout import load_rollout
from sd_env.experiments.output.reading import CorruptFileError, check_csv_text
from sd_env.experiments.studies.sweep import read_results, read_rows, run_sweep, sweep_config_from_dict
from sd_env.experiments.training.config import load_config
from sd_env.experiments.training.train import train

FIXED = {"name": "fixed", "scenario": "jervis-1", "env": {"max_cycles": 12},
         "grid": {"offense_defense_balance": [0.5, 2.0]}, "seeds": 2, "policies": ["baseline:deterrer"],
         "eval_episodes": 4}
TINY = ["total_timesteps=768", "num_envs=2", "ppo.n_steps=64", "ppo.batch_size=128", "ppo.n_epochs=1",
        "checkpoint_every=256", "eval_episodes=2", "progress_bar=false", "opponents=[dove]", "env.max_cycles=10"]


def _cut(path: Path, keep: float = 0.6) -> None:
    """Cut ``path`` short, as a full disk or an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweeps")
    run_sweep(sweep_config_from_dict(FIXED), out, workers=1, progress=False)
    return out / "fixed"


@pytest.fixture
def sweep(finished_sweep, tmp_path) -> Path:
    return Path(shutil.copytree(finished_sweep, tmp_path / "fixed"))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    train(load_config(None, [*TINY, f"output_dir={out}", "name=run"]))
    return out / "run"


@pytest.fixture
def run(finished_run, tmp_path) -> Path:
    return Path(shutil.copytree(finished_run, tmp_path / "run"))


def _one_line(error: BaseException, path: Path) -> str:
    message = str(error)
    assert "\n" not in message and str(path) in message, message
    return message


def test_a_results_table_cut_mid_row_is_refused_by_report(sweep, cli):
    _cut(sweep / "results.csv", 0.7)
    with pytest.raises(CorruptFileError) as refused:
        read_results(sweep)
    assert "cut short" in _one_line(refused.value, sweep / "results.csv") or "fields" in str(refused.value)
    code, _, error = cli(["report", str(sweep)])
    assert code == 2 and "results.csv" in error and len(error.strip().splitlines()) == 1
    assert not (sweep / "report.md").exists()


@pytest.mark.parametrize("text, fragment", [("a,b\n1,2\n3", "row 3 has 1 fields, the header 2"),
                                            ("a,b\n1,2\n3,4", "its last row (3) is cut short"),
                                            ("", "it is empty")])
def test_csv_tables_with_a_row_cut_short_are_refused(text, fragment):
    with pytest.raises(CorruptFileError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        check_csv_text(text, "t.csv")
    check_csv_text("a,b\n1,2\n3,4\n", "t.csv")  # whole


def test_a_damaged_row_file_is_named(sweep):
    _cut(sweep / "rows" / "cell0001-seed0.json")
    with pytest.raises(CorruptFileError, match="delete it and run the sweep again") as refused:
        read_rows(sweep)
    _one_line(refused.value, sweep / "rows" / "cell0001-seed0.json")


@pytest.mark.parametrize("keep", [0.3, 0.93])  # YAML that does not parse; YAML that parses but lacks keys
def test_a_damaged_sweep_yaml_is_named_not_read_as_another_sweep(sweep, keep):
    _cut(sweep / "sweep.yaml", keep)
    with pytest.raises(CorruptFileError) as refused:
        run_sweep(sweep_config_from_dict(FIXED), sweep.parent, workers=1, progress=False)
    assert "another sweep" not in _one_line(refused.value, sweep / "sweep.yaml")


def test_a_damaged_trajectory_file_is_named(sweep):
    path = next((sweep / "trajectories").glob("*.npz"))
    load_rollout(path)
    _cut(path, 0.5)
    with pytest.raises(SdEnvError) as refused:
        load_rollout(path)
    _one_line(refused.value, path)


def test_a_damaged_config_yaml_is_named_on_resume_not_read_as_a_changed_config(run):
    text = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(text[: text.index("ppo:") + len("ppo:\n  n_steps: 64\n")])
    with pytest.raises(CorruptFileError, match="lacks ppo.learning_rate, ppo.n_steps, ppo.batch_size and 8 more") as refused:
        train(load_config(None, [*TINY, f"output_dir={run.parent}", "name=run"]), resume=True)
    assert "differs" not in _one_line(refused.value, run / "config.yaml")


def test_a_drift_table_cut_mid_row_is_refused_on_resume_and_never_kept(run, cli):
    before = (run / "drift.csv").read_text()
    _cut(run / "drift.csv", 0.8)
    with pytest.raises(CorruptFileError) as refused:
        train(load_config(None, [*TINY, f"output_dir={run.parent}", "name=run", "total_timesteps=1024"]), resume=True)
    _one_line(refused.value, run / "drift.csv")
    assert before.startswith((run / "drift.csv").read_text())  # left as it was: nothing kept from the cut row


def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(run, capsys):
    checkpoints = sorted((run / "checkpoints").glob("ppo_*_steps.zip"), key=lambda p: int(p.stem.split("_")[1]))
    assert len(checkpoints) >= 2
    _cut(checkpoints[-1], 0.5)
    metrics = train(load_config(None, [*TINY, f"output_dir={run.parent}", "name=run", "total_timesteps=1024"]),
                    resume=True)
    assert metrics["timesteps"] == [1024]
    warning = capsys.readouterr().err
    assert f"{checkpoints[-1].name}' is damaged" in warning and f"resuming from the previous checkpoint, " \
           f"{checkpoints[-2].name}" in warning


def test_when_every_checkpoint_is_damaged_the_run_is_refused_in_one_line(run):
    for path in (run / "checkpoints").glob("ppo_*_steps.zip"):
        _cut(path, 0.5)
    with pytest.raises(CorruptFileError, match="and so is every earlier one"):
        train(load_config(None, [*TINY, f"output_dir={run.parent}", "name=run", "total_timesteps=1024"]), resume=True)


def test_a_sweep_never_records_nan_measures_for_a_finished_training_cell_with_a_damaged_drift_table(tmp_path):
    config = sweep_config_from_dict({
        "name": "t", "scenario": "jervis-1", "env": {"max_cycles": 10}, "grid": {"offense_defense_balance": [1.0]},
        "seeds": 1, "eval_episodes": 2,
        "train": {"total_timesteps": 512, "num_envs": 2, "ppo": {"n_steps": 64, "batch_size": 128, "n_epochs": 1},
                  "checkpoint_every": 256, "progress_bar": False, "opponents": ["dove"]}})
    run_sweep(config, tmp_path, workers=1, progress=False)
    folder = tmp_path / "t"
    (folder / "rows" / "cell0000-seed0.json").unlink()
    _cut(folder / "runs" / "cell0000-seed0" / "drift.csv", 0.9)
    with pytest.raises(CorruptFileError, match="drift.csv"):
        run_sweep(config, tmp_path, workers=1, progress=False)
    assert not (folder / "rows" / "cell0000-seed0.json").exists()
    (folder / "runs" / "cell0000-seed0" / "drift.csv").write_text("timesteps\n")  # whole, but without a row
    with pytest.raises(CorruptFileError, match="it has no rows"):
        run_sweep(config, tmp_path, workers=1, progress=False)
    assert yaml.safe_load((folder / "sweep.yaml").read_text())["name"] == "t"
