"""A run knows its world: evaluate, crossplay and exploit play policies where they were trained, or refuse."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from sd_env.errors import SdEnvError
from sd_env.experiments.lab.worlds import WORLD_ENTRY, World, policy_world, resolve_world
from sd_env.experiments.training.config import load_config
from sd_env.experiments.training.train import train

TINY = ["total_timesteps=512", "num_envs=4", "ppo.n_steps=64", "ppo.batch_size=128", "checkpoint_every=256",
        "eval_episodes=2", "progress_bar=false", "opponents=[dove]"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny shared-PPO runs: one in jervis-4 with an override, one in bilateral."""
    folder = tmp_path_factory.mktemp("worlds")
    train(load_config(None, [*TINY, "scenario=jervis-4", "env.max_cycles=15", "name=j4", f"output_dir={folder}"]))
    train(load_config(None, [*TINY, "scenario=bilateral", "env.max_cycles=15", "name=bi", f"output_dir={folder}"]))
    return folder


def test_a_run_without_scenario_plays_the_world_it_was_trained_in(runs, cli, tmp_path):
    out = tmp_path / "e.json"
    code, printed, _ = cli(["evaluate", "--policy", str(runs / "j4"), "--opponent", "baseline:dove", "--episodes", "2",
                            "--json", str(out)])
    assert code == 0 and "in scenario 'jervis-4' with max_cycles=15" in printed
    report = json.loads(out.read_text())
    assert report["scenario"] == "jervis-4" and report["overrides"] == {"max_cycles": 15}


def test_a_contradicting_scenario_or_override_is_refused_unless_forced(runs, cli, tmp_path):
    for extra in (["--scenario", "bilateral"], ["--set", "max_cycles=20"], ["--scenario", "jervis-4"]):
        code, _, error = cli(["evaluate", "--policy", str(runs / "j4"), "--episodes", "2", *extra])
        assert code == 2 and len(error.strip().splitlines()) == 1
        assert "is not the world policy" in error and "jervis-4 with max_cycles=15" in error and "--force" in error
    out = tmp_path / "forced.json"
    code, _, _ = cli(["evaluate", "--policy", str(runs / "j4"), "--episodes", "2", "--scenario", "bilateral",
                      "--set", "max_cycles=15", "--force", "--json", str(out)])
    assert code == 0 and json.loads(out.read_text())["scenario"] == "bilateral"
    # Naming the policies' own world, or an override it already has, is no contradiction.
    assert cli(["evaluate", "--policy", str(runs / "j4"), "--episodes", "2", "--scenario", "jervis-4", "--set",
                "max_cycles=15"])[0] == 0
    assert cli(["evaluate", "--policy", str(runs / "j4"), "--episodes", "2", "--set", "max_cycles=15"])[0] == 0


def test_a_checkpoint_carries_its_world_out_of_its_run_directory(runs, tmp_path):
    copy = tmp_path / "copied.zip"
    shutil.copy(runs / "j4" / "policy.zip", copy)
    assert WORLD_ENTRY in zipfile.ZipFile(copy).namelist()
    world = policy_world(str(copy), "sb3")
    assert (world.scenario, world.overrides) == ("jervis-4", {"max_cycles": 15})
    checkpoint = sorted((runs / "j4" / "checkpoints").glob("ppo_*_steps.zip"))[-1]
    assert policy_world(str(checkpoint), "sb3").scenario == "jervis-4"


def test_a_checkpoint_saved_without_a_world_takes_its_run_directory(runs, tmp_path):
    """Files saved before 0.5.0 have no world entry: inside a run directory, its config.yaml says."""
    run = tmp_path / "old-run"
    shutil.copytree(runs / "j4", run)
    stripped = run / "policy.zip"
    with zipfile.ZipFile(runs / "j4" / "policy.zip") as source, zipfile.ZipFile(stripped, "w") as target:
        for name in source.namelist():
            if name != WORLD_ENTRY:
                target.writestr(name, source.read(name))
    assert policy_world(str(stripped), "sb3").source == str(run / "config.yaml")
    lonely = tmp_path / "lonely.zip"
    shutil.copy(stripped, lonely)
    assert policy_world(str(lonely), "sb3") is None


def test_crossplay_refuses_policies_of_different_worlds_unless_a_world_is_forced(runs, cli):
    argv = ["crossplay", "--policies", str(runs / "j4"), str(runs / "bi"), "--episodes", "2"]
    code, _, error = cli(argv)
    assert code == 2 and "trained in different worlds" in error and "jervis-4" in error and "bilateral" in error
    code, _, error = cli([*argv, "--scenario", "jervis-4", "--set", "max_cycles=15", "--force"])
    assert code == 0, error
    assert cli(["crossplay", "--policies", str(runs / "j4"), "baseline:hawk", "--episodes", "2"])[0] == 0


def test_exploit_saves_a_best_response_that_knows_its_world(runs, cli, tmp_path):
    saved = tmp_path / "br.zip"
    code, printed, _ = cli(["exploit", "--policy", str(runs / "j4"), "--budget", "128", "--episodes", "2",
                            "--save-best-response", str(saved)])
    assert code == 0 and "in scenario 'jervis-4' with max_cycles=15" in printed
    world = policy_world(str(saved), "sb3")
    assert (world.scenario, world.overrides) == ("jervis-4", {"max_cycles": 15})
    out = tmp_path / "br.json"
    assert cli(["evaluate", "--policy", str(saved), "--opponent", str(runs / "j4"), "--episodes", "2", "--json",
                str(out)])[0] == 0
    assert json.loads(out.read_text())["scenario"] == "jervis-4"


def test_resolve_world_without_a_known_world():
    assert resolve_world({"baseline:hawk": None}) == ("bilateral", {})
    assert resolve_world({"baseline:hawk": None}, "jervis-1", {"max_cycles": 9}) == ("jervis-1", {"max_cycles": 9})
    own = World("jervis-3", {"observation_noise": 0.5}, "x")
    assert resolve_world({"a": own, "b": None}) == ("jervis-3", {"observation_noise": 0.5})
    with pytest.raises(SdEnvError) as error:
        resolve_world({"a": own}, "jervis-1")
    assert error.value.parameter == "scenario" and "--" not in str(error.value)
