"""The policy interface, re-exported from ``sd_env.policy`` where it lives (the environment's adapters use it)."""

from sd_env.policy import Policy

__all__ = ["Policy"]
