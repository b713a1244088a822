"""Policies that play sd-env: one batched interface shared by scripted baselines and learned agents."""

from sd_env.policy import Policy
from sd_env.stances import (
    SCRIPTED_POLICIES,
    DefenderPolicy,
    DeterrerPolicy,
    DovePolicy,
    HawkPolicy,
    RandomPolicy,
    ReciprocatorPolicy,
    RichardsonPolicy,
    make_policy,
)

__all__ = [
    "SCRIPTED_POLICIES",
    "DefenderPolicy",
    "DeterrerPolicy",
    "DovePolicy",
    "HawkPolicy",
    "Policy",
    "RandomPolicy",
    "ReciprocatorPolicy",
    "RichardsonPolicy",
    "make_policy",
]
