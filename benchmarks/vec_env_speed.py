"""Speed of the stable-baselines3 VecEnv adapter: raw core, VecEnv with random actions, and inside PPO.

Prints three measurements:

1. the raw core (``core.step`` + ``core.observe`` + ``core.reset_where``) at batch ``--num-envs``;
2. ``SecurityDilemmaVecEnv.step`` with uniformly random actions (drawn in advance, not timed);
3. a short PPO run on the same VecEnv: agent- and environment-steps per second of wall time,
   and the share of that wall time spent inside the VecEnv's ``step_async``/``step_wait``/``reset``.

Agent-steps count one state acting for one year; environment-steps count one game advancing one year.

    python benchmarks/vec_env_speed.py --num-envs 256 --steps 500 --scenario bilateral
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # `python benchmarks/vec_env_speed.py`: import benchmarks as a package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.harness import action_bank, time_methods  # noqa: E402


def bench_core(scenario: str, num_envs: int, steps: int, seed: int) -> float:
    from sd_env import core
    from sd_env.scenarios import make_params

    params = make_params(scenario)
    rng = np.random.default_rng(seed)
    bank = action_bank(core.action_upper_bounds(params), num_envs * params.n_states, 64, seed + 1)
    bank = bank.reshape(64, num_envs, params.n_states, -1)
    state = core.reset(params, num_envs, rng)
    core.observe(params, state, rng)
    start = time.perf_counter()
    for t in range(steps):
        state, outcome = core.step(params, state, bank[t % len(bank)], rng)
        core.observe(params, state, rng)
        state = core.reset_where(params, state, outcome.truncated, rng)
    elapsed = time.perf_counter() - start
    return steps * num_envs * params.n_states / elapsed


def bench_vec_env(scenario: str, num_envs: int, steps: int, seed: int) -> tuple[float, float]:
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    env = SecurityDilemmaVecEnv(num_envs=num_envs, scenario=scenario, seed=seed)
    bank = action_bank(env.action_space.nvec, env.num_envs, 64, seed + 1)
    env.reset()
    start = time.perf_counter()
    for t in range(steps):
        env.step(bank[t % len(bank)])
    elapsed = time.perf_counter() - start
    return steps * env.num_envs / elapsed, steps * env.num_games / elapsed


def bench_ppo(scenario: str, num_envs: int, timesteps: int, n_steps: int, seed: int) -> dict[str, float]:
    from stable_baselines3 import PPO

    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    env = SecurityDilemmaVecEnv(num_envs=num_envs, scenario=scenario)
    totals = time_methods(env, ("step_async", "step_wait", "reset"))
    batch_size = min(env.num_envs * n_steps, 256)
    model = PPO("MlpPolicy", env, seed=seed, n_steps=n_steps, batch_size=batch_size, device="cpu", verbose=0)
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    wall = time.perf_counter() - start
    inside = sum(totals.values())
    return {
        "rows": env.num_envs,
        "agent_steps": model.num_timesteps,
        "wall": wall,
        "agent_steps_per_s": model.num_timesteps / wall,
        "env_steps_per_s": model.num_timesteps / env.n_learners / wall,
        "vec_env_agent_steps_per_s": model.num_timesteps / max(totals["step_async"] + totals["step_wait"], 1e-12),
        "share": inside / wall,
        **{f"share_{name}": value / wall for name, value in totals.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=256, help="environments (games) per batch")
    parser.add_argument("--steps", type=int, default=500, help="steps timed for the core and the VecEnv")
    parser.add_argument("--scenario", default="bilateral", help="named scenario (sd_env.scenarios)")
    parser.add_argument("--ppo-timesteps", type=int, default=None, help="agent-steps of PPO (default: 2 rollouts)")
    parser.add_argument("--ppo-num-envs", type=int, default=None, help="environments for PPO (default: --num-envs)")
    parser.add_argument("--n-steps", type=int, default=64, help="PPO rollout length per row")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch CPU threads for PPO (default 1: with few, shared cores more threads can be far slower)",
    )
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.torch_threads)
    from sd_env.scenarios import make_params

    n_states = make_params(args.scenario).n_states
    ppo_envs = args.ppo_num_envs or args.num_envs
    ppo_timesteps = args.ppo_timesteps or 2 * ppo_envs * n_states * args.n_steps
    print(
        f"# scenario={args.scenario} n_states={n_states} num_envs={args.num_envs} steps={args.steps} | "
        f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {os.cpu_count()} CPUs"
    )
    core_rate = bench_core(args.scenario, args.num_envs, args.steps, args.seed)
    print(f"raw core (step+observe+reset_where): {core_rate:>12,.0f} agent-steps/s")
    vec_rate, vec_env_rate = bench_vec_env(args.scenario, args.num_envs, args.steps, args.seed)
    print(
        f"VecEnv, random actions:              {vec_rate:>12,.0f} agent-steps/s  "
        f"({vec_env_rate:,.0f} env-steps/s; {vec_rate / core_rate:.0%} of the raw core)"
    )
    ppo = bench_ppo(args.scenario, ppo_envs, ppo_timesteps, args.n_steps, args.seed)
    print(
        f"PPO ({ppo_envs} envs, {ppo['rows']} rows, n_steps={args.n_steps}, {ppo['agent_steps']:,} agent-steps "
        f"in {ppo['wall']:.2f} s): {ppo['agent_steps_per_s']:,.0f} agent-steps/s = "
        f"{ppo['env_steps_per_s']:,.0f} env-steps/s of wall time"
    )
    print(
        f"  share of PPO wall time inside the VecEnv: {ppo['share']:.1%} "
        f"(step_wait {ppo['share_step_wait']:.1%}, step_async {ppo['share_step_async']:.1%}, "
        f"reset {ppo['share_reset']:.1%}); VecEnv alone ran at {ppo['vec_env_agent_steps_per_s']:,.0f} agent-steps/s"
    )


if __name__ == "__main__":
    main()
