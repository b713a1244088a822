"""The dilemma tables as text: the documented stances, a cell, a table, its best responses (docs and cards).

``sd_env.experiments.reporting.docs_tables`` writes every scenario's tables into ``docs/model.md`` with these, and
``sd_env.experiments.reporting.scenario_cards`` states a scenario's predictions with the same stances and sentences.
"""

from __future__ import annotations

import functools

from sd_env.experiments.lab.dilemma import DilemmaTables, dilemma_tables
from sd_env.experiments.output.numbers import format_number
from sd_env.params import EnvParams
from sd_env.scenarios import make_params

#: The stances of the documented tables, rows and columns in this order.
STANCES = ("dove", "defender", "hawk", "deterrer", "hawk/dove")
#: The type tables written for each scenario, with their headings.
TYPE_TITLES = {"security_seeker": "focal state a security seeker", "greedy": "focal state greedy"}


def cell_text(mean: float, error: float) -> str:
    """``mean ± error`` with one decimal; a dash where no focal state of the type played the cell (NaN)."""
    if mean != mean:  # NaN: no focal state of this type played this cell
        return "–"
    text = format_number(mean, decimals=1)
    return text if error != error else f"{text} ± {format_number(error, decimals=1)}"


def table_lines(table, verdict: bool) -> list[str]:
    """A payoff table as Markdown rows, then its best-responses sentence."""
    if table is None:
        return ["No focal state of this type occurred.", ""]
    cells = table.mean.copy().astype(object)
    for row in STANCES:
        for column in STANCES:
            cells.loc[row, column] = cell_text(table.mean.loc[row, column], table.standard_error.loc[row, column])
    header = "| own \\ rivals | " + " | ".join(STANCES) + " |"
    lines = [header, "|" + "---|" * (len(STANCES) + 1)]
    for row in STANCES:
        lines.append(f"| **{row}** | " + " | ".join(cells.loc[row, column] for column in STANCES) + " |")
    sentence = best_responses_sentence(table, verdict)
    return lines + ([""] if sentence is None else ["", sentence, ""])


def best_responses_sentence(table, verdict: bool = True) -> str | None:
    """The best response to each column stance and, with ``verdict``, whether dove and hawk form a prisoner's
    dilemma; None where a cell of ``table`` has no sample (the answer would rest on missing cells)."""
    if table.mean.isna().to_numpy().any():
        return None
    responses = ", ".join(f"to {column}: **{table.best_response(column)}**" for column in STANCES)
    sentence = f"Best responses: {responses}."
    if verdict:
        answer = "yes" if table.is_security_dilemma("dove", "hawk") else "no"
        sentence += f" Prisoner's dilemma between dove and hawk: **{answer}**."
    return sentence


def scenario_tables(name: str, episodes: int, seed: int) -> DilemmaTables:
    """The dilemma tables of scenario ``name`` for the documented stances (:data:`STANCES`).

    Computed once per scenario, parameters, episodes and seed in a process: the docs' tables, the scenario
    cards and their checks all read the same tables (hundreds of rollouts in all), and the tables are frozen.
    """
    return _scenario_tables(name, make_params(name), episodes, seed)


@functools.lru_cache(maxsize=None)
def _scenario_tables(name: str, params: EnvParams, episodes: int, seed: int) -> DilemmaTables:
    # Keyed by the parameters too, so that a scenario redefined in the process is computed afresh.
    return dilemma_tables(params, stances=STANCES, episodes=episodes, seed=seed, scenario=name)
