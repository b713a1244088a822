"""sd-env: the security dilemma as a multi-agent reinforcement-learning environment.

    import sd_env
    env = sd_env.parallel_env(scenario="jervis-1", observation_noise=0.5)
    observations, infos = env.reset(seed=0)
"""

from importlib import metadata as _metadata

from sd_env.gym_env import SecurityDilemmaGymEnv, register
from sd_env.params import EnvParams
from sd_env.parallel import SecurityDilemmaEnv
from sd_env.scenarios import SCENARIOS, get_scenario, make_params, scenario_names
from sd_env.security_dilemma_v0 import env, parallel_env, raw_env

try:  # the one place the version is written is pyproject.toml
    __version__ = _metadata.version("sd-env")
except _metadata.PackageNotFoundError:  # a source tree on sys.path without an install
    __version__ = "0+unknown"

register()
__all__ = [
    "SCENARIOS",
    "EnvParams",
    "SecurityDilemmaEnv",
    "SecurityDilemmaGymEnv",
    "__version__",
    "env",
    "get_scenario",
    "make_params",
    "parallel_env",
    "raw_env",
    "scenario_names",
]
