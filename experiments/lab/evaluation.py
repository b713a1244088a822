"""Evaluate policies named by specs: one policy against an opponent (``sd-env evaluate``), every policy
against every other (``sd-env crossplay``).

**Seats.** The focal policy plays one seat, the opponent every other seat.
In a *symmetric* scenario (every seat alike: equal ``initial_wealth``, no
``alliance_blocs``, no ``surprise_deployment``) the focal policy plays
``state_0`` only (``every_seat=True`` plays each seat in turn anyway); in an
asymmetric one it plays every seat in turn, ``episodes`` episodes each.
A spec that holds one policy per seat (an ``independent_ppo`` run
directory, an RLlib checkpoint with ``state_i`` modules) plays each seat
with that seat's own policy.

**Combining seats.** The measures of several focal seats are *pooled*:
each (focal seat, episode) is one unit; a measure's value is the ratio of
its numerators' sum to its denominators' sum over every unit, exactly as
the registry (``sd_env.experiments.lab.measures``) pools episodes, and the bootstrap
interval resamples those units. Welfare, with one unit of denominator per
episode, is then the mean over seats of each seat's mean return; the
military burden weighs each seat by its living state-years. Per-seat
measures are those of the focal seat; game measures (``war_years``,
``peace`` ...) those of the whole game, over every game played.

**Seeds.** The episodes with the focal policy in seat ``s`` are played with
the rollout seed :func:`seat_seed` ``(seed, s)``, and every policy object is
reseeded before each rollout, so a result does not depend on what was
played before: a crossplay cell equals ``evaluate`` of the same pair with
the same seed and episodes, and the same seed gives the same numbers, bit
for bit. Bootstrap intervals are seeded with ``seed`` too.

**Actions** are checked on every call (:class:`CheckedPolicy`): a policy
that returns actions of the wrong shape or type, or outside the action
space, is a ``ValueError`` naming the policy, the component, the value and
the allowed range.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sd_env.experiments.lab.measures import EPISODE_MEASURES, Ratio, bootstrap_interval
from sd_env.experiments.lab.specs import PolicySpecError, load_policy, spec_kind
from sd_env.experiments.lab.rollout import Rollout, rollout
from sd_env import core
from sd_env.params import PER_STATE_PARAMETERS, EnvParams
from sd_env.policy import Policy, action_problem

#: Confidence of every interval.
CONFIDENCE = 0.95
#: The measures crossplay always reports as matrices at the top level of its JSON, and draws.
CROSSPLAY_HEADLINE = ("welfare", "military_burden", "war_years")
#: Kinds of spec that may hold one policy per seat (loaded once per seat); the others are loaded once.
SEAT_DEPENDENT_KINDS = ("run", "rllib")


# ---------------------------------------------------------------------------
# Seats and seeds


def asymmetries(params: EnvParams) -> list[str]:
    """What makes the seats of ``params`` differ (empty for a symmetric game)."""
    reasons = []
    for name in PER_STATE_PARAMETERS:  # initial_wealth, growth_rate: one value per state
        if len(set(getattr(params, name))) > 1:
            reasons.append(f"{name}={getattr(params, name)}")
    if params.alliance_blocs:
        reasons.append(f"alliance_blocs={params.alliance_blocs}")
    if params.surprise_deployment is not None:
        reasons.append(f"surprise_deployment={params.surprise_deployment}")
    return reasons


def focal_seats(params: EnvParams, every_seat: bool = False) -> list[int]:
    """Seats the focal policy plays in turn: all of them in an asymmetric game (or if asked), else state_0."""
    return list(range(params.n_states)) if every_seat or asymmetries(params) else [0]


def seat_seed(seed: int, seat: int) -> int:
    """Rollout seed of the episodes in which the focal policy plays ``seat``."""
    return int(np.random.SeedSequence([int(seed), int(seat)]).generate_state(1)[0])


def seats_note(params: EnvParams, seats: Sequence[int]) -> str:
    """One line saying which seats the focal policy played, and why."""
    reasons = asymmetries(params)
    if reasons:
        return (f"focal seats: every seat in turn (asymmetric scenario: {', '.join(reasons)}); "
                "measures pooled over (seat, episode)")
    if len(seats) > 1:
        return "focal seats: every seat in turn (--every-seat); measures pooled over (seat, episode)"
    return "focal seat: state_0 only (symmetric scenario: every seat is alike; --every-seat plays each in turn)"


# ---------------------------------------------------------------------------
# Policies


class CheckedPolicy(Policy):
    """A policy whose every ``act`` is checked: shape (M, action_length), integers, inside the action space.

    A bad action is a ``ValueError`` naming the policy (``label``), the
    component, the value and the allowed range.
    """

    def __init__(self, policy: Any, params: EnvParams, label: str) -> None:
        super().__init__(params)
        self.policy, self.label, self.name = policy, label, label

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        if callable(getattr(self.policy, "reset", None)):
            self.policy.reset(seed)

    def act(self, observations: np.ndarray) -> np.ndarray:
        actions = np.asarray(self.policy.act(observations))
        problem = action_problem(self.params, actions, observations.shape[0])
        if problem is not None:
            raise ValueError(f"policy {self.label!r}: {problem}")
        return actions.astype(np.int64, copy=False)


def load_checked(spec: str, params: EnvParams, seed: int = 0, seat: int = 0) -> CheckedPolicy:
    """The policy ``spec`` names, for ``seat``, behind action checks; any failure to load is one line."""
    try:
        policy = load_policy(spec, params, seed=seed, seat=seat)
    except (ValueError, OSError, ModuleNotFoundError):
        raise
    except Exception as error:  # a corrupt checkpoint, a factory that raises: one line, not a traceback
        message = str(error).splitlines()[0] if str(error) else ""
        raise PolicySpecError(f"policy {spec!r} could not be loaded: {type(error).__name__}: {message}") from error
    return CheckedPolicy(policy, params, spec)


class PolicyCache:
    """Loads each spec once (once per seat where a spec may hold one policy per seat)."""

    def __init__(self, params: EnvParams, seed: int = 0) -> None:
        self.params, self.seed = params, seed
        self._loaded: dict[tuple[str, int | None], CheckedPolicy] = {}

    def get(self, spec: str, seat: int) -> CheckedPolicy:
        key = (spec, seat if spec_kind(spec) in SEAT_DEPENDENT_KINDS else None)
        if key not in self._loaded:
            self._loaded[key] = load_checked(spec, self.params, self.seed, seat)
        return self._loaded[key]

    def check(self, specs: Sequence[str]) -> None:
        """Load every spec for every seat now, so a bad one fails before any episode is played."""
        for spec in specs:
            for seat in range(self.params.n_states):
                self.get(spec, seat)


def play(params: EnvParams, seat_policies: Sequence[Policy], episodes: int, seed: int) -> Rollout:
    """``sd_env.experiments.lab.rollout.rollout`` after reseeding every distinct policy object from ``seed``."""
    distinct: dict[int, Any] = {}
    for policy in seat_policies:
        distinct.setdefault(id(policy), policy)
    for index, policy in enumerate(distinct.values()):
        if callable(getattr(policy, "reset", None)):
            policy.reset(seed=seat_seed(seed, 1000 + index))
    return rollout(params, list(seat_policies), episodes, seed)


@dataclass(frozen=True)
class SeatGame:
    """The episodes in which the focal policy played ``seat``."""

    seat: int
    seed: int
    result: Rollout


def play_match(params: EnvParams, cache: PolicyCache, focal: str, opponent: str, seats: Sequence[int],
               episodes: int, seed: int) -> list[SeatGame]:
    """``focal`` in each of ``seats`` in turn, ``opponent`` in every other seat, ``episodes`` episodes each."""
    games = []
    for seat in seats:
        policies = [cache.get(focal if j == seat else opponent, j) for j in range(params.n_states)]
        game_seed = seat_seed(seed, seat)
        games.append(SeatGame(seat, game_seed, play(params, policies, episodes, game_seed)))
    return games


# ---------------------------------------------------------------------------
# Measures with intervals


def ratio_of_sums(ratio: Ratio) -> float:
    total = float(ratio.denominator.sum())
    return float(ratio.numerator.sum()) / total if total > 0 else float("nan")


def pooled_ratio(name: str, games: Sequence[SeatGame]) -> Ratio:
    """Numerators and denominators of measure ``name`` over every (focal seat, episode)."""
    measure = EPISODE_MEASURES[name]
    parts = [measure.ratio(game.result, [game.seat]) for game in games]
    return Ratio(np.concatenate([p.numerator for p in parts]), np.concatenate([p.denominator for p in parts]))


def interval(ratio: Ratio, confidence: float = CONFIDENCE, seed: int = 0) -> dict[str, float]:
    """``{"mean", "ci_low", "ci_high"}`` of a ratio of sums (NaN where nothing was measured)."""
    low, high = bootstrap_interval(ratio, confidence, seed=seed)
    return {"mean": ratio_of_sums(ratio), "ci_low": low, "ci_high": high}


def measure_intervals(games: Sequence[SeatGame], confidence: float = CONFIDENCE,
                      seed: int = 0) -> dict[str, dict[str, float]]:
    """Every registry measure, pooled over the games' (focal seat, episode) units, with its interval."""
    return {name: interval(pooled_ratio(name, games), confidence, seed) for name in EPISODE_MEASURES}


