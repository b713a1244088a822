"""Stance options are range-checked like parameters (declared once, beside the stances), and unknown stance
names and options get a "did you mean"."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from sd_env.errors import PolicyError, did_you_mean
from sd_env.scenarios import make_params
from sd_env.stances import SCRIPTED_POLICIES, DeterrerPolicy, StrikerPolicy, make_policy, stance_options

PARAMS = make_params("bilateral")  # max_burden 0.5, two states, 100 years


def test_did_you_mean_suggests_only_a_close_name():
    assert did_you_mean("jervis1", ["bilateral", "jervis-1"]) == "; did you mean 'jervis-1'?"
    assert did_you_mean("atlantis", ["bilateral", "jervis-1"]) == ""
    assert did_you_mean("n_step", ["n_steps"], then="known keys: n_steps", prefix="ppo.") == (
        "; did you mean 'ppo.n_steps'? known keys: n_steps")
    assert did_you_mean("colour", ["n_steps"], then="known keys: n_steps") == "; known keys: n_steps"


def test_every_option_of_every_stance_has_its_range_declared_and_its_default_inside():
    for name, cls in SCRIPTED_POLICIES.items():
        assert set(stance_options(cls)) == set(cls.option_ranges), name
        defaults = inspect.signature(cls.__init__).parameters
        for option, declared in cls.option_ranges.items():
            assert declared.meaning, (name, option)
            assert declared.problem(PARAMS, defaults[option].default) is None, (name, option)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("defender:burden=3", "stance defender: burden must be in [0, 0.5] (share of wealth"),
        ("dove:burden=-0.1", "stance dove: burden must be in [0, 0.5]"),
        ("hawk:burden=0.51", "stance hawk: burden must be in [0, 0.5]"),
        ("hawk:attack_threshold=1.5", "stance hawk: attack_threshold must be in [0, 1]"),
        ("deterrer:target_risk=0", "stance deterrer: target_risk must be in (0, 1)"),
        ("deterrer:preemption_threshold=1", "stance deterrer: preemption_threshold must be in (0, 1)"),
        ("deterrer:preemption_burden=0.9", "stance deterrer: preemption_burden must be in [0, 0.5]"),
        ("richardson:reaction=-0.1", "stance richardson: reaction must be in [0, 1]"),
        ("richardson:fatigue=2", "stance richardson: fatigue must be in [0, 1]"),
        ("richardson:grievance=5", "stance richardson: grievance must be in [-1, 1]"),
        ("striker:burden=0.7", "stance striker: burden must be in [0, 0.5]"),
        ("striker:year=100", "stance striker: year must be an integer in [-1, 99]"),
        ("striker:year=-2", "stance striker: year must be an integer in [-1, 99]"),
        ("striker:year=2.5", "stance striker: year must be an integer in [-1, 99]"),
        ("striker:target=2", "stance striker: target must be an integer in [1, 1]"),
        ("defender:burden=nan", "stance defender: burden must be in [0, 0.5]"),
        ("hawk/defender:burden=3", "stance defender: burden must be in [0, 0.5]"),
    ],
)
def test_out_of_range_options_are_refused_naming_option_range_and_value(spec, fragment):
    with pytest.raises(PolicyError) as error:
        make_policy(spec, PARAMS)
    message = str(error.value)
    assert fragment in message and "\n" not in message
    assert message.endswith(f"got {spec.rpartition('=')[2]}") or "nan" in message


def test_bounds_follow_the_parameters_they_depend_on():
    wide = make_params("bilateral", max_burden=0.8, n_states=4, max_cycles=10)
    make_policy("defender:burden=0.8", wide)
    make_policy("striker:target=3:year=9", wide)
    with pytest.raises(PolicyError, match=r"burden must be in \[0, 0.8\]"):
        make_policy("defender:burden=0.81", wide)
    with pytest.raises(PolicyError, match=r"target must be an integer in \[1, 3\]"):
        make_policy("striker:target=4", wide)
    with pytest.raises(PolicyError, match=r"year must be an integer in \[-1, 9\]"):
        make_policy("striker:year=10", wide)


@pytest.mark.parametrize(
    "name, options, fragment",
    [
        ("defender", {"burden": "0.3"}, "stance defender: burden must be a number in [0, 0.5]"),
        ("hawk", {"attack_threshold": True}, "stance hawk: attack_threshold must be a number in [0, 1]"),
        ("richardson", {"reaction": None}, "stance richardson: reaction must be a number in [0, 1]"),
        ("striker", {"target": "1"}, "stance striker: target must be an integer in [1, 1]"),
        ("striker", {"year": 1.5}, "stance striker: year must be an integer in [-1, 99]"),
    ],
)
def test_options_of_the_wrong_type_are_refused(name, options, fragment):
    with pytest.raises(PolicyError) as error:
        make_policy(name, PARAMS, **options)
    assert fragment in str(error.value) and f"got {next(iter(options.values()))!r}" in str(error.value)


@pytest.mark.parametrize(
    "spec",
    [
        "defender:burden=0", "defender:burden=0.5", "dove:burden=0.5", "hawk:burden=0:attack_threshold=0",
        "hawk:attack_threshold=1", "deterrer:target_risk=0.001:preemption_threshold=0.999:preemption_burden=0.5",
        "deterrer:preemption_burden=0", "richardson:reaction=0:fatigue=1:grievance=-1",
        "richardson:reaction=1:fatigue=0:grievance=1", "striker:year=-1:target=1:burden=0.5", "striker:year=99",
        "striker:year=0", "striker:year=4.0", "hawk/defender:burden=0.3",
    ],
)
def test_edge_values_inside_the_ranges_are_accepted(spec):
    assert make_policy(spec, PARAMS).name == spec


def test_numpy_numbers_are_numbers():
    policy = make_policy("striker", PARAMS, burden=np.float32(0.25), year=np.int64(3))
    assert math.isclose(policy.burden, 0.25) and policy.year == 3


def test_policies_built_directly_check_what_their_rules_need():
    with pytest.raises(PolicyError, match=r"target_risk must be in \(0, 1\)"):
        DeterrerPolicy(PARAMS, target_risk=1.0)
    with pytest.raises(PolicyError, match=r"target must be an integer in \[1, 1\]"):
        StrikerPolicy(PARAMS, target=2)


def test_an_unknown_stance_or_option_gets_a_suggestion_when_one_is_close():
    with pytest.raises(PolicyError, match="unknown policy 'defendr'; did you mean 'defender'\\? known policies:"):
        make_policy("defendr", PARAMS)
    with pytest.raises(PolicyError, match="has no option 'burdn'; did you mean 'burden'\\? its options: burden"):
        make_policy("defender:burdn=0.2", PARAMS)
    with pytest.raises(PolicyError, match="has no option 'treshold'; did you mean 'attack_threshold'\\?"):
        make_policy("hawk", PARAMS, treshold=0.5)


def test_an_unrelated_stance_or_option_gets_no_suggestion():
    with pytest.raises(PolicyError) as error:
        make_policy("eagle", PARAMS)
    assert "did you mean" not in str(error.value) and "unknown policy 'eagle'; known policies:" in str(error.value)
    with pytest.raises(PolicyError) as error:
        make_policy("defender:colour=1", PARAMS)
    assert "did you mean" not in str(error.value) and "its options: burden" in str(error.value)


# ---------------------------------------------------------------------------------------------------------
# The reciprocal stances: never strike first; tit-for-tat forgives, grim never does


def _attacks(stances, scenario="jervis-1", episodes=24, seed=0, **overrides):
    """(T, B, N, N) attacks and (T, B, N) alive of a rollout with ``stances[i]`` in seat i."""
    from sd_env.experiments.lab.rollout import rollout

    params = make_params(scenario, **overrides)
    result = rollout(params, [make_policy(name, params, seed=seed) for name in stances], episodes, seed)
    return result.attacks, result.alive


@pytest.mark.parametrize("name", ["tit-for-tat", "grim"])
@pytest.mark.parametrize("other", ["tit-for-tat", "grim", "dove", "defender", "reciprocator"])
def test_reciprocal_stances_never_strike_first(name, other):
    """Against anyone who never attacks, a reciprocal stance never attacks either, in any world."""
    for scenario in ("jervis-1", "jervis-4", "pre-1914"):
        n = make_params(scenario).n_states
        attacks, _ = _attacks([name] + [other] * (n - 1), scenario=scenario, episodes=8)
        assert not attacks.any(), f"{name} against {other} in {scenario}"


def test_tit_for_tat_strikes_back_once_and_forgives_and_grim_never_forgives():
    """A striker attacks once, in year 5. Tit-for-tat answers in year 6 only; grim in every year from 6 on."""
    strike = 5
    for name in ("tit-for-tat", "grim"):
        attacks, alive = _attacks(["striker:year=5:burden=0.1", name], episodes=32, max_cycles=30,
                                  elimination_threshold=0.0)
        answered = attacks[:, :, 1, 0]  # (T, B): the reciprocal state attacked the striker
        assert attacks[:, :, 0, 1].sum(axis=0).tolist() == [1] * 32  # the striker's one attack, every episode
        assert not answered[: strike + 1].any(), "never strikes first"
        both = alive[:, :, 0] & alive[:, :, 1]
        assert answered[strike + 1][both[strike + 1]].all()
        later = answered[strike + 2:][both[strike + 2:]]
        assert (not later.any()) if name == "tit-for-tat" else later.all()


def test_a_reciprocal_stance_answers_every_attack_of_a_hawk():
    attacks, alive = _attacks(["hawk", "tit-for-tat"], episodes=32, max_cycles=30)
    hawk, answer = attacks[:, :, 0, 1], attacks[:, :, 1, 0]
    both = (alive[:, :, 0] & alive[:, :, 1])[1:]
    assert hawk.any(), "the hawk attacks in this world"
    assert np.array_equal(answer[1:][both], hawk[:-1][both])  # each year: exactly when the hawk attacked the year before
    assert not answer[0].any()


def test_reciprocal_stances_take_a_burden_inside_the_range():
    params = make_params("jervis-1")
    assert make_policy("grim:burden=0.3", params).burden == 0.3
    with pytest.raises(PolicyError, match="burden must be in"):
        make_policy("tit-for-tat:burden=2", params)
