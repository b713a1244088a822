"""``sd-env benchmark``: score a MARL algorithm on a fixed suite of sd-env scenarios (docs/benchmark.md).

The protocol: the algorithm is a function ``train(env_factory, budget, seed)``.
``env_factory()`` returns a fresh PettingZoo ``ParallelEnv`` of the suite's
scenario; ``budget`` is the number of parallel environment steps the
algorithm may take, counted over every environment it creates (one
``env.step(actions)`` is one step; :class:`BudgetExceeded` is raised at the
first step beyond it); ``seed`` is an int. It returns a policy: an object
with ``act(observations) -> actions`` on batches, ``(M, observation
length)`` float32 to ``(M, action length)`` integers in the action space,
and optionally ``seat_policy(i)`` giving the policy for seat ``i``.

A :class:`Suite` fixes the scenarios, the budget, the seeds, the evaluation
episodes, the background populations and the baselines. The score is a
Melting-Pot-style focal evaluation: the submitted policy plays the focal
seat (each seat in turn) and a background population the others (scripted
stances, a population of shared-policy PPO learners the suite trains and
caches itself, and the policy itself in self-play); the focal welfare (mean
episode return), averaged over the backgrounds, is normalised per scenario
so that 0 is the random policy and 1 the best scripted stance. Scores over
scenarios x seeds are aggregated with rliable (IQM and mean, stratified
bootstrap 95% intervals). The output folder gets ``leaderboard.csv``,
``leaderboard.md``, ``scores.csv`` (every evaluation), ``marl_eval.json``
(the marl-eval raw-data format), ``scores.png`` and ``benchmark.json``.

    python -m sd_env.experiments.studies.benchmark --write-docs [--check]   # the suite tables of docs/benchmark.md
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pettingzoo.utils.wrappers import BaseParallelWrapper

from sd_env import __version__
from sd_env.errors import SdEnvError, describe_exception
from sd_env.experiments.lab.seating import CheckedPolicy
from sd_env.experiments.lab.specs import BASELINE_PREFIX, load_policy
from sd_env.experiments.lab.worlds import world_entry
from sd_env.experiments.output.figures import save_figure
from sd_env.experiments.output.files import write_text_atomic
from sd_env.experiments.output.numbers import format_number
from sd_env.experiments.output.progress import ProgressBar, progress_bar
from sd_env.experiments.output.reading import read_json_mapping
from sd_env.params import EnvParams
from sd_env.scenarios import SCENARIOS, make_params

#: Entries on the leaderboard that are not the submission, by kind.
SUBMITTED, TRAINED, SCRIPTED = "submitted", "trained baseline", "scripted"
SHARED_PPO = "shared PPO"
#: Backgrounds that are not scripted stances: the suite's PPO population and the focal policy itself.
PPO_BACKGROUND, SELF_BACKGROUND = "ppo", "self"
#: Registry measures (sd_env.experiments.lab.measures) reported beside the score.
MEASURES = ("military_burden", "war_years", "spiral_war_years")
#: How scores are written in the leaderboard's text: two decimals (``format_number``'s options).
SCORE_TEXT = {"decimals": 2, "missing": "nan", "signed_zero": False}
#: Seeds of the background PPO population start here (the shared PPO baseline uses the run's seeds 0..K-1).
POPULATION_SEED = 10_000
DOCS = Path(__file__).resolve().parents[2] / "docs" / "benchmark.md"
SUITES_BLOCK = "benchmark-suites"


#: Why one seed gives no interval: the stratified bootstrap resamples runs within each scenario.
ONE_SEED = ("with one seed the 95% intervals cannot be computed (the stratified bootstrap resamples the seeds "
            "of each scenario, and one seed resamples to itself): the intervals shown have zero width; run 2 "
            "seeds or more for intervals")


class BenchmarkError(SdEnvError):
    """Something wrong with the submission or the command: one line saying what, and what would be right."""


class BudgetExceeded(RuntimeError):
    """Raised by an environment of ``env_factory`` at the first step beyond the budget."""


@dataclass(frozen=True)
class Suite:
    """Everything that defines a benchmark: scores from one suite are comparable, across suites they are not."""

    name: str
    description: str
    #: Named scenarios (``sd-env scenarios``), played with their own parameters.
    scenarios: tuple[str, ...]
    #: Parallel environment steps the algorithm may take per scenario and seed.
    budget: int
    #: Seeds 0..seeds-1 (``--seeds`` changes how many); the normalisation always uses these.
    seeds: int
    #: Evaluation episodes per background, scenario and seed (split evenly over focal seats and members).
    eval_episodes: int
    #: Background populations: scripted stances, ``ppo`` (the suite's PPO population), ``self`` (self-play).
    backgrounds: tuple[str, ...]
    #: Shared-PPO learners in the background population of each scenario, and their budget (parallel steps).
    population: int
    population_budget: int
    #: Scripted stances on the leaderboard (``random`` is the 0 of the normalisation).
    scripted: tuple[str, ...]
    #: Parallel games in the vector environment of the suite's PPO (baseline and population).
    ppo_envs: int = 16
    #: Bootstrap resamples of rliable's interval estimates.
    bootstrap_reps: int = 2000

    def __post_init__(self) -> None:
        for scenario in self.scenarios:
            if scenario not in SCENARIOS:
                raise ValueError(f"suite {self.name!r}: unknown scenario {scenario!r}")
            n = make_params(scenario).n_states
            parts = n * max(self.population, 1)
            if self.eval_episodes % parts:
                raise ValueError(f"suite {self.name!r}: eval_episodes ({self.eval_episodes}) must split evenly over "
                                 f"{n} focal seats x {self.population} PPO members in {scenario}")
        if "random" not in self.scripted:
            raise ValueError(f"suite {self.name!r}: the scripted entries need 'random' (the 0 of the score)")
        if PPO_BACKGROUND in self.backgrounds and self.population < 1:
            raise ValueError(f"suite {self.name!r}: the 'ppo' background needs population >= 1")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


BACKGROUNDS = ("dove", "hawk", "reciprocator", "deterrer", "hawk/dove", PPO_BACKGROUND, SELF_BACKGROUND)
SCRIPTED_ENTRIES = ("random", "dove", "defender", "hawk", "reciprocator", "deterrer", "hawk/dove")

SUITES: dict[str, Suite] = {
    suite.name: suite
    for suite in [
        Suite(
            name="smoke",
            description="Checks that a submission runs end to end; about five minutes on 2 cores. Not for papers.",
            scenarios=("jervis-1", "jervis-2", "jervis-3", "jervis-4", "pre-1914"),
            budget=10_000, seeds=2, eval_episodes=16, backgrounds=BACKGROUNDS,
            population=2, population_budget=10_000, scripted=SCRIPTED_ENTRIES,
        ),
        Suite(
            name="standard",
            description="What a paper reports: the four Jervis worlds and both alliance scenarios, 5 seeds.",
            scenarios=("jervis-1", "jervis-2", "jervis-3", "jervis-4", "pre-1914", "cold-war"),
            budget=1_000_000, seeds=5, eval_episodes=128, backgrounds=BACKGROUNDS,
            population=4, population_budget=1_000_000, scripted=SCRIPTED_ENTRIES, bootstrap_reps=50_000,
        ),
    ]
}


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise BenchmarkError(f"unknown suite {name!r}; suites: {', '.join(SUITES)}")
    return SUITES[name]


# ---------------------------------------------------------------------------------------------------------
# The protocol: the budgeted environment factory, loading the algorithm, checking the policy it returns


class BudgetedEnv(BaseParallelWrapper):
    """A PettingZoo wrapper that counts every ``step`` against its factory's budget."""

    def __init__(self, env, factory: EnvFactory) -> None:
        super().__init__(env)
        self.factory = factory
        self.metadata = env.metadata
        self.possible_agents = env.possible_agents

    @property
    def agents(self):
        return self.env.agents

    @agents.setter
    def agents(self, value):  # ParallelEnv's constructor does not set it, but wrappers of wrappers may
        self.env.agents = value

    def step(self, actions):
        self.factory.charge()
        return self.env.step(actions)