def json_number(value: float) -> float | None:
    """A float for JSON: NaN and infinities become null."""
    value = float(value)
    return value if math.isfinite(value) else None


def json_intervals(table: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float | None]]:
    return {name: {key: json_number(value) for key, value in row.items()} for name, row in table.items()}


def format_number(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.1f}" if abs(value) >= 1000 else f"{value:.4g}"


# ---------------------------------------------------------------------------
# sd-env evaluate


@dataclass
class Evaluation:
    """One focal policy against one opponent: the games played and their measures."""

    policy: str
    opponent: str
    scenario: str
    params: EnvParams
    overrides: dict[str, Any]
    episodes: int
    seed: int
    seats: list[int]
    games: list[SeatGame]
    measures: dict[str, dict[str, float]]
    per_seat: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)
    confidence: float = CONFIDENCE

    def to_json(self) -> dict[str, Any]:
        """``{"policy", "opponent", "scenario", "episodes", "seed", "measures": {NAME: {"mean", "ci_low",
        "ci_high"}}}``, then ``overrides``, ``focal_seats``, ``combined`` and ``per_seat`` (NaN is null)."""
        return {
            "policy": self.policy,
            "opponent": self.opponent,
            "scenario": self.scenario,
            "episodes": self.episodes,
            "seed": self.seed,
            "measures": json_intervals(self.measures),
            "overrides": self.overrides,
            "confidence": self.confidence,
            "focal_seats": [f"state_{seat}" for seat in self.seats],
            "combined": "pooled over (focal seat, episode)" if len(self.seats) > 1 else "one focal seat",
            "per_seat": {f"state_{seat}": json_intervals(table) for seat, table in self.per_seat.items()},
        }


