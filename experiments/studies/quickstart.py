"""``sd-env quickstart``: the README's main job.

Trains one PPO policy shared by both states in self-play (the config in
``experiments/configs/quickstart.yaml``; 3 million agent-steps, measured
at about 80 seconds on 2 cores),
then prints what the agents learned: their military burden, how often they
fought, and their welfare in self-play and against the scripted baselines,
beside the scripted stances' own self-play for comparison.

The run directory is ``runs/quickstart-<scenario>-seed<seed>``. Running the
command again resumes it (an interrupted quickstart continues; a finished
one is only re-evaluated).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence

import pandas as pd

from sd_env.experiments import CONFIGS
from sd_env.experiments.lab.seating import PolicyCache
from sd_env.experiments.lab.specs import BASELINE_PREFIX
from sd_env.experiments.training.config import load_config
from sd_env.experiments.training.final_metrics import self_play_row
from sd_env.experiments.training.train import train

QUICKSTART_CONFIG = CONFIGS / "quickstart.yaml"
SCRIPTED_REFERENCE = ("random", "dove", "hawk", "deterrer")
COLUMNS = ["welfare", "opponent_welfare", "military_burden", "war_years", "attacks_per_episode"]


def quickstart(scenario: str = "bilateral", seed: int = 0, timesteps: int | None = None, output_dir: str = "runs",
               overrides: Sequence[str] = (), log: Callable[[str], None] = lambda text: None) -> str:
    """Train (or resume, or re-evaluate) the quickstart run and return the table of what it learned, as text.

    :param scenario: a named scenario.
    :param seed: the run's seed.
    :param timesteps: agent-steps of training (None: the quickstart config's 3 million).
    :param output_dir: the folder of the run directory ``quickstart-<scenario>-seed<seed>[-<hash of overrides>]``.
    :param overrides: environment parameters as ``key=value`` (values read as YAML).
    :param log: where progress lines go as the run starts.
    """
    name = f"quickstart-{scenario}-seed{seed}"
    if overrides:
        # Different parameters are a different experiment: give them their own run directory.
        name += "-" + hashlib.sha256("\n".join(sorted(overrides)).encode()).hexdigest()[:8]
    settings = [f"scenario={scenario}", f"seed={seed}", f"name={name}"]
    settings += [f"env.{assignment}" for assignment in overrides]
    settings += [f"total_timesteps={timesteps}"] if timesteps else []
    settings += [f"output_dir={output_dir}"]
    config = load_config(QUICKSTART_CONFIG, settings)
    params = config.env_params()
    resume = (config.run_dir / "config.yaml").is_file()
    log(f"sd-env quickstart: shared-policy PPO self-play in scenario {config.scenario!r}, "
        f"{config.total_timesteps:,} agent-steps, seed {config.seed}")
    log(f"run directory: {config.run_dir}{' (resuming)' if resume else ''}")
    started = time.perf_counter()
    metrics = train(config, resume=resume)
    lines = [f"trained in {metrics['training_seconds']:.0f} s", ""]

    learned = pd.DataFrame(metrics["evaluation"]).T[COLUMNS]
    learned.index = [f"learned {name}" for name in learned.index]
    cache = PolicyCache(params, seed=config.seed)
    reference = {
        f"{stance} self-play": self_play_row(params, cache.seat([BASELINE_PREFIX + stance] * params.n_states),
                                             config.eval_episodes, config.seed + 1)
        for stance in SCRIPTED_REFERENCE
    }
    table = pd.concat([learned, pd.DataFrame(reference).T[COLUMNS]])
    lines += ["What the learned policy does as state_0 (welfare = mean episode return; "
              f"{config.eval_episodes} episodes per row; learned actions "
              f"{'sampled' if config.eval_actions == 'stochastic' else 'most likely'}):", "",
              table.round(3).to_string(), "",
              _verdict(metrics["evaluation"], reference), "",
              f"done in {time.perf_counter() - started:.0f} s; TensorBoard logs: tensorboard --logdir "
              f"{config.run_dir}/tensorboard"]
    return "\n".join(lines)


def _verdict(evaluation: dict, reference: dict) -> str:
    """A plain-words reading of the table, computed from it."""
    self_play = evaluation["self-play"]
    restraint = reference["dove self-play"]["welfare"]
    lines = [
        f"Learned self-play: military burden {self_play['military_burden']:.2f}, war in "
        f"{100 * self_play['war_years']:.0f}% of years, welfare {self_play['welfare']:.1f} "
        f"(mutual restraint would give {restraint:.1f})."
    ]
    if "vs random" in evaluation:
        lines.append(
            f"Against random play the learned policy earns {evaluation['vs random']['welfare']:.1f}; "
            f"random play against itself earns {reference['random self-play']['welfare']:.1f}."
        )
    if self_play["welfare"] < restraint:
        lines.append("The learners are worse off than mutual restraint would leave them: the security dilemma.")
    return "\n".join(lines)
