"""sd-env's APIs beside peer environments, measured in one run under one harness.

Measures agent-steps per second of

* sd-env: the PettingZoo parallel API, the AEC API, the stable-baselines3
  ``SecurityDilemmaVecEnv`` and the raw batched core (``core.step`` +
  ``core.reset_where`` + ``core.observe``) at several batch sizes;
* peers: PettingZoo's reference environment ``pettingzoo.classic.rps_v2``
  (parallel and AEC), MPE's ``simple_spread_v3`` from ``mpe2`` (parallel and
  AEC), and the standard SuperSuit + SB3 path over sd-env's parallel
  environment (``black_death_v3`` -> ``pettingzoo_env_to_vec_env_v1`` ->
  ``concat_vec_envs_v1(..., num_cpus=0, base_class="stable_baselines3")``)
  at the same numbers of environments as the VecEnv;

plus the peak memory per environment at the largest batch, the share of PPO
wall time spent inside the VecEnv with the quickstart's PPO settings, and the
performance targets, each with PASS/FAIL against its measured figure. A peer
that is not installed is reported as such in the output; nothing else is skipped.

Harness (the same for every row):

* actions are uniformly random and drawn before timing (``space.sample()``
  from seeded spaces for the dict APIs, ``rng.integers(0, nvec)`` for the
  vector APIs: banks of 8-64 actions per agent, cycled), so sampling cost is
  excluded everywhere; only the environment's own calls are timed
  (``step``, plus ``last`` for AEC, plus ``reset`` when an episode ends):
  building the action dict and counting agents happen outside the timer;
* every row is warmed up (at least ``--warmup`` seconds, at least one step)
  before its ``--repeats`` timed repeats of about ``--budget`` seconds
  each; the table reports the median repeat and the range;
* agent-steps = env-steps x agents acting: an agent acts in a step when the
  environment uses its action, i.e. it is alive (eliminated sd-env states,
  whose rows the vector environments still carry with zero observations,
  are not counted; rps and MPE agents always act).

The harness is ``benchmarks.harness``, the runners ``benchmarks.runners``, the memory
probes ``benchmarks.memory`` and the PPO share ``benchmarks.ppo_share``; this module
says what is measured, the targets, and writes the report (its Markdown block through
``sd_env.experiments.output.blocks``, as ``docs/performance.md``'s generated block).

    python benchmarks/peers.py --markdown docs/performance.md
    python benchmarks/peers.py --smoke          # a few seconds, tiny sizes (for tests)
    python -m benchmarks.peers --smoke          # the same, as a module
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # `python benchmarks/peers.py`: import benchmarks as a package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import shlex  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import pandas as pd  # noqa: E402

from benchmarks.harness import (  # noqa: E402
    Case,
    Row,
    Target,
    fmt_bytes,
    fmt_rate,
    machine_info,
    markdown_table,
    measure_cases,
    measure_memory,
    peer_available,
    targets_table,
)
from benchmarks.memory import memory_of_core, memory_of_dict_env, memory_of_vec_env  # noqa: E402
from benchmarks.ppo_share import measure_ppo_share  # noqa: E402
from benchmarks.runners import (  # noqa: E402
    AECRunner,
    CoreRunner,
    ParallelRunner,
    VecEnvParts,
    VecEnvRunner,
    make_sd_vec_env,
    make_supersuit_vec_env,
)
from sd_env.experiments.output.blocks import MissingMarkersError, require_markers, update_blocks  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1, 64, 1024, 16384)
#: Name of the generated block the report fills (``<!-- benchmarks/peers.py:start -->`` ... ``:end -->``).
BLOCK = "benchmarks/peers.py"
#: Packages whose versions the report gives.
PACKAGES = ("numpy", "numba", "gymnasium", "pettingzoo", "stable-baselines3", "torch", "supersuit", "mpe2")

#: Thresholds of the targets; see ``evaluate_targets``.
CORE_TARGET = 1_000_000.0
MPE_TARGET = 5.0
RPS_TARGET = 1.0
SUPERSUIT_TARGET = 5.0
PPO_SHARE_TARGET = 0.10


# ---------------------------------------------------------------------------
# What is measured: one Case per row, in the order of the table


def pettingzoo_cases(key: str, environment: str, ours: bool, agents: int, seed: int,
                     make_parallel: Callable[[], Any] | None, make_aec: Callable[[], Any] | None,
                     status: str = "") -> list[Case]:
    """The parallel and AEC rows of a PettingZoo environment, built by ``make_parallel`` and ``make_aec``.

    A peer's rows are compared with sd-env's of the same API; with a ``status`` they are not measured.
    """
    cases = []
    for api, suffix, make, runner, aec in (("PettingZoo parallel", "parallel", make_parallel, ParallelRunner, False),
                                           ("PettingZoo AEC", "aec", make_aec, AECRunner, True)):
        row = Row(f"{key}.{suffix}", api, environment, ours, 1, agents, versus=None if ours else f"sd.{suffix}",
                  status=status)
        cases.append(Case(row, lambda make=make, runner=runner: runner(make, seed),
                          lambda make=make, aec=aec: memory_of_dict_env(make, aec, seed)))
    return cases


def vec_env_cases(key: str, api: str, environment: str, ours: bool, agents: int, sizes: list[int],
                  make: Callable[[int], VecEnvParts], seed: int, status: str = "") -> list[Case]:
    """A VecEnv's rows, one per number of environments; memory at the largest. Peers face sd-env's VecEnv."""
    largest = max(sizes)
    return [
        Case(Row(f"{key}.{size}", api, environment, ours, size, agents, versus=None if ours else f"sd.vec.{size}",
                 status=status),
             lambda size=size: VecEnvRunner(*make(size), seed=seed),
             (lambda: memory_of_vec_env(lambda: make(largest), largest, seed)) if size == largest else None)
        for size in sizes
    ]


def pettingzoo_peer(module: str, install: str) -> tuple[Callable[[], Any] | None, Callable[[], Any] | None, str]:
    """A peer module's ``parallel_env`` and ``env`` and '' if it imports, else None, None and why not."""
    status = peer_available(module, install)
    if status:
        return None, None, status
    peer = importlib.import_module(module)
    return peer.parallel_env, peer.env, status


