"""Speed measurements of sd-env (not part of the installed package; run from the repository root).

* ``benchmarks.harness``: the timing loop, the result and target records, the verdicts, the tables;
* ``benchmarks.runners``: one runner per API measured (PettingZoo parallel and AEC, SB3 VecEnvs, the core);
* ``benchmarks.memory`` and ``benchmarks.ppo_share``: peak memory per environment, the environment's
  share of PPO wall time;
* ``benchmarks.peers``: sd-env beside its peers with the performance targets (``docs/performance.md``);
* ``benchmarks.vec_env_speed`` and ``benchmarks.compare_numpy_core``: stand-alone checks.

Each command runs as ``python benchmarks/NAME.py ...`` or ``python -m benchmarks.NAME ...``.
"""
