"""The observation and action layouts, declared once.

Every place that reads or writes an observation or an action (the compiled
kernels, the spaces, the adapters, the scripted policies, the docs) takes its
offsets from the declarations below, by name. Adding an observation entry is
one line here (and the kernel line that writes it).

Observation of one state: the own block, then one block per rival
``r = 1 .. N-1`` (rival r of state i is state ``(i + r) % N``). A field's size
is 1 or ``"K"`` (one entry per weapon system).

Action of one state (``MultiDiscrete``): burden level, procurement, attack,
then, with alliances only, one commitment flag per rival.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

#: (name, size, meaning, low, high) of each entry of the own block, in order.
OWN_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("wealth", "1", "own wealth (wealth units)", "0", "inf"),
    ("stocks", "K", "own stock of each system (exact)", "0", "inf"),
    ("greedy", "1", "own type: 1 greedy, 0 security seeker", "0", "1"),
    ("time_elapsed", "1", "fraction of the episode elapsed", "0", "1"),
    ("home_wealth", "1", "own home wealth (wealth not taken by conquest)", "0", "inf"),
)
#: (name, size, meaning, low, high) of each entry of a rival's block, in order.
RIVAL_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("alive", "1", "rival r alive", "0", "1"),
    ("wealth", "1", "rival r wealth (public)", "0", "inf"),
    ("stocks", "K", "rival r apparent stocks (noisy, type-blurred)", "0", "inf"),
    ("attacked_me", "1", "rival r attacked me last year", "0", "1"),
    ("attacked_by_me", "1", "I attacked rival r last year", "0", "1"),
    ("committed_to_me", "1", "rival r is committed to defend me", "0", "1"),
    ("my_commitment", "1", "I am committed to defend rival r", "0", "1"),
)

#: Action components, in order; the commitment flags (one per rival) exist only with alliances.
ACTION_BURDEN = 0
ACTION_PROCUREMENT = 1
ACTION_ATTACK = 2
ACTION_FIRST_COMMITMENT = 3
ACTION_FIELDS: tuple[tuple[str, str], ...] = (
    ("burden level", "0 .. burden_levels-1; burden = level / (burden_levels-1) * max_burden"),
    ("procurement", "0 .. K-1: all spending on system k; K: spread evenly over all systems"),
    ("attack", "0: none; r = 1 .. N-1: attack rival r"),
    ("commit to defend rival r", "0 or 1, one per rival r = 1 .. N-1 (only with alliances=True)"),
)

#: Order of the offsets handed to the compiled observation kernel (``ObservationLayout.kernel_offsets``).
KERNEL_OFFSET_NAMES: tuple[str, ...] = (
    *(f"own_{name}" for name, *_ in OWN_FIELDS), "own_length",
    *(f"rival_{name}" for name, *_ in RIVAL_FIELDS), "rival_length",
)


def _offsets(fields: tuple[tuple[str, ...], ...], n_systems: int) -> tuple[dict[str, int], int]:
    offsets, position = {}, 0
    for name, size, *_ in fields:
        offsets[name] = position
        position += n_systems if size == "K" else 1
    return offsets, position


@dataclass(frozen=True)
class ObservationLayout:
    """Where each quantity sits in one state's observation vector (offsets derived from the declarations)."""

    n_states: int
    n_systems: int

    @cached_property
    def _own(self) -> tuple[dict[str, int], int]:
        return _offsets(OWN_FIELDS, self.n_systems)

    @cached_property
    def _rival(self) -> tuple[dict[str, int], int]:
        return _offsets(RIVAL_FIELDS, self.n_systems)

    def own(self, name: str) -> int:
        """Offset of own field ``name`` (its first entry, for stocks)."""
        return self._own[0][name]

    def rival(self, name: str) -> int:
        """Offset of field ``name`` inside a rival block."""
        offsets = self._rival[0]
        if name not in offsets:
            raise ValueError(f"unknown rival field {name!r}; known: {sorted(offsets)}")
        return offsets[name]

    @property
    def own_wealth(self) -> int:
        return self.own("wealth")

    @property
    def own_stocks(self) -> slice:
        start = self.own("stocks")
        return slice(start, start + self.n_systems)

    @property
    def own_greedy(self) -> int:
        return self.own("greedy")

    @property
    def time_elapsed(self) -> int:
        return self.own("time_elapsed")

    @property
    def own_home_wealth(self) -> int:
        return self.own("home_wealth")

    @property
    def own_block_length(self) -> int:
        return self._own[1]

    @property
    def rival_block_length(self) -> int:
        return self._rival[1]

    @property
    def length(self) -> int:
        return self.own_block_length + (self.n_states - 1) * self.rival_block_length

    def rival_start(self, rival: int) -> int:
        """Offset of the block of rival ``rival`` (1 .. N-1)."""
        return self.own_block_length + (rival - 1) * self.rival_block_length

    def rival_blocks(self, observations: np.ndarray) -> np.ndarray:
        """View observations (..., length) as rival blocks (..., N-1, rival_block_length)."""
        tail = observations[..., self.own_block_length :]
        return tail.reshape(*observations.shape[:-1], self.n_states - 1, self.rival_block_length)

    def rival_stocks(self, observations: np.ndarray) -> np.ndarray:
        """Apparent rival stocks, shape (..., N-1, K)."""
        start = self.rival("stocks")
        return self.rival_blocks(observations)[..., start : start + self.n_systems]

    def rival_flag(self, observations: np.ndarray, name: str) -> np.ndarray:
        """One single-entry rival field (``alive``, ``wealth``, ``attacked_me``, ...) for every rival, (..., N-1)."""
        if name == "stocks":
            raise ValueError("rival stocks have K entries: use rival_stocks")
        return self.rival_blocks(observations)[..., self.rival(name)]

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound of every entry (float32), from the declarations."""
        low, high = np.zeros(self.length, dtype=np.float32), np.zeros(self.length, dtype=np.float32)
        blocks = [(0, OWN_FIELDS)] + [(self.rival_start(r), RIVAL_FIELDS) for r in range(1, self.n_states)]
        for start, fields in blocks:
            offsets, _ = _offsets(fields, self.n_systems)
            for name, size, _, lower, upper in fields:
                width = self.n_systems if size == "K" else 1
                begin = start + offsets[name]
                low[begin : begin + width] = float(lower)
                high[begin : begin + width] = float(upper)
        return low, high

    def kernel_offsets(self) -> np.ndarray:
        """The offsets the compiled observation kernel writes to, in the order of ``KERNEL_OFFSET_NAMES``."""
        values = [self.own(name) for name, *_ in OWN_FIELDS] + [self.own_block_length]
        values += [self.rival(name) for name, *_ in RIVAL_FIELDS] + [self.rival_block_length]
        return np.asarray(values, dtype=np.int64)

def _symbolic(ones: int, systems: int) -> str:
    """``ones + systems * K`` as people write it: 0, 3, K, K + 2, 2K + 1."""
    parts = ([f"{systems}K" if systems > 1 else "K"] if systems else []) + ([str(ones)] if ones or not systems else [])
    return " + ".join(parts)


def _symbolic_offsets(fields) -> tuple[dict[str, tuple[int, int]], tuple[int, int]]:
    offsets, ones, systems = {}, 0, 0
    for name, size, *_ in fields:
        offsets[name] = (ones, systems)
        if size == "K":
            systems += 1
        else:
            ones += 1
    return offsets, (ones, systems)


def observation_table() -> str:
    """The observation layout as a text table with symbolic offsets (K systems, rival r's block at b)."""
    own, own_length = _symbolic_offsets(OWN_FIELDS)
    rival, rival_length = _symbolic_offsets(RIVAL_FIELDS)
    rows = []
    for name, size, meaning, low, high in OWN_FIELDS:
        first = _symbolic(*own[name])
        rows.append((first if size == "1" else f"{first} .. {_symbolic(own[name][0] - 1, own[name][1] + 1)}",
                     meaning, low, high))
    for name, size, meaning, low, high in RIVAL_FIELDS:
        first = "b" if own_length and rival[name] == (0, 0) else f"b + {_symbolic(*rival[name])}"
        last = f"b + {_symbolic(rival[name][0] - 1, rival[name][1] + 1)}"
        rows.append((first if size == "1" else f"{first} .. {last}", meaning, low, high))
    width = max(len(row[0]) for row in rows)
    lines = [f"length {_symbolic(*own_length)} + (N - 1)({_symbolic(*rival_length)}); rival r's block starts at "
             f"b = {_symbolic(*own_length)} + (r - 1)({_symbolic(*rival_length)})", "",
             f"{'index':<{width}}  {'meaning':<48}  min  max"]
    lines += [f"{index:<{width}}  {meaning:<48}  {low:<3}  {high}" for index, meaning, low, high in rows]
    return "\n".join(lines)


def action_table() -> str:
    """The action components as a text table."""
    rows = [(str(index) if index < ACTION_FIRST_COMMITMENT else f"{ACTION_FIRST_COMMITMENT} + r - 1", name, values)
            for index, (name, values) in enumerate(ACTION_FIELDS)]
    width = max(len(row[0]) for row in rows)
    name_width = max(len(row[1]) for row in rows)
    return "\n".join(f"{index:<{width}}  {name:<{name_width}}  {values}" for index, name, values in rows)


@dataclass(frozen=True)
class ActionLayout:
    """The components of one state's action, by name."""

    n_states: int
    alliances: bool

    burden: int = ACTION_BURDEN
    procurement: int = ACTION_PROCUREMENT
    attack: int = ACTION_ATTACK

    @property
    def commitments(self) -> slice:
        """The commitment flags (empty without alliances): entry ``r - 1`` is rival r."""
        count = self.n_states - 1 if self.alliances else 0
        return slice(ACTION_FIRST_COMMITMENT, ACTION_FIRST_COMMITMENT + count)

    @property
    def length(self) -> int:
        return self.commitments.stop
