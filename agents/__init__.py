"""Policies that play sd-env: one batched interface shared by scripted baselines and learned agents.

The interface and the scripted stances live in ``sd_env`` (``sd_env.policy``,
``sd_env.stances``); they are re-exported here, beside the learned-policy
wrappers of ``agents.learned``.
"""

from agents import scripted
from agents.scripted import *  # noqa: F403 - the names listed in agents.scripted.__all__
from sd_env.policy import Policy

__all__ = ["Policy", *scripted.__all__]
