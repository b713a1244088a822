"""Rendering of one environment: a text table (``ansi``) and a bar chart image (``rgb_array``).

Only NumPy is used, so ``sd_env`` needs nothing beyond its four dependencies (numpy, numba, gymnasium, pettingzoo).
"""

from __future__ import annotations

import numpy as np

from sd_env.core import CoreState, arms_defense, offense
from sd_env.params import EnvParams

#: Colours (RGB) of the three bars drawn for each state.
WEALTH_COLOUR = (70, 130, 180)
OFFENSE_COLOUR = (200, 60, 50)
DEFENSE_COLOUR = (60, 160, 90)


def render_text(params: EnvParams, state: CoreState, index: int = 0) -> str:
    """A table of environment ``index``: wealth, stocks, offence, defence, type and last year's attacks."""
    lines = [f"year {int(state.year[index])} of {params.max_cycles}"]
    header = f"{'state':<10}{'alive':>6}{'wealth':>9}" + "".join(f"{name[:10]:>11}" for name in params.weapon_names)
    lines.append(header + f"{'offence':>9}{'defence':>9}  type     attacked")
    attack_offense = offense(params, state.stocks[index])
    defense = arms_defense(params, state.stocks[index])
    for i in range(params.n_states):
        targets = [f"state_{j}" for j in np.nonzero(state.attacks[index, i])[0]]
        stocks = "".join(f"{value:>11.2f}" for value in state.stocks[index, i])
        lines.append(
            f"{'state_' + str(i):<10}{'yes' if state.alive[index, i] else 'no':>6}{state.wealth[index, i]:>9.2f}"
            f"{stocks}{attack_offense[i]:>9.2f}{defense[i]:>9.2f}  "
            f"{'greedy ' if state.greedy[index, i] else 'seeker '}  {', '.join(targets) or '-'}"
        )
    return "\n".join(lines)


def render_frame(params: EnvParams, state: CoreState, mode: str | None, index: int = 0) -> str | np.ndarray | None:
    """Render environment ``index`` in ``mode``: ``"ansi"`` (or None) text, ``"rgb_array"`` image,
    ``"human"`` text printed to standard output (returns None)."""
    if mode == "rgb_array":
        return render_image(params, state, index)
    if mode not in (None, "ansi", "human"):
        raise ValueError(f"render mode must be None, 'ansi', 'human' or 'rgb_array', got {mode!r}")
    text = render_text(params, state, index)
    if mode == "human":
        print(text)
        return None
    return text


def render_image(params: EnvParams, state: CoreState, index: int = 0, height: int = 200) -> np.ndarray:
    """An RGB image (height, width, 3), uint8: per state, bars of wealth, offence and defence.

    Bars share one scale (the largest value shown); eliminated states are greyed out.
    """
    n = params.n_states
    bar_width, gap = 12, 16
    width = n * (3 * bar_width + gap) + gap
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    values = np.stack(
        [state.wealth[index], offense(params, state.stocks[index]), arms_defense(params, state.stocks[index])], axis=1
    )
    scale = max(float(values.max()), 1e-9)
    for i in range(n):
        left = gap + i * (3 * bar_width + gap)
        for bar, colour in enumerate((WEALTH_COLOUR, OFFENSE_COLOUR, DEFENSE_COLOUR)):
            bar_height = int(round((height - 10) * values[i, bar] / scale))
            shade = colour if state.alive[index, i] else (190, 190, 190)
            x0 = left + bar * bar_width
            image[height - bar_height : height, x0 : x0 + bar_width - 2] = shade
    return image
