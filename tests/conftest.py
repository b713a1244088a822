"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import pytest

from sd_env.scenarios import scenario_names

ALL_SCENARIOS = scenario_names()


@pytest.fixture(params=ALL_SCENARIOS)
def scenario(request) -> str:
    """Every named scenario in turn."""
    return request.param


@pytest.fixture
def cli(capsys):
    """``cli(argv) -> (exit code, stdout, stderr)``: the ``sd-env`` command line, run in this process."""
    from sd_env.experiments.cli import main

    def run(argv: list[str]) -> tuple[int, str, str]:
        code = main(argv)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
