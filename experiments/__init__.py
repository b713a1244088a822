"""Experiments on sd-env, installed as ``sd_env.experiments``; each subpackage is a room with one job.

=============  ==========================================================================================
room           job
=============  ==========================================================================================
``output``     how results leave the program: atomic files, JSON numbers, number text, PNG figures,
               generated blocks of documents. Imports nothing of the project's.
``lab``        what is measured on simulated games: rollouts, policy specs and the one way to load,
               check, seat and play policies, the measures registry, the I/O-free yearly-series
               maths (growth runs, mutual buildups, Richardson fits), evaluation, the dilemma table,
               the power shift.
``training``   ``sd-env train``: configs, the run directory, the backend registry (SB3, RLlib,
               BenchMARL), drift at checkpoints, the final metrics.
``history``    the historical record: Correlates-of-War loaders, buildup coding, scoring, the report.
``studies``    jobs built from the rooms below: sweeps, the benchmark, exploitability, the Jervis
               pairs, the historical-scenario runs, the quickstart. No study imports another.
``reporting``  words and figures about results: ``sd-env report``, the evaluation tables and figures,
               the dilemma text, the scenario cards, the generated tables of the docs.
``cli``        the ``sd-env`` command line: the only module that knows the flags.
=============  ==========================================================================================

A room imports only rooms listed above it (``tests/test_layering.py`` holds the order).
"""

from pathlib import Path

if __name__ == "experiments":  # imported from a checkout's root by the name it had before sd-env 0.5.0
    raise ImportError("the folder experiments/ installs as sd_env.experiments since sd-env 0.5.0 (one top-level name): "
                      "import sd_env.experiments... instead (see CHANGELOG.md, 0.5.0)")

#: The example experiment configs (``quickstart.yaml``, ``jervis_worlds.yaml`` ...), shipped with the package.
CONFIGS = Path(__file__).resolve().parent / "configs"