def evaluate(params: EnvParams, policy: str, opponent: str | None = None, episodes: int = 100, seed: int = 0,
             scenario: str = "", overrides: Mapping[str, Any] | None = None, every_seat: bool = False,
             confidence: float = CONFIDENCE) -> Evaluation:
    """Play ``policy`` against ``opponent`` (itself if None) and measure; see the module docstring."""
    opponent = policy if opponent is None else opponent
    check_counts(episodes, seed)
    cache = PolicyCache(params, seed)
    cache.check([policy, opponent])
    seats = focal_seats(params, every_seat)
    games = play_match(params, cache, policy, opponent, seats, episodes, seed)
    per_seat = {game.seat: measure_intervals([game], confidence, seed) for game in games}
    measures = per_seat[seats[0]] if len(games) == 1 else measure_intervals(games, confidence, seed)
    return Evaluation(policy, opponent, scenario, params, dict(overrides or {}), episodes, seed, seats, games,
                      measures, per_seat, confidence)


def check_counts(episodes: int, seed: int) -> None:
    if episodes < 1:
        raise ValueError(f"--episodes must be at least 1, got {episodes}")
    if seed < 0:
        raise ValueError(f"--seed must be >= 0, got {seed}")


def evaluation_text(evaluation: Evaluation) -> str:
    """The measures as a text table: value, interval, unit; per focal seat where there are several."""
    seats = evaluation.seats
    lines = [
        f"{evaluation.policy!r} against {evaluation.opponent!r}"
        f"{' (itself)' if evaluation.opponent == evaluation.policy else ''} in scenario {evaluation.scenario!r}"
        f"{' with ' + ', '.join(f'{k}={v}' for k, v in evaluation.overrides.items()) if evaluation.overrides else ''}"
        f": {evaluation.episodes} episodes per focal seat, seed {evaluation.seed}",
        seats_note(evaluation.params, seats),
        f"of: focal = the focal state(s), game = the whole game; {evaluation.confidence:.0%} bootstrap intervals "
        "over episodes",
        "",
    ]
    width = max(len(name) for name in EPISODE_MEASURES)
    means = {name: format_number(row["mean"]) for name, row in evaluation.measures.items()}
    bounds = {name: f"[{format_number(row['ci_low'])}, {format_number(row['ci_high'])}]"
              for name, row in evaluation.measures.items()}
    seat_means = {seat: {name: format_number(row["mean"]) for name, row in table.items()}
                  for seat, table in evaluation.per_seat.items()}
    mean_width = max(6, *(len(text) for text in means.values()))
    bound_width = max(8, *(len(text) for text in bounds.values()))
    seat_width = max(9, *(len(text) + 2 for table in seat_means.values() for text in table.values()))
    header = f"{'measure':<{width}}  {'of':<5}  {'mean':>{mean_width}}  {'interval':<{bound_width}}"
    if len(seats) > 1:
        header += "".join(f"{'state_' + str(seat):>{seat_width}}" for seat in seats)
    lines.append(header + "  unit")
    for name, measure in EPISODE_MEASURES.items():
        line = (f"{name:<{width}}  {'focal' if measure.per_seat else 'game':<5}  {means[name]:>{mean_width}}  "
                f"{bounds[name]:<{bound_width}}")
        if len(seats) > 1:
            line += "".join(f"{seat_means[seat][name]:>{seat_width}}" for seat in seats)
        lines.append(line + f"  {measure.unit}")
    return "\n".join(lines)


