"""The stable-baselines3 ``VecEnv``, re-exported from ``sd_env.sb3_vec_env`` where it lives with the other adapters.

Importing it needs stable-baselines3 (the ``train`` extra); ``import sd_env`` alone never does.
"""

from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

__all__ = ["SecurityDilemmaVecEnv"]
