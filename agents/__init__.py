"""Learned policies and learners (installed as ``sd_env.agents``).

- :mod:`sd_env.agents.learned`: stable-baselines3 checkpoints, RLlib modules and the policy pool behind the
  batched :class:`sd_env.policy.Policy` interface;
- :mod:`sd_env.agents.reinforce`: independent REINFORCE, the worked example of a benchmark submission.

The policy interface and the scripted stances live in :mod:`sd_env.policy` and :mod:`sd_env.stances`.
"""