def own_cases(args: argparse.Namespace) -> list[Case]:
    """sd-env's rows: the PettingZoo parallel and AEC APIs, the SB3 VecEnv and the batched core at ``--sizes``."""
    from sd_env import security_dilemma_v0
    from sd_env.scenarios import make_params

    scenario, seed, largest = args.scenario, args.seed, max(args.sizes)
    n_states = make_params(scenario).n_states
    ours = f"sd-env {scenario}"
    cases = pettingzoo_cases("sd", ours, True, n_states, seed,
                             lambda: security_dilemma_v0.parallel_env(scenario=scenario),
                             lambda: security_dilemma_v0.env(scenario=scenario))
    cases += vec_env_cases("sd.vec", "SB3 VecEnv", ours, True, n_states, args.sizes,
                           lambda size: make_sd_vec_env(scenario, size, seed), seed)
    cases += [Case(Row(f"sd.core.{size}", "batched core", ours, True, size, n_states),
                   lambda size=size: CoreRunner(scenario, size, seed),
                   (lambda: memory_of_core(scenario, largest, seed)) if size == largest else None)
              for size in args.sizes]
    return cases


def peer_cases(args: argparse.Namespace) -> list[Case]:
    """The peers' rows: rps_v2 and mpe2 simple_spread_v3 (parallel, AEC), SuperSuit + SB3 at ``--supersuit-sizes``.

    Built after sd-env's rows are measured: a peer is imported only then.
    """
    from sd_env.scenarios import make_params

    scenario, seed = args.scenario, args.seed
    cases = pettingzoo_cases("rps", "rps_v2", False, 2, seed,
                             *pettingzoo_peer("pettingzoo.classic.rps_v2", "pip install 'pettingzoo[classic]'"))
    cases += pettingzoo_cases("mpe", "mpe2 simple_spread_v3", False, 3, seed,
                              *pettingzoo_peer("mpe2.simple_spread_v3", "pip install mpe2"))
    cases += vec_env_cases("supersuit", "SuperSuit + SB3", f"sd-env {scenario}", False,
                           make_params(scenario).n_states, args.supersuit_sizes,
                           lambda size: make_supersuit_vec_env(scenario, size, seed), seed,
                           peer_available("supersuit", "pip install supersuit"))
    return cases


