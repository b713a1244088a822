"""Smoke run of ``benchmarks/peers.py`` (``benchmarks.peers``): tiny sizes, a few seconds, no timing assertions.

It checks that the benchmark runs end to end and reports a positive, finite
rate for every one of sd-env's own APIs, a PPO share, and per target a
verdict that follows from its measured value. Peers (rps_v2, mpe2, SuperSuit) may be reported as not
installed inside the benchmark's output; this test itself never skips.
"""

from __future__ import annotations

import math

import pytest

from benchmarks import peers


@pytest.mark.slow
def test_peers_benchmark_smoke(tmp_path, capsys):
    markdown = tmp_path / "performance.md"
    start, end = "<!-- benchmarks/peers.py:start -->", "<!-- benchmarks/peers.py:end -->"
    markdown.write_text(f"# Notes kept\n\n{start}\nSTALE-TABLE\n{end}\n\nTail kept\n")
    report = peers.main(["--smoke", "--markdown", str(markdown)], log=lambda text: None)
    printed = capsys.readouterr().out

    rows = {row["key"]: row for row in report["rows"]}
    own = ["sd.parallel", "sd.aec", "sd.vec.1", "sd.vec.4", "sd.core.1", "sd.core.4"]
    for key in own:
        row = rows[key]
        assert row["ours"] and row["status"] == ""
        rate = row["agent_steps_per_s"]
        assert math.isfinite(rate) and rate > 0, (key, rate)
        assert all(math.isfinite(r) and r > 0 for r in row["agent_steps_per_s_repeats"])
    for key in ("sd.parallel", "sd.vec.4", "sd.core.4"):
        assert 0 < rows[key]["acting_per_env_step"] <= rows[key]["agents"]
    # Peers are measured or say why not; never silently missing.
    for key in ("rps.parallel", "rps.aec", "mpe.parallel", "mpe.aec", "supersuit.1", "supersuit.4"):
        row = rows[key]
        assert row["status"] or (math.isfinite(row["agent_steps_per_s"]) and row["agent_steps_per_s"] > 0), key

    ppo = report["ppo"]
    assert "error" not in ppo, ppo
    assert 0 < ppo["share"] < 1
    assert ppo["torch_threads"] == 1

    targets = report["targets"]
    assert len(targets) == 5
    # The published thresholds, in the published order (docs/performance.md).
    assert [(t["threshold"], t["at_most"]) for t in targets] == [
        (peers.CORE_TARGET, False), (peers.MPE_TARGET, False), (peers.RPS_TARGET, False),
        (peers.SUPERSUIT_TARGET, False), (peers.PPO_SHARE_TARGET, True)]
    assert (peers.CORE_TARGET, peers.MPE_TARGET, peers.RPS_TARGET, peers.SUPERSUIT_TARGET,
            peers.PPO_SHARE_TARGET) == (1_000_000, 5, 1, 5, 0.10)
    # Each verdict follows from its own measured value: N/A exactly when nothing was measured, otherwise
    # PASS exactly when the value meets the requirement (at most for the PPO share, at least for the rest).
    table_lines = printed.split("**Targets**", 1)[1].split("\n\n", 2)[1].splitlines()
    for target in targets:
        value, threshold = target["value"], target["threshold"]
        if not math.isfinite(value):
            assert target["result"] == "N/A", target
        else:
            met = value <= threshold if "share of PPO" in target["name"] else value >= threshold
            assert target["result"] == ("PASS" if met else "FAIL"), target
        # The targets table shows that verdict against that requirement.
        (line,) = [line for line in table_lines if line.startswith(f"| {target['name']} ")]
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells == [target["name"], target["measured"], target["required"], target["result"]]
    # The measured values are the rows' own figures (smoke sizes: the core target reads batch 1024, not run).
    assert targets[0]["result"] == "N/A" and "sd.core.1024" not in rows
    if not rows["mpe.parallel"]["status"]:
        expected = rows["sd.parallel"]["agent_steps_per_s"] / rows["mpe.parallel"]["agent_steps_per_s"]
        assert targets[1]["value"] == pytest.approx(expected)
    if not rows["supersuit.4"]["status"]:  # compared at the quickstart's num_envs, else the largest common size
        expected = rows["sd.vec.4"]["agent_steps_per_s"] / rows["supersuit.4"]["agent_steps_per_s"]
        assert targets[3]["value"] == pytest.approx(expected)
    assert targets[4]["value"] == ppo["share"]
    assert math.isfinite(targets[4]["value"])  # the PPO share is measured even at smoke sizes
    with_memory = [row for row in report["rows"] if row["memory"]]
    assert {"sd.core.4", "sd.vec.4", "sd.parallel"} <= {row["key"] for row in with_memory}
    assert all(value > 0 for row in with_memory for value in row["memory"].values())
    # What the compiled kernels allocate is counted too (tracemalloc does not see it).
    assert rows["sd.core.4"]["memory"]["kernel_outputs"] > rows["sd.core.4"]["memory"]["nbytes"] / 2

    # The printed report and the Markdown file carry the same tables; the rest of the file is kept.
    assert "| batched core" in printed and ("PASS" in printed or "FAIL" in printed)
    text = markdown.read_text()
    assert text.startswith("# Notes kept") and text.rstrip().endswith("Tail kept")
    assert "STALE-TABLE" not in text
    assert report["markdown"].strip() in text
