"""PSRO (``algorithm: psro``): a population that grows by best responses to its own equilibrium mixture.

Policy-Space Response Oracles (Lanctot et al. 2017), as the project trains it with stable-baselines3:

1. The population starts with the config's ``opponents`` (scripted stances: put reciprocal ones such as
   ``grim`` and ``tit-for-tat`` there, beside greedy ones, so that restraint can pay).
2. The meta-game: ``payoffs[i, j]``, the mean episode return of member i in ``state_0`` against member j in
   ``state_1``, on ``eval_episodes`` held-out episodes per pair (learned members act as sampled, as trained).
3. The meta-solver (:mod:`sd_env.experiments.training.meta_solvers`, ``meta_solver``) gives a mixture over
   the members.
4. A new PPO learner trains in ``state_0`` for ``total_timesteps / psro_iterations`` agent-steps (whole
   rollouts) against the mixture in ``state_1`` (each game meets one member for its whole life, members in
   proportion to their share), and joins the population. Its *gain*, its payoff against the mixture minus
   the mixture's payoff against itself, is how far the mixture was from an equilibrium of the population
   plus that learner: a lower bound of the mixture's exploitability, recorded at every iteration.
5. Back to 2, ``psro_iterations`` times.

The run's policy is the final mixture (:class:`sd_env.agents.learned.PoolPolicy` with weights). Everything is
in ``psro.json`` (members, payoffs, the mixture and the gain of every iteration) and ``population/``; the file
is written after each iteration, so a killed run resumes at the first unfinished iteration and, with the
same seeds, ends exactly as an uninterrupted one. ``drift.csv`` gets the mixture's self-play measures after
every iteration.

This version handles symmetric two-state scenarios (both seats alike: the meta-game is symmetric and one
population serves both seats); other scenarios are refused in one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from sd_env.agents.learned import PoolPolicy, SB3Policy, load_member, mixture_policy, set_deterministic
from sd_env.experiments.lab.measures import EPISODE_MEASURES
from sd_env.experiments.lab.seating import asymmetries, play, seat_seed
from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.output.reading import read_json_mapping
from sd_env.experiments.training.config import ConfigError, TrainConfig
from sd_env.experiments.training.drift import record_drift
from sd_env.experiments.training.meta_solvers import meta_strategy
from sd_env.experiments.training.start import start_learner
from sd_env.params import EnvParams

#: The run directory's record of the population and every iteration.
STATE_FILE = "psro.json"
#: Where the learned members are saved, in the run directory.
POPULATION = "population"


def check_scenario(params: EnvParams) -> None:
    """Refuse what this version cannot train: a scenario with other than two states, or unlike seats."""
    reasons = asymmetries(params)
    if params.n_states != 2 or reasons:
        why = f"{params.n_states} states" if params.n_states != 2 else "unlike seats: " + ", ".join(reasons)
        raise ConfigError(f"algorithm psro trains symmetric two-state scenarios in this version, not one with {why}; "
                          "use population_ppo or independent_ppo there", parameter="algorithm")


def payoff(params: EnvParams, first, second, episodes: int, seed: int) -> float:
    """Mean episode return of ``first`` in state_0 against ``second`` in state_1 (reward units)."""
    return EPISODE_MEASURES["welfare"].value(play(params, [first, second], episodes, seed), [0])


def train_psro(config: TrainConfig, params: EnvParams, run_dir: Path, extra_callbacks=()) -> tuple[PoolPolicy, int]:
    """Run PSRO as the module docstring says; returns the final mixture and the agent-steps trained.

    :param config: the run's config: ``opponents`` (the first members), ``psro_iterations``, ``meta_solver``,
        ``total_timesteps`` (shared evenly by the iterations), ``eval_episodes`` (per pair of the meta-game),
        ``seed``, the PPO settings.
    :param params: the environment parameters (a symmetric two-state scenario).
    :param run_dir: the prepared run directory; resumes from its ``psro.json``.
    :param extra_callbacks: stable-baselines3 callbacks added to each learner's.
    """
    from sd_env.experiments.training.sb3_models import new_model, run_world, save_model_atomic
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    check_scenario(params)
    state_path = run_dir / STATE_FILE
    state: dict[str, Any]
    if state_path.is_file():
        state = read_json_mapping(state_path, ("members", "payoffs", "iterations"),
                                  "restore it, or start the run again under another name")
    else:
        state = {"members": [{"name": name, "stance": name} for name in config.opponents], "payoffs": [],
                 "iterations": [], "mixture": None}
    members = [load_member(member, params, run_dir) for member in state["members"]]
    evaluation_seed = config.seed + 1

    def pair_seed(i: int, j: int) -> int:
        return seat_seed(evaluation_seed, 10_000 * i + j)

    payoffs = np.asarray(state["payoffs"], dtype=np.float64)
    if payoffs.shape != (len(members), len(members)):  # the first members' meta-game
        payoffs = np.array([[payoff(params, a, b, config.eval_episodes, pair_seed(i, j))
                             for j, b in enumerate(members)] for i, a in enumerate(members)])
    rollout = config.num_envs * config.ppo.n_steps
    per_iteration = max(config.total_timesteps // config.psro_iterations // rollout, 1) * rollout
    trained = sum(record["timesteps"] for record in state["iterations"])
    for iteration in range(len(state["iterations"]), config.psro_iterations):
        mixture = meta_strategy(payoffs, config.meta_solver)
        if config.progress_bar:
            shares = ", ".join(f"{member['name']} {share:.2f}" for member, share in zip(state["members"], mixture))
            print(f"PSRO iteration {iteration + 1} of {config.psro_iterations}: a best response to the mixture "
                  f"({shares}), {per_iteration:,} agent-steps", flush=True)
        opponent = mixture_policy(params, members, mixture)
        env = SecurityDilemmaVecEnv(config.num_envs, params=params, seed=config.seed + 7919 * (iteration + 1),
                                    opponents={1: opponent})
        model = new_model(config, env, config.seed + iteration, str(run_dir / "tensorboard"))
        start_learner(model, config.start, params, [0], config.seed + iteration, run_dir,
                      f"best_response_{iteration + 1}")
        model.learn(total_timesteps=per_iteration, callback=list(extra_callbacks), progress_bar=config.progress_bar,
                    tb_log_name=f"psro_{iteration + 1}")
        name = f"best_response_{iteration + 1}"
        path = run_dir / POPULATION / f"{name}.zip"
        save_model_atomic(model, path, run_world(config, params))
        learner = SB3Policy.load(path, params, deterministic=False)
        row = [payoff(params, learner, b, config.eval_episodes, pair_seed(len(members), j))
               for j, b in enumerate(members)]
        column = [payoff(params, a, learner, config.eval_episodes, pair_seed(i, len(members)))
                  for i, a in enumerate(members)]
        itself = payoff(params, learner, learner, config.eval_episodes, pair_seed(len(members), len(members)))
        gain = float(np.dot(row, mixture) - mixture @ payoffs @ mixture)
        grown = np.empty((len(members) + 1, len(members) + 1))
        grown[:-1, :-1], grown[:-1, -1], grown[-1, :-1], grown[-1, -1] = payoffs, column, row, itself
        payoffs = grown
        members.append(learner)
        state["members"].append({"name": name, "file": f"{POPULATION}/{name}.zip"})
        trained += int(model.num_timesteps)
        new_mixture = meta_strategy(payoffs, config.meta_solver)
        state["iterations"].append({"iteration": iteration + 1, "mixture": mixture.tolist(), "gain": gain,
                                    "timesteps": int(model.num_timesteps), "mixture_after": new_mixture.tolist()})
        state["payoffs"], state["mixture"] = payoffs.tolist(), new_mixture.tolist()
        # The drift row of the mixture that the run would stop with now, in self-play, acting as evaluations do.
        mixed = mixture_policy(params, members, new_mixture)
        set_deterministic(mixed, config.eval_actions == "deterministic")
        record_drift(run_dir, params, [mixed, mixed], config.eval_episodes, evaluation_seed, trained)
        set_deterministic(mixed, False)
        write_text_atomic(state_path, json.dumps(state, indent=1) + "\n")
    return mixture_policy(params, members, np.asarray(state["mixture"])), trained
