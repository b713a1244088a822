"""Learned-policy wrappers: torch pinned to one thread while acting, as in training, and given back after."""

from __future__ import annotations

import numpy as np
import torch

from sd_env.agents.learned import SB3Policy
from sd_env.scenarios import make_params


def test_an_sb3_policy_acts_on_one_torch_thread_and_gives_the_count_back(monkeypatch):
    from stable_baselines3 import PPO

    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    params = make_params("bilateral", max_cycles=8)
    model = PPO("MlpPolicy", SecurityDilemmaVecEnv(2, params=params, seed=0), n_steps=8, batch_size=16, device="cpu")
    policy = SB3Policy(model, params)
    seen = []
    predict = model.predict

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return predict(*args, **kwargs)

    monkeypatch.setattr(model, "predict", recording)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        actions = policy.act(np.zeros((3, model.observation_space.shape[0]), dtype=np.float32))
        assert actions.shape == (3, params.action_length)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
