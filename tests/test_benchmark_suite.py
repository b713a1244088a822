"""``sd-env benchmark``: the protocol, the worked example reaching the leaderboard, the files, the errors.

Most tests run a tiny suite (one Jervis world and pre-1914, a PPO rollout of budget, a few episodes),
put in place of ``smoke`` for the CLI tests. The real smoke suite runs end to end in tests/test_tutorials.py, as the
benchmark tutorial (docs/tutorials/benchmark-your-algorithm.md) tells a user to run it.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("rliable", reason="the benchmark needs rliable: pip install 'sd-env[benchmark]'")

from sd_env.experiments.studies import benchmark  # noqa: E402
from sd_env.experiments.studies.benchmark import (  # noqa: E402
    BudgetExceeded,
    EnvFactory,
    Suite,
    aggregate,
    marl_eval_json,
    run_benchmark,
    write_outputs,
)

TINY = Suite(
    name="tiny", description="tests only", scenarios=("jervis-1", "pre-1914"), budget=2048, seeds=2,
    eval_episodes=4, backgrounds=("dove", "hawk/dove", "ppo", "self"), population=1, population_budget=2048,
    scripted=("random", "dove", "hawk"), bootstrap_reps=200,
)
FILES = ("leaderboard.csv", "leaderboard.md", "scores.csv", "marl_eval.json", "scores.png", "benchmark.json")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("benchmark-cache")


@pytest.fixture(scope="module")
def tiny_run(cache, tmp_path_factory):
    """The worked example (independent REINFORCE) through the tiny suite, and the files written."""
    result = run_benchmark("sd_env.agents.reinforce:train", TINY, cache_dir=cache, command="test")
    output = tmp_path_factory.mktemp("benchmark-output")
    return result, write_outputs(result, output)


def test_the_worked_example_reaches_a_leaderboard_row_beside_the_baselines(tiny_run):
    result, paths = tiny_run
    table = pd.read_csv(paths["leaderboard.csv"])
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert list(table["iqm"]) == sorted(table["iqm"], reverse=True)
    assert set(table["entry"]) == {"sd_env.agents.reinforce:train", "shared PPO", "random", "dove", "hawk"}
    kinds = dict(zip(table["entry"], table["kind"]))
    assert kinds["sd_env.agents.reinforce:train"] == "submitted" and kinds["shared PPO"] == "trained baseline"
    row = table.set_index("entry").loc["sd_env.agents.reinforce:train"]
    for column in ("iqm", "iqm_low", "iqm_high", "mean", "mean_low", "mean_high", "welfare", "military_burden",
                   "war_years", "spiral_war_years", "score jervis-1", "score pre-1914"):
        assert np.isfinite(row[column]), column
    assert row["iqm_low"] <= row["iqm"] <= row["iqm_high"] and row["train_seconds"] > 0
    # The normalisation: random is 0 and the best scripted stance 1 on every scenario (same seeds as the suite's).
    scripted = table.set_index("entry")
    for scenario in TINY.scenarios:
        assert scripted.loc["random", f"score {scenario}"] == pytest.approx(0.0, abs=1e-9)
        assert max(scripted.loc[["dove", "hawk"], f"score {scenario}"]) == pytest.approx(1.0)
    markdown = paths["leaderboard.md"].read_text()
    assert "| sd_env.agents.reinforce:train | submitted |" in markdown and "Command: `test`" in markdown


def test_every_file_is_written_and_readable(tiny_run):
    result, paths = tiny_run
    assert sorted(path.name for path in paths.values()) == sorted(FILES)
    assert paths["scores.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    scores = pd.read_csv(paths["scores.csv"])
    # Every entry, scenario, seed and background, each with the suite's episodes.
    assert len(scores) == 5 * len(TINY.scenarios) * TINY.seeds * len(TINY.backgrounds)
    assert set(scores["episodes"]) == {TINY.eval_episodes}
    meta = json.loads(paths["benchmark.json"].read_text())
    assert meta["suite"]["name"] == "tiny" and meta["seeds"] == [0, 1]
    assert set(meta["references"]) == set(TINY.scenarios)


def test_marl_eval_json_has_the_raw_data_structure(tiny_run):
    result, paths = tiny_run
    data = json.loads(paths["marl_eval.json"].read_text())
    assert list(data) == ["sd-env"] and list(data["sd-env"]) == list(TINY.scenarios)
    lengths = set()
    for task in data["sd-env"].values():
        assert set(task) == {entry.name for entry in result.entries}
        for runs in task.values():
            assert list(runs) == ["seed_0", "seed_1"]
            for steps in runs.values():
                assert list(steps) == ["step_0", "absolute_metrics"]
                assert isinstance(steps["step_0"]["step_count"], int)
                for metric in ("return", "score", "military_burden", "war_years", "spiral_war_years"):
                    values = steps["absolute_metrics"][metric]
                    lengths.add(len(values))
                    assert values == steps["step_0"][metric]
    assert lengths == {TINY.eval_episodes * len(TINY.backgrounds)}  # the same count everywhere, as marl-eval needs
    assert marl_eval_json(result) == data


def test_aggregation_is_seeded(tiny_run):
    result, _ = tiny_run
    assert aggregate(result) == aggregate(result)


def test_the_suite_ppo_is_trained_once_and_cached(tiny_run, cache):
    zips = sorted(cache.rglob("*.zip"))
    # Per scenario: one population member and the shared-PPO baseline for each of the two seeds.
    assert len(zips) == len(TINY.scenarios) * (TINY.population + TINY.seeds)
    again = run_benchmark("tests.benchmark_algorithms:valid", TINY, seeds=1, cache_dir=cache, command="again")
    assert sorted(cache.rglob("*.zip")) == zips
    assert next(e for e in again.entries if e.name == "shared PPO").cached


def test_env_factory_counts_steps_over_every_environment_and_stops_at_the_budget():
    factory = EnvFactory("jervis-1", 5)
    first, second = factory(), factory()
    for env in (first, second):
        env.reset(seed=0)
    for env in (first, second, first, second, first):
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    assert (factory.used, factory.remaining) == (5, 0)
    with pytest.raises(BudgetExceeded, match="budget of 5 parallel environment steps"):
        second.step({agent: second.action_space(agent).sample() for agent in second.agents})
    assert factory.exceeded


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pettingzoo.test's own imports
def test_a_budgeted_environment_is_a_pettingzoo_parallel_env():
    from pettingzoo import ParallelEnv
    from pettingzoo.test import parallel_api_test

    env = EnvFactory("pre-1914", 10_000)()
    assert isinstance(env, ParallelEnv)
    parallel_api_test(env, num_cycles=20)


def test_the_worked_example_spends_exactly_its_budget():
    from sd_env.agents.reinforce import train

    factory = EnvFactory("pre-1914", 300)
    policy = train(factory, 300, seed=0)
    assert factory.used == 300 and not factory.exceeded
    observations = np.zeros((5, 34), dtype=np.float32)  # pre-1914: 4 states, 3 systems
    assert policy.act(observations).shape == (5, factory.params.action_length)
    assert policy.seat_policy(3).act(observations).dtype == np.int64


def test_the_cli_writes_the_leaderboard_and_a_doc_block(cli, monkeypatch, tmp_path, cache):
    monkeypatch.setitem(benchmark.SUITES, "smoke", TINY)
    doc = tmp_path / "doc.md"
    doc.write_text("# Doc\n\n<!-- benchmark-tiny-leaderboard:start -->\nold\n<!-- benchmark-tiny-leaderboard:end -->\n")
    code, printed, error = cli(["benchmark", "--algo", "tests.benchmark_algorithms:valid", "--suite", "smoke",
                                "--seeds", "1", "--output", str(tmp_path / "out"), "--cache-dir", str(cache),
                                "--name", "restrained", "--doc", str(doc)])
    assert code == 0, error
    assert all((tmp_path / "out" / name).is_file() for name in FILES)
    assert "| restrained | submitted |" in printed and "| restrained | submitted |" in doc.read_text()
    assert "old" not in doc.read_text()


@pytest.mark.parametrize(
    "algo, fragment",
    [
        ("no_such_module_xyz:train", "cannot import 'no_such_module_xyz' (ModuleNotFoundError"),
        ("sd_env.agents.reinforce", "expected module.path:function, e.g. sd_env.agents.reinforce:train"),
        ("sd_env.agents.reinforce:nothing", "module 'sd_env.agents.reinforce' has no 'nothing'"),
        ("tests.benchmark_algorithms:not_callable", "has a non-callable (int) 'not_callable'"),
        ("tests.benchmark_algorithms:raises", "train() raised ZeroDivisionError: division by zero at "),
        ("tests.benchmark_algorithms:returns_none", "train() returned NoneType, which has no act(observations) "
                                                    "method; return an object with act(observations (M, 16)) -> "
                                                    "actions (M, 3)"),
        ("tests.benchmark_algorithms:wrong_shape", "returned int64 actions of shape (3,); expected integers of "
                                                   "shape (4, 3)"),
        ("tests.benchmark_algorithms:float_actions", "returned float64 actions of shape (4, 3); expected integers"),
        ("tests.benchmark_algorithms:outside_space", "action component 0 (burden level) is 99 (row 0), outside the "
                                                     "action space: allowed range [0, 10]"),
        ("tests.benchmark_algorithms:act_raises", "act() on observations of shape (4, 16) raised RuntimeError: no "
                                                  "network loaded"),
        ("tests.benchmark_algorithms:over_budget", "took more than its budget of 2048 parallel environment steps"),
        ("tests.benchmark_algorithms:over_budget_caught", "took more than its budget of 2048"),
        ("tests.benchmark_algorithms:many_envs", "took more than its budget of 2048"),
    ],
)
def test_a_broken_submission_is_one_line_and_exit_code_2(cli, algo, fragment, monkeypatch, tmp_path, cache):
    monkeypatch.setitem(benchmark.SUITES, "smoke", TINY)
    code, _, error = cli(["benchmark", "--algo", algo, "--suite", "smoke", "--output", str(tmp_path),
                          "--cache-dir", str(cache)])
    assert code == 2
    assert len(error.strip().splitlines()) == 1 and "Traceback" not in error, error
    assert error.startswith("sd-env benchmark: error: ") and fragment in error, error
    assert not (tmp_path / "leaderboard.csv").exists()


def test_a_missing_extra_is_one_line_before_any_training(cli, monkeypatch, tmp_path):
    monkeypatch.setitem(benchmark.SUITES, "smoke", TINY)
    monkeypatch.setitem(sys.modules, "rliable", None)  # as if the benchmark extra were not installed
    code, _, error = cli(["benchmark", "--algo", "tests.benchmark_algorithms:raises", "--output", str(tmp_path),
                          "--cache-dir", str(tmp_path)])
    assert code == 2 and len(error.strip().splitlines()) == 1
    assert "needs rliable" in error and "pip install 'sd-env[benchmark]'" in error, error


def test_a_submission_named_like_a_baseline_is_refused(cli, monkeypatch, tmp_path):
    monkeypatch.setitem(benchmark.SUITES, "smoke", TINY)
    code, _, error = cli(["benchmark", "--algo", "tests.benchmark_algorithms:valid", "--name", "shared PPO",
                          "--output", str(tmp_path), "--cache-dir", str(tmp_path)])
    assert code == 2 and "--name 'shared PPO' is a baseline's name on the leaderboard" in error


def test_the_suite_tables_in_the_docs_are_up_to_date():
    from sd_env.experiments.output.blocks import update_blocks

    assert update_blocks(benchmark.DOCS, {benchmark.SUITES_BLOCK: benchmark.suites_markdown()}, check=True) == []


def test_a_suite_whose_episodes_do_not_split_is_refused():
    with pytest.raises(ValueError, match="must split evenly"):
        Suite(name="bad", description="", scenarios=("pre-1914",), budget=2048, seeds=1, eval_episodes=6,
              backgrounds=("dove",), population=1, population_budget=2048, scripted=("random", "dove"))


def test_one_seed_gives_zero_width_intervals_and_the_leaderboard_warns(tiny_run):
    import dataclasses

    result, _ = tiny_run
    one_seed = dataclasses.replace(result, seeds=[0])
    rows = benchmark.leaderboard_rows(one_seed)
    assert all(row["iqm_low"] == row["iqm"] == row["iqm_high"] for row in rows)  # why the warning is needed
    assert "**Warning:** with one seed the 95% intervals cannot be computed" in benchmark.leaderboard_markdown(
        one_seed, rows)
    assert "Warning" not in benchmark.leaderboard_markdown(result, benchmark.leaderboard_rows(result))