# ---------------------------------------------------------------------------
# Targets


def evaluate_targets(rows: list[Row], ppo: dict[str, Any] | None, compare_envs: int) -> list[Target]:
    """The five performance targets, each with the figure of this run it is judged on."""
    by_key = {row.key: row for row in rows}

    def rate(key: str) -> float:
        row = by_key.get(key)
        return row.rate if row is not None and not row.status else float("nan")

    def why_not(key: str) -> str:
        return (by_key[key].status if key in by_key else "") or "not measured"

    core = rate("sd.core.1024")
    targets = [Target("batched core, batch 1024: agent-steps/s", CORE_TARGET, f"{CORE_TARGET:,.0f}", value=core,
                      measured=f"{core:,.0f}" if core == core else "not measured")]
    parallel = rate("sd.parallel")
    for key, label, threshold in (("mpe.parallel", "mpe2 simple_spread_v3", MPE_TARGET),
                                  ("rps.parallel", "rps_v2", RPS_TARGET)):
        peer = rate(key)
        ratio = parallel / peer
        targets.append(Target(f"PettingZoo parallel API vs {label} (parallel), per agent-step", threshold,
                              f"{threshold:g}x", value=ratio,
                              measured=f"{ratio:.2f}x ({parallel:,.0f} vs {peer:,.0f})" if ratio == ratio
                              else why_not(key)))
    vec, supersuit = rate(f"sd.vec.{compare_envs}"), rate(f"supersuit.{compare_envs}")
    ratio = vec / supersuit
    targets.append(Target(f"SB3 VecEnv vs SuperSuit + SB3, {compare_envs} environments each", SUPERSUIT_TARGET,
                          f"{SUPERSUIT_TARGET:g}x", value=ratio,
                          measured=f"{ratio:.1f}x ({vec:,.0f} vs {supersuit:,.0f})" if ratio == ratio
                          else why_not(f"supersuit.{compare_envs}")))
    share = Target("environment share of PPO wall time (quickstart)", PPO_SHARE_TARGET, f"{PPO_SHARE_TARGET:.0%}",
                   at_most=True)
    if ppo is None or "share" not in ppo:
        share.measured = ppo.get("error", "not measured") if ppo else "not measured (--no-ppo)"
    else:
        low, high = ppo["share_range"]
        share.value, share.measured = ppo["share"], f"{ppo['share']:.1%} (range {low:.1%}-{high:.1%})"
    return targets + [share]


# ---------------------------------------------------------------------------
# Report

THROUGHPUT_COLUMNS = ["API", "environment", "envs", "agents acting / env-step", "agent-steps/s (median)",
                      "range of repeats", "env-steps/s", "vs sd-env parallel API", "sd-env is faster by"]
MEMORY_METHODS = {
    "nbytes": "nbytes of CoreState arrays + observation",
    "tracemalloc": "tracemalloc peak: build, reset, a few steps",
    "kernel_outputs": "nbytes of all new arrays of one step + observe (numba's)",
}


def throughput_table(rows: list[Row]) -> str:
    by_key = {row.key: row for row in rows}
    parallel = by_key["sd.parallel"].rate
    lines = []
    for row in rows:
        rates = row.rates
        versus = by_key.get(row.versus) if row.versus else None
        if row.status:
            ratio = "-"
        elif versus is not None:
            ratio = f"{versus.rate / row.rate:.2f}x" if row.rate > 0 else "-"
        else:
            ratio = ""
        acting = row.acting_per_env_step
        lines.append([
            row.api, row.label, str(row.num_envs),
            f"{acting:.2f} of {row.agents}" if acting == acting else f"- of {row.agents}",
            fmt_rate(row.rate) if not row.status else row.status,
            f"{min(rates):,.0f}-{max(rates):,.0f}" if rates else "-", fmt_rate(row.env_rate),
            f"{row.rate / parallel:.2f}x" if not row.status and parallel == parallel else "-", ratio,
        ])
    return markdown_table(pd.DataFrame(lines, columns=THROUGHPUT_COLUMNS), "lllrrrrrr")


