"""The documentation site builds strictly (``mkdocs.yml``): every page in the navigation, no broken link or
anchor, and an API reference generated from the docstrings of the modules the pages name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_site_builds_strictly_with_its_api_reference(tmp_path):
    site = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                           capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert build.returncode == 0, build.stderr[-3000:]
    for page in ("index.html", "tutorials/train-in-a-jervis-world/index.html", "security/index.html"):
        assert (site / page).is_file(), page
    # The reference is generated, not empty: the training page documents train() from its docstring.
    training = (site / "api" / "training" / "index.html").read_text()
    assert 'id="sd_env.experiments.training.train.train"' in training
    assert "Run a training job as" in training
    evaluation = (site / "api" / "evaluation" / "index.html").read_text()
    assert 'id="sd_env.experiments.lab.evaluation.evaluate"' in evaluation


def test_every_page_of_docs_is_in_the_navigation():
    """A page left out of the navigation is not on the site's menus: mkdocs only warns (omitted_files)."""
    import yaml

    def pages(entries) -> set[str]:
        found: set[str] = set()
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            found |= pages(value) if isinstance(value, list) else {value}
        return found

    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    listed = pages(config["nav"])
    present = {str(path.relative_to(ROOT / "docs")) for path in (ROOT / "docs").rglob("*.md")}
    assert present == listed
