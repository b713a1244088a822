"""The tutorials and the API page run as written (``docs/tutorials/*.md``, ``docs/api/index.md``).

Each page is executed top to bottom in an empty folder: ``bash`` blocks are ``sd-env`` commands (run through
the CLI's ``main``, each must exit 0), ``python`` blocks run in one namespace, and a ``python`` block with a
``title="FILE"`` is saved as that file. A page may declare smaller budgets for this test in HTML comments,
``<!-- ci: OLD -> NEW -->``, which are applied to its code (and are invisible on the site). The benchmark
tutorial is the end-to-end run of the real smoke suite (one seed) through the CLI.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from sd_env.experiments.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SUBSTITUTION = re.compile(r"<!-- ci: (.+?) -> (.+?) -->")


def run_page(page: Path) -> None:
    """Run every block of ``page`` in the current folder, in order, with the page's CI substitutions."""
    text = page.read_text()
    substitutions = SUBSTITUTION.findall(text)
    namespace: dict = {"__name__": "__tutorial__"}
    ran, used = 0, set()
    for number, match in enumerate(BLOCK.finditer(text)):
        language, header, code = match.group(1), match.group(2), match.group(3)
        for old, new in substitutions:
            used |= {old} if old in code else set()
            code = code.replace(old, new)
        title = re.search(r'title="([^"]+)"', header)
        if language == "python" and title:
            Path(title.group(1)).write_text(code)
        elif language == "python":
            exec(compile(code, f"{page.name}, block {number}", "exec"), namespace)
        elif language == "bash":
            for line in filter(None, (line.strip() for line in code.splitlines())):
                words = shlex.split(line)
                assert words[0] == "sd-env", f"{page.name}: a bash block holds only sd-env commands, got {line!r}"
                assert main(words[1:]) == 0, f"{page.name}: {line!r} failed"
        else:
            continue  # text blocks: output or syntax shown, not run
        ran += 1
    # A substitution that matches no code would leave a full budget in CI.
    unused = {old for old, _ in substitutions} - used
    assert not unused, f"{page.name}: CI substitutions that match no code: {sorted(unused)}"
    assert ran, f"{page.name} has no block to run"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # my_algo.py, as a user's module in the current folder
    return tmp_path


@pytest.mark.slow
def test_the_api_example_runs(folder):
    run_page(DOCS / "api" / "index.md")


@pytest.mark.slow
def test_train_in_a_jervis_world(folder):
    run_page(DOCS / "tutorials" / "train-in-a-jervis-world.md")
    drift = pd.read_csv(folder / "runs" / "world1" / "drift.csv")
    assert list(drift["timesteps"])[-1] == 4096  # the CI budget, so the substitutions took effect
    assert (folder / "exploit.json").is_file() and (folder / "vs-hawk.json").is_file()


@pytest.mark.slow
def test_evaluate_and_compare(folder):
    run_page(DOCS / "tutorials" / "evaluate-and-compare.md")
    for name in ("world3-vs-deterrer.json", "crossplay.json"):
        assert (folder / name).is_file()
    for name in ("world3-vs-deterrer.png", "crossplay.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_benchmark_your_algorithm_through_the_real_smoke_suite(folder):
    from sd_env.experiments.studies.benchmark import SUITES

    run_page(DOCS / "tutorials" / "benchmark-your-algorithm.md")
    output = folder / "benchmark-smoke"
    table = pd.read_csv(output / "leaderboard.csv")
    assert len(table) == 2 + len(SUITES["smoke"].scripted)  # the submission, shared PPO, the scripted stances
    assert "my_algo:train" in set(table["entry"])
    for name in ("leaderboard.md", "scores.csv", "marl_eval.json", "scores.png", "benchmark.json"):
        assert (output / name).is_file()