def ratios_line(rows: list[Row]) -> str:
    by_key = {row.key: row for row in rows}
    parts = [f"{row.num_envs} envs: {by_key[row.versus].rate / row.rate:.1f}x" for row in rows
             if row.key.startswith("supersuit.") and not row.status and row.versus in by_key]
    return "SB3 VecEnv / SuperSuit + SB3 at every size: " + ("; ".join(parts) if parts else "not measured")


def memory_method(row: Row, method: str) -> str:
    """What a memory figure of ``row`` counts."""
    if row.key.startswith("sd.core") and method == "tracemalloc":
        return "tracemalloc peak: reset, step, reset_where, observe (misses numba's)"
    what = MEMORY_METHODS[method]
    if row.ours and method == "tracemalloc" and row.num_envs > 1:
        what += " (misses numba's allocations)"
    return what


def memory_table(rows: list[Row]) -> str:
    lines = [[row.api, row.label, str(row.num_envs), memory_method(row, method), fmt_bytes(value)]
             for row in rows for method, value in row.memory.items()]
    if not lines:
        return "(memory not measured: --no-memory)"
    columns = ["API", "environment", "envs", "method", "peak bytes per environment"]
    return markdown_table(pd.DataFrame(lines, columns=columns), "lllll")


def ppo_paragraph(ppo: dict[str, Any], rows: list[Row]) -> str:
    alone = {row.key: row for row in rows}.get(f"sd.vec.{ppo['num_envs']}")
    alone_text = (
        f"; stepped alone (table row SB3 VecEnv, {ppo['num_envs']} envs) it takes "
        f"{1e6 * ppo['num_envs'] / alone.env_rate:,.0f} us"
        if alone is not None and alone.env_rate == alone.env_rate else ""
    )
    return (
        f"PPO share: {ppo['num_envs']} environments ({ppo['rows']} rows), n_steps={ppo['n_steps']}, "
        f"batch_size={ppo['batch_size']}, n_epochs={ppo['n_epochs']}, net_arch={ppo['net_arch']}, "
        f"torch threads={ppo['torch_threads']}; {len(ppo['runs'])} runs of {ppo['rollouts']} rollouts "
        f"({ppo['agent_steps_per_run']:,} agent-steps, median {ppo['wall_median']:.2f} s each) after one "
        "warm-up rollout; time inside step_async + step_wait + reset over model.learn() wall time. "
        f"Inside PPO one VecEnv step (step_async + step_wait) took {ppo['step_seconds'] * 1e6:,.0f} us "
        f"(median){alone_text}."
    )


def render(args, info, load_before, load_after, rows, targets, ppo, started, argv) -> str:
    command = shlex.join(["python", "benchmarks/peers.py", *argv])
    packages = ", ".join(f"{name} {value}" for name, value in info["packages"].items())
    out = [
        f"Measured {started:%Y-%m-%d %H:%M} UTC with `{command}`.",
        "",
        f"Machine: {info['cpu']}, {info['logical_cpus']} logical CPUs ({info['usable_cpus']} usable), "
        f"{info['platform']}; Python {info['python']}; {packages}.",
        f"Core threads (numba): {info['numba_threads']}.",
        f"Load average (1, 5, 15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}; "
        f"after: {' '.join(f'{x:.2f}' for x in load_after)}.",
        f"Scenario `{args.scenario}`; {args.repeats} repeats of ~{args.budget:g} s after >= {args.warmup:g} s of "
        "warm-up per row; median reported. Agent-steps count agents acting (alive) in each step.",
        "",
        "**Throughput**",
        "",
        throughput_table(rows),
        "",
        ratios_line(rows),
        "",
        "**Targets**",
        "",
        targets_table(targets),
        "",
    ]
    if args.smoke:
        out[0:0] = ["**Smoke run (--smoke): tiny sizes and budgets; these figures mean nothing.**", ""]
    if ppo and "share" in ppo:
        out += [ppo_paragraph(ppo, rows), ""]
    out += ["**Peak memory per environment** (largest batch for the vector APIs, one instance for the dict APIs)",
            "", memory_table(rows), ""]
    return "\n".join(out)


def write_markdown(path: Path, text: str) -> None:
    """Replace the generated block of ``path`` (between its markers), or write a new file ``path`` with it.

    An existing file without the markers is an error (``MissingMarkersError``): it is not overwritten.
    """
    update_blocks(path, {BLOCK: text.rstrip()}, new_file_head="# sd-env performance\n\n")