class EnvFactory:
    """``env_factory()``: a fresh ``ParallelEnv`` of the scenario, every ``step`` of every one counted.

    ``budget``, ``used`` and ``remaining`` tell the algorithm where it stands; the step beyond the
    budget raises :class:`BudgetExceeded` (and the benchmark reports the submission as over budget
    even if it catches that).
    """

    def __init__(self, scenario: str, budget: int) -> None:
        self.scenario, self.budget, self.used, self.exceeded = scenario, int(budget), 0, False
        self.params = make_params(scenario)

    @property
    def remaining(self) -> int:
        return max(self.budget - self.used, 0)

    def charge(self) -> None:
        if self.used >= self.budget:
            self.exceeded = True
            raise BudgetExceeded(f"budget of {self.budget} parallel environment steps spent on {self.scenario}")
        self.used += 1

    def __call__(self):
        import sd_env

        return BudgetedEnv(sd_env.parallel_env(scenario=self.scenario), self)


def load_algorithm(spec: str) -> Callable:
    """The ``train`` function that ``module.path:function`` names; a BenchmarkError says what is wrong."""
    example = "e.g. sd_env.agents.reinforce:train"
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute or not all(
            part.isidentifier() for part in [*module_name.split("."), attribute]):
        raise BenchmarkError(f"algo {spec!r}: expected module.path:function, {example}", parameter="algo")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a submission may live in the current folder
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # ImportError, or anything the module raises while importing
        raise BenchmarkError(f"algo {spec!r}: cannot import {module_name!r} ({describe_exception(error)}); give "
                             f"module.path:function of an importable module, {example}", parameter="algo") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        what = "has no" if function is None else f"has a non-callable ({type(function).__name__})"
        raise BenchmarkError(f"algo {spec!r}: module {module_name!r} {what} {attribute!r}; it must define "
                             f"train(env_factory, budget, seed) returning a policy with act(observations)",
                             parameter="algo")
    return function


