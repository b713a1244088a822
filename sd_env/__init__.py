"""sd-env: the security dilemma as a multi-agent reinforcement-learning environment.

    import sd_env
    env = sd_env.parallel_env(scenario="jervis-1", observation_noise=0.5)
    observations, infos = env.reset(seed=0)
"""

from sd_env.gym_env import SecurityDilemmaGymEnv, register
from sd_env.params import EnvParams
from sd_env.parallel import SecurityDilemmaEnv
from sd_env.scenarios import SCENARIOS, get_scenario, make_params, scenario_names
from sd_env.security_dilemma_v0 import env, parallel_env, raw_env

__version__ = "0.4.0"

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
