"""Scenario cards (``sd-env scenarios --describe``, docs/scenarios.md) and the scenario definitions behind them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from sd_env.experiments.cli import main
from sd_env.experiments.lab.dilemma import dilemma_tables
from sd_env.experiments.reporting.dilemma_text import STANCES, cell_text
from sd_env.experiments.reporting.docs_tables import SCENARIO_TABLE
from sd_env.experiments.output.blocks import markers
from sd_env.experiments.reporting.scenario_cards import (
    ILLUSTRATIVE_MARK, PREDICTIONS_HEADING, PROVENANCE_BLOCK, table_cell, block_name, power_shift_lines,
    predictions_lines, scenario_card, scenarios_table_markdown, value_text,
)
from sd_env.params import SPECS
from sd_env.scenarios import SCENARIOS, make_params

#: The docs' own episodes (docs_tables' default): the cards reuse the tables the docs' check computes.
EPISODES = 200
DOCS = Path(__file__).resolve().parents[1] / "docs"
#: The scenarios whose cards are followed by a hand-written section on learned agents.
WITH_LEARNED_SECTION = ("thucydides", "russia-ukraine", "thaad-2016")


@pytest.fixture(scope="module")
def cards() -> dict[str, str]:
    return {name: scenario_card(name, episodes=EPISODES, seed=0) for name in SCENARIOS}


def _row(card: str, name: str) -> str:
    rows = [line for line in card.splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1, f"one table row for {name}"
    return rows[0]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_card_holds_every_value_with_its_unit_reason_and_mark_then_cases_predictions_and_sources(cards, name):
    card, scenario = cards[name], SCENARIOS[name]
    assert card.startswith(f"### `{name}`\n\n{scenario.summary}\n")
    for seat, who in enumerate(scenario.states):
        assert f"`state_{seat}`" in card and who in card
    for parameter, value in scenario.values.items():
        row = _row(card, parameter)
        assert f"| `{value_text(value)}`" in row
        assert table_cell(SPECS[parameter].unit) in row and table_cell(scenario.reasons[parameter]) in row
        assert (ILLUSTRATIVE_MARK in row) == (parameter in scenario.illustrative)
    assert ("Illustrative:" in card) == bool(scenario.illustrative)
    if not scenario.values:
        assert "Sets nothing" in card
    for citation in scenario.citations:
        assert f"\n- {citation}" in card
    # In order: values, cases, predictions, (power shift), sources.
    positions = [card.index(text) for text in ("#### Values", scenario.cases, PREDICTIONS_HEADING, "#### Sources")]
    assert positions == sorted(positions)
    predictions = card[card.index(PREDICTIONS_HEADING):card.index("#### Sources")]
    assert f"{EPISODES} episodes per seat and cell, seed 0" in predictions
    assert predictions.count("Best responses:") == 2 and predictions.count("Prisoner's dilemma between dove") == 2
    assert "when every state plays dove" in predictions and "when every state plays hawk" in predictions


@pytest.mark.parametrize("name", ["thucydides", "bilateral"])
def test_power_shift_section_appears_exactly_where_the_growth_rates_differ(cards, name):
    params = make_params(name)
    shift = power_shift_lines(params, EPISODES, 0, SCENARIOS[name].states)
    unequal = len(set(np.broadcast_to(params.growth_rate, (params.n_states,)).tolist())) > 1
    assert bool(shift) == unequal
    card = cards[name]
    if shift:
        assert "\n".join(shift) in card
        assert card.index(PREDICTIONS_HEADING) < card.index(shift[0]) < card.index("#### Sources")


def test_predictions_name_the_best_response_of_each_type_and_the_pooled_returns_of_an_asymmetric_scenario(cards):
    # russia-ukraine: three unequal seats; the numbers are those of the tables, averaged over seats.
    result = dilemma_tables(make_params("russia-ukraine"), stances=STANCES, episodes=EPISODES, seed=0,
                            scenario="russia-ukraine")
    card = cards["russia-ukraine"]
    lines = {line.split(":*")[0]: line for line in card.splitlines() if line.startswith("- *")}
    for key, title in (("security_seeker", "- *Focal state a security seeker"), ("greedy", "- *Focal state greedy")):
        table = result.tables[key]
        for column in STANCES:
            best = STANCES[int(np.argmax([table.mean.loc[row, column] for row in STANCES]))]
            assert f"to {column}: **{best}**" in lines[title]
    pooled = result.tables["all"]
    for stance in ("dove", "hawk"):
        number = cell_text(pooled.mean.loc[stance, stance], pooled.standard_error.loc[stance, stance])
        assert f"{number} when every state plays {stance}" in lines["- *All restraint against all arming"]


@pytest.mark.parametrize("prior, missing, present", [(0.0, "greedy", "a security seeker"),
                                                     (1.0, "a security seeker", "greedy")])
def test_predictions_say_so_when_a_type_never_occurs(prior, missing, present):
    result = dilemma_tables(make_params("bilateral", greedy_prior=prior, max_cycles=10), stances=STANCES,
                            episodes=3, seed=0, scenario="bilateral")
    text = "\n".join(predictions_lines(result))
    assert f"*Focal state {missing}:* no focal state of this type occurred (greedy_prior is {prior:g})" in text
    assert text.count("Best responses:") == 1 and f"*Focal state {present}:* Best responses:" in text


def test_predictions_name_no_best_response_where_a_cell_has_no_sample():
    result = dilemma_tables(make_params("bilateral", max_cycles=10), stances=STANCES, episodes=3, seed=0)
    table = result.tables["greedy"]
    mean = table.mean.copy()
    mean.loc["hawk", "dove"] = np.nan
    tables = {**result.tables, "greedy": dataclasses.replace(table, mean=mean)}
    text = "\n".join(predictions_lines(dataclasses.replace(result, tables=tables)))
    assert "*Focal state greedy:* some cells have no focal state of this type" in text
    assert text.count("Best responses:") == 1


def test_same_seed_same_card_and_the_seed_is_used():
    first = scenario_card("missile-crisis", episodes=EPISODES, seed=3)
    assert scenario_card("missile-crisis", episodes=EPISODES, seed=3) == first
    assert "seed 3" in first and scenario_card("missile-crisis", episodes=EPISODES, seed=4) != first


def test_cli_describe_prints_the_card(cards, capsys):
    assert main(["scenarios", "--describe", "thucydides", "--episodes", str(EPISODES)]) == 0
    assert capsys.readouterr().out == cards["thucydides"] + "\n"


@pytest.mark.parametrize("argv, fragments", [
    (["scenarios", "--describe", "atlantis"], ["unknown scenario 'atlantis'", *SCENARIOS]),
    (["scenarios", "--describe", "bilateral", "--episodes", "1"], ["episodes must be >= 2"]),
    (["scenarios", "--seed", "3"], ["--describe NAME"]),
])
def test_cli_describe_bad_input_is_one_line_and_exit_code_2(capsys, argv, fragments):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    for fragment in fragments:
        assert fragment in captured.err


def test_cli_scenarios_without_describe_lists_one_line_each_as_before(capsys):
    assert main(["scenarios"]) == 0
    width = max(map(len, SCENARIOS))
    expected = "".join(f"{name:<{width}}  {scenario.summary}\n" for name, scenario in SCENARIOS.items())
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_has_a_reason_per_value_cases_sources_and_a_seat_description_per_state(name):
    scenario = SCENARIOS[name]
    assert scenario.summary.strip() and scenario.cases.strip()
    assert set(scenario.reasons) == set(scenario.values)
    assert all(reason.strip() for reason in scenario.reasons.values())
    assert scenario.citations and all(citation.strip() for citation in scenario.citations)
    assert len(scenario.states) == make_params(name).n_states
    assert all(who.strip() for who in scenario.states)


def test_docs_hold_a_block_for_every_card_and_the_hand_written_sections():
    text = (DOCS / "scenarios.md").read_text()
    for name in [PROVENANCE_BLOCK, *map(block_name, SCENARIOS)]:
        start, end = markers(name)
        assert text.count(start) == 1 and text.count(end) == 1
    for name in WITH_LEARNED_SECTION:
        after = text.split(markers(block_name(name))[1], 1)[1].lstrip()
        assert after.startswith("#### What learned agents do\n")
    model = (DOCS / "model.md").read_text()
    assert all(model.count(marker) == 1 for marker in markers(SCENARIO_TABLE))
    table = scenarios_table_markdown()
    assert all(f"| [`{name}`](scenarios.md#{name}) |" in table for name in SCENARIOS)


def test_the_generated_blocks_of_the_docs_are_current(monkeypatch):
    """docs/model.md, docs/measures.md and docs/scenarios.md hold what the code computes now
    (``python -m sd_env.experiments.reporting.docs_tables --check``; ``--write`` without it updates them)."""
    from sd_env.experiments.reporting import docs_tables

    monkeypatch.chdir(DOCS.parent)
    assert docs_tables.main(["--check"]) == 0