def focal_policies(returned: Any, params: EnvParams, context: str) -> list[CheckedPolicy]:
    """The submitted policy for each seat (``seat_policy(i)`` if it has one), checked, and probed once now."""
    from sd_env import core
    from sd_env.spaces import observation_space

    if not callable(getattr(returned, "act", None)):
        raise BenchmarkError(f"{context}: train() returned {type(returned).__name__}, which has no "
                             f"act(observations) method; return an object with act(observations (M, "
                             f"{observation_space(params).shape[0]})) -> actions (M, {params.action_length})")
    seats = []
    for seat in range(params.n_states):
        policy = returned
        if callable(getattr(returned, "seat_policy", None)):
            try:
                policy = returned.seat_policy(seat)
            except Exception as error:
                raise BenchmarkError(f"{context}: seat_policy({seat}) raised {describe_exception(error)}") from None
        seats.append(CheckedPolicy(policy, params, f"{context}, seat {seat}", foreign=True))
    rng = np.random.default_rng(0)
    observations = core.observe(params, core.reset(params, 4, rng), rng)  # (4, N, L)
    for seat, policy in enumerate(seats):
        policy.act(observations[:, seat])
    return seats


# ---------------------------------------------------------------------------------------------------------
# The suite's own PPO (the shared-PPO baseline and the background population), trained once and cached


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sd-env" / "benchmark"


def _ppo_settings(suite: Suite) -> dict[str, Any]:
    from sd_env.experiments.training.config import TrainConfig
    from sd_env.experiments.training.sb3_models import ppo_kwargs

    return ppo_kwargs(TrainConfig(num_envs=suite.ppo_envs))


