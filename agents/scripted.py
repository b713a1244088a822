"""The scripted stances, re-exported from ``sd_env.stances`` where they live (the Gymnasium opponents use them)."""

from sd_env.stances import (
    SCRIPTED_POLICIES,
    DefenderPolicy,
    DeterrerPolicy,
    DovePolicy,
    HawkPolicy,
    RandomPolicy,
    ReciprocatorPolicy,
    RichardsonPolicy,
    StrikerPolicy,
    TypeConditionalPolicy,
    attack_best_target,
    estimated_success,
    estimated_threat,
    is_policy_name,
    make_policy,
    parse_stance,
)

__all__ = [
    "SCRIPTED_POLICIES",
    "DefenderPolicy",
    "DeterrerPolicy",
    "DovePolicy",
    "HawkPolicy",
    "RandomPolicy",
    "ReciprocatorPolicy",
    "RichardsonPolicy",
    "StrikerPolicy",
    "TypeConditionalPolicy",
    "attack_best_target",
    "estimated_success",
    "estimated_threat",
    "is_policy_name",
    "make_policy",
    "parse_stance",
]
