"""A scenario's card: its values with their reasons, its cases, what the model predicts there, its sources.

``sd-env scenarios --describe NAME`` prints one card; ``python -m sd_env.experiments.reporting.docs_tables``
writes every card into its generated block of ``docs/scenarios.md``.
Everything a card says is read from the :class:`~sd_env.scenarios.Scenario` definition and the
parameter declarations (``sd_env.params.SPECS``), or computed with fixed seeds, so the same
name, episodes and seed give the same text.

The predictions are those of ``docs/model.md``'s dilemma tables (:mod:`sd_env.experiments.reporting.dilemma_text`:
the same stances, the same code): fixed scripted stances played against each other.
"""

from __future__ import annotations

from sd_env.experiments.lab.dilemma import DilemmaTables
from sd_env.experiments.reporting.dilemma_text import STANCES, TYPE_TITLES, best_responses_sentence, cell_text, scenario_tables
from sd_env.experiments.lab.power_shift import power_shift_section
from sd_env.params import SPECS, EnvParams, value_text
from sd_env.scenarios import SCENARIOS, Scenario, get_scenario

#: The mark of an illustrative value in a card's table, and its footnote.
ILLUSTRATIVE_MARK = "†"
ILLUSTRATIVE_NOTE = (f"{ILLUSTRATIVE_MARK} Illustrative: a rough size chosen to tell the story, not a measurement "
                     "from data.")
PREDICTIONS_HEADING = "#### What the model predicts for fixed stances"


def block_name(name: str) -> str:
    """The generated block of ``docs/scenarios.md`` that holds the card of scenario ``name``."""
    return f"scenario-card-{name}"


#: The generated block of ``docs/scenarios.md`` that says how its cards were made.
PROVENANCE_BLOCK = "scenario-cards"


def table_cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell."""
    return text.replace("|", r"\|")


def seats_line(scenario: Scenario, n_states: int) -> str:
    """Whom each seat stands for, ``state_0`` first."""
    seats = [f"state_{i}" for i in range(n_states)]
    described = [(seat, who) for seat, who in zip(seats, scenario.states) if who != seat]
    if not described:
        return f"Seats: {', '.join(f'`{seat}`' for seat in seats)}, {n_states} states that stand for no particular country."
    return "Seats: " + "; ".join(f"`{seat}` {who}" for seat, who in zip(seats, scenario.states)) + "."


def values_lines(scenario: Scenario) -> list[str]:
    """The table of the values the scenario sets: parameter, value (marked where illustrative), unit, reason."""
    if not scenario.values:
        return ["Sets nothing: every parameter keeps its default (`sd-env params` lists them)."]
    lines = ["| parameter | value | unit | why this value |", "| --- | --- | --- | --- |"]
    for name, value in scenario.values.items():
        mark = f" {ILLUSTRATIVE_MARK}" if name in scenario.illustrative else ""
        lines.append(f"| `{name}` | `{value_text(value)}`{mark} | {table_cell(SPECS[name].unit)} | "
                     f"{table_cell(scenario.reasons[name])} |")
    lines.append("")
    lines.append("Every parameter not listed keeps its default (`sd-env params`)."
                 + (f" {ILLUSTRATIVE_NOTE}" if scenario.illustrative else ""))
    return lines


def _type_line(key: str, result: DilemmaTables) -> str:
    title = f"*{TYPE_TITLES[key].capitalize()}:*"
    table = result.tables[key]
    if table is None:
        return (f"- {title} no focal state of this type occurred (greedy_prior is {result.params.greedy_prior:g}), "
                "so there is nothing to predict for it.")
    sentence = best_responses_sentence(table, verdict=True)
    if sentence is None:
        return (f"- {title} some cells have no focal state of this type (too few episodes), so no best response "
                "is named; `sd-env dilemma` with more episodes prints the table.")
    return f"- {title} {sentence}"


def predictions_lines(result: DilemmaTables) -> list[str]:
    """What the fixed stances of :data:`~sd_env.experiments.reporting.docs_tables.STANCES` earn against each other, compactly.

    For each type of the focal state the best response to each rival stance and whether dove and hawk form a
    prisoner's dilemma; then the pooled mean return when every state restrains itself and when every state arms.
    """
    scenario = result.scenario
    stances = ",".join(STANCES)
    pooled = result.tables["all"]
    restraint = cell_text(pooled.mean.loc["dove", "dove"], pooled.standard_error.loc["dove", "dove"])
    arming = cell_text(pooled.mean.loc["hawk", "hawk"], pooled.standard_error.loc["hawk", "hawk"])
    where = f"--scenario {scenario} " if scenario else ""
    return [
        PREDICTIONS_HEADING,
        "",
        f"Fixed scripted stances ({', '.join(STANCES)}) played against each other, {result.episodes} episodes "
        f"per seat and cell, seed {result.seed}: every seat in turn is the focal state, playing its own stance "
        "while every rival plays the rival stance, and returns are averaged over seats and split by the focal "
        "state's private type. The full tables: `sd-env dilemma "
        f"{where}--stances {stances}`.",
        "",
        *(_type_line(key, result) for key in TYPE_TITLES),
        f"- *All restraint against all arming:* mean episode return per state {restraint} when every state plays "
        f"dove, {arming} when every state plays hawk (every focal state, whatever its type; ± standard error).",
    ]


def power_shift_lines(params: EnvParams, episodes: int, seed: int, seat_names: tuple[str, ...] = ()) -> list[str]:
    """The power-shift section (``sd_env.experiments.lab.power_shift``), or nothing where the scenario has none (every
    state grows at the same rate)."""
    lines = power_shift_section(params, episodes, seed, seat_names=seat_names)
    if not lines:
        return []
    lines = list(lines)
    return lines if lines[0].startswith("#") else ["#### The power shift", "", *lines]


def scenario_card(name: str, episodes: int = 100, seed: int = 0, tables: DilemmaTables | None = None) -> str:
    """The card of scenario ``name`` as Markdown; an unknown name raises ``ValueError`` listing the known ones.

    ``tables`` (the scenario's :func:`~sd_env.experiments.reporting.docs_tables.scenario_tables` for these episodes and seed)
    saves computing them again.
    """
    scenario = get_scenario(name)
    params = scenario.params()
    result = tables if tables is not None else scenario_tables(name, episodes, seed)
    lines = [
        f"### `{name}`",
        "",
        scenario.summary,
        "",
        seats_line(scenario, params.n_states),
        "",
        "#### Values",
        "",
        *values_lines(scenario),
        "",
        "#### Cases",
        "",
        scenario.cases,
        "",
        *predictions_lines(result),
        "",
    ]
    shift = power_shift_lines(params, episodes, seed, seat_names=scenario.states)
    if shift:
        lines += [*shift, ""]
    lines += ["#### Sources", "", *(f"- {citation}" for citation in scenario.citations)]
    return "\n".join(lines)


def scenarios_table_markdown() -> str:
    """The table of every scenario for ``docs/model.md``: name, summary, whom the seats stand for."""
    lines = ["| scenario | summary | seats, `state_0` first |", "| --- | --- | --- |"]
    for name, scenario in SCENARIOS.items():
        n_states = scenario.params().n_states
        seats = [f"state_{i}" for i in range(n_states)]
        if all(who == seat for who, seat in zip(scenario.states, seats)):
            who = f"{n_states} states, none a particular country"
        else:
            who = ", ".join(scenario.states)
        lines.append(f"| [`{name}`](scenarios.md#{name}) | {table_cell(scenario.summary)} | {table_cell(who)} |")
    return "\n".join(lines)
