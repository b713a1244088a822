"""The dilemma is really there: fixed stances played against each other (issue acceptance)."""

from __future__ import annotations

import pytest

from experiments.dilemma import payoff_table
from sd_env.scenarios import make_params


@pytest.fixture(scope="module")
def jervis_1():
    return payoff_table(make_params("jervis-1"), episodes=100, seed=0)


@pytest.fixture(scope="module")
def jervis_4():
    return payoff_table(make_params("jervis-4"), episodes=100, seed=0)


def clearly_greater(table, a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Cell a exceeds cell b by more than two combined standard errors."""
    gap = table.value(*a) - table.value(*b)
    noise = (table.standard_error.loc[a] ** 2 + table.standard_error.loc[b] ** 2) ** 0.5
    return gap > 2.0 * noise


def test_jervis_1_is_a_security_dilemma(jervis_1):
    # Arming is the best response to restraint and to arming ...
    assert clearly_greater(jervis_1, ("hawk", "dove"), ("dove", "dove"))
    assert clearly_greater(jervis_1, ("hawk", "hawk"), ("dove", "hawk"))
    # ... yet mutual arming leaves both worse off than mutual restraint.
    assert clearly_greater(jervis_1, ("dove", "dove"), ("hawk", "hawk"))
    assert jervis_1.is_security_dilemma()


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
