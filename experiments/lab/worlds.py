"""The world a policy was trained in, and the one world a command plays: results that cannot be for the wrong world.

A *world* is a named scenario with parameter overrides (``EnvParams``). A policy saved by sd-env knows its
world: a run directory's ``config.yaml`` holds its scenario and ``env``, and every stable-baselines3 checkpoint
the project writes (run policies and checkpoints, exploit's best responses, the benchmark's PPO cache) carries
an entry ``sd_env.json`` inside its zip (:func:`world_entry`) with the scenario, the overrides and every
parameter. Scripted stances and ``module:factory`` policies play in any world.

:func:`resolve_world` picks the world of ``sd-env evaluate``, ``crossplay`` and ``exploit``: the policies'
own world when none is asked for; the one asked for when it is the same world (or when no policy knows its
world); and otherwise it refuses, unless ``force`` says to play the policies in another world on purpose.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sd_env.errors import SdEnvError
from sd_env.params import EnvParams
from sd_env.scenarios import make_params

#: The entry of a stable-baselines3 zip that says which world the policy was trained in.
WORLD_ENTRY = "sd_env.json"
#: The scenario a command plays when neither the user nor any policy names one.
DEFAULT_SCENARIO = "bilateral"


@dataclass(frozen=True)
class World:
    """A named scenario with parameter overrides, and where that was read.

    :param scenario: a named scenario (``sd-env scenarios``).
    :param overrides: parameter values on top of the scenario's (``EnvParams`` field -> value).
    :param source: the file that said so (a run's ``config.yaml``, a checkpoint), for messages.
    """

    scenario: str
    overrides: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def params(self) -> EnvParams:
        """The environment parameters of this world."""
        return make_params(self.scenario, **self.overrides)

    def describe(self) -> str:
        """``jervis-4`` or ``jervis-4 with observation_noise=0.3``."""
        extra = ", ".join(f"{key}={value}" for key, value in self.overrides.items())
        return f"{self.scenario}{' with ' + extra if extra else ''}"


def world_entry(scenario: str, overrides: Mapping[str, Any], params: EnvParams) -> str:
    """The JSON a saved checkpoint carries as :data:`WORLD_ENTRY`: scenario, overrides and every parameter.

    :param scenario: the named scenario trained in.
    :param overrides: the parameter overrides on top of it.
    :param params: the resulting parameters (their spaces are what the checkpoint fits).
    """
    from sd_env import __version__

    return json.dumps({"sd_env": __version__, "scenario": scenario, "overrides": dict(overrides),
                       "parameters": dataclasses.asdict(params)}, default=list)


def _from_run(run: Path) -> World | None:
    """The world of run directory ``run`` (its ``config.yaml``), or None where it has none."""
    from sd_env.experiments.output.reading import read_yaml_mapping

    config_path = run / "config.yaml"
    if not config_path.is_file():
        return None
    config = read_yaml_mapping(config_path, "restore it, or name the world with --scenario, --set and --force")
    return World(config.get("scenario", DEFAULT_SCENARIO), dict(config.get("env") or {}), str(config_path))


def _from_zip(path: Path) -> World | None:
    try:
        with zipfile.ZipFile(path) as archive:
            if WORLD_ENTRY not in archive.namelist():
                return None
            record = json.loads(archive.read(WORLD_ENTRY))
    except (OSError, zipfile.BadZipFile, ValueError):
        return None  # the loader says what is wrong with the file when it is played
    return World(record["scenario"], dict(record.get("overrides") or {}), str(path))


def policy_world(spec: str, kind: str) -> World | None:
    """The world the policy ``spec`` was trained in, or None for a policy of any world.

    :param spec: a policy spec (:mod:`sd_env.experiments.lab.specs`).
    :param kind: its kind (:func:`sd_env.experiments.lab.specs.spec_kind`).
    :returns: from a checkpoint's own :data:`WORLD_ENTRY`, else from the run directory it lies in (``RUN/policy.zip``,
        ``RUN/policy_state_i.zip``, ``RUN/checkpoints/*.zip``, ``RUN/checkpoints/rllib``); None for scripted stances,
        imported factories and files saved without a world.
    """
    if kind in ("baseline", "import"):
        return None
    path = Path(spec)
    if kind == "run":
        return _from_run(path)
    if kind == "sb3":
        own = _from_zip(path)
        if own is not None:
            return own
        candidates = [path.parent, path.parent.parent] if path.parent.name == "checkpoints" else [path.parent]
    else:  # an RLlib checkpoint: RUN/checkpoints/rllib
        candidates = [path.parent.parent] if path.parent.name == "checkpoints" else []
    for run in candidates:
        world = _from_run(run)
        if world is not None:
            return world
    return None


def resolve_world(worlds: Mapping[str, World | None], scenario: str | None = None,
                  overrides: Mapping[str, Any] | None = None, force: bool = False) -> tuple[str, dict[str, Any]]:
    """The one world a command plays, as ``(scenario, overrides)``.

    :param worlds: each policy spec -> the world it was trained in (None: any world).
    :param scenario: the scenario asked for, or None.
    :param overrides: parameter values asked for (on top of the scenario asked for, or else of the policies'
        world).
    :param force: play the policies in the world asked for even where they were trained in another.
    :returns: the scenario and overrides to play: the world asked for; else the policies' own; else
        :data:`DEFAULT_SCENARIO`.
    :raises SdEnvError: (``parameter="scenario"``) the world asked for is not the one the policies were trained
        in, or the policies were trained in different worlds, and ``force`` is not given.
    """
    overrides = dict(overrides or {})
    known = {spec: world for spec, world in worlds.items() if world is not None}
    distinct: dict[EnvParams, tuple[str, World]] = {}
    for spec, world in known.items():
        distinct.setdefault(world.params(), (spec, world))
    if len(distinct) > 1:
        if force and scenario is not None:
            return scenario, overrides
        listed = "; ".join(f"{spec!r} in {world.describe()}" for spec, world in distinct.values())
        raise SdEnvError(f"scenario: the policies were trained in different worlds ({listed}); name the world to "
                         "play them in and pass force", parameter="scenario")
    if not distinct:
        return scenario or DEFAULT_SCENARIO, overrides
    (own_params, (spec, own)), = distinct.items()
    if scenario is None and not overrides:
        return own.scenario, dict(own.overrides)
    asked_scenario = own.scenario if scenario is None else scenario
    asked_overrides = {**own.overrides, **overrides} if scenario is None else overrides
    if make_params(asked_scenario, **asked_overrides) == own_params or force:
        return asked_scenario, asked_overrides
    asked = World(asked_scenario, asked_overrides).describe()
    raise SdEnvError(f"scenario {asked} is not the world policy {spec!r} was trained in ({own.describe()}, read "
                     f"from {own.source}); leave the scenario and overrides out to play it there, or pass force to "
                     "play it in another world", parameter="scenario")


def spec_worlds(specs: Sequence[str]) -> dict[str, World | None]:
    """Each spec -> the world it was trained in (:func:`policy_world`); a spec of no kind raises its error now."""
    from sd_env.experiments.lab.specs import spec_kind

    return {spec: policy_world(spec, spec_kind(spec)) for spec in dict.fromkeys(specs)}
