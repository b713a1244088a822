"""The learned-agent comparison of Jervis's worlds runs end to end, resumes, and writes its summary block."""

from __future__ import annotations

import pandas as pd

from sd_env.experiments.studies import jervis_pairs


def test_jervis_pairs_trains_evaluates_resumes_and_writes_the_doc_block(tmp_path, capsys):
    doc = tmp_path / "model.md"
    doc.write_text(f"before\n{jervis_pairs.START}\nold\n{jervis_pairs.END}\nafter\n")
    argv = ["--regimes", "shared", "population", "deterrer", "--worlds", "jervis-1", "--seeds", "0", "--episodes", "4",
            "--timesteps", "shared", "1024", "--timesteps", "population", "1024",
            "--output-dir", str(tmp_path / "runs"), "--doc", str(doc)]
    assert jervis_pairs.main(argv) == 0
    results = pd.read_csv(tmp_path / "runs" / "results.csv")
    assert len(results) == 6  # three regimes (one of them scripted), one world, one seed, two evaluation settings
    assert set(results.setting) == {"self-play", "vs population"}
    for measure in jervis_pairs.MEASURES:
        assert results[measure].notna().all()
    assert results.query("setting == 'self-play'").seeker_attack_rate.between(0, 1).all()
    text = doc.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    assert "| shared | self-play | `jervis-1` |" in text and "| deterrer | vs population | `jervis-1` |" in text
    # A second call finds every row done: it trains nothing and leaves the table as it was.
    capsys.readouterr()
    assert jervis_pairs.main(argv) == 0
    assert "seed 0:" not in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "runs" / "results.csv"), results)
