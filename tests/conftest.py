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


@pytest.fixture(autouse=True)
def untrusted_policy_files(monkeypatch):
    """Every test starts without trusting pickle-bearing policy files, and leaves none trusted after it (the
    CLI's ``--trust-policy-files`` sets an environment variable for the whole process)."""
    from sd_env.agents.policy_files import TRUST_VARIABLE

    monkeypatch.delenv(TRUST_VARIABLE, raising=False)
