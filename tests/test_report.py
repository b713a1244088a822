"""``sd-env report``: Markdown and figures for sweeps (any grid) and runs, every number from the results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sd_env.experiments.cli import main
from sd_env.experiments.training.config import load_config
from sd_env.experiments.lab.measures import EPISODE_MEASURES
from sd_env.experiments.reporting.report import (HEADLINE_MEASURES, interval_over_seeds, parse_measures, richardson_fits,
                                                 summarize_fits, write_report)
from sd_env.experiments.lab.rollout import rollout
from sd_env.experiments.studies.sweep import read_results, run_sweep, sweep_config_from_dict
from sd_env.experiments.training.train import train
from sd_env.scenarios import make_params
from sd_env.stances import make_policy

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

JERVIS = {
    "name": "jervis",
    "scenario": "jervis-1",
    "env": {"max_cycles": 20},
    "grid": {"offense_defense_balance": [0.5, 2.0], "distinguishability": [0.0, 1.0]},
    "seeds": 3,
    "policies": ["baseline:deterrer"],
    "eval_episodes": 8,
}


def make_sweep(root: Path, **changes) -> Path:
    config = sweep_config_from_dict({**JERVIS, **changes})
    run_sweep(config, root, workers=1, progress=False)
    return root / config.name


@pytest.fixture(scope="module")
def jervis_sweep(tmp_path_factory) -> Path:
    folder = make_sweep(tmp_path_factory.mktemp("sweeps"))
    assert main(["report", str(folder)]) == 0
    return folder


def figure_links(report: Path) -> list[Path]:
    links = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", report.read_text())
    return [report.parent / link for link in links]


def check_figures(report: Path) -> list[Path]:
    """Every figure the report shows exists, is a PNG that decodes, and is of a readable size."""
    import matplotlib.image

    paths = figure_links(report)
    assert paths, "the report shows no figure"
    for path in paths:
        assert path.is_file(), path
        assert path.read_bytes()[:8] == PNG_SIGNATURE, path
        image = matplotlib.image.imread(path)
        assert image.shape[0] >= 200 and image.shape[1] >= 300, (path, image.shape)
    return paths


def section(text: str, title: str) -> str:
    """The text of a ``## title`` section, up to the next ``## ``."""
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def table_rows(text: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table in ``text``, header first, without the rule."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
    return [row for row in rows if not set("".join(row)) <= set("-|")]


def numbers_in(cell: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", cell)]


# --- a 2 x 2 sweep of fixed policies ----------------------------------------------------------


def test_the_report_of_a_sweep_shows_figures_that_exist_and_decode(jervis_sweep):
    report = jervis_sweep / "report.md"
    paths = check_figures(report)
    names = {path.name for path in paths}
    # A heat map per headline measure (one pair of parameters), the Jervis worlds, the trajectories.
    assert {f"phase-{m}-offense_defense_balance-distinguishability.png" for m in HEADLINE_MEASURES} <= names
    assert {"jervis-worlds.png", "trajectories.png"} <= names
    text = report.read_text()
    for title in ("Provenance", "Phase diagrams", "The four Jervis worlds", "Every cell", "Drift over training",
                  "Example trajectories", "Richardson fits", "Appendix: every measure in every cell"):
        assert f"## {title}\n" in text, title
    assert "sd-env report" in section(text, "Provenance") and "sd-env 0." in section(text, "Provenance")
    # Every figure has a caption that gives its units.
    for number in range(1, len(paths) + 1):
        caption = re.search(rf"\*Figure {number}\.\* (.*)", text).group(1)
        assert any(unit in caption for unit in {EPISODE_MEASURES[m].unit for m in HEADLINE_MEASURES} | {"arms units"})


def test_the_cell_table_holds_the_seed_means_and_intervals_of_the_results_table(jervis_sweep):
    table = read_results(jervis_sweep)
    rows = table_rows(section((jervis_sweep / "report.md").read_text(), "Every cell"))
    header, body = rows[0], rows[1:]
    assert len(body) == 4
    for row in body:
        cell = int(row[0])
        seeds = table[table.cell == cell]
        assert int(row[header.index("seeds")]) == len(seeds) == 3
        for name in HEADLINE_MEASURES:
            shown = numbers_in(row[header.index(f"{name} ({EPISODE_MEASURES[name].unit})")])
            mean, low, high, _ = interval_over_seeds(seeds[name].to_numpy())
            assert shown[0] == pytest.approx(seeds[name].mean(), rel=1e-3, abs=1e-9), (cell, name)
            if np.isfinite(low):
                assert shown[1:] == pytest.approx([low, high], rel=1e-3, abs=1e-9), (cell, name)


def test_every_measure_of_every_cell_is_in_the_appendix_and_the_cells_csv(jervis_sweep):
    table = read_results(jervis_sweep)
    means = table.groupby("cell")[list(EPISODE_MEASURES)].mean()
    cells = pd.read_csv(jervis_sweep / "report-cells.csv")
    for name in EPISODE_MEASURES:
        np.testing.assert_allclose(cells[f"{name}_mean"], means[name], rtol=1e-12, equal_nan=True, err_msg=name)
    appendix = section((jervis_sweep / "report.md").read_text(), "Appendix: every measure in every cell")
    for cell in range(4):
        block = appendix[appendix.index(f"### Cell {cell}:"):].split("\n### ")[0]
        rows = {row[0].strip("`"): row for row in table_rows(block)[1:]}
        assert set(rows) == set(EPISODE_MEASURES)
        for name, row in rows.items():
            expected = means.loc[cell, name]
            if np.isfinite(expected):
                assert numbers_in(row[2])[0] == pytest.approx(expected, rel=1e-3, abs=1e-9), (cell, name)
            else:
                assert row[2] == "n/a"


def test_the_jervis_worlds_are_the_corners_of_balance_and_distinguishability(jervis_sweep):
    table = read_results(jervis_sweep)
    rows = table_rows(section((jervis_sweep / "report.md").read_text(), "The four Jervis worlds"))
    header, body = rows[0], rows[1:]
    corners = {1: (2.0, 0.0), 2: (0.5, 0.0), 3: (2.0, 1.0), 4: (0.5, 1.0)}
    assert [int(row[0][0]) for row in body] == [1, 2, 3, 4]
    for row in body:
        balance, seen = corners[int(row[0][0])]
        assert (float(row[1]), float(row[2])) == (balance, seen)
        seeds = table[(table.offense_defense_balance == balance) & (table.distinguishability == seen)]
        column = header.index("war_years (share of years)")
        assert numbers_in(row[column])[0] == pytest.approx(seeds.war_years.mean(), rel=1e-3, abs=1e-9)


def test_richardson_fits_are_tabled_per_cell_and_failures_counted(jervis_sweep):
    rows = table_rows(section((jervis_sweep / "report.md").read_text(), "Richardson fits"))
    header, body = rows[0], rows[1:]
    assert [int(row[0]) for row in body] == [0, 1, 2, 3]
    for row in body:
        fitted, attempted = map(int, re.match(r"(\d+) of (\d+)", row[header.index("fits")]).groups())
        assert attempted == 3 * 3  # 3 seeds x 3 kept episodes x 1 dyad
        if fitted == 0:
            assert row[header.index("k (per year)")] == "n/a" and row[header.index("not fitted")] != "–"


def test_reports_are_reproducible_and_measures_can_be_chosen(jervis_sweep, tmp_path):
    before = {path.name: path.read_bytes() for path in figure_links(jervis_sweep / "report.md")}
    output = tmp_path / "elsewhere" / "peace.md"
    output.parent.mkdir()  # the command writes files into folders that exist; it creates none behind the user
    assert main(["report", str(jervis_sweep), "--measures", "peace,welfare", "--output", str(output)]) == 0
    paths = check_figures(output)
    assert {path.parent.name for path in paths} == {"peace-figures"}  # never over report.md's figures
    names = {path.name for path in paths}
    assert "phase-peace-offense_defense_balance-distinguishability.png" in names
    assert not any("military_burden" in name for name in names)
    header = table_rows(section(output.read_text(), "Every cell"))[0]
    assert header[-2:] == ["peace (share of years)", "welfare (reward units)"]
    # The same sweep gives the same figures, byte for byte.
    again = tmp_path / "again.md"
    write_report(jervis_sweep, output=again)
    assert {path.name: path.read_bytes() for path in figure_links(again)} == before


# --- other grids ----------------------------------------------------------------------------


def test_a_one_parameter_grid_of_booleans_gives_line_charts(tmp_path):
    folder = make_sweep(tmp_path, name="alliances", scenario="bilateral", grid={"alliances": [False, True]},
                        seeds=2, eval_episodes=4)
    assert main(["report", str(folder)]) == 0
    names = {path.name for path in check_figures(folder / "report.md")}
    assert "phase-alliances.png" in names
    text = (folder / "report.md").read_text()
    assert "## The four Jervis worlds" not in text
    rows = table_rows(section(text, "Every cell"))
    assert [row[1] for row in rows[1:]] == ["false", "true"]


def test_a_three_parameter_grid_gives_a_panel_per_value_of_the_third(tmp_path):
    folder = make_sweep(tmp_path, name="cube", seeds=2, eval_episodes=4,
                        grid={"offense_defense_balance": [0.5, 2.0], "distinguishability": [0.0, 1.0],
                              "observation_noise": [0.0, 0.4]})
    assert main(["report", str(folder), "--measures", "war_years"]) == 0
    names = {path.name for path in check_figures(folder / "report.md")}
    assert {"phase-war_years-offense_defense_balance-distinguishability.png",
            "phase-war_years-offense_defense_balance-observation_noise.png",
            "phase-war_years-distinguishability-observation_noise.png", "jervis-worlds.png"} <= names
    text = (folder / "report.md").read_text()
    assert "One panel per value of `observation_noise`" in text
    # The Jervis table has a row per world and value of the noise.
    assert len(table_rows(section(text, "The four Jervis worlds"))) == 1 + 4 * 2


def test_a_grid_of_planes_is_reported_plane_by_plane(tmp_path):
    folder = make_sweep(tmp_path, name="planes", seeds=2, eval_episodes=4, grid=[
        {"offense_defense_balance": [0.5, 2.0], "distinguishability": [0.0, 1.0]},
        {"offense_defense_balance": [0.5, 2.0], "observation_noise": [0.0, 0.5]},
    ])
    assert main(["report", str(folder), "--measures", "military_burden"]) == 0
    names = {path.name for path in check_figures(folder / "report.md")}
    # Only the pairs a plane varies together are drawn.
    assert "phase-military_burden-distinguishability-observation_noise.png" not in names
    assert {"phase-military_burden-offense_defense_balance-distinguishability.png",
            "phase-military_burden-offense_defense_balance-observation_noise.png"} <= names
    assert len(table_rows(section((folder / "report.md").read_text(), "Every cell"))) == 1 + len(
        read_results(folder).cell.unique())


# --- training -------------------------------------------------------------------------------


def test_a_training_sweep_gets_drift_curves_from_every_run(tmp_path):
    folder = make_sweep(tmp_path, name="trained", scenario="bilateral", env={"max_cycles": 12}, seeds=[0, 1],
                        grid={"offense_defense_balance": [0.5, 2.0]}, policies=None, eval_episodes=4,
                        train={"total_timesteps": 512, "num_envs": 4, "checkpoint_every": 256,
                               "opponents": ["dove"], "ppo": {"n_steps": 32, "batch_size": 256, "n_epochs": 1}})
    assert main(["report", str(folder)]) == 0
    names = {path.name for path in check_figures(folder / "report.md")}
    assert {"drift.png", "trajectories.png", "phase-offense_defense_balance.png"} <= names
    drift = section((folder / "report.md").read_text(), "Drift over training")
    assert "cell 0: 2; cell 1: 2" in drift.replace(", cell", "; cell")
    # Where each cell's runs landed: the seeds counted by outcome, the counts in report-basins.csv.
    assert "basins.png" in names
    basins = pd.read_csv(folder / "report-basins.csv")
    assert basins["runs"].tolist() == [2, 2]
    assert (basins[["peace_runs", "mixed_runs", "war_runs"]].sum(axis=1) == 2).all()
    assert "## Where learning lands (basins)" in (folder / "report.md").read_text()


def test_a_fixed_policy_sweep_has_no_basins(jervis_sweep):
    assert "Where learning lands" not in (jervis_sweep / "report.md").read_text()
    assert not (jervis_sweep / "report-basins.csv").exists()


def test_a_run_directory_gets_its_evaluation_drift_and_trajectories(tmp_path):
    config = load_config(None, ["total_timesteps=512", "num_envs=4", "ppo.n_steps=32", "ppo.batch_size=256",
                                "ppo.n_epochs=1", "checkpoint_every=256", "eval_episodes=4", "progress_bar=false",
                                "opponents=[dove]", "env.max_cycles=12", f"output_dir={tmp_path}", "name=tiny"])
    train(config)
    run = tmp_path / "tiny"
    assert main(["report", str(run)]) == 0
    check_figures(run / "report.md")
    text = (run / "report.md").read_text()
    metrics = json.loads((run / "metrics.json").read_text())["evaluation"]
    rows = {row[0].strip("`"): row for row in table_rows(section(text, "Evaluation"))[1:]}
    assert float(rows["war_years"][2]) == pytest.approx(metrics["self-play"]["war_years"], rel=1e-3, abs=1e-9)
    drift = pd.read_csv(run / "drift.csv")
    body = table_rows(section(text, "Drift over training"))[1:]
    assert [int(row[0]) for row in body] == drift.timesteps.tolist()
    for row, (_, expected) in zip(body, drift.iterrows()):
        assert numbers_in(row[1])[0] == pytest.approx(expected["military_burden"], rel=1e-3, abs=1e-9)
    assert len(table_rows(section(text, "Richardson fits"))) == 1 + 3  # 3 kept episodes, one dyad


# --- Richardson fits that cannot be made ------------------------------------------------------


def test_richardson_fits_that_cannot_be_made_are_counted_with_a_reason():
    params = make_params("bilateral", max_cycles=12)
    dove = make_policy("dove", params)
    fits = richardson_fits([rollout(params, [dove, dove], 2, seed=0)])
    summary = summarize_fits(fits)
    assert summary.attempted == 2 and summary.fitted == 0 and sum(summary.reasons.values()) == 2
    assert np.isnan(summary.means["k"]) and np.isnan(summary.stable_share)
    short = make_params("bilateral", max_cycles=4)
    assert summarize_fits(richardson_fits([rollout(short, [dove, dove], 1, seed=0)])).reasons == {
        "too few years with both alive": 1}


# --- bad folders ----------------------------------------------------------------------------


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    return error


def test_a_folder_that_is_neither_a_sweep_nor_a_run_is_one_line_and_exit_2(tmp_path, capsys, jervis_sweep):
    assert "not found" in one_line_error(capsys, ["report", str(tmp_path / "missing")])
    (tmp_path / "file.txt").write_text("x")
    assert "is not a folder" in one_line_error(capsys, ["report", str(tmp_path / "file.txt")])
    (tmp_path / "empty").mkdir()
    assert "neither a sweep folder" in one_line_error(capsys, ["report", str(tmp_path / "empty")])
    assert "holds the sweeps jervis" in one_line_error(capsys, ["report", str(jervis_sweep.parent)])
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "sweep.yaml").write_text((jervis_sweep / "sweep.yaml").read_text())
    assert "no results table yet" in one_line_error(capsys, ["report", str(tmp_path / "unfinished")])
    assert "unknown measure 'burden'" in one_line_error(capsys, ["report", str(jervis_sweep), "--measures", "burden"])


def test_an_unknown_measure_gets_a_suggestion_only_when_one_is_close():
    with pytest.raises(ValueError, match="unknown measure 'war_year'; did you mean 'war_years'\\? choose from"):
        parse_measures("military_burden,war_year")
    with pytest.raises(ValueError) as error:
        parse_measures(["colour"])
    assert "unknown measure 'colour'; choose from military_burden" in str(error.value)
    assert "did you mean" not in str(error.value)
