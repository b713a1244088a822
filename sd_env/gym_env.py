"""Single-agent Gymnasium view: the learner plays ``state_0``, fixed opponents play the rest.

Registered as ``SecurityDilemma-v0``::

    import gymnasium
    env = gymnasium.make("sd_env:SecurityDilemma-v0", scenario="jervis-1")

A thin adapter over ``sd_env.core``; spaces are those of one state in the
multi-agent environment (``sd_env.parallel.SecurityDilemmaEnv`` documents them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np

from sd_env import core
from sd_env.infos import agent_info
from sd_env.policy import Policy
from sd_env.render import render_frame
from sd_env.scenarios import make_params
from sd_env.spaces import action_space, observation_space
from sd_env.stances import make_policy

#: An opponent maps rival observations (M, observation_length) to actions (M, action_length).
Opponent = Callable[[np.ndarray], np.ndarray]

#: Opponent names besides the scripted stances of ``sd_env.stances`` ("restraint" is the dove).
BUILT_IN_OPPONENTS = ("random", "restraint")


class SecurityDilemmaGymEnv(gymnasium.Env):
    """``state_0`` against opponents: a scripted stance by name (``"random"``, ``"restraint"`` or
    ``"dove"``, ``"hawk"``, ``"deterrer"``, ``"hawk/dove"``, ``"defender:burden=0.3"``... as in
    ``sd_env.stances.make_policy``), a callable, or an object with an ``act`` method such as an
    ``sd_env.policy.Policy``. A named opponent is reseeded from the environment's generator at every reset.
    Terminates when ``state_0`` is eliminated, truncates after ``max_cycles``."""

    metadata = {"render_modes": ["human", "ansi", "rgb_array"], "render_fps": 2}

    def __init__(
        self,
        scenario: str = "bilateral",
        opponent: str | Opponent | Any = "random",
        render_mode: str | None = None,
        **parameters: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.params = make_params(scenario, **parameters)
        self.render_mode = render_mode
        self.action_space = action_space(self.params)
        self.observation_space = observation_space(self.params)
        self._named_opponent: Policy | None = None
        if isinstance(opponent, str):
            try:
                self._named_opponent = make_policy("dove" if opponent == "restraint" else opponent, self.params)
            except ValueError as error:
                raise ValueError(f"unknown opponent {opponent!r} ({error}); give a stance name such as "
                                 f"{', '.join(BUILT_IN_OPPONENTS)} or hawk, a callable or a Policy") from None
            self._opponent: Opponent = self._named_opponent.act
        elif hasattr(opponent, "act"):
            self._opponent = opponent.act
        elif callable(opponent):
            self._opponent = opponent
        else:
            raise ValueError(f"opponent must be a name, a callable or an object with act(), got {opponent!r}")
        self._state: core.CoreState | None = None
        self._observations: np.ndarray | None = None
        # Two sets of output arrays written in turn (see sd_env.parallel): a step allocates only observations.
        self._buffers = (core.StepBuffers(self.params, 1), core.StepBuffers(self.params, 1))
        self._next_buffer = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if self._named_opponent is not None:  # its own draws flow from the environment's seed too
            self._named_opponent.reset(int(self.np_random.integers(2**63)))
        self._state = core.reset(self.params, 1, self.np_random)
        self._observations = core.observe(self.params, self._state, self.np_random)[0]
        return self._observations[0], agent_info(self._state, None, 0)

    def step(self, action: Any):
        if self._state is None or self._observations is None:
            raise RuntimeError("call reset() before step()")
        # Integers only (of any width): a float, bool or string action would be truncated or cast into the space.
        value = core.checked_action(self.params, action)
        if value is None:
            raise ValueError(f"action {action!r} of state_0 is outside its action space {self.action_space}")
        actions = np.zeros((1, self.params.n_states, self.params.action_length), dtype=np.int64)
        actions[0, 0] = value
        answer = np.asarray(self._opponent(self._observations[1:]))
        if answer.dtype.kind not in "iu":  # a custom opponent's floats would be truncated into the space
            raise ValueError(f"the opponent's actions must be integers, got dtype {answer.dtype}: {answer!r}")
        actions[0, 1:] = answer
        # check_actions as core.step does: a custom opponent may return actions outside the space.
        out = self._buffers[self._next_buffer]
        self._next_buffer ^= 1
        self._state, outcome, observations = core.step_and_observe_into(
            self.params, self._state, core.check_actions(self.params, actions), self.np_random, out
        )
        self._observations = observations[0]
        terminated = bool(outcome.eliminated[0, 0])
        truncated = bool(outcome.truncated[0]) and not terminated
        info = agent_info(self._state, outcome, 0)
        if self.render_mode == "human":
            self.render()
        return self._observations[0], float(outcome.rewards[0, 0]), terminated, truncated, info

    def render(self):
        if self._state is None or self.render_mode is None:
            return None
        return render_frame(self.params, self._state, self.render_mode)


def register() -> None:
    """Register ``SecurityDilemma-v0`` with Gymnasium (idempotent; done on ``import sd_env``)."""
    if "SecurityDilemma-v0" not in gymnasium.registry:
        gymnasium.register(id="SecurityDilemma-v0", entry_point="sd_env.gym_env:SecurityDilemmaGymEnv")
