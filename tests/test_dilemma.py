"""The dilemma is really there: fixed stances played against each other (issue acceptance)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sd_env.stances import make_policy
from sd_env.experiments.lab.dilemma import dilemma_tables, payoff_table
from sd_env.experiments.lab.rollout import rollout
from sd_env.scenarios import make_params


@pytest.fixture(scope="module")
def jervis_1():
    return dilemma_tables(make_params("jervis-1"), stances=("dove", "hawk", "deterrer"), episodes=100, seed=0)


@pytest.fixture(scope="module")
def jervis_4():
    return payoff_table(make_params("jervis-4"), episodes=100, seed=0)


def clearly_greater(table, a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Cell a exceeds cell b by more than two combined standard errors."""
    gap = table.value(*a) - table.value(*b)
    noise = (table.standard_error.loc[a] ** 2 + table.standard_error.loc[b] ** 2) ** 0.5
    return gap > 2.0 * noise


def test_jervis_1_is_a_prisoners_dilemma_for_greedy_states_and_a_stag_hunt_for_security_seekers(jervis_1):
    greedy, seekers = jervis_1.tables["greedy"], jervis_1.tables["security_seeker"]
    # Greedy: arming is the best response to restraint and to arming, yet mutual arming is worse than
    # mutual restraint (Kydd 1997: a greedy state's preferences are a prisoner's dilemma).
    assert clearly_greater(greedy, ("hawk", "dove"), ("dove", "dove"))
    assert clearly_greater(greedy, ("hawk", "hawk"), ("dove", "hawk"))
    assert clearly_greater(greedy, ("dove", "dove"), ("hawk", "hawk"))
    assert greedy.is_security_dilemma()
    # Security seekers: mutual restraint beats exploiting a restrained rival, but against an aggressor
    # arming beats restraint (an assurance game: the spiral model's security seeker).
    assert clearly_greater(seekers, ("dove", "dove"), ("hawk", "dove"))
    assert clearly_greater(seekers, ("deterrer", "hawk"), ("dove", "hawk"))
    assert seekers.best_response("dove") != "hawk"
    assert not seekers.is_security_dilemma()


def test_jervis_4_restraint_or_defence_is_a_best_response_to_restraint(jervis_4):
    best_peaceful = max(jervis_4.value("dove", "dove"), jervis_4.value("defender", "dove"))
    assert best_peaceful > jervis_4.value("hawk", "dove")
    assert jervis_4.best_response("dove") in {"dove", "defender"}
    assert not jervis_4.is_security_dilemma()


def test_offence_advantage_makes_aggression_against_restraint_pay_more():
    low = payoff_table(make_params("bilateral", offense_defense_balance=0.5), stances=("dove", "hawk"), episodes=50)
    high = payoff_table(make_params("bilateral", offense_defense_balance=3.0), stances=("dove", "hawk"), episodes=50)
    assert high.value("hawk", "dove") > low.value("hawk", "dove")
    assert high.value("dove", "hawk") < low.value("dove", "hawk")


def test_payoff_table_is_reproducible():
    params = make_params("bilateral", max_cycles=20)
    first = payoff_table(params, stances=("dove", "hawk"), episodes=10, seed=3)
    second = payoff_table(params, stances=("dove", "hawk"), episodes=10, seed=3)
    assert first.mean.equals(second.mean)


def test_payoff_table_rejects_too_few_episodes():
    with pytest.raises(ValueError, match="episodes"):
        payoff_table(make_params("bilateral"), episodes=1)


# ---------------------------------------------------------------------------
# Preferences by type, and information worth reading (the model issue's acceptance). Each holds in the
# named scenarios and in variants of them, not only at the defaults.

VARIANTS = [{}, {"observation_noise": 0.5}, {"n_states": 3, "max_cycles": 60}, {"greedy_prior": 0.5}]


def _tables(scenario: str, variant: dict, stances=("dove", "hawk"), episodes: int = 100):
    return dilemma_tables(make_params(scenario, **variant), stances=stances, episodes=episodes, seed=0)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) or "default")
@pytest.mark.parametrize("scenario", ["bilateral", "jervis-1", "jervis-2", "jervis-3", "jervis-4"])
def test_security_seekers_prefer_mutual_restraint_to_exploiting_restraint(scenario, variant):
    seekers = _tables(scenario, variant).tables["security_seeker"]
    assert clearly_greater(seekers, ("dove", "dove"), ("hawk", "dove"))


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) or "default")
@pytest.mark.parametrize("scenario", ["jervis-1", "jervis-3"])
def test_greedy_states_prefer_exploiting_restraint_under_offence_advantage(scenario, variant):
    greedy = _tables(scenario, variant).tables["greedy"]
    assert clearly_greater(greedy, ("hawk", "dove"), ("dove", "dove"))


