"""The ``sd-env`` command line: the only module that knows the flags.

Each command is an ``add_<command>`` function that declares its options, next to the ``run_<command>``
function that calls the library. Every user error (:class:`sd_env.errors.SdEnvError`: a bad parameter, an
unknown scenario, a malformed ``--set``, a file that cannot be read) ends in one line on standard error and
exit code 2; where the library names the argument that was wrong, the line names its flag. Anything else
is a bug and reaches the user with its traceback.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sd_env.errors import SdEnvError
from sd_env.scenarios import SCENARIOS, make_params

EXIT_USAGE = 2
#: Defaults of ``sd-env scenarios --describe``: episodes per seat and cell of the predictions, and their seed.
SCENARIO_CARD_EPISODES, SCENARIO_CARD_SEED = 100, 0
#: What a policy spec may be, for the help of evaluate, crossplay and exploit.
SPECS_HELP = ("baseline:NAME, PATH.zip, an RLlib checkpoint or run directory, or module.path:factory "
              "(see sd_env/experiments/lab/specs.py; a spec runs code: load only what you trust)")
#: Commands that load policy files or specs, and so take ``--trust-policy-files``.
POLICY_COMMANDS = ("dilemma", "train", "evaluate", "crossplay", "exploit", "sweep", "benchmark")
#: Packages of the extras: a command that misses one of these says which extra to install.
EXTRA_PACKAGES = {"stable_baselines3": "train", "torch": "train", "pandas": "train", "yaml": "train",
                  "rich": "train", "tqdm": "train", "tensorboard": "train", "matplotlib": "train",
                  "ray": "rllib", "rliable": "benchmark", "benchmarl": "benchmarl", "torchrl": "benchmarl"}


# ---------------------------------------------------------------------------------------------------------
# Shared helpers


def whole_number(text: str, minimum: int) -> int:
    """``text`` as a whole number >= ``minimum``, or the ``argparse.ArgumentTypeError`` that says so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (counts, budgets)."""
    return whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number >= 0 (seeds)."""
    return whole_number(text, 0)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, as every other error of the command line, naming ``--help``."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_assignments(assignments: Sequence[str]) -> dict[str, Any]:
    """``["key=value", ...]`` to a dict, values read as YAML (numbers, booleans, lists), as ``--set`` of train."""
    from sd_env.experiments.training.config import apply_override

    result: dict[str, Any] = {}
    for item in assignments:
        apply_override(result, item)
    return result


def check_output_files(*options: tuple[str, str | None, str]) -> None:
    """Each ``(flag, path, example)``, before any work: a file option names a file in a folder that exists (no
    folder is created behind the user's back), and a figure's extension names a format it can be written in."""
    from sd_env.experiments.output.figures import figure_format

    for flag, path, example in options:
        if not path:
            continue
        if Path(path).is_dir():
            raise SdEnvError(f"{flag} {path!r} is a folder; give the path of a file to write, e.g. {example}")
        folder = Path(path).parent
        if not folder.is_dir():
            raise SdEnvError(f"{flag} {path!r}: the folder {str(folder)!r} does not exist; create it first, or give a "
                             f"path in an existing folder")
        if flag == "--plot":
            try:
                figure_format(path)
            except SdEnvError as error:
                raise SdEnvError(f"--plot {path!r}: give a .png, .pdf or .svg file (the extension picks the "
                                 f"format), e.g. {example}") from error


def write_json(path: str | None, data: Any) -> None:
    """Write ``data`` to the ``--json`` file ``path`` (if given), atomically, and say so."""
    if path:
        from sd_env.experiments.output.files import write_json_atomic

        write_json_atomic(path, data)
        print(f"\nwrote {path}")


def add_play_options(command: argparse.ArgumentParser) -> None:
    """The options of the commands that play policies (evaluate, crossplay, exploit), the same everywhere: the
    world (``--scenario``, ``--set``, ``--force``), how learned policies act, episodes, seed and ``--json``."""
    command.add_argument("--scenario", default=None,
                         help="named scenario (default: the one the policies were trained in, read from their run "
                              "directory or checkpoint; bilateral for policies of any world)")
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    command.add_argument("--force", action="store_true",
                         help="play the policies in the world --scenario and --set name even where they were trained "
                              "in another")
    command.add_argument("--actions", choices=("stochastic", "deterministic"), default="stochastic",
                         help="how learned policies act: sampled as trained, from a seeded stream (default), or "
                              "their most likely action; scripted stances act by their own rule either way")
    command.add_argument("--episodes", type=int, default=100,
                         help="evaluation episodes (per focal seat and cell) (default: %(default)s)")
    command.add_argument("--seed", type=non_negative_int, default=0, help="seed of every draw (default: %(default)s)")
    command.add_argument("--json", metavar="OUT", help="also write the results to this JSON file")
    command.set_defaults(parameter_flags={"force": "--force"})


