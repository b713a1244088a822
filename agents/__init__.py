"""Learned policies and learners (installed as ``sd_env.agents``).

- :mod:`sd_env.agents.learned`: stable-baselines3 checkpoints, RLlib modules and the policy pool behind the
  batched :class:`sd_env.policy.Policy` interface;
- :mod:`sd_env.agents.reinforce`: independent REINFORCE, the worked example of a benchmark submission.

The policy interface and the scripted stances live in :mod:`sd_env.policy` and :mod:`sd_env.stances`.
"""

if __name__ == "agents":  # imported from a checkout's root by the name it had before sd-env 0.5.0
    raise ImportError("the folder agents/ installs as sd_env.agents since sd-env 0.5.0 (one top-level name): "
                      "import sd_env.agents... instead (see CHANGELOG.md, 0.5.0)")