# ---------------------------------------------------------------------------
# Command line


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive integers separated by commas, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="bilateral", help="sd-env scenario (default: the quickstart's)")
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES),
                        help="batch sizes (environments) of the core and the VecEnv (default 1,64,1024,16384)")
    parser.add_argument("--supersuit-sizes", type=parse_sizes, default=None,
                        help="numbers of environments of the SuperSuit path (default: --sizes)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per row (median reported)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per repeat (at least one step)")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds of warm-up per row (at least one step)")
    parser.add_argument("--ppo-config", type=Path, default=REPO / "experiments" / "configs" / "quickstart.yaml")
    parser.add_argument("--ppo-rollouts", type=int, default=4, help="PPO rollouts per timed run")
    parser.add_argument("--ppo-repeats", type=int, default=3, help="timed PPO runs (median share reported)")
    parser.add_argument("--ppo-set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field of the PPO config (as `sd-env train --set`)")
    parser.add_argument("--no-ppo", dest="ppo", action="store_false", help="skip the PPO share measurement")
    parser.add_argument("--no-memory", dest="memory", action="store_false", help="skip the memory measurements")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the report as Markdown to this file: between its markers "
                             f"<!-- {BLOCK}:start/end --> (a file without them is refused), or as a new file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes and budgets, a few seconds (for the test suite; figures meaningless)")
    return parser


def main(argv: list[str] | None = None, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the report, return it as a dict (rows, targets, ppo, machine, markdown)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.repeats, args.budget, args.warmup = [1, 4], 1, 0.02, 0.0
        args.supersuit_sizes = args.supersuit_sizes or [1, 4]
        args.ppo_rollouts, args.ppo_repeats = 1, 1
        args.ppo_set = ["num_envs=2", "ppo.n_steps=8", "ppo.batch_size=16", "ppo.n_epochs=1", *args.ppo_set]
    if args.supersuit_sizes is None:
        args.supersuit_sizes = list(args.sizes)
    if args.markdown is not None and args.markdown.exists():  # refuse before minutes of measuring, not after
        try:
            require_markers(args.markdown.read_text(encoding="utf-8"), [BLOCK], str(args.markdown))
        except MissingMarkersError as error:
            parser.error(f"--markdown: {error}")
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))

    started = datetime.datetime.now(datetime.timezone.utc)
    info = machine_info(PACKAGES)
    load_before = os.getloadavg()
    log(f"measuring (scenario {args.scenario}; {args.repeats} x ~{args.budget:g} s per row)...")
    own = own_cases(args)
    measure_cases(own, args.budget, args.repeats, args.warmup, log)
    peers = peer_cases(args)
    measure_cases(peers, args.budget, args.repeats, args.warmup, log)
    cases = own + peers
    rows = [case.row for case in cases]
    if args.memory:
        log("memory (tracemalloc peaks; slow at the largest batch)...")
        measure_memory(cases)
    ppo = None
    if args.ppo:
        log("PPO share (quickstart settings)...")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ppo = measure_ppo_share(args.ppo_config, args.ppo_rollouts, args.ppo_repeats, args.ppo_set)
        except Exception as error:  # reported in the targets table, not hidden
            ppo = {"error": f"error: {type(error).__name__}: {error}"}
    load_after = os.getloadavg()
    from sd_env.experiments.training.config import load_config

    compare_envs = load_config(args.ppo_config, overrides=args.ppo_set).num_envs
    common = [size for size in args.sizes if size in args.supersuit_sizes]
    if compare_envs not in common and common:
        compare_envs = max(common)
    targets = evaluate_targets(rows, ppo, compare_envs)
    text = render(args, info, load_before, load_after, rows, targets, ppo, started, argv)
    print(text, flush=True)
    if args.markdown is not None:
        write_markdown(args.markdown, text)
        log(f"wrote {args.markdown}")
    return {
        "machine": info,
        "load_before": load_before,
        "load_after": load_after,
        "rows": [row.as_dict() for row in rows],
        "targets": [target.as_dict() for target in targets],
        "ppo": ppo,
        "markdown": text,
    }


if __name__ == "__main__":
    main()