def add_no_progress(command: argparse.ArgumentParser) -> None:
    """``--no-progress``, the same on every command with a long loop (evaluate, crossplay, exploit, sweep,
    benchmark): without it the loop shows a progress bar on standard error
    (:mod:`sd_env.experiments.output.progress`), which changes no result, file or standard output."""
    command.add_argument("--no-progress", action="store_true", help="no progress bar")


def policy_world(args: argparse.Namespace, specs: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The world the policies ``specs`` play in (``sd_env.experiments.lab.worlds.resolve_world``)."""
    from sd_env.experiments.lab.worlds import resolve_world, spec_worlds

    return resolve_world(spec_worlds(specs), args.scenario, parse_assignments(args.set), args.force)


def command_line(args: argparse.Namespace, command: str, options: Sequence[tuple[str, Any]],
                 positional: Sequence[str] = ()) -> str:
    """``sd-env COMMAND ...`` as it was typed, for provenance lines: the given options only."""
    parts = [command, *positional]
    for flag, value in options:
        if value is None or value is False:
            continue
        parts += [flag] if value is True else [flag, *(value if isinstance(value, list) else [str(value)])]
    return "sd-env " + shlex.join(parts)


# ---------------------------------------------------------------------------------------------------------
# sd-env scenarios, params, dilemma


def add_scenarios(commands) -> None:
    scenarios = commands.add_parser(
        "scenarios", help="list the named scenarios, one line each, or describe one (--describe NAME)",
        description="List the named scenarios, one line each. With --describe NAME print that scenario's card: "
                    "whom its seats stand for, every value it sets with its unit and reason, its cases, what the "
                    "model predicts there for fixed stances, and its sources (docs/scenarios.md has every card).")
    scenarios.add_argument("--describe", metavar="NAME", help="print the card of scenario NAME")
    scenarios.add_argument("--episodes", type=int,
                           help=f"episodes per seat and cell of the card's predictions (default: {SCENARIO_CARD_EPISODES})")
    scenarios.add_argument("--seed", type=non_negative_int,
                           help=f"seed of the card's predictions (default: {SCENARIO_CARD_SEED})")
    scenarios.set_defaults(handler=run_scenarios)


def run_scenarios(args: argparse.Namespace) -> int:
    if args.describe is not None:
        from sd_env.experiments.reporting.scenario_cards import scenario_card

        episodes = SCENARIO_CARD_EPISODES if args.episodes is None else args.episodes
        seed = SCENARIO_CARD_SEED if args.seed is None else args.seed
        print(scenario_card(args.describe, episodes=episodes, seed=seed))
        return 0
    if args.episodes is not None or args.seed is not None:
        raise SdEnvError("--episodes and --seed set the predictions of a card; give them with --describe NAME")
    width = max(len(name) for name in SCENARIOS)
    for name, scenario in SCENARIOS.items():
        print(f"{name:<{width}}  {scenario.summary}")
    return 0


def add_params(commands) -> None:
    params = commands.add_parser("params", help="list every model parameter: default, allowed values, meaning")
    params.add_argument("--json", action="store_true",
                        help='print {"parameters": [{name, default, low, high, low_inclusive, high_inclusive, unit, '
                             'description}]} instead')
    params.set_defaults(handler=run_params)


def run_params(args: argparse.Namespace) -> int:
    import json

    from sd_env.params import parameter_records, parameter_table_text

    if args.json:
        print(json.dumps({"parameters": parameter_records()}, indent=2))
    else:
        print("Every parameter of the model: name, default, allowed values, meaning (docs/model.md has the "
              "equations).\nScenarios override defaults (sd-env scenarios); --set KEY=VALUE overrides both.\n")
        print(parameter_table_text())
    return 0


def add_dilemma(commands) -> None:
    dilemma = commands.add_parser(
        "dilemma", help="print the payoff table of fixed stances (restraint, defensive, offensive arming)"
    )
    dilemma.add_argument("--scenario", default="bilateral", help="named scenario (see `sd-env scenarios`)")
    dilemma.add_argument(
        "--stances", default="dove,defender,hawk",
        help="comma-separated scripted policies, or GREEDY/SEEKER pairs such as hawk/dove (default: %(default)s)"
    )
    dilemma.add_argument("--episodes", type=int, default=200, help="episodes per focal seat and cell")
    dilemma.add_argument("--seed", type=non_negative_int, default=0)
    dilemma.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    dilemma.add_argument("--json", metavar="OUT", help="also write the tables (pooled and by type) to this JSON file")
    dilemma.set_defaults(handler=run_dilemma)


def run_dilemma(args: argparse.Namespace) -> int:
    from sd_env.experiments.lab.dilemma import TYPE_KEYS, dilemma_tables
    from sd_env.stances import make_policy

    params = make_params(args.scenario, **parse_assignments(args.set))
    stances = [s.strip() for s in args.stances.split(",") if s.strip()]
    check_output_files(("--json", args.json, "tables.json"))
    for stance in stances:
        make_policy(stance, params)  # an unknown stance fails here, before any episode is played
    result = dilemma_tables(params, stances=stances, episodes=args.episodes, seed=args.seed, scenario=args.scenario)
    print(f"Mean episode return, scenario {args.scenario!r}, {args.episodes} episodes per seat, seed {args.seed}")
    print("(rows: own stance; columns: stance of every rival; GREEDY/SEEKER stances play by their own type)")
    titles = {"all": "every focal state", "security_seeker": "focal state a security seeker",
              "greedy": "focal state greedy"}
    for key in TYPE_KEYS:
        table = result.tables[key]
        print(f"\n{titles[key]}:")
        if table is None:
            print(f"  (no {key.replace('_', ' ')} occurred: greedy_prior is {params.greedy_prior:g})")
            continue
        print(table.to_text())
        if {"dove", "hawk"} <= set(stances) and not table.mean.isna().to_numpy().any():
            verdict = "yes" if table.is_security_dilemma("dove", "hawk") else "no"
            print(f"security dilemma (hawk best response to dove and to hawk, hawk-hawk worse than dove-dove): "
                  f"{verdict}")
            gap = table.no_good_policy()
            print(f"no good policy against a hawk (dove exposed, best response {gap['best_against_arming']} "
                  f"still {gap['gap']:.2f} below dove-dove): {'yes' if gap['holds'] else 'no'}")
            print("best responses: " + ", ".join(f"to {c}: {table.best_response(c)}" for c in stances))
    write_json(args.json, result.to_json())
    return 0


# ---------------------------------------------------------------------------------------------------------
# sd-env train, quickstart


def add_train(commands) -> None:
    train = commands.add_parser("train", help="train agents from a YAML experiment config")
    train.add_argument("--config", help="YAML config (see experiments/configs/); defaults apply without one")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config field, dotted for nested ones (ppo.learning_rate=1e-3)")
    train.add_argument("--resume", action="store_true", help="continue the run from its last checkpoint")
    train.add_argument("--output-dir", help="folder for run directories (overrides output_dir)")
    train.add_argument("--ray-address", help="address of an existing Ray cluster (backend: rllib)")
    train.set_defaults(handler=run_train, interrupted="the run keeps its last checkpoint: continue it with the "
                                                      "same command and --resume")


def run_train(args: argparse.Namespace) -> int:
    from sd_env.experiments.training.config import load_config
    from sd_env.experiments.training.train import train

    overrides = list(args.set)
    if args.output_dir is not None:
        overrides.append(f"output_dir={args.output_dir}")
    config = load_config(args.config, overrides)
    metrics = train(config, resume=args.resume, ray_address=args.ray_address)
    print(f"run directory: {config.run_dir}")
    print(f"agent-steps: {metrics['timesteps']}, training time: {metrics['training_seconds']} s")
    evaluation = metrics.get("evaluation")
    if evaluation:
        import pandas as pd

        from sd_env.experiments.training.final_metrics import COLUMNS

        print("\nEvaluation of the learned policy as state_0 (welfare = mean episode return; learned actions "
              f"{'sampled' if metrics.get('actions') == 'stochastic' else 'most likely'}; every measure is in "
              "metrics.json):\n")
        print(pd.DataFrame(evaluation).T[COLUMNS].astype(float).round(3).to_string())
    return 0


def add_quickstart(commands) -> None:
    quickstart = commands.add_parser("quickstart", help="the main job: a short run that shows what the model does")
    quickstart.add_argument("--scenario", default="bilateral", help="named scenario (default: %(default)s)")
    quickstart.add_argument("--seed", type=non_negative_int, default=0)
    quickstart.add_argument("--timesteps", type=positive_int, help="agent-steps of training (default: the quickstart config's)")
    quickstart.add_argument("--output-dir", default="runs", help="folder for the run directory (default: %(default)s)")
    quickstart.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                            help="override an environment parameter")
    quickstart.set_defaults(handler=run_quickstart, interrupted="the run keeps its last checkpoint: the same "
                                                                "command again resumes it")


def run_quickstart(args: argparse.Namespace) -> int:
    from sd_env.experiments.studies.quickstart import quickstart

    print(quickstart(scenario=args.scenario, seed=args.seed, timesteps=args.timesteps, output_dir=args.output_dir,
                     overrides=args.set, log=lambda text: print(text, flush=True)))
    return 0


# ---------------------------------------------------------------------------------------------------------
# sd-env history


def add_history(commands) -> None:
    history = commands.add_parser(
        "history", help="find mutual military buildups in historical rivalries (COW data) and score them"
    )
    history.add_argument("--nmc", required=True, metavar="FILE",
                         help="COW National Material Capabilities CSV (NMC-70-abridged.csv, correlatesofwar.org)")
    history.add_argument("--rivalries", required=True, metavar="FILE",
                         help="strategic rivalries CSV: ccode1,ccode2,styear,endyear (Thompson & Dreyer 2012)")
    history.add_argument("--races", metavar="FILE",
                         help="arms races to score against: race_id,ccode1,ccode2,styear,endyear (GRH 2005)")
    history.add_argument("--wars", metavar="FILE",
                         help="COW inter-state war dyad-years CSV: war onsets after buildups vs other rivalry-years")
    history.add_argument("--growth", type=float, default=0.08,
                         help="yearly growth that counts as arming, relative (default: %(default)s = 8%%)")
    history.add_argument("--years", type=int, default=3,
                         help="consecutive years of mutual arming (default: %(default)s)")
    history.add_argument("--rule", choices=("either", "same"), default="either",
                         help="either: a side arms when its milex or its milper grows (default); same: both sides "
                              "in the same series")
    history.add_argument("--tolerance", type=int, default=2,
                         help="years by which a listed race's dates are widened on each side (default: %(default)s)")
    history.add_argument("--list-years", metavar="FIRST-LAST",
                         help="years the race list covers; buildups outside them do not count in precision "
                              "(GRH 2005: 1816-1993)")
    history.add_argument("--war-years", type=int, default=5,
                         help="years after a buildup in which a war onset counts (default: %(default)s)")
    history.add_argument("--richardson", action="extend", nargs="+", default=[], metavar="SPEC",
                         help="Richardson fits of two blocs, BLOC:BLOC@FIRST-LAST[/milper] with COW codes joined "
                              "by +, e.g. 220+365:255+300@1909-1913")
    history.add_argument("--filter", choices=("reaction", "system", "war", "response"), default="reaction",
                         help="interdependence filter reported as `filtered`: reaction (Richardson k > 0 and l > 0, "
                              "the default), system (growth beyond the median state's; the primary), war (not mostly "
                              "war with a third party; needs --wars), response (each side's growth beyond the "
                              "system answers the other's); see docs/history.md")
    history.add_argument("--show", type=int, default=10, help="unlisted buildups to print (default: %(default)s)")
    history.add_argument("--json", metavar="OUT", help="also write the whole report to this JSON file")
    history.set_defaults(handler=run_history, parameter_flags={"filter_name": "--filter", "races_path": "--races",
                                                               "wars_path": "--wars"})


def run_history(args: argparse.Namespace) -> int:
    from sd_env.experiments.history.report import history_text, parse_years, run_history as history

    check_output_files(("--json", args.json, "history.json"))
    if args.show < 0:
        raise SdEnvError(f"--show must be a number of buildups >= 0, got {args.show}")
    list_years = None if args.list_years is None else parse_years(args.list_years, parameter="list_years")
    report = history(
        args.nmc, args.rivalries, races_path=args.races, wars_path=args.wars, growth=args.growth, years=args.years,
        tolerance=args.tolerance, rule=args.rule, list_years=list_years, war_years=args.war_years,
        richardson=args.richardson, filter_name=args.filter,
    )
    print(history_text(report, show=args.show))
    write_json(args.json, report)
    return 0


# ---------------------------------------------------------------------------------------------------------
# sd-env evaluate, crossplay, exploit


def add_evaluate(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="play a policy against an opponent and print every measure with its interval",
        description="Play the focal policy in state_0 (every seat in turn in an asymmetric scenario) against the "
                    "opponent in every other seat, and print every episode measure of the registry with its "
                    f"bootstrap interval. Policies: {SPECS_HELP}.")
    evaluate.add_argument("--policy", required=True, metavar="SPEC", help="the focal policy")
    evaluate.add_argument("--opponent", metavar="SPEC", help="the policy of every other seat (default: the focal one)")
    add_play_options(evaluate)
    evaluate.add_argument("--every-seat", action="store_true",
                          help="play the focal policy in every seat in turn even in a symmetric scenario")
    evaluate.add_argument("--plot", metavar="FILE",
                          help="also draw a figure to this file (PNG, PDF or SVG, by its extension)")
    evaluate.add_argument("--save-trajectories", metavar="FILE",
                          help="write the episodes (.npz, sd_env.experiments.lab.rollout.load_rollout); with several "
                               "focal seats one file per seat, FILE's stem + .state_S")
    evaluate.add_argument("--render", choices=("ansi",), help="print the first episode year by year as text")
    add_no_progress(evaluate)
    evaluate.set_defaults(handler=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    from sd_env.experiments.lab.evaluation import evaluate
    from sd_env.experiments.lab.rollout import save_rollout
    from sd_env.experiments.output.figures import save_figure
    from sd_env.experiments.reporting.evaluation_figures import evaluation_figure
    from sd_env.experiments.reporting.evaluation_text import episode_text, evaluation_text, seat_labels, \
        trajectory_paths

    check_output_files(("--json", args.json, "evaluation.json"), ("--plot", args.plot, "evaluation.png"),
                       ("--save-trajectories", args.save_trajectories, "trajectories.npz"))
    scenario, overrides = policy_world(args, [args.policy, args.opponent or args.policy])
    params = make_params(scenario, **overrides)
    result = evaluate(params, args.policy, args.opponent, episodes=args.episodes, seed=args.seed,
                      scenario=scenario, overrides=overrides, every_seat=args.every_seat, actions=args.actions,
                      progress=not args.no_progress)
    print(evaluation_text(result))
    if args.render == "ansi":
        game = result.games[0]
        print()
        print(episode_text(game.result, seat_labels(params.n_states, game.seat, result.policy, result.opponent)))
    write_json(args.json, result.to_json())
    if args.save_trajectories:
        paths = trajectory_paths(args.save_trajectories, result.seats)
        for game in result.games:
            save_rollout(paths[game.seat], game.result)
        print(f"wrote {', '.join(str(path) for path in paths.values())} (sd_env.experiments.lab.rollout.load_rollout "
              f"reads {'it' if len(paths) == 1 else 'them'})")
    if args.plot:
        save_figure(evaluation_figure(result), args.plot)
        print(f"wrote {args.plot}")
    return 0


def add_crossplay(commands) -> None:
    crossplay = commands.add_parser(
        "crossplay", help="every policy against every other: tables and heat maps of welfare, burden, war",
        description="Play every policy as the focal one (state_0, or every seat in turn in an asymmetric "
                    f"scenario) against every policy in the other seats. Policies: {SPECS_HELP}.")
    crossplay.add_argument("--policies", required=True, nargs="+", metavar="SPEC", help="the policies")
    add_play_options(crossplay)
    crossplay.add_argument("--every-seat", action="store_true",
                           help="play the focal policy in every seat in turn even in a symmetric scenario")
    crossplay.add_argument("--plot", metavar="FILE",
                           help="also draw a figure to this file (PNG, PDF or SVG, by its extension)")
    add_no_progress(crossplay)
    crossplay.set_defaults(handler=run_crossplay)


def run_crossplay(args: argparse.Namespace) -> int:
    from sd_env.experiments.lab.evaluation import crossplay
    from sd_env.experiments.output.figures import save_figure
    from sd_env.experiments.reporting.evaluation_figures import crossplay_figure
    from sd_env.experiments.reporting.evaluation_text import crossplay_text

    check_output_files(("--json", args.json, "crossplay.json"), ("--plot", args.plot, "crossplay.png"))
    scenario, overrides = policy_world(args, args.policies)
    params = make_params(scenario, **overrides)
    result = crossplay(params, args.policies, episodes=args.episodes, seed=args.seed, scenario=scenario,
                       overrides=overrides, every_seat=args.every_seat, actions=args.actions,
                       progress=not args.no_progress)
    print(crossplay_text(result))
    write_json(args.json, result.to_json())
    if args.plot:
        save_figure(crossplay_figure(result), args.plot)
        print(f"wrote {args.plot}")
    return 0


def add_exploit(commands) -> None:
    exploit = commands.add_parser(
        "exploit", help="train a best response (PPO) to a frozen policy and report how much more it earns",
        description="Train PPO in one seat (state_0 unless --seat says otherwise) for --budget agent-steps "
                    "against the frozen policy in every other seat, then report, on held-out episodes, that seat's "
                    "welfare with the best response minus its welfare when the policy plays itself. Policies: "
                    f"{SPECS_HELP}.")
    frozen = exploit.add_mutually_exclusive_group(required=True)
    frozen.add_argument("--policy", metavar="SPEC", help="the frozen policy")
    frozen.add_argument("--sweep", metavar="DIR",
                        help="instead of one policy: every finished training run of this sweep folder, each in its "
                             "own world and focal seats; reports kept in DIR/exploitability/ (a rerun measures only "
                             "what is missing), the table in DIR/exploitability.csv, shown by sd-env report")
    exploit.add_argument("--every-seat", action="store_true",
                         help="with --sweep: measure every seat even in a symmetric world (default: seat 0 there)")
    exploit.add_argument("--cells", metavar="I,J,...",
                         help="with --sweep: only the runs of these cells (default: every cell)")
    exploit.add_argument("--budget", required=True, type=int, metavar="STEPS", help="agent-steps of training")
    exploit.add_argument("--seat", type=int, default=0, metavar="I",
                         help="the seat the best response plays (default: %(default)s); in an asymmetric scenario "
                              "each seat's exploitability differs")
    add_play_options(exploit)
    exploit.add_argument("--save-best-response", metavar="ZIP", help="save the trained best response (SB3 .zip)")
    add_no_progress(exploit)
    exploit.set_defaults(handler=run_exploit)


def run_exploit(args: argparse.Namespace) -> int:
    from sd_env.experiments.reporting.evaluation_text import exploit_text
    from sd_env.experiments.studies.exploit import exploit

    if args.sweep is not None:
        return _exploit_sweep(args)
    if args.every_seat or args.cells is not None:
        flag = "--every-seat" if args.every_seat else "--cells"
        raise SdEnvError(f"{flag} goes with --sweep; with --policy give the one policy (and its seat with --seat)")
    check_output_files(("--json", args.json, "exploit.json"),
                       ("--save-best-response", args.save_best_response, "best_response.zip"))
    scenario, overrides = policy_world(args, [args.policy])
    params = make_params(scenario, **overrides)
    report, seconds = exploit(params, args.policy, args.budget, seed=args.seed, episodes=args.episodes,
                              scenario=scenario, overrides=overrides, save_best_response=args.save_best_response,
                              seat=args.seat, actions=args.actions, progress=not args.no_progress)
    print(exploit_text(report, seconds))
    write_json(args.json, report)
    if args.save_best_response:
        again = ["sd-env", "evaluate", "--policy", args.save_best_response, "--opponent", args.policy]
        print(f"wrote {args.save_best_response} (evaluate it: {shlex.join(again)})")
    return 0


def _exploit_sweep(args: argparse.Namespace) -> int:
    """``sd-env exploit --sweep DIR``: every finished training run of a sweep, in its own world."""
    from sd_env.experiments.studies.exploit import GATE, exploit_sweep

    refused = [flag for flag, value in (("--seat", args.seat != 0), ("--scenario", args.scenario is not None),
                                        ("--set", bool(args.set)), ("--force", args.force), ("--json", args.json),
                                        ("--save-best-response", args.save_best_response)) if value]
    if refused:
        raise SdEnvError(f"{refused[0]} does not go with --sweep: each run plays in the world it was trained in, "
                         "in its focal seats (--every-seat for all), and its report is kept in DIR/exploitability/")
    cells = None
    if args.cells is not None:
        try:
            cells = [int(part) for part in args.cells.split(",")]
        except ValueError:
            raise SdEnvError(f"--cells must be cell numbers separated by commas, e.g. 0,1,2; got {args.cells!r}") from None
    table = exploit_sweep(args.sweep, args.budget, seed=args.seed, episodes=args.episodes, actions=args.actions,
                          every_seat=args.every_seat, cells=cells, bar=not args.no_progress)
    within = int(table["equilibrium"].sum())
    print(f"{within} of {len(table)} run-seats are within {GATE:.0%} of mutual restraint's return for every type "
          "(a trained best response is a lower bound on the true gain)")
    return 0


# ---------------------------------------------------------------------------------------------------------
# sd-env sweep, report, benchmark


def add_sweep(commands) -> None:
    sweep = commands.add_parser(
        "sweep", help="run a grid of environment parameters x seeds (trained or fixed policies) into one table",
        description="Run every cell of a sweep config (grid x seeds), training or playing fixed policies, and "
                    "write OUTPUT/NAME/results.csv with every measure. Rerunning a killed sweep finishes the "
                    "missing rows and redoes none.")
    sweep.add_argument("--config", required=True, help="sweep config (YAML): name, scenario, grid, seeds, "
                                                       "train or policies, eval_episodes")
    sweep.add_argument("--output-dir", default="sweeps", help="folder of sweeps (default: sweeps)")
    sweep.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="local worker processes (default) or Ray tasks")
    sweep.add_argument("--workers", type=positive_int, default=None,
                       help="parallel cells (default: every core); with Ray, the CPUs of the local Ray")
    sweep.add_argument("--ray-address", default=None, help="address of a running Ray cluster (with --executor ray)")
    sweep.add_argument("--format", choices=("csv", "parquet"), default="csv", help="results table format")
    add_no_progress(sweep)
    sweep.add_argument("--report", nargs="?", const="", default=None, metavar="FILE.md",
                       help="when the sweep is complete, write its report (sd-env report) to FILE.md, "
                            "or to OUTPUT/NAME/report.md without a file")
    sweep.set_defaults(handler=run_sweep, parameter_flags={"fmt": "--format"},
                       interrupted="finished rows are kept: the same command again computes only the missing ones")


def run_sweep(args: argparse.Namespace) -> int:
    from sd_env.experiments.studies.sweep import load_sweep_config, run_sweep as sweep, sweep_summary

    if args.ray_address and args.executor != "ray":
        raise SdEnvError("--ray-address needs --executor ray")
    check_output_files(("--report", args.report, "report.md"))
    config = load_sweep_config(args.config)
    started = time.perf_counter()
    table = sweep(config, args.output_dir, executor=args.executor, workers=args.workers,
                  ray_address=args.ray_address, fmt=args.format, progress=not args.no_progress)
    folder = Path(args.output_dir) / config.name
    print(f"sweep {config.name!r}: {len(table)} rows ({len(config.cells())} cells x {len(config.seeds)} seeds) "
          f"in {folder}/results.{args.format}; this call took {time.perf_counter() - started:.1f} s")
    print("\nMean over seeds (every measure is in the results table):\n")
    print(sweep_summary(table, config).round(3).to_string(index=False))
    if args.report is not None:
        from sd_env.experiments.reporting.report import build_report

        command = command_line(args, "sweep", [("--config", args.config), ("--output-dir", args.output_dir),
                                               ("--report", [args.report] if args.report else True)])
        path, figures = build_report(folder, output=args.report or None, command=command)
        print(f"wrote {path} ({len(figures)} figures)")
    return 0


def add_report(commands) -> None:
    report = commands.add_parser(
        "report", help="write DIR/report.md with figures for a sweep folder or a run directory",
        description="Write a Markdown report with PNG figures (in figures/ beside it) for a sweep folder (sd-env "
                    "sweep output) or a training run directory (sd-env train output): phase diagrams, the Jervis "
                    "worlds, every cell's measures with intervals over seeds, drift curves, example trajectories "
                    "and Richardson fits, every number read from the results.")
    report.add_argument("directory", metavar="DIR", help="sweep folder (sweep.yaml, results.csv) or run directory")
    report.add_argument("--measures", metavar="NAME,...",
                        help="headline measures of the figures and tables (default: military_burden,war_years,"
                             "buildups_per_episode,spiral_war_years); the appendix has every measure")
    report.add_argument("--output", metavar="FILE", help="Markdown file to write (default: DIR/report.md)")
    report.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    from sd_env.experiments.reporting.report import build_report

    check_output_files(("--output", args.output, "report.md"))
    command = command_line(args, "report", [("--measures", args.measures), ("--output", args.output)],
                           positional=[args.directory])
    started = time.perf_counter()
    path, figures = build_report(args.directory, measures=args.measures, output=args.output, command=command)
    where = f" in {figures[0].parent}" if figures else ""
    print(f"wrote {path} ({len(figures)} figures{where}) in {time.perf_counter() - started:.1f} s")
    return 0


def add_benchmark(commands) -> None:
    benchmark = commands.add_parser(
        "benchmark", help="score a MARL algorithm on a fixed suite of scenarios beside the baselines",
        description="Train the algorithm module.path:train as train(env_factory, budget, seed) on every scenario "
                    "and seed of the suite, score its policy in focal evaluation against background populations "
                    "(scripted stances, the suite's PPO population, itself) beside shared PPO and the scripted "
                    "stances, and write DIR/leaderboard.csv, leaderboard.md, scores.csv, marl_eval.json and "
                    "scores.png (docs/benchmark.md has the protocol).")
    benchmark.add_argument("--algo", required=True, metavar="MODULE:FUNCTION",
                           help="the algorithm, e.g. sd_env.agents.reinforce:train")
    benchmark.add_argument("--suite", default="smoke", choices=("smoke", "standard"),
                           help="smoke (minutes, checks a submission runs) or standard (what a paper reports)")
    benchmark.add_argument("--seeds", type=positive_int, default=None, metavar="K",
                           help="seeds 0..K-1 (default: the suite's)")
    benchmark.add_argument("--output", metavar="DIR", help="output folder (default: runs/benchmark-SUITE)")
    benchmark.add_argument("--cache-dir", metavar="DIR",
                           help="where the suite's PPO policies are kept once trained (default: ~/.cache/sd-env/"
                                "benchmark)")
    benchmark.add_argument("--name", help="the submission's name on the leaderboard (default: the --algo spec)")
    benchmark.add_argument("--doc", metavar="FILE",
                           help="also put the leaderboard into FILE's generated block benchmark-SUITE-leaderboard")
    add_no_progress(benchmark)
    benchmark.set_defaults(handler=run_benchmark, parameter_flags={"algo": "--algo"},
                           interrupted="the suite's PPO policies trained so far are cached: the same command again "
                                       "trains only the rest")


def run_benchmark(args: argparse.Namespace) -> int:
    from sd_env.experiments.studies.benchmark import get_suite, leaderboard_block_name, run_benchmark as benchmark, \
        write_outputs

    suite = get_suite(args.suite)
    if args.doc:  # before the run, not after it: the file must exist and hold the leaderboard's block
        from sd_env.experiments.output.blocks import MissingMarkersError, require_markers

        try:
            text = Path(args.doc).read_text(encoding="utf-8")
        except OSError as error:
            raise SdEnvError(f"--doc {args.doc!r} cannot be read ({error.strerror or error}); give an existing "
                             f"Markdown file that holds the block {leaderboard_block_name(suite.name)}") from None
        try:
            require_markers(text, [leaderboard_block_name(suite.name)], f"--doc {args.doc!r}")
        except MissingMarkersError as error:
            raise SdEnvError(str(error)) from None
    output = args.output or f"runs/benchmark-{suite.name}"
    command = command_line(args, "benchmark", [("--algo", args.algo), ("--suite", suite.name), ("--seeds", args.seeds),
                                               ("--output", args.output), ("--cache-dir", args.cache_dir),
                                               ("--name", args.name), ("--doc", args.doc)])
    result = benchmark(args.algo, suite, seeds=args.seeds, cache_dir=args.cache_dir, name=args.name,
                       log=lambda text: print(text, flush=True), command=command, progress=not args.no_progress)
    paths = write_outputs(result, output)
    leaderboard = paths["leaderboard.md"].read_text()
    if args.doc:
        from sd_env.experiments.output.blocks import update_blocks

        update_blocks(args.doc, {leaderboard_block_name(suite.name): leaderboard.rstrip("\n")})
    print("\n" + leaderboard)
    print(f"wrote {', '.join(str(path) for path in paths.values())}" + (f" and {args.doc}" if args.doc else "")
          + f" in {result.wall_seconds:.0f} s")
    return 0


# ---------------------------------------------------------------------------------------------------------
# The parser and the entry point

#: Every command, in the order ``sd-env --help`` lists them.
COMMANDS: tuple[Callable, ...] = (add_scenarios, add_params, add_dilemma, add_train, add_quickstart, add_history,
                                  add_evaluate, add_crossplay, add_exploit, add_sweep, add_report, add_benchmark)


def build_parser() -> argparse.ArgumentParser:
    from sd_env import __version__

    parser = OneLineParser(
        prog="sd-env", description="The security dilemma as a multi-agent reinforcement-learning environment."
    )
    parser.add_argument("--version", action="version", version=f"sd-env {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    for add in COMMANDS:
        add(commands)
    for name in POLICY_COMMANDS:
        commands.choices[name].add_argument(
            "--trust-policy-files", action="store_true",
            help="load policy files that hold pickled Python code (stable-baselines3 zips with custom objects, "
                 "RLlib checkpoints of other modules or to resume) with their libraries' own loaders, which run that code: only "
                 "for files whose author you trust (sd_env/agents/policy_files.py)")
    for command in commands.choices.values():
        # Where a library error names the argument that was wrong, the message shows the flag it came from.
        flags = {action.dest: max(action.option_strings, key=len) for action in command._actions
                 if action.option_strings and action.dest != "help"}
        renames = command.get_default("parameter_flags") or {}
        command.set_defaults(flags={**flags, **renames}, renames=renames)
    return parser


def user_message(error: SdEnvError, flags: dict[str, str], renames: dict[str, str] | None = None) -> str:
    """The first line of ``error`` as the command line says it: the argument it names becomes its flag.

    :param error: the library's error; ``error.parameter`` names the argument that was wrong, if any.
    :param flags: each option's destination -> its flag (``episodes`` -> ``--episodes``).
    :param renames: library parameter names that differ from the flag's destination (``filter_name`` ->
        ``--filter``): replaced wherever the message names them.
    """
    message = str(error).splitlines()[0] if str(error) else error.__class__.__name__
    for name, flag in (renames or {}).items():
        message = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", flag, message)
    flag = flags.get(error.parameter or "")
    if flag is None or flag in message:
        return message
    if message.startswith(f"{error.parameter} ") or message.startswith(f"{error.parameter}:"):
        return flag + message[len(error.parameter):]
    return f"{flag}: {message}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # a usage error (one line, printed) or --help / --version: its exit code
        return 0 if done.code is None else done.code if isinstance(done.code, int) else EXIT_USAGE
    prefix = f"sd-env {args.command}: error:"
    if getattr(args, "trust_policy_files", False):
        from sd_env.agents.policy_files import trust_policy_files

        trust_policy_files()  # an environment variable, so that a sweep's worker processes trust them too
    try:
        return int(args.handler(args) or 0)
    except SdEnvError as error:
        print(f"{prefix} {user_message(error, args.flags, args.renames)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        # The machine refused: a file that is not there, a folder that is read-only, a full disk.
        print(f"{prefix} {str(error).splitlines()[0] if str(error) else type(error).__name__}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as error:
        root = (error.name or "").split(".")[0]
        if root not in EXTRA_PACKAGES:
            raise
        # `pip install sd-env` is the environment alone; the commands beyond `scenarios` need the extras.
        extra = EXTRA_PACKAGES[root]
        print(f"{prefix} this command needs the package {root!r} of the {extra} extra; install it with: "
              f"pip install 'sd-env[{extra}]'", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        hint = getattr(args, "interrupted", None)
        print(f"sd-env {args.command}: interrupted{'; ' + hint if hint else ''}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
