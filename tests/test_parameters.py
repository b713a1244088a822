"""Every parameter is declared once (sd_env.params.PARAMETERS), and the validator enforces exactly those bounds."""

from __future__ import annotations

import json
import math

import pytest

from sd_env.experiments.cli import main
from sd_env.params import PARAMETER_NAMES, PARAMETERS, EnvParams, parameter_records

NUMERIC = [spec for spec in PARAMETERS if spec.low is not None or spec.high is not None]


def with_value(spec, value):
    """Parameters with ``spec``'s parameter set to ``value`` (every entry of a per-system/per-state one)."""
    if spec.shape == "per system":
        return EnvParams(**{spec.name: (value,) * 3})
    if spec.shape == "per state":
        return EnvParams(**{spec.name: (value, value)})
    if spec.name == "max_cycles" or spec.name == "n_states" or spec.integer:
        return EnvParams(**{spec.name: int(value)})
    return EnvParams(**{spec.name: value})


def test_every_field_is_declared_once_in_order():
    assert tuple(spec.name for spec in PARAMETERS) == PARAMETER_NAMES
    for spec in PARAMETERS:
        assert spec.description and spec.unit and spec.source, spec.name


@pytest.mark.parametrize("spec", NUMERIC, ids=lambda spec: spec.name)
def test_the_validator_enforces_the_declared_bounds(spec):
    # The default lies inside the declared range.
    default = spec.default
    for value in default if isinstance(default, tuple) else (default,):
        assert (spec.low is None or value >= spec.low) and (spec.high is None or value <= spec.high)
    step = 1 if spec.integer else max(1e-9, 1e-6 * max(abs(spec.low or 0), abs(spec.high or 0), 1))
    if spec.low is not None:
        if spec.low_inclusive:
            with_value(spec, spec.low)  # the bound itself is allowed
        else:
            with pytest.raises(ValueError, match=spec.name):
                with_value(spec, spec.low)
        with pytest.raises(ValueError, match=spec.name):
            with_value(spec, spec.low - step)
    if spec.high is not None:
        if spec.high_inclusive:
            with_value(spec, spec.high)
        else:
            with pytest.raises(ValueError, match=spec.name):
                with_value(spec, spec.high)
        with pytest.raises(ValueError, match=spec.name):
            with_value(spec, spec.high + step)
    else:
        with_value(spec, spec.low + (10**6 if spec.integer and spec.name != "n_states" else 1))


def test_range_text_is_what_the_error_message_says():
    spec = next(spec for spec in PARAMETERS if spec.name == "offense_defense_balance")
    assert spec.range_text() == "(0, 100]"
    with pytest.raises(ValueError, match=r"offense_defense_balance must be in \(0, 100\], got 0.0"):
        EnvParams(offense_defense_balance=0.0)
    assert next(s for s in PARAMETERS if s.name == "n_states").range_text() == "integer, 2 to 64"
    assert next(s for s in PARAMETERS if s.name == "max_cycles").range_text() == "integer, 1 to 1000"
    with pytest.raises(ValueError, match=r"max_cycles must be an integer \[1, 1000\], got 1001"):
        EnvParams(max_cycles=1001)


def test_sd_env_params_prints_the_table_and_the_json_records(capsys):
    assert main(["params"]) == 0
    printed = capsys.readouterr().out
    for spec in PARAMETERS:
        assert spec.name in printed
    assert main(["params", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"parameters": json.loads(json.dumps(parameter_records()))}
    records = {record["name"]: record for record in data["parameters"]}
    assert list(records) == list(PARAMETER_NAMES)
    for record in records.values():
        assert set(record) == {"name", "default", "low", "high", "low_inclusive", "high_inclusive", "unit",
                               "description"}
    assert records["max_cycles"]["high"] == 1000 and records["max_cycles"]["high_inclusive"] is True
    assert records["max_burden"]["low_inclusive"] is False and records["max_burden"]["high_inclusive"] is False
    assert records["weapon_names"]["low"] is None and records["weapon_names"]["default"] == [
        "fortifications", "dual_use", "armour"]
    assert math.isclose(records["growth_rate"]["low"], -0.5)


def test_an_unknown_scenario_or_parameter_gets_a_suggestion_when_one_is_close():
    from sd_env.scenarios import make_params

    with pytest.raises(ValueError, match="unknown scenario 'jervis1'; did you mean 'jervis-1'\\? known scenarios:"):
        make_params("jervis1")
    with pytest.raises(ValueError, match="did you mean 'offense_defense_balance'\\? known parameters:"):
        make_params("bilateral", offence_defense_balance=2.0)
    with pytest.raises(ValueError, match="did you mean 'observation_noise'\\?"):
        EnvParams().replace(observation_nois=0.1)


def test_an_unrelated_scenario_or_parameter_gets_no_suggestion():
    from sd_env.scenarios import make_params

    for make in (lambda: make_params("atlantis"), lambda: make_params("bilateral", colour=1),
                 lambda: EnvParams().replace(colour=1)):
        with pytest.raises(ValueError) as error:
            make()
        assert "did you mean" not in str(error.value) and "; known " in str(error.value)
