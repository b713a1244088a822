"""Seat-by-seat behaviour in a scenario (experiments/scenario_runs.py): known answers from fixed strikers, and the
documented results generated from their JSON file."""

from __future__ import annotations

from pathlib import Path

import pytest

from sd_env.experiments.studies import scenario_runs
from sd_env.experiments.lab.rollout import rollout
from sd_env.scenarios import make_params
from sd_env.stances import StrikerPolicy

ROOT = Path(__file__).resolve().parents[1]


def test_seat_behaviour_counts_attacks_commitments_and_joins_of_a_known_game():
    """thaad-2016: the United States is allied with South Korea and with Japan (hub and spoke); every state keeps
    its commitments; China strikes South Korea once, in year 3; the United States and South Korea never attack."""
    params = make_params("thaad-2016")
    seats = [StrikerPolicy(params) for _ in range(3)] + [StrikerPolicy(params, year=3, target=2)]  # (3 + 2) % 4 = 1
    result = rollout(params, seats, 16, seed=2)
    behaviour = scenario_runs.seat_behaviour(result)
    pairs = behaviour["pairs"]
    assert pairs["3->1"]["attacks"] == 1.0 and pairs["3->1"]["episodes_with_attack"] == 1.0
    assert pairs["3->1"]["first_attack_year"] == 3.0
    assert sum(pair["attacks"] for key, pair in pairs.items() if key != "3->1") == 0.0
    for key in ("0->1", "1->0", "0->2", "2->0"):
        assert pairs[key]["committed"] == 1.0
    for key in ("1->2", "2->1", "3->0", "0->3"):
        assert pairs[key]["committed"] == 0.0
    assert pairs["0->1"]["joins"] == 1.0 and pairs["0->1"]["reneges"] == 0.0  # the patron stood by its ally
    assert pairs["2->1"]["joins"] == 0.0  # Japan is not South Korea's ally
    seats_ = behaviour["seats"]
    assert seats_[0]["burden"] == pytest.approx(0.1) and seats_[0]["eliminated"] == 0.0
    assert seats_[3]["share_end"] > seats_[3]["share_start"]  # China grows fastest
    assert behaviour["episodes"] == 16 and behaviour["years"] == params.max_cycles


def test_the_documented_results_are_generated_from_their_json_file():
    json_path, doc = ROOT / "docs/results/historical-cases.json", ROOT / "docs/scenarios.md"
    assert scenario_runs.main(["--json", str(json_path), "--doc", str(doc), "--check"]) == 0


def test_missing_runs_and_results_are_one_line_errors(tmp_path, capsys):
    assert scenario_runs.main(["--runs", str(tmp_path), "--json", str(tmp_path / "r.json"),
                               "--doc", str(tmp_path / "d.md")]) == 2
    assert "no run directory" in capsys.readouterr().err
    assert scenario_runs.main(["--json", str(tmp_path / "none.json"), "--doc", str(tmp_path / "d.md")]) == 2
    assert "no results file" in capsys.readouterr().err


def test_a_trained_run_is_played_seat_by_seat_and_checked_against_scripted_stances(tmp_path):
    """End to end on a tiny independent-PPO run of the thucydides scenario with an override: the run's own
    parameters (scenario and overrides from config.yaml) are used, every seat gets its own policy, each seat
    is compared with the scripted stances, and the document block is written from the JSON file."""
    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.train import train

    config = load_config(None, [
        "name=thucydides", "scenario=thucydides", "env.max_cycles=12", "algorithm=independent_ppo", "rounds=1",
        "total_timesteps=1024", "num_envs=4", "ppo.n_steps=64", "ppo.batch_size=128", "ppo.n_epochs=1",
        "checkpoint_every=1024", "eval_episodes=2", "progress_bar=false", f"output_dir={tmp_path / 'runs'}",
    ])
    train(config)
    results = scenario_runs.evaluate_runs(tmp_path / "runs", episodes=6, seed=0, names=("thucydides",))
    data = results["runs"]["thucydides"]
    assert data["years"] == 12 and data["episodes"] == 6 and len(data["seats"]) == 2
    assert data["training"]["algorithm"] == "independent_ppo" and data["training"]["env"] == {"max_cycles": 12}
    assert set(data["alternatives"][0]) == {"learned", *scenario_runs.ALTERNATIVES}
    replay = scenario_runs.seat_behaviour(scenario_runs.play_run(tmp_path / "runs" / "thucydides", 6, 0))
    assert replay["seats"] == data["seats"]  # seeded: the same episodes again
    json_path, doc = tmp_path / "results.json", tmp_path / "scenarios.md"
    doc.write_text("<!-- learned-thucydides:start -->\n<!-- learned-thucydides:end -->\n")
    import json

    json_path.write_text(json.dumps(results))
    assert scenario_runs.main(["--json", str(json_path), "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert "Sparta" in text and "`max_cycles=12`" in text and "best scripted stance" in text
    assert scenario_runs.main(["--json", str(json_path), "--doc", str(doc), "--check"]) == 0
