"""``sd-env quickstart``: the README's main job."""

from __future__ import annotations

import argparse
import time

import pandas as pd

from agents.scripted import SCRIPTED_POLICIES, make_policy
from experiments.measures import summarize
from experiments.rollout import rollout
from sd_env.scenarios import get_scenario, make_params

COLUMNS = ["military_burden", "war_years", "eliminations_per_episode", "welfare"]


def run_quickstart(args: argparse.Namespace) -> int:
    """Play every scripted stance in self-play in one scenario and print what each leads to."""
    from experiments.cli import parse_assignments

    started = time.perf_counter()
    params = make_params(args.scenario, **parse_assignments(args.set))
    print(f"scenario {args.scenario}: {get_scenario(args.scenario).summary}")
    rows = {}
    for name in SCRIPTED_POLICIES:
        policy = make_policy(name, params, seed=args.seed)
        result = rollout(params, [policy] * params.n_states, episodes=64, seed=args.seed)
        rows[name] = summarize(result)
    table = pd.DataFrame(rows).T[COLUMNS]
    print("\nEvery state plays the same stance (64 episodes):\n")
    print(table.round(3).to_string())
    print(f"\ndone in {time.perf_counter() - started:.1f} s")
    return 0
