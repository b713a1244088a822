"""sd-env evaluate, crossplay and exploit through the command line: JSON contracts, determinism, figures,
trajectories, and one-line errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sd_env.experiments.cli import main
from sd_env.experiments.lab.measures import EPISODE_MEASURES
from sd_env.experiments.lab.rollout import load_rollout

SHORT = ["--set", "max_cycles=20"]


class OutOfRange:
    """Attacks rival 5 in a two-state game: outside the action space."""

    def __init__(self, params) -> None:
        self.params = params

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = np.zeros((observations.shape[0], self.params.action_length), dtype=np.int64)
        actions[:, 2] = 5
        return actions


class FloatActions:
    """Returns floats: not a MultiDiscrete action."""

    def __init__(self, params) -> None:
        self.params = params

    def act(self, observations: np.ndarray) -> np.ndarray:
        return np.zeros((observations.shape[0], self.params.action_length)) + 0.5


class Raises:
    """A factory that fails while building the policy."""

    def __init__(self, params) -> None:
        raise RuntimeError("no weights for this scenario")


EXPLOIT = ["exploit", "--policy", "baseline:hawk", "--scenario", "bilateral", "--budget", "512", "--episodes", "12",
           "--seed", "3", *SHORT]


@pytest.fixture(scope="module")
def best_response(tmp_path_factory):
    """One tiny exploit run (512 agent-steps) through the CLI: its JSON file, and the best response it saved."""
    folder = tmp_path_factory.mktemp("exploit")
    out, policy = folder / "exploit.json", folder / "best_response.zip"
    assert main(EXPLOIT + ["--json", str(out), "--save-best-response", str(policy)]) == 0
    return out, policy


def test_evaluate_prints_every_measure_and_writes_the_json_contract(cli, tmp_path):
    out = tmp_path / "evaluation.json"
    code, printed, _ = cli(["evaluate", "--policy", "baseline:deterrer", "--opponent", "baseline:hawk", "--scenario",
                            "jervis-1", "--episodes", "16", "--seed", "2", *SHORT, "--json", str(out)])
    assert code == 0
    assert "focal seat: state_0 only (symmetric scenario" in printed
    for name in EPISODE_MEASURES:
        assert name in printed
    data = json.loads(out.read_text())
    assert {"policy", "opponent", "scenario", "episodes", "seed", "measures"} <= set(data)
    assert (data["policy"], data["opponent"], data["scenario"], data["episodes"], data["seed"]) == (
        "baseline:deterrer", "baseline:hawk", "jervis-1", 16, 2)
    assert list(data["measures"]) == list(EPISODE_MEASURES)
    for row in data["measures"].values():
        assert set(row) == {"mean", "ci_low", "ci_high"}
        if None not in row.values():
            assert row["ci_low"] - 1e-12 <= row["mean"] <= row["ci_high"] + 1e-12
    assert data["measures"]["military_burden"]["mean"] > 0 and data["focal_seats"] == ["state_0"]


def test_evaluate_is_reproducible_bit_for_bit_and_nan_is_null(tmp_path, capsys):
    argv = ["evaluate", "--policy", "baseline:dove", "--episodes", "8", *SHORT]
    assert main(argv + ["--seed", "5", "--json", str(tmp_path / "a.json")]) == 0
    assert main(argv + ["--seed", "5", "--json", str(tmp_path / "b.json")]) == 0
    first = (tmp_path / "a.json").read_bytes()
    assert first == (tmp_path / "b.json").read_bytes()
    assert main(argv + ["--seed", "6", "--json", str(tmp_path / "c.json")]) == 0
    assert first != (tmp_path / "c.json").read_bytes()
    data = json.loads(first)
    # Doves never build up arms: no buildups, so the share of them followed by war is null, not NaN.
    assert data["opponent"] == "baseline:dove" and data["measures"]["wars_after_buildups"]["mean"] is None
    assert b"NaN" not in first


def test_evaluate_plays_every_seat_of_an_asymmetric_scenario_and_pools_them(cli, tmp_path):
    out, trajectories = tmp_path / "missile.json", tmp_path / "episodes.npz"
    code, printed, _ = cli(["evaluate", "--policy", "baseline:deterrer", "--opponent", "baseline:defender",
                            "--scenario", "missile-crisis", "--episodes", "10", *SHORT, "--json", str(out),
                            "--save-trajectories", str(trajectories)])
    assert code == 0 and "every seat in turn (asymmetric scenario: surprise_deployment" in printed
    data = json.loads(out.read_text())
    assert data["focal_seats"] == ["state_0", "state_1"] and set(data["per_seat"]) == {"state_0", "state_1"}
    # Pooled over (seat, episode) with equal episodes per seat: welfare is the mean of the seats' welfare.
    seats = [data["per_seat"][seat]["welfare"]["mean"] for seat in ("state_0", "state_1")]
    assert data["measures"]["welfare"]["mean"] == pytest.approx(np.mean(seats))
    for seat in (0, 1):
        result = load_rollout(tmp_path / f"episodes.state_{seat}.npz")
        assert result.episodes == 10 and result.years == 20


def test_every_seat_in_a_symmetric_scenario_and_one_trajectory_file(cli, tmp_path, capsys):
    trajectories = tmp_path / "one.npz"
    assert main(["evaluate", "--policy", "baseline:hawk", "--episodes", "4", *SHORT, "--save-trajectories",
                 str(trajectories)]) == 0
    assert load_rollout(trajectories).episodes == 4
    capsys.readouterr()
    code, printed, _ = cli(["evaluate", "--policy", "baseline:hawk", "--episodes", "4", "--every-seat", *SHORT])
    assert code == 0 and "(--every-seat)" in printed and "state_1" in printed.splitlines()[4]


def test_evaluate_renders_an_episode_and_draws_a_figure(cli, tmp_path):
    figure = tmp_path / "evaluation.png"
    code, printed, _ = cli(["evaluate", "--policy", "baseline:hawk", "--opponent", "baseline:deterrer", "--scenario",
                            "jervis-1", "--episodes", "6", *SHORT, "--render", "ansi", "--plot", str(figure)])
    assert code == 0
    assert "episode 1 of 6: state_0 = baseline:hawk (focal); state_1 = baseline:deterrer" in printed
    year_lines = [line for line in printed.splitlines() if line[:4].strip().isdigit()]
    assert len(year_lines) == 20 and "->" in printed
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_crossplay_json_contract_matches_evaluate_and_is_reproducible(cli, tmp_path):
    policies = ["baseline:dove", "baseline:hawk", "tests.policy_factories:AlwaysArm"]
    argv = ["crossplay", "--policies", *policies, "--scenario", "jervis-1", "--episodes", "6", "--seed", "1", *SHORT]
    code, printed, _ = cli(argv + ["--json", str(tmp_path / "a.json"), "--plot", str(tmp_path / "c.png")])
    assert code == 0 and "welfare (of the focal state" in printed and "AlwaysArm" in printed
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert main(argv + ["--json", str(tmp_path / "b.json")]) == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    data = json.loads((tmp_path / "a.json").read_text())
    assert {"policies", "welfare", "military_burden", "war_years"} <= set(data) and data["policies"] == policies
    for name in ("welfare", "military_burden", "war_years"):
        assert np.array(data[name]).shape == (3, 3)
        assert data[name] == data["measures"][name]["mean"]
    burden = np.array(data["military_burden"])
    assert (burden[0] == 0).all() and burden[2] == pytest.approx([0.5] * 3)  # rows: the focal policy
    # A cell is the evaluation of that pair with the same seed and episodes, whatever was played before it.
    assert main(["evaluate", "--policy", policies[1], "--opponent", policies[2], "--scenario", "jervis-1",
                 "--episodes", "6", "--seed", "1", *SHORT, "--json", str(tmp_path / "e.json")]) == 0
    single = json.loads((tmp_path / "e.json").read_text())["measures"]
    assert data["measures"]["welfare"]["mean"][1][2] == single["welfare"]["mean"]
    assert data["measures"]["welfare"]["ci_low"][1][2] == single["welfare"]["ci_low"]


def test_exploit_reports_the_gain_of_a_trained_best_response(best_response, capsys):
    report = json.loads(best_response[0].read_text())
    assert (report["policy"], report["budget"], report["seed"], report["episodes"]) == ("baseline:hawk", 512, 3, 12)
    assert report["timesteps"] >= 512 and report["evaluation_seed"] == 4
    for key in ("exploitability", "best_response_welfare", "self_play_welfare"):
        assert set(report[key]) == {"mean", "ci_low", "ci_high"}
        assert report[key]["ci_low"] <= report[key]["mean"] <= report[key]["ci_high"]
    assert report["exploitability"]["mean"] == pytest.approx(
        report["best_response_welfare"]["mean"] - report["self_play_welfare"]["mean"])
    assert list(report["measures"]["best_response"]) == list(EPISODE_MEASURES)


def test_a_saved_best_response_is_a_policy_spec_for_evaluate_and_crossplay(cli, best_response, tmp_path):
    _, policy = best_response
    code, printed, _ = cli(["evaluate", "--policy", str(policy), "--opponent", "baseline:hawk", "--episodes", "4",
                            *SHORT])
    assert code == 0 and "welfare" in printed
    out = tmp_path / "cross.json"
    assert main(["crossplay", "--policies", str(policy), "baseline:hawk", "--episodes", "4", *SHORT, "--json",
                 str(out)]) == 0
    assert json.loads(out.read_text())["policies"] == [str(policy), "baseline:hawk"]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["evaluate", "--policy", "baseline:dove", "--scenario", "atlantis"], "unknown scenario 'atlantis'"),
        (["evaluate", "--policy", "missing/policy.zip"], "checkpoint 'missing/policy.zip' not found"),
        (["evaluate", "--policy", "no_such_module_xyz:factory"], "cannot import 'no_such_module_xyz'"),
        (["evaluate", "--policy", "baseline:eagle"], "unknown baseline 'eagle'"),
        (["evaluate", "--policy", "baseline:dove", "--opponent", "baseline:eagle"], "unknown baseline 'eagle'"),
        (["evaluate", "--policy", "tests.policy_factories:wrong_shape"], "expected integers of shape"),
        (["evaluate", "--policy", "tests.test_evaluation_cli:OutOfRange"],
         "policy 'tests.test_evaluation_cli:OutOfRange': action component 2 (attack) is 5 (row 0), outside the "
         "action space: allowed range [0, 1]"),
        (["evaluate", "--policy", "baseline:dove", "--opponent", "tests.test_evaluation_cli:FloatActions"],
         "policy 'tests.test_evaluation_cli:FloatActions'"),
        (["evaluate", "--policy", "tests.test_evaluation_cli:Raises"],
         "could not be loaded: RuntimeError: no weights for this scenario"),
        (["evaluate", "--policy", "baseline:dove", "--episodes", "0"], "--episodes must be at least 1"),
        (["evaluate", "--policy", "baseline:dove", "--set", "colour=blue"], "unknown parameter(s) ['colour']"),
        (["crossplay", "--policies", "baseline:dove", "baseline:eagle"], "unknown baseline 'eagle'"),
        (["crossplay", "--policies", "baseline:dove", "baseline:dove"], "names 'baseline:dove' more than once"),
        (["crossplay", "--policies", "baseline:dove", "tests.test_evaluation_cli:OutOfRange"],
         "action component 2 (attack) is 5"),
        (["crossplay", "--policies", "baseline:dove", "--scenario", "atlantis"], "unknown scenario 'atlantis'"),
        (["exploit", "--policy", "baseline:eagle", "--budget", "512"], "unknown baseline 'eagle'"),
        (["exploit", "--policy", "missing.zip", "--budget", "512"], "checkpoint 'missing.zip' not found"),
        (["exploit", "--policy", "baseline:dove", "--budget", "10"], "--budget must be at least 64"),
        (["exploit", "--policy", "baseline:dove", "--budget", "512", "--scenario", "atlantis"],
         "unknown scenario 'atlantis'"),
        (["exploit", "--policy", "tests.test_evaluation_cli:OutOfRange", "--budget", "512"],
         "action component 2 (attack) is 5"),
        (["exploit", "--policy", "baseline:dove", "--budget", "512", "--seat", "2"], "--seat must be a seat from 0 to 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(cli, argv, fragment):
    code, _, error = cli(argv + ["--episodes", "2", *SHORT] if "--episodes" not in argv else argv)
    assert code == 2
    assert len(error.strip().splitlines()) == 1 and "Traceback" not in error
    assert error.startswith(f"sd-env {argv[0]}: error: ") and fragment in error, error


def test_a_corrupt_checkpoint_and_a_folder_as_output_are_one_line_errors(cli, tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_text("not a zip")
    for argv in (["evaluate", "--policy", str(broken)],
                 ["evaluate", "--policy", "baseline:dove", "--json", str(tmp_path)],
                 ["crossplay", "--policies", "baseline:dove", "--plot", str(tmp_path)]):
        code, _, error = cli(argv + ["--episodes", "2", *SHORT])
        assert code == 2 and len(error.strip().splitlines()) == 1 and "Traceback" not in error


def test_exploit_is_reproducible_bit_for_bit(best_response, tmp_path, capsys):
    again = tmp_path / "again.json"
    assert main(EXPLOIT + ["--json", str(again)]) == 0
    assert again.read_bytes() == best_response[0].read_bytes()


def test_unequal_growth_alone_makes_a_scenario_asymmetric():
    from sd_env.experiments.lab.seating import asymmetries, focal_seats
    from sd_env.scenarios import make_params

    assert asymmetries(make_params("thucydides", initial_wealth=1.0)) == ["growth_rate=(0.01, 0.04)"]
    assert focal_seats(make_params("thucydides", initial_wealth=1.0)) == [0, 1]
    assert asymmetries(make_params("bilateral")) == []


def test_exploit_trains_the_best_response_in_the_seat_asked(cli, tmp_path):
    """In an asymmetric scenario each seat's exploitability differs: --seat 1 trains Athens against a frozen
    Sparta, and the frozen policy's own welfare is Athens' in self-play, as evaluate measures it."""
    out = tmp_path / "seat1.json"
    argv = ["exploit", "--policy", "baseline:hawk", "--budget", "256", "--scenario", "thucydides", "--seat", "1",
            "--episodes", "6", "--seed", "2", *SHORT, "--json", str(out)]
    code, printed, _ = cli(argv)
    assert code == 0 and "PPO as state_1" in printed and "state_1's mean episode return" in printed
    report = json.loads(out.read_text())
    assert report["seat"] == 1
    from sd_env.experiments.lab.seating import play
    from sd_env.experiments.lab.measures import EPISODE_MEASURES
    from sd_env.scenarios import make_params
    from sd_env.stances import make_policy

    params = make_params("thucydides", max_cycles=20)
    hawks = [make_policy("hawk", params), make_policy("hawk", params)]
    alone = play(params, hawks, 6, report["evaluation_seed"])
    assert report["self_play_welfare"]["mean"] == pytest.approx(EPISODE_MEASURES["welfare"].value(alone, [1]))
    assert report["opponent_welfare"]["self_play"] == pytest.approx(EPISODE_MEASURES["welfare"].value(alone, [0]))