def trajectory_paths(path: str | Path, seats: Sequence[int]) -> dict[int, Path]:
    """Where ``--save-trajectories`` writes each focal seat's rollout: ``path`` itself for one seat,
    ``STEM.state_S.npz`` beside it for several."""
    path = Path(path)
    if len(seats) == 1:
        return {seats[0]: path}
    return {seat: path.with_name(f"{path.stem}.state_{seat}{path.suffix or '.npz'}") for seat in seats}


def episode_text(result: Rollout, labels: Sequence[str], episode: int = 0) -> str:
    """One episode, one line per year: each state's wealth, total arms and burden, and the year's attacks.

    Values are those at the start of the year (burden: chosen that year); ``-`` after elimination.
    """
    n = result.params.n_states
    types = ", ".join(f"state_{i} {'greedy' if result.greedy[episode, i] else 'security seeker'}" for i in range(n))
    lines = [f"episode {episode + 1} of {result.episodes}: " + "; ".join(
        f"state_{i} = {label}" for i, label in enumerate(labels)), f"types (private): {types}", ""]
    group = 25
    lines.append(f"{'year':>4}  " + "".join(f"{'state_' + str(i):^{group}}" for i in range(n)) + "  attacks (outcome)")
    lines.append(f"{'':>4}  " + f"{'wealth':>8}{'arms':>9}{'burden':>8}" * n)
    for year in range(result.years):
        cells = []
        for i in range(n):
            if result.alive[year, episode, i]:
                cells.append(f"{result.wealth[year, episode, i]:>8.2f}{result.arms[year, episode, i]:>9.2f}"
                             f"{result.burden[year, episode, i]:>8.2f}")
            else:
                cells.append(f"{'-':>8}{'-':>9}{'-':>8}")
        events = []
        for i, j in zip(*np.nonzero(result.attacks[year, episode])):
            outcome = "won" if result.victories[year, episode, i, j] else "repelled"
            events.append(f"state_{i}->state_{j} {outcome}")
        events += [f"state_{i} eliminated" for i in np.nonzero(result.eliminated[year, episode])[0]]
        lines.append(f"{year:>4}  " + "".join(cells) + "  " + ("; ".join(events) or "-"))
    return "\n".join(lines)


def seat_labels(n_states: int, seat: int, policy: str, opponent: str) -> list[str]:
    return [f"{policy} (focal)" if i == seat else opponent for i in range(n_states)]


# ---------------------------------------------------------------------------
# sd-env crossplay


