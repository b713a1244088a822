"""Independent REINFORCE in torch: the worked example of the benchmark protocol (docs/benchmark.md).

Written only against the protocol, with nothing of sd-env imported::

    sd-env benchmark --algo sd_env.agents.reinforce:train --suite smoke

``train(env_factory, budget, seed)`` gets a factory of fresh PettingZoo
``ParallelEnv`` objects, a budget of parallel environment steps (each
``env.step`` of any environment it made counts one) and a seed. Every agent
(``state_i``) learns its own policy network by REINFORCE (Williams 1992),
treating the others as part of the environment ("independent learners"):
episodes are played in ``ENVS`` environments in lockstep, each agent's
log-probabilities are weighted by its discounted return-to-go minus a
baseline (the batch mean at the same year), normalised, and one Adam step is
taken per batch of episodes. Training stops exactly at the budget (the last
batch is cut short). The policy returned plays greedily (the most likely
action): ``act`` with state_0's network, ``seat_policy(i)`` with state_i's.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

#: Environments played in lockstep (one batch of episodes).
ENVS = 16
HIDDEN = 64
LEARNING_RATE = 3e-3
GAMMA = 0.99
ENTROPY_COEF = 0.01


class PolicyNet(nn.Module):
    """Observation -> one categorical distribution per entry of a MultiDiscrete action."""

    def __init__(self, observation_length: int, nvec: list[int]) -> None:
        super().__init__()
        self.nvec = list(nvec)
        self.body = nn.Sequential(nn.Linear(observation_length, HIDDEN), nn.Tanh(),
                                  nn.Linear(HIDDEN, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, sum(self.nvec)))

    def logits(self, observations: np.ndarray) -> list[torch.Tensor]:
        x = torch.as_tensor(np.asarray(observations), dtype=torch.float32)
        x = torch.sign(x) * torch.log1p(x.abs())  # symlog: wealth and stocks on one scale
        return list(torch.split(self.body(x), self.nvec, dim=-1))

    def sample(self, observations: np.ndarray) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
        """Sampled actions (M, A), their log-probabilities (M,) and entropies (M,)."""
        dists = [torch.distributions.Categorical(logits=logits, validate_args=False)
                 for logits in self.logits(observations)]
        actions = [dist.sample() for dist in dists]
        log_prob = sum(dist.log_prob(action) for dist, action in zip(dists, actions))
        entropy = sum(dist.entropy() for dist in dists)
        return torch.stack(actions, dim=-1).numpy().astype(np.int64), log_prob, entropy


class ReinforcePolicy:
    """Greedy play of the learned networks, batched: ``act(observations (M, L)) -> actions (M, A)``."""

    def __init__(self, nets: list[PolicyNet], seat: int = 0) -> None:
        self.nets, self.seat = nets, seat

    def act(self, observations: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = self.nets[self.seat].logits(observations)
        return torch.stack([part.argmax(dim=-1) for part in logits], dim=-1).numpy().astype(np.int64)

    def seat_policy(self, seat: int) -> ReinforcePolicy:
        """The policy state_``seat`` learned (the protocol's optional per-seat hook)."""
        return ReinforcePolicy(self.nets, seat % len(self.nets))


def advantages(rewards: np.ndarray, played: np.ndarray) -> np.ndarray:
    """Discounted returns-to-go (T, E) minus the mean at the same year over the episodes played, unit spread."""
    returns, running = np.zeros_like(rewards), np.zeros(rewards.shape[1])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + GAMMA * running
        returns[t] = running
    baseline = (returns * played).sum(axis=1, keepdims=True) / np.maximum(played.sum(axis=1, keepdims=True), 1)
    centred = np.where(played, returns - baseline, 0.0)
    return centred / (centred[played].std() + 1e-8)


def train(env_factory, budget: int, seed: int) -> ReinforcePolicy:
    """Independent REINFORCE for ``budget`` parallel environment steps; the benchmark protocol's entry point."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # small networks: one thread is fastest
    rng = np.random.default_rng(seed)
    envs = [env_factory() for _ in range(ENVS)]
    agents = list(envs[0].possible_agents)
    observation_length = envs[0].observation_space(agents[0]).shape[0]
    nvec = [int(n) for n in envs[0].action_space(agents[0]).nvec]
    nets = [PolicyNet(observation_length, nvec) for _ in agents]
    optimizers = [torch.optim.Adam(net.parameters(), lr=LEARNING_RATE) for net in nets]
    steps = 0
    while steps < budget:
        observations = [env.reset(seed=int(rng.integers(2**31)))[0] for env in envs]
        # Per agent and year it acted: (year, environments), their log-probabilities and entropies.
        rows_of, log_probs, entropies = [[] for _ in agents], [[] for _ in agents], [[] for _ in agents]
        rewards = []  # per year: (agents, ENVS) rewards
        running = [e for e, env in enumerate(envs) if env.agents]
        while running and steps < budget:
            running = running[:budget - steps]  # the budget cuts the last year short
            actions = [{} for _ in envs]
            for a, agent in enumerate(agents):  # one batched forward pass per agent
                rows = [e for e in running if agent in envs[e].agents]
                if not rows:
                    continue
                sampled, log_prob, entropy = nets[a].sample(np.stack([observations[e][agent] for e in rows]))
                for j, e in enumerate(rows):
                    actions[e][agent] = sampled[j]
                rows_of[a].append((len(rewards), rows))
                log_probs[a].append(log_prob)
                entropies[a].append(entropy)
            year = np.zeros((len(agents), ENVS))
            for e in running:
                observations[e], reward, _, _, _ = envs[e].step(actions[e])
                steps += 1
                for a, agent in enumerate(agents):
                    year[a, e] = reward.get(agent, 0.0)
            rewards.append(year)
            running = [e for e in running if envs[e].agents]
        for a in range(len(agents)):
            played = np.zeros((len(rewards), ENVS), dtype=bool)
            for t, rows in rows_of[a]:
                played[t, rows] = True
            if not played.any():
                continue
            weight = advantages(np.stack(rewards)[:, a], played)
            weight = torch.as_tensor(np.concatenate([weight[t, rows] for t, rows in rows_of[a]]),
                                     dtype=torch.float32)
            loss = -(weight * torch.cat(log_probs[a])).mean() - ENTROPY_COEF * torch.cat(entropies[a]).mean()
            optimizers[a].zero_grad()
            loss.backward()
            optimizers[a].step()
    return ReinforcePolicy(nets)
