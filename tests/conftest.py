"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import pytest

from sd_env.scenarios import scenario_names

ALL_SCENARIOS = scenario_names()


@pytest.fixture(params=ALL_SCENARIOS)
def scenario(request) -> str:
    """Every named scenario in turn."""
    return request.param