@dataclass
class Crossplay:
    """Every policy (rows, focal) against every policy (columns, in every other seat)."""

    policies: list[str]
    scenario: str
    params: EnvParams
    overrides: dict[str, Any]
    episodes: int
    seed: int
    seats: list[int]
    #: measure -> "mean" | "ci_low" | "ci_high" -> (P, P) array, [focal, opponent].
    measures: dict[str, dict[str, np.ndarray]]
    confidence: float = CONFIDENCE

    def to_json(self) -> dict[str, Any]:
        """``{"policies", "welfare", "military_burden", "war_years"}`` (means, rows focal, columns opponent),
        then every measure with its intervals under ``measures`` and the settings (NaN is null)."""
        def matrix(values: np.ndarray) -> list[list[float | None]]:
            return [[json_number(value) for value in row] for row in values]

        data: dict[str, Any] = {"policies": list(self.policies)}
        data.update({name: matrix(self.measures[name]["mean"]) for name in CROSSPLAY_HEADLINE})
        data.update({
            "scenario": self.scenario,
            "episodes": self.episodes,
            "seed": self.seed,
            "overrides": self.overrides,
            "confidence": self.confidence,
            "focal_seats": [f"state_{seat}" for seat in self.seats],
            "measures": {name: {key: matrix(values) for key, values in table.items()}
                         for name, table in self.measures.items()},
        })
        return data


def crossplay(params: EnvParams, policies: Sequence[str], episodes: int = 100, seed: int = 0, scenario: str = "",
              overrides: Mapping[str, Any] | None = None, every_seat: bool = False,
              confidence: float = CONFIDENCE) -> Crossplay:
    """Every policy as the focal one against every policy (itself included) as the opponent."""
    policies = list(policies)
    if not policies:
        raise ValueError("--policies needs at least one policy spec")
    repeated = sorted({spec for spec in policies if policies.count(spec) > 1})
    if repeated:
        raise ValueError(f"--policies names {repeated[0]!r} more than once")
    check_counts(episodes, seed)
    cache = PolicyCache(params, seed)
    cache.check(policies)
    seats = focal_seats(params, every_seat)
    count = len(policies)
    measures = {name: {key: np.full((count, count), np.nan) for key in ("mean", "ci_low", "ci_high")}
                for name in EPISODE_MEASURES}
    for row, focal in enumerate(policies):
        for column, opponent in enumerate(policies):
            games = play_match(params, cache, focal, opponent, seats, episodes, seed)
            for name, values in measure_intervals(games, confidence, seed).items():
                for key, value in values.items():
                    measures[name][key][row, column] = value
    return Crossplay(policies, scenario, params, dict(overrides or {}), episodes, seed, seats, measures, confidence)


def short_labels(specs: Sequence[str]) -> list[str]:
    """Short names for tables: a baseline's stance, a checkpoint's file or folder name; full specs if they clash."""
    labels = []
    for spec in specs:
        if spec.startswith("baseline:"):
            labels.append(spec[len("baseline:"):])
        elif "/" in spec or spec.endswith(".zip"):
            path = Path(spec)
            labels.append(path.parent.name + "/" + path.name if path.name in ("policy.zip", "rllib") else path.name)
        elif ":" in spec:
            labels.append(spec.rsplit(":", 1)[1])
        else:
            labels.append(spec)
    return labels if len(set(labels)) == len(labels) else list(specs)


