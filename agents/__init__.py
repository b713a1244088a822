"""Policies that play sd-env: one batched interface shared by scripted baselines and learned agents."""

from agents.base import Policy
from agents.scripted import (
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