def train_ppo(params: EnvParams, scenario: str, budget: int, seed: int, suite: Suite, cache_dir: Path,
              log: Callable[[str], None]) -> tuple[Any, float, bool]:
    """A shared-policy PPO learner (SB3, the project's PPO settings) in self-play for at most ``budget``
    parallel steps (whole rollouts), loaded from the cache if trained before. Returns (policy, seconds, cached)."""
    import stable_baselines3
    import torch
    from stable_baselines3 import PPO

    from sd_env.agents.learned import SB3Policy, load_sb3_model
    from sd_env.experiments.training.sb3_models import save_model_atomic
    from sd_env.sb3_vec_env import SecurityDilemmaVecEnv

    settings = _ppo_settings(suite)
    rollout_steps = settings["n_steps"] * suite.ppo_envs  # parallel steps per PPO rollout
    rollouts = budget // rollout_steps
    key_fields = {"params": dataclasses.asdict(params), "seed": seed, "rollouts": rollouts, "ppo": settings,
                  "num_envs": suite.ppo_envs, "sd_env": __version__, "sb3": stable_baselines3.__version__}
    key = hashlib.sha256(json.dumps(key_fields, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = cache_dir / "ppo" / scenario / f"seed{seed}-{rollouts * rollout_steps}-{key}.zip"
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file():
        seconds = read_json_mapping(meta_path, ("seconds",), "delete it and its .zip to train that PPO again")["seconds"]
        return SB3Policy(load_sb3_model(path), params), seconds, True
    if rollouts < 1:
        raise BenchmarkError(f"a budget of {budget} parallel steps is less than one PPO rollout ({rollout_steps})")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: one thread is fastest (sd_env.experiments.training.config.TrainConfig)
    started = time.perf_counter()
    try:
        env = SecurityDilemmaVecEnv(suite.ppo_envs, params=params, seed=seed)
        model = PPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **settings)
        model.learn(total_timesteps=rollouts * rollout_steps * params.n_states)
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - started
    save_model_atomic(model, path, world_entry(scenario, {}, params))
    write_text_atomic(meta_path, json.dumps({**key_fields, "seconds": seconds, "scenario": scenario}, indent=1,
                                            default=str))
    log(f"  trained PPO {scenario} seed {seed} ({rollouts * rollout_steps} parallel steps) in {seconds:.1f} s")
    return SB3Policy(model, params), seconds, False


# ---------------------------------------------------------------------------------------------------------
# Focal evaluation


def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def evaluate_focal(
    focal: Callable[[int, int], Any],
    params: EnvParams,
    suite: Suite,
    scenario_index: int,
    seed: int,
    population: Sequence[Any],
) -> dict[str, dict[str, np.ndarray]]:
    """Every background's per-episode measures of the focal seats, ``{background: {measure: (E,)}}``.

    ``focal(seat, seed)`` gives the focal policy for a seat. A background with members is played as:
    each focal seat in turn x each member, the other seats played by the member, ``E / (seats x members)``
    episodes each; ``self`` plays every seat with the focal policy. Evaluation seeds depend on the scenario,
    the seed, the background and the configuration only, so every entry meets the same draws.
    """
    from sd_env.experiments.lab.measures import EPISODE_MEASURES
    from sd_env.experiments.lab.rollout import rollout
    n, episodes = params.n_states, suite.eval_episodes
    results: dict[str, dict[str, np.ndarray]] = {}
    for b, background in enumerate(suite.backgrounds):
        parts: dict[str, list[np.ndarray]] = {name: [] for name in ("welfare", *MEASURES)}
        if background == SELF_BACKGROUND:
            configs = [None]
        else:
            count = len(population) if background == PPO_BACKGROUND else 1
            configs = [(seat, member) for seat in range(n) for member in range(count)]
        for c, config in enumerate(configs):
            eval_seed = _seed(7, scenario_index, seed, b, c)
            if config is None:
                seats = list(range(n))
                players = [focal(seat, eval_seed + seat) for seat in seats]
            else:
                seat, member = config
                seats = [seat]
                other = population[member] if background == PPO_BACKGROUND else \
                    load_policy(BASELINE_PREFIX + background, params, seed=eval_seed + 1)
                players = [focal(seat, eval_seed) if i == seat else other for i in range(n)]
            result = rollout(params, players, episodes // len(configs), eval_seed)
            for name in parts:
                parts[name].append(EPISODE_MEASURES[name].per_episode(result, seats))
        results[background] = {name: np.concatenate(values) for name, values in parts.items()}
    return results


# ---------------------------------------------------------------------------------------------------------
# Running a suite


@dataclass
class EntryResult:
    name: str
    kind: str
    #: {(scenario, seed): {background: {measure: per-episode array}}}
    evaluations: dict[tuple[str, int], dict[str, dict[str, np.ndarray]]] = dataclasses.field(default_factory=dict)
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    cached: bool = False
    #: Parallel steps trained per (scenario, seed) (0 for scripted entries).
    step_count: int = 0

    def welfare(self, scenario: str, seed: int) -> float:
        """Focal welfare averaged over the backgrounds (each has the same number of episodes)."""
        return float(np.mean([v["welfare"].mean() for v in self.evaluations[(scenario, seed)].values()]))


@dataclass
class BenchmarkResult:
    suite: Suite
    seeds: list[int]
    entries: list[EntryResult]
    #: Per scenario: (welfare of random, welfare of the best scripted stance, its name).
    references: dict[str, tuple[float, float, str]]
    wall_seconds: float
    command: str
    #: One-minute load average at the start and the end (other processes slow every timing).
    load: tuple[float, float] = (float("nan"), float("nan"))

    def normalized(self, entry: EntryResult, scenario: str, seed: int) -> float:
        low, high, _ = self.references[scenario]
        return (entry.welfare(scenario, seed) - low) / (high - low)

    def score_matrix(self, entry: EntryResult) -> np.ndarray:
        """Normalised scores, (seeds, scenarios): rliable's (runs, tasks)."""
        return np.array([[self.normalized(entry, scenario, seed) for scenario in self.suite.scenarios]
                         for seed in self.seeds])


def run_benchmark(
    algo: str,
    suite: Suite,
    seeds: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    name: str | None = None,
    log: Callable[[str], None] = lambda text: None,
    command: str = "",
    progress: bool = False,
) -> BenchmarkResult:
    """Train and evaluate the submission ``algo`` (``module.path:train``) and the baselines on ``suite``.

    ``progress`` shows a bar of each phase on standard error: the entries trained (the submission, then the
    suite's PPO: each scenario and seed, and each member of the PPO population; cached ones count too), then
    the entries evaluated (each entry, scenario and seed). It changes no number and no file.
    """
    started = time.perf_counter()
    load_before = _load()
    import_rliable()  # a missing extra fails now, not after the training
    try:
        import matplotlib  # noqa: F401 - scores.png
    except ImportError:
        raise BenchmarkError("sd-env benchmark needs matplotlib for scores.png; install it with: "
                             "pip install 'sd-env[benchmark]'") from None
    train = load_algorithm(algo)
    seed_list = list(range(suite.seeds if seeds is None else seeds))
    if not seed_list:
        raise BenchmarkError(f"seeds must be >= 1, got {seeds}", parameter="seeds")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if (name or algo) in {SHARED_PPO, *suite.scripted}:
        raise BenchmarkError(f"name {name or algo!r} is a baseline's name on the leaderboard; choose another",
                             parameter="name")
    submitted = EntryResult(name or algo, SUBMITTED, step_count=suite.budget)
    ppo = EntryResult(SHARED_PPO, TRAINED, cached=True)
    scripted = [EntryResult(stance, SCRIPTED) for stance in suite.scripted]
    params_of = {scenario: make_params(scenario) for scenario in suite.scenarios}

    population = suite.population if PPO_BACKGROUND in suite.backgrounds else 0
    trainings = len(suite.scenarios) * (2 * len(seed_list) + population)  # the submission's, then PPO's
    with progress_bar(trainings, "benchmark: train", "entries", progress) as bar:
        # 1. The submission first, so that a broken one fails before anything else is spent.
        policies = _train_submission(train, algo, suite, seed_list, params_of, submitted, log, bar)
        # 2. The suite's PPO: the background population (fixed seeds) and the shared-PPO baseline (the run's seeds).
        populations, baseline = _train_ppo_entries(suite, seed_list, params_of, cache, ppo, log, bar)
    settings = _ppo_settings(suite)
    rollout_steps = settings["n_steps"] * suite.ppo_envs
    ppo.step_count = suite.budget // rollout_steps * rollout_steps

    # 3. Evaluation: every entry, every scenario and seed; the references use the suite's own seeds.
    reference_seeds = list(range(suite.seeds))
    played_seeds = sorted(set(seed_list) | set(reference_seeds))
    evaluations = len(suite.scenarios) * (len(played_seeds) * len(scripted) + 2 * len(seed_list))
    # The learned entries' focal policies by (scenario, seed): the submission its own per seat, PPO one for all.
    learned = [(submitted, {key: _per_seat(players) for key, players in policies.items()}),
               (ppo, {key: _every_seat(model) for key, model in baseline.items()})]
    with progress_bar(evaluations, "benchmark: evaluate", "entries", progress) as bar:
        for index, scenario in enumerate(suite.scenarios):
            _evaluate_scenario(suite, index, scenario, params_of[scenario], played_seeds, seed_list, scripted,
                               learned, populations[scenario], bar)
            log(f"evaluated every entry on {scenario}")
    references = {}
    for scenario in suite.scenarios:
        means = {entry.name: np.mean([entry.welfare(scenario, seed) for seed in reference_seeds]) for entry in scripted}
        best = max((name for name in means if name != "random"), key=lambda name: means[name])
        if means[best] - means["random"] <= 1e-9:
            raise BenchmarkError(f"suite {suite.name!r}: no scripted stance beats random on {scenario}")
        references[scenario] = (float(means["random"]), float(means[best]), best)
    for entry in scripted:  # evaluations only the references needed are dropped
        entry.evaluations = {key: value for key, value in entry.evaluations.items() if key[1] in seed_list}
    if len(seed_list) == 1:
        log(f"warning: {ONE_SEED}")
    return BenchmarkResult(suite, seed_list, [submitted, ppo, *scripted], references,
                           time.perf_counter() - started, command, (load_before, _load()))


def _train_submission(train: Callable, algo: str, suite: Suite, seed_list: list[int],
                      params_of: dict[str, EnvParams], submitted: EntryResult, log: Callable[[str], None],
                      bar: ProgressBar) -> dict[tuple[str, int], list[CheckedPolicy]]:
    """Phase 1 of :func:`run_benchmark`: ``train(env_factory, budget, seed)`` on every scenario and seed, its
    seconds added to ``submitted.train_seconds``. Returns the checked policies by (scenario, seed)."""
    policies: dict[tuple[str, int], list[CheckedPolicy]] = {}
    for scenario in suite.scenarios:
        for seed in seed_list:
            context = f"{algo} on {scenario} (seed {seed})"
            bar.status(context)
            factory = EnvFactory(scenario, suite.budget)
            clock = time.perf_counter()
            try:
                returned = train(factory, suite.budget, seed)
            except BudgetExceeded:
                returned = None
            except Exception as error:
                if factory.exceeded:
                    returned = None
                else:
                    raise BenchmarkError(f"{context}: train() raised {describe_exception(error)}; train(env_factory, "
                                         f"budget, seed) must return a policy with act(observations)") from None
            if factory.exceeded:
                raise BenchmarkError(f"{context}: train() took more than its budget of {suite.budget} parallel "
                                     f"environment steps (each env.step() of every environment env_factory() made "
                                     f"counts one); stop at the budget (env_factory.remaining says what is left)")
            seconds = time.perf_counter() - clock
            submitted.train_seconds += seconds
            policies[(scenario, seed)] = focal_policies(returned, params_of[scenario], f"policy from {context}")
            log(f"trained {algo} on {scenario} seed {seed}: {factory.used} parallel steps in {seconds:.1f} s")
            bar.advance()
    return policies


def _train_ppo_entries(suite: Suite, seed_list: list[int], params_of: dict[str, EnvParams], cache: Path,
                       ppo: EntryResult, log: Callable[[str], None], bar: ProgressBar) -> tuple[dict, dict]:
    """Phase 2 of :func:`run_benchmark`: the suite's PPO (cached where trained before), its seconds and
    cache state kept in ``ppo``. Returns ``(populations by scenario, shared-PPO baseline by (scenario, seed))``."""
    populations, baseline = {}, {}
    for scenario in suite.scenarios:
        params = params_of[scenario]
        members = []
        if PPO_BACKGROUND in suite.backgrounds:
            for member in range(suite.population):
                bar.status(f"PPO population {member} on {scenario}")
                policy, _, _ = train_ppo(params, scenario, suite.population_budget, POPULATION_SEED + member, suite,
                                         cache, log)
                members.append(policy)
                bar.advance()
        populations[scenario] = members
        for seed in seed_list:
            bar.status(f"{SHARED_PPO} on {scenario} (seed {seed})")
            policy, seconds, cached = train_ppo(params, scenario, suite.budget, seed, suite, cache, log)
            baseline[(scenario, seed)] = policy
            ppo.train_seconds += seconds
            ppo.cached &= cached
            bar.advance()
    return populations, baseline


def _per_seat(players: list[CheckedPolicy]) -> Callable[[int, int], Any]:
    """The focal policy of an entry with one policy per seat (the submission), for :func:`evaluate_focal`."""
    return lambda seat, s: players[seat]


def _every_seat(policy: Any) -> Callable[[int, int], Any]:
    """The focal policy of an entry with one policy for every seat (shared PPO), for :func:`evaluate_focal`."""
    return lambda seat, s: policy


def _evaluate_scenario(suite: Suite, index: int, scenario: str, params: EnvParams, played_seeds: list[int],
                       seed_list: list[int], scripted: list[EntryResult],
                       learned: list[tuple[EntryResult, dict[tuple[str, int], Callable]]], population: list,
                       bar: ProgressBar) -> None:
    """Phase 3 of :func:`run_benchmark` on one scenario: every entry's focal evaluation, kept in its
    ``evaluations`` with its seconds. Scripted entries play every seed of ``played_seeds`` (the references need
    the suite's own seeds); each learned entry, with its focal policy by (scenario, seed), plays ``seed_list``."""
    for seed in played_seeds:
        for entry in scripted:
            bar.status(f"{entry.name} on {scenario} (seed {seed})")
            clock = time.perf_counter()
            entry.evaluations[(scenario, seed)] = evaluate_focal(
                lambda seat, s, stance=entry.name: load_policy(BASELINE_PREFIX + stance, params, seed=s), params,
                suite, index, seed, population)
            entry.eval_seconds += time.perf_counter() - clock
            bar.advance()
        if seed not in seed_list:
            continue
        for entry, focal in learned:
            bar.status(f"{entry.name} on {scenario} (seed {seed})")
            clock = time.perf_counter()
            entry.evaluations[(scenario, seed)] = evaluate_focal(focal[(scenario, seed)], params, suite, index, seed,
                                                                 population)
            entry.eval_seconds += time.perf_counter() - clock
            bar.advance()


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return float("nan")


# ---------------------------------------------------------------------------------------------------------
# Aggregation (rliable) and the output files


def import_rliable():
    """rliable's ``library`` and ``metrics`` modules.

    rliable pins ``arch<8``, and arch 7 calls pandas' private ``deprecate_kwarg`` with its pre-3.0
    signature; under pandas 3 the import fails. The old call is translated while arch is imported.
    """
    import inspect

    try:
        import pandas.util._decorators as decorators
    except ImportError:  # pragma: no cover - pandas is in the train extra
        decorators = None
    original = getattr(decorators, "deprecate_kwarg", None)
    if original is not None and next(iter(inspect.signature(original).parameters), None) != "klass":
        original = None  # pandas < 3: arch's call fits as it is

    def compatible(*args, **kwargs):
        if args and isinstance(args[0], str):  # arch 7: (old_arg_name, new_arg_name); pandas 3: (klass, old, new)
            args = (FutureWarning, *args)
        return original(*args, **kwargs)

    if original is not None:
        decorators.deprecate_kwarg = compatible
    try:
        from rliable import library, metrics
    except ImportError as error:
        raise BenchmarkError(f"sd-env benchmark needs rliable ({describe_exception(error)}); install it with: "
                             f"pip install 'sd-env[benchmark]'") from None
    finally:
        if original is not None:
            decorators.deprecate_kwarg = original
    return library, metrics


def aggregate(result: BenchmarkResult) -> dict[str, dict[str, float]]:
    """IQM and mean of the normalised scores over scenarios x seeds, with stratified-bootstrap 95% intervals."""
    library, metrics = import_rliable()
    scores = {entry.name: result.score_matrix(entry) for entry in result.entries}

    def both(matrix: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_iqm(matrix), metrics.aggregate_mean(matrix)])

    import warnings

    # rliable's stratified bootstrap draws its indices from NumPy's global generator (its random_state only
    # reaches arch), so the global generator is seeded for the call and given back as it was.
    saved = np.random.get_state()
    np.random.seed(0)
    try:
        with warnings.catch_warnings():  # arch deprecates the RandomState that rliable passes it
            warnings.simplefilter("ignore", FutureWarning)
            points, intervals = library.get_interval_estimates(
                scores, both, reps=result.suite.bootstrap_reps, random_state=np.random.RandomState(0))
    finally:
        np.random.set_state(saved)
    return {name: {"iqm": float(points[name][0]), "iqm_low": float(intervals[name][0, 0]),
                   "iqm_high": float(intervals[name][1, 0]), "mean": float(points[name][1]),
                   "mean_low": float(intervals[name][0, 1]), "mean_high": float(intervals[name][1, 1])}
            for name in scores}


def leaderboard_rows(result: BenchmarkResult) -> list[dict[str, Any]]:
    """One row per entry, best IQM first."""
    aggregates = aggregate(result)
    rows = []
    for entry in result.entries:
        row: dict[str, Any] = {"entry": entry.name, "kind": entry.kind, **aggregates[entry.name]}
        evaluations = [entry.evaluations[(scenario, seed)] for scenario in result.suite.scenarios
                       for seed in result.seeds]
        row["welfare"] = float(np.mean([entry.welfare(s, k) for s in result.suite.scenarios for k in result.seeds]))
        for measure in MEASURES:
            row[measure] = float(np.nanmean([np.nanmean(v[measure]) for e in evaluations for v in e.values()]))
        for scenario in result.suite.scenarios:
            row[f"score {scenario}"] = float(np.mean([result.normalized(entry, scenario, k) for k in result.seeds]))
        row["train_seconds"] = round(entry.train_seconds, 1)
        row["eval_seconds"] = round(entry.eval_seconds, 1)
        row["cached"] = entry.cached if entry.kind == TRAINED else ""
        rows.append(row)
    rows.sort(key=lambda row: -row["iqm"])
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def _interval(point: float, low: float, high: float) -> str:
    return (f"{format_number(point, **SCORE_TEXT)} [{format_number(low, **SCORE_TEXT)}, "
            f"{format_number(high, **SCORE_TEXT)}]")


def leaderboard_markdown(result: BenchmarkResult, rows: list[dict[str, Any]]) -> str:
    suite = result.suite
    lines = [
        f"Suite `{suite.name}`: {len(suite.scenarios)} scenarios x {len(result.seeds)} seeds, budget "
        f"{suite.budget:,} parallel steps, {suite.eval_episodes} evaluation episodes per background. "
        f"Command: `{result.command}` ({result.wall_seconds:.0f} s wall time in all, sd-env {__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores, load average {result.load[0]:.1f} at the "
        f"start and {result.load[1]:.1f} at the end).",
        "",
        "Score: focal welfare averaged over the backgrounds, normalised per scenario (0 = random, 1 = best "
        "scripted stance); IQM and mean over scenarios x seeds with stratified-bootstrap 95% intervals (rliable). "
        "Measures: mean over scenarios, seeds and backgrounds (military burden of the focal seats; war years and "
        "spiral-war years of the whole game). Seconds: training (all scenarios and seeds; cached PPO: as first "
        "trained) and evaluation.",
        *(["", f"**Warning:** {ONE_SEED}"] if len(result.seeds) == 1 else []),
        "",
        "| # | entry | kind | IQM [95% CI] | mean [95% CI] | welfare | military_burden | war_years | "
        "spiral_war_years | train s | eval s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cached = " (cached)" if row["cached"] is True else ""
        lines.append(
            f"| {row['rank']} | {row['entry']} | {row['kind']} | "
            f"{_interval(row['iqm'], row['iqm_low'], row['iqm_high'])} | "
            f"{_interval(row['mean'], row['mean_low'], row['mean_high'])} | {row['welfare']:.1f} | "
            f"{row['military_burden']:.3f} | {row['war_years']:.3f} | {row['spiral_war_years']:.3f} | "
            f"{row['train_seconds']:.1f}{cached} | {row['eval_seconds']:.1f} |")
    lines += ["", "Mean normalised score per scenario (over seeds), and the references:", "",
              "| entry | " + " | ".join(suite.scenarios) + " |", "|---|" + "---|" * len(suite.scenarios)]
    for row in rows:
        lines.append(f"| {row['entry']} | " + " | ".join(format_number(row['score ' + s], **SCORE_TEXT)
                                                         for s in suite.scenarios) + " |")
    lines.append("| *0 = random (welfare)* | " + " | ".join(f"{result.references[s][0]:.1f}"
                                                          for s in suite.scenarios) + " |")
    lines.append("| *1 = best scripted (welfare)* | " + " | ".join(
        f"{result.references[s][2]} {result.references[s][1]:.1f}" for s in suite.scenarios) + " |")
    return "\n".join(lines) + "\n"


def _finite(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def marl_eval_json(result: BenchmarkResult) -> dict[str, Any]:
    """The marl-eval raw-data format: ``{env: {task: {algorithm: {run: {step_k: {...}, absolute_metrics}}}}}``.

    One logging step (``step_0``, ``step_count`` = parallel steps trained) and ``absolute_metrics`` holding
    the same final evaluation: per-episode focal ``return``, ``score`` (the return normalised as on the
    leaderboard) and the measures, every background's episodes in the suite's order (each background has the
    same number of episodes, so a list's mean is the background average the leaderboard uses).
    """
    data: dict[str, Any] = {}
    for scenario in result.suite.scenarios:
        low, high, _ = result.references[scenario]
        task = data.setdefault(scenario, {})
        for entry in result.entries:
            runs = task.setdefault(entry.name, {})
            for seed in result.seeds:
                evaluation = entry.evaluations[(scenario, seed)]
                welfare = np.concatenate([evaluation[b]["welfare"] for b in result.suite.backgrounds])
                metrics = {"return": _finite(welfare), "score": _finite((welfare - low) / (high - low))}
                for measure in MEASURES:
                    metrics[measure] = _finite(np.concatenate([evaluation[b][measure]
                                                               for b in result.suite.backgrounds]))
                runs[f"seed_{seed}"] = {"step_0": {"step_count": entry.step_count, **metrics},
                                        "absolute_metrics": metrics}
    return {"sd-env": data}


def scores_table(result: BenchmarkResult):
    """Every evaluation, one row per (entry, scenario, seed, background)."""
    import pandas as pd

    records = []
    for entry in result.entries:
        for (scenario, seed), evaluation in entry.evaluations.items():
            low, high, _ = result.references[scenario]
            for background, values in evaluation.items():
                welfare = float(values["welfare"].mean())
                records.append({"entry": entry.name, "kind": entry.kind, "scenario": scenario, "seed": seed,
                                "background": background, "episodes": int(values["welfare"].size),
                                "welfare": welfare, "normalized": (welfare - low) / (high - low),
                                **{m: float(np.nanmean(values[m])) for m in MEASURES}})
    return pd.DataFrame.from_records(records)


def plot_scores(result: BenchmarkResult, rows: list[dict[str, Any]], path: Path) -> None:
    """IQM and mean with their 95% intervals per entry (left), mean score per scenario (right)."""
    from matplotlib.figure import Figure

    names = [row["entry"] for row in rows][::-1]
    by_name = {row["entry"]: row for row in rows}
    scenarios = result.suite.scenarios
    figure = Figure(figsize=(12, 0.45 * len(names) + 1.8), layout="tight")
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    y = np.arange(len(names))
    for offset, key, label in ((0.15, "iqm", "IQM"), (-0.15, "mean", "mean")):
        points = np.array([by_name[n][key] for n in names])
        errors = np.array([[by_name[n][key] - by_name[n][f"{key}_low"], by_name[n][f"{key}_high"] - by_name[n][key]]
                           for n in names]).T
        left.errorbar(points, y + offset, xerr=errors, fmt="o", capsize=3, label=label)
    left.axvline(0, color="grey", linewidth=0.8)
    left.axvline(1, color="grey", linewidth=0.8, linestyle="--")
    left.set_yticks(y, names)
    left.set_xlabel("normalised score (0 = random, 1 = best scripted)")
    left.set_title(f"sd-env benchmark, suite {result.suite.name} (95% CIs)")
    left.legend(loc="lower right")
    matrix = np.array([[by_name[n][f"score {s}"] for s in scenarios] for n in names])
    image = right.imshow(matrix, aspect="auto", cmap="viridis", origin="lower")
    right.set_xticks(range(len(scenarios)), scenarios, rotation=30, ha="right")
    right.set_yticks(y, names)
    for (i, j), value in np.ndenumerate(matrix):
        right.text(j, i, format_number(value, **SCORE_TEXT), ha="center", va="center", fontsize=8,
                   color="white" if value < matrix.mean() else "black")
    right.set_title("mean score per scenario")
    figure.colorbar(image, ax=right)
    save_figure(figure, path)


def write_outputs(result: BenchmarkResult, output: str | os.PathLike) -> dict[str, Path]:
    """Write the leaderboard (CSV, Markdown), scores.csv, marl_eval.json, scores.png and benchmark.json."""
    import pandas as pd

    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    rows = leaderboard_rows(result)
    columns = ["rank", "entry", "kind", "iqm", "iqm_low", "iqm_high", "mean", "mean_low", "mean_high", "welfare",
               *MEASURES, *[f"score {s}" for s in result.suite.scenarios], "train_seconds", "eval_seconds", "cached"]
    paths = {name: folder / name for name in ("leaderboard.csv", "leaderboard.md", "scores.csv", "marl_eval.json",
                                              "scores.png", "benchmark.json")}
    write_text_atomic(paths["leaderboard.csv"], pd.DataFrame(rows)[columns].to_csv(index=False))
    write_text_atomic(paths["leaderboard.md"], leaderboard_markdown(result, rows))
    write_text_atomic(paths["scores.csv"], scores_table(result).to_csv(index=False))
    write_text_atomic(paths["marl_eval.json"], json.dumps(marl_eval_json(result), allow_nan=False) + "\n")
    plot_scores(result, rows, paths["scores.png"])
    from sd_env.experiments.training.train import package_versions

    meta = {"suite": result.suite.to_dict(), "seeds": result.seeds, "command": result.command,
            "wall_seconds": round(result.wall_seconds, 1), "load_average": list(result.load),
            "references": {s: {"random": r[0], "best_scripted": r[1], "best_scripted_stance": r[2]}
                          for s, r in result.references.items()},
            "versions": package_versions(), "machine": {"platform": platform.platform(), "cores": os.cpu_count()}}
    write_text_atomic(paths["benchmark.json"], json.dumps(meta, indent=2, default=str) + "\n")
    return paths


def leaderboard_block_name(suite: str) -> str:
    return f"benchmark-{suite}-leaderboard"


def suites_markdown() -> str:
    """The suite definitions as a Markdown table (docs/benchmark.md's generated block)."""
    fields = [("scenarios", lambda s: ", ".join(f"`{x}`" for x in s.scenarios)),
              ("budget (parallel steps per scenario and seed)", lambda s: f"{s.budget:,}"),
              ("seeds", lambda s: f"{s.seeds} (0..{s.seeds - 1})"),
              ("evaluation episodes per background", lambda s: str(s.eval_episodes)),
              ("backgrounds", lambda s: ", ".join(f"`{x}`" for x in s.backgrounds)),
              ("PPO population (members x parallel steps)", lambda s: f"{s.population} x {s.population_budget:,}"),
              ("scripted entries", lambda s: ", ".join(f"`{x}`" for x in s.scripted)),
              ("PPO vector environment", lambda s: f"{s.ppo_envs} games"),
              ("bootstrap resamples", lambda s: f"{s.bootstrap_reps:,}"),
              ("purpose", lambda s: s.description)]
    names = list(SUITES)
    lines = ["Generated from `sd_env.experiments.studies.benchmark.SUITES` by `python -m sd_env.experiments.studies.benchmark --write-docs`.", "",
             "| | " + " | ".join(f"`{n}`" for n in names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {label} | " + " | ".join(show(SUITES[n]) for n in names) + " |" for label, show in fields]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from sd_env.experiments.output.blocks import update_blocks

    parser = argparse.ArgumentParser(prog="python -m sd_env.experiments.studies.benchmark", description=__doc__.split("\n")[0])
    parser.add_argument("--write-docs", action="store_true", help="write the suite table into docs/benchmark.md")
    parser.add_argument("--check", action="store_true", help="with --write-docs: write nothing, exit 1 if stale")
    parser.add_argument("--doc", default=str(DOCS), help="the document (default: docs/benchmark.md)")
    args = parser.parse_args(argv)
    if not args.write_docs:
        parser.print_help()
        return 0
    stale = update_blocks(args.doc, {SUITES_BLOCK: suites_markdown()}, check=args.check)
    if args.check and stale:
        print(f"{args.doc}: stale block(s) {', '.join(stale)}; run python -m sd_env.experiments.studies.benchmark --write-docs",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
