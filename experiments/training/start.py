"""Where learning starts: PPO's own random policy, or a scripted stance cloned into the network first.

PPO's initial policy attacks in about half of all years (uniform over the attack component), and in the
model a war runs until someone is eliminated, so self-play from that start meets war in nearly every episode
before it can learn what restraint earns. A config's ``start`` names a stance (``grim``, ``dove``,
``tit-for-tat``, ``hawk/grim``, ``grim:burden=0``: anything a stance name takes) to start from instead: the
new network is trained by behaviour cloning (maximum likelihood of the stance's actions, every component) on
demonstrations of that stance, before any reinforcement learning. Learning then starts from restraint, or from
reciprocity, as well as from random play, and the basins study compares where each start lands.

Demonstrations: the stance plays each learning seat against :func:`demonstration_partners` (itself, a dove,
a hawk, random play, and strikers that attack once, early, midway or late), so the network sees the states a
reciprocal stance must answer (a single attack, a war, attacks in some years only) as well as peace.
Everything is seeded from the run's seed.

Behaviour cloning as a start is the third way the learners issue names (beside an attack bias and an entropy
schedule); it is the one that can start from reciprocity, which an attack bias cannot express: a biased start
is a dove, and a dove repays nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.output.reading import read_json_mapping
from sd_env.params import EnvParams

#: The start that leaves PPO's network as it is initialised.
RANDOM_START = "random"
#: Who the cloned stance plays while it is demonstrated: ``self`` is the stance itself; the strikers' one
#: attack comes at these fractions of the episode.
DEMONSTRATION_PARTNERS = ("self", "dove", "hawk", "random")
STRIKE_FRACTIONS = (0.1, 0.4, 0.7)
#: Games demonstrated per partner and seat (each ``max_cycles`` years long).
DEMONSTRATION_GAMES = 64
#: Cloning stops once the network's most likely action agrees with the stance's on this share of the
#: demonstrated state-years in every action component, or after :data:`MAX_EPOCHS` passes.
TARGET_AGREEMENT = 0.99
MAX_EPOCHS = 100
#: The file of a run directory that records how each of its learners started.
START_FILE = "start.json"
#: Adam's step size and the minibatch (state-years) of cloning.
LEARNING_RATE = 1e-3
BATCH_SIZE = 1024


@dataclass(frozen=True)
class CloningReport:
    """What cloning achieved: the stance, the demonstrated state-years, passes made, and per action component
    the share of state-years where the network's most likely action is the stance's, and the network's mean
    probability of attacking (any rival) over the demonstrations."""

    stance: str
    state_years: int
    epochs: int
    agreement: dict[str, float]
    attack_probability: float
    demonstrated_attack_share: float

    def to_dict(self) -> dict[str, Any]:
        return {"stance": self.stance, "state_years": self.state_years, "epochs": self.epochs,
                "agreement": self.agreement, "attack_probability": self.attack_probability,
                "demonstrated_attack_share": self.demonstrated_attack_share}


def demonstration_partners(params: EnvParams) -> list[str]:
    """The stances a cloned stance is demonstrated against in ``params``: :data:`DEMONSTRATION_PARTNERS` and one
    striker per :data:`STRIKE_FRACTIONS` (its one attack in that fraction of ``max_cycles``)."""
    years = dict.fromkeys(int(fraction * (params.max_cycles - 1)) for fraction in STRIKE_FRACTIONS)
    return [*DEMONSTRATION_PARTNERS, *(f"striker:year={year}" for year in years)]


def demonstrations(params: EnvParams, stance: str, seats: list[int], seed: int,
                   games: int = DEMONSTRATION_GAMES) -> tuple[np.ndarray, np.ndarray]:
    """The stance's observations and actions in each of ``seats`` against every demonstration partner.

    :param params: the environment.
    :param stance: a stance name (``sd_env.stances.make_policy``).
    :param seats: the learning seats to demonstrate (the stance sits there; the partner in every other seat).
    :param seed: seed of every draw (environment, stance, partners).
    :param games: games per partner and seat, >= 1.
    :returns: observations (M, observation length) float32 and actions (M, action length) int64,
        M = len(seats) x len(demonstration_partners(params)) x games x max_cycles.
    """
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv
    from sd_env.stances import make_policy

    observations, actions = [], []
    for seat in seats:
        for offset, partner in enumerate(demonstration_partners(params)):
            stream = seed + 1009 * seat + 101 * offset
            teacher = make_policy(stance, params, seed=stream)
            other = make_policy(stance if partner == "self" else partner, params, seed=stream + 1)
            env = SecurityDilemmaVecEnv(games, params=params, seed=stream,
                                        opponents={j: other for j in range(params.n_states) if j != seat})
            seen = env.reset()
            for _ in range(params.max_cycles):
                chosen = teacher.act(seen)
                observations.append(seen.copy())
                actions.append(chosen.copy())
                seen, _, _, _ = env.step(chosen)
            env.close()
    return np.concatenate(observations).astype(np.float32), np.concatenate(actions).astype(np.int64)


def clone_stance(model, params: EnvParams, stance: str, seats: list[int], seed: int) -> CloningReport:
    """Train ``model``'s policy network to act as ``stance`` (behaviour cloning), in place.

    The value network is left as initialised: PPO's first updates fit it. Minibatches are drawn from a
    generator seeded with ``seed``; torch's own draws are not used.

    :param model: a new stable-baselines3 PPO model whose action space is the environment's.
    :param params: the environment.
    :param stance: the stance to clone.
    :param seats: the seats the model will learn in.
    :param seed: seed of the demonstrations and of the minibatches.
    :returns: what cloning achieved (:class:`CloningReport`).
    """
    import torch

    from sd_env.layout import ACTION_FIELDS, ACTION_FIRST_COMMITMENT, ActionLayout

    seen, wanted = demonstrations(params, stance, seats, seed)
    policy = model.policy
    optimizer = torch.optim.Adam(policy.parameters(), lr=LEARNING_RATE)
    rng = np.random.default_rng(seed)
    observations = torch.as_tensor(seen)
    targets = torch.as_tensor(wanted)
    epochs, agreement = 0, np.zeros(wanted.shape[1])
    policy.set_training_mode(True)
    for epochs in range(1, MAX_EPOCHS + 1):
        order = rng.permutation(len(seen))
        for start in range(0, len(order), BATCH_SIZE):
            rows = torch.as_tensor(order[start:start + BATCH_SIZE])
            _, log_probability, _ = policy.evaluate_actions(observations[rows], targets[rows])
            loss = -log_probability.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        agreement, attack_probability = _agreement(policy, observations, wanted, ActionLayout(params.n_states,
                                                                                              params.alliances))
        if agreement.min() >= TARGET_AGREEMENT:
            break
    policy.set_training_mode(False)
    attack = ActionLayout(params.n_states, params.alliances).attack
    names = [ACTION_FIELDS[min(k, ACTION_FIRST_COMMITMENT)][0] + (f" {k - ACTION_FIRST_COMMITMENT + 1}"
                                                                   if k >= ACTION_FIRST_COMMITMENT else "")
             for k in range(wanted.shape[1])]
    return CloningReport(stance=stance, state_years=len(seen), epochs=epochs,
                         agreement={name: round(float(share), 4) for name, share in zip(names, agreement)},
                         attack_probability=round(attack_probability, 4),
                         demonstrated_attack_share=round(float((wanted[:, attack] > 0).mean()), 4))


def _agreement(policy, observations, wanted: np.ndarray, layout) -> tuple[np.ndarray, float]:
    """Per component, the share of rows whose most likely action is the wanted one; and the mean probability
    of attacking over the rows."""
    import torch

    with torch.no_grad():
        distribution = policy.get_distribution(observations).distribution
    components = distribution if isinstance(distribution, list) else [distribution]
    likeliest = np.stack([part.probs.argmax(dim=1).numpy() for part in components], axis=1)
    attack_probability = float(1.0 - components[layout.attack].probs[:, 0].mean())
    return (likeliest == wanted).mean(axis=0), attack_probability


def start_learner(model, start: str, params: EnvParams, seats: list[int], seed: int, run_dir: Path,
                  label: str) -> CloningReport | None:
    """Give a new PPO model the run's start: nothing for ``random``, else clone the stance ``start``.

    What cloning achieved is recorded in the run directory's ``start.json`` under ``label`` (written
    atomically; a resumed run starts from its checkpoints and never clones again).

    :param model: the new stable-baselines3 PPO model.
    :param start: ``random`` or a stance name.
    :param params: the environment.
    :param seats: the seats the model learns in.
    :param seed: seed of the demonstrations and of cloning.
    :param run_dir: the run directory.
    :param label: the learner's name in ``start.json`` (``shared``, ``state_1``, ``best_response_2``).
    :returns: the cloning report, or None for the random start.
    """
    if start == RANDOM_START:
        return None
    report = clone_stance(model, params, start, seats, seed)
    path = run_dir / START_FILE
    recorded = read_json_mapping(path, (), "delete it (it only records how runs started)") if path.is_file() else {}
    recorded[label] = report.to_dict()
    write_text_atomic(path, json.dumps(recorded, indent=1) + "\n")
    return report