def crossplay_text(result: Crossplay) -> str:
    labels = short_labels(result.policies)
    width = max(12, *(len(label) + 2 for label in labels))
    lines = [f"crossplay in scenario {result.scenario!r}"
             f"{' with ' + ', '.join(f'{k}={v}' for k, v in result.overrides.items()) if result.overrides else ''}"
             f": {result.episodes} episodes per cell and focal seat, seed {result.seed}",
             seats_note(result.params, result.seats),
             "rows: focal policy; columns: the opponent in every other seat "
             f"({result.confidence:.0%} intervals of every measure in --json)"]
    if labels != list(result.policies):
        lines.append("policies: " + ", ".join(f"{label} = {spec}" for label, spec in zip(labels, result.policies)
                                              if label != spec))
    for name in CROSSPLAY_HEADLINE:
        measure = EPISODE_MEASURES[name]
        lines += ["", f"{name} ({'of the focal state' if measure.per_seat else 'of the whole game'}, {measure.unit}):",
                  f"{'':<{width}}" + "".join(f"{label:>{width}}" for label in labels)]
        for row, label in enumerate(labels):
            lines.append(f"{label:<{width}}" + "".join(
                f"{format_number(value):>{width}}" for value in result.measures[name]["mean"][row]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Figures (matplotlib, Agg renderer, no pyplot)

#: Colour of war years.
WAR_COLOUR = "#d62728"
FIGURE_DPI = 110


def save_figure(figure, path: str | Path) -> None:
    """Write ``figure`` as a PNG to ``path`` (atomically)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sd_env.experiments.output.files import write_bytes_atomic

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    write_bytes_atomic(path, buffer.getvalue())


def _war_spans(axis, at_war: np.ndarray, label: str) -> None:
    """Shade the years in which ``at_war`` is True (one legend entry)."""
    years = np.flatnonzero(at_war)
    for index, year in enumerate(years):
        axis.axvspan(year - 0.5, year + 0.5, color=WAR_COLOUR, alpha=0.18, lw=0, label=label if index == 0 else None)


def evaluation_figure(evaluation: Evaluation, episode: int = 0):
    """Arms of each state over the years in one episode (wars shaded), their mean over every episode with the
    share of episodes at war, and the measures in shares with their intervals."""
    from matplotlib.figure import Figure

    game = evaluation.games[0]
    result, n = game.result, evaluation.params.n_states
    labels = seat_labels(n, game.seat, short_labels([evaluation.policy])[0], short_labels([evaluation.opponent])[0])
    years = np.arange(result.years)
    figure = Figure(figsize=(13, 8.5), layout="constrained")
    grid = figure.add_gridspec(2, 2, height_ratios=(1, 1.05))
    single, mean = figure.add_subplot(grid[0, 0]), figure.add_subplot(grid[0, 1])
    shares = figure.add_subplot(grid[1, :])

    at_war = result.attacks[:, episode].any(axis=(1, 2))
    _war_spans(single, at_war, "war year")
    for i in range(n):
        alive = result.alive[:, episode, i]
        arms = np.where(alive, result.arms[:, episode, i], np.nan)
        single.plot(years, arms, color=f"C{i}", lw=2 if i == game.seat else 1.3, label=f"state_{i}: {labels[i]}")
        dead = np.flatnonzero(result.eliminated[:, episode, i])
        if dead.size:
            single.plot(dead, result.arms[dead, episode, i], "x", color="black", ms=9, mew=2)
    single.set_xlabel("year")
    single.set_ylabel("total arms stock (arms units)")
    single.set_title(f"episode {episode + 1}: arms of each state (x: eliminated)", fontsize=10)
    single.set_xlim(-0.5, result.years - 0.5)
    single.legend(fontsize=8, loc="upper left")

    for i in range(n):
        arms = np.where(result.alive[:, :, i], result.arms[:, :, i], np.nan)
        with warnings.catch_warnings():  # years after every episode's state died: all-NaN slices
            warnings.simplefilter("ignore", RuntimeWarning)
            middle = np.nanmean(arms, axis=1)
            low, high = np.nanpercentile(arms, 10, axis=1), np.nanpercentile(arms, 90, axis=1)
        mean.plot(years, middle, color=f"C{i}", lw=2 if i == game.seat else 1.3, label=f"state_{i}: {labels[i]}")
        if n <= 2:  # more bands than two hide each other
            mean.fill_between(years, low, high, color=f"C{i}", alpha=0.15, lw=0)
    mean.set_xlabel("year")
    mean.set_ylabel("total arms stock (arms units)")
    mean.set_xlim(-0.5, result.years - 0.5)
    mean.set_title(f"mean over {result.episodes} episodes of the living states"
                   f"{' (band: 10th-90th percentile)' if n <= 2 else ''}", fontsize=10)
    war_share = mean.twinx()
    war_share.bar(years, result.attacks.any(axis=(2, 3)).mean(axis=1), width=1.0, color=WAR_COLOUR, alpha=0.25,
                  label="episodes at war")
    war_share.set_ylim(0, 1)
    war_share.set_ylabel("share of episodes at war", color=WAR_COLOUR)
    war_share.tick_params(axis="y", colors=WAR_COLOUR)
    mean.set_zorder(war_share.get_zorder() + 1)
    mean.patch.set_visible(False)
    handles, names = mean.get_legend_handles_labels()
    extra_handles, extra_names = war_share.get_legend_handles_labels()
    mean.legend(handles + extra_handles, names + extra_names, fontsize=8, loc="upper left")

    # Measures bounded by 0 and 1 (shares, probabilities, rates per pair-year); not growth rates.
    names = [name for name, m in EPISODE_MEASURES.items() if m.unit != "share per year" and (
             m.unit.startswith("share") or m.unit in ("probability", "1 - Gini", "attacks per pair-year"))]
    values = np.array([evaluation.measures[name]["mean"] for name in names])
    lows = np.array([evaluation.measures[name]["ci_low"] for name in names])
    highs = np.array([evaluation.measures[name]["ci_high"] for name in names])
    positions = np.arange(len(names))[::-1]
    finite = np.isfinite(values)
    errors = [np.where(np.isfinite(lows), values - lows, 0.0), np.where(np.isfinite(highs), highs - values, 0.0)]
    shares.errorbar(values[finite], positions[finite], xerr=[e[finite].clip(0) for e in errors], fmt="o",
                    color="C0", capsize=3)
    for position, value, ok in zip(positions, values, finite):
        shares.text(value + 0.01 if ok else 0.01, position + 0.15, format_number(value) if ok else "n/a (none)",
                    fontsize=7, color="#333333")
    shares.set_yticks(positions, [f"{name} ({'focal' if EPISODE_MEASURES[name].per_seat else 'game'}, "
                                  f"{EPISODE_MEASURES[name].unit})" for name in names], fontsize=8)
    shares.set_xlim(-0.02, 1.05)
    shares.set_xlabel(f"value (a share or probability, 0 to 1); bars: {evaluation.confidence:.0%} bootstrap interval")
    shares.grid(axis="x", alpha=0.3)
    welfare = evaluation.measures["welfare"]
    seats = ", ".join(f"state_{seat}" for seat in evaluation.seats)
    whose = f"pooled over focal seats {seats}" if len(evaluation.seats) > 1 else f"focal seat {seats}"
    shares.set_title(f"measures between 0 and 1, {whose}"
                     f" (welfare of the focal state: {format_number(welfare['mean'])} reward units, "
                     f"[{format_number(welfare['ci_low'])}, {format_number(welfare['ci_high'])}])", fontsize=10)
    figure.suptitle(f"{evaluation.policy} against {evaluation.opponent}, scenario {evaluation.scenario!r}, "
                    f"{evaluation.episodes} episodes, seed {evaluation.seed} (top: focal in state_{game.seat})",
                    fontsize=11)
    return figure


def crossplay_figure(result: Crossplay):
    """Heat maps of welfare, military burden and war years: rows focal policy, columns opponent."""
    from matplotlib.figure import Figure

    labels = short_labels(result.policies)
    count = len(labels)
    size = max(3.2, 0.75 * count + 1.2)
    figure = Figure(figsize=(3 * size + 2.5, size + 1.2), layout="constrained")
    axes = figure.subplots(1, 3)
    colour_maps = {"welfare": "viridis", "military_burden": "magma_r", "war_years": "Reds"}
    for axis, name in zip(axes, CROSSPLAY_HEADLINE):
        measure = EPISODE_MEASURES[name]
        values = result.measures[name]["mean"]
        masked = np.ma.masked_invalid(values)
        axis.set_facecolor("#dddddd")
        image = axis.imshow(masked, cmap=colour_maps[name], aspect="auto")
        finite = values[np.isfinite(values)]
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        for (row, column), value in np.ndenumerate(values):
            bright = np.isfinite(value) and high > low and (value - low) / (high - low) > 0.5
            dark_text = bright if name == "welfare" else not bright
            axis.text(column, row, f"{value:.3g}" if np.isfinite(value) else "n/a", ha="center", va="center",
                      fontsize=9 if count <= 6 else 7,
                      color="black" if dark_text else "white")
        axis.set_xticks(range(count), labels, rotation=30 if max(map(len, labels)) > 6 else 0, ha="right"
                        if max(map(len, labels)) > 6 else "center")
        axis.set_yticks(range(count), labels if axis is axes[0] else [])
        axis.set_xlabel("opponent (every other seat)")
        if axis is axes[0]:
            axis.set_ylabel("focal policy")
        whose = "of the focal state" if measure.per_seat else "of the whole game"
        axis.set_title(f"{name} {whose}", fontsize=10)
        colorbar = figure.colorbar(image, ax=axis, shrink=0.85)
        colorbar.set_label(measure.unit)
    figure.suptitle(f"crossplay, scenario {result.scenario!r}: {result.episodes} episodes per cell, seed "
                    f"{result.seed}", fontsize=11)
    return figure