@pytest.mark.parametrize(
    "variant",
    [{}, {"observation_noise": 0.0}, {"observation_noise": 0.5}, {"n_states": 3, "max_cycles": 60},
     {"greedy_prior": 0.5}, {"offense_defense_balance": 2.0}],
    ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) or "default",
)
def test_the_deterrer_earns_more_when_weapons_can_be_told_apart(variant):
    # The deterrer reads apparent offence: where fortifications cannot be told from armour (world 1) it reads
    # a rival's defensive arming as a threat and strikes first; where they can (world 3) it does not.
    stances = ("deterrer",)
    indistinguishable = _tables("jervis-1", variant, stances).tables["all"]
    distinguishable = _tables("jervis-3", variant, stances).tables["all"]
    gap = distinguishable.value("deterrer", "deterrer") - indistinguishable.value("deterrer", "deterrer")
    noise = math.hypot(distinguishable.standard_error.loc["deterrer", "deterrer"],
                       indistinguishable.standard_error.loc["deterrer", "deterrer"])
    assert gap > 2.0 * noise


@pytest.mark.parametrize("variant", [{}, {"n_states": 3}, {"max_cycles": 60}, {"greedy_prior": 0.5}],
                         ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) or "default")
def test_fear_is_rational_under_offence_advantage_and_indistinguishable_weapons(variant):
    # A security seeker facing a rival of unknown type (greedy rivals play hawk, seeking ones dove) in world 1
    # does better by arming when it sees a threat (the deterrer) than by staying disarmed. Both rows are played
    # on the same seeds (same types, same draws until play differs), so the comparison is paired.
    params = make_params("jervis-1", **variant)
    population = [make_policy("hawk/dove", params)] * (params.n_states - 1)
    armed = rollout(params, [make_policy("deterrer", params)] + population, 400, seed=0)
    disarmed = rollout(params, [make_policy("dove", params)] + population, 400, seed=0)
    np.testing.assert_array_equal(armed.greedy, disarmed.greedy)
    seeker = ~armed.greedy[:, 0]
    difference = (armed.returns[:, 0] - disarmed.returns[:, 0])[seeker]
    assert difference.mean() > 2.0 * difference.std(ddof=1) / math.sqrt(difference.size)


def test_type_tables_split_the_pooled_one_and_a_missing_type_gives_none():
    result = _tables("jervis-1", {}, episodes=40)
    pooled, seekers, greedy = (result.tables[key] for key in ("all", "security_seeker", "greedy"))
    # The pooled mean is a weighted mean of the two type tables, so it lies between them.
    for row in ("dove", "hawk"):
        for column in ("dove", "hawk"):
            low, high = sorted((seekers.value(row, column), greedy.value(row, column)))
            assert low - 1e-9 <= pooled.value(row, column) <= high + 1e-9
    none_greedy = dilemma_tables(make_params("bilateral", greedy_prior=0.0, max_cycles=10), ("dove",), episodes=4)
    assert none_greedy.tables["greedy"] is None
    assert none_greedy.to_json()["tables"]["greedy"] == {"dove": {"dove": None}}


def test_no_good_policy_holds_where_restraint_is_exposed_and_arming_recovers_less_than_mutual_restraint():
    import pandas as pd

    from sd_env.experiments.lab.dilemma import PayoffTable

    stances = ["dove", "hawk"]

    def table(values):
        mean = pd.DataFrame(values, index=stances, columns=stances)
        return PayoffTable(mean, mean * 0.0)

    dilemma = table([[10.0, 1.0], [12.0, 4.0]]).no_good_policy()  # rows: own; columns: rivals
    assert dilemma == {"best_against_arming": "hawk", "best_return": 4.0, "mutual_restraint_return": 10.0,
                       "gap": 6.0, "holds": True}
    # Defence dominant: a dove facing a hawk does as well as in mutual restraint; nothing to recover.
    assert table([[10.0, 10.0], [9.0, 8.0]]).no_good_policy()["holds"] is False
    # Arming recovers more than mutual restraint gave: arming is a good policy, no dilemma of this kind.
    assert table([[10.0, 1.0], [12.0, 11.0]]).no_good_policy()["holds"] is False


def test_dilemma_json_reports_no_good_policy_per_type(tmp_path):
    import json

    from sd_env.experiments.cli import main

    out = tmp_path / "tables.json"
    assert main(["dilemma", "--scenario", "jervis-1", "--episodes", "8", "--set", "max_cycles=10",
                 "--json", str(out)]) == 0
    written = json.loads(out.read_text())
    assert set(written["no_good_policy"]) == {"all", "security_seeker", "greedy"}
    pooled = written["no_good_policy"]["all"]
    assert pooled["gap"] == pytest.approx(pooled["mutual_restraint_return"] - pooled["best_return"])
