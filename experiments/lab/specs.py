"""Policy specs: one string names any policy, in every command (sweep, evaluate, crossplay, exploit, benchmark).

=============================  ===============================================================
spec                           policy
=============================  ===============================================================
``baseline:NAME``              a scripted stance (``sd-env`` stances: ``dove``, ``hawk``,
                               ``deterrer``, ``hawk/dove``, ``defender:burden=0.3`` ...)
``PATH.zip``                   a stable-baselines3 checkpoint (``policy.zip``, ``checkpoints/*.zip``)
``PATH`` (an RLlib checkpoint  an RLlib checkpoint directory (``checkpoints/rllib``): its
directory)                     ``shared`` module, or ``state_i`` for the seat
``PATH`` (a run directory)     the final policy of an ``sd-env train`` run: ``policy.zip``,
                               ``policy_state_i.zip`` for the seat, its RLlib checkpoint, or
                               its BenchMARL checkpoint
``module.path:factory``        any importable object with the batched ``act(observations) ->
                               actions``; a callable is called with the ``EnvParams`` first
=============================  ===============================================================

A spec that names nothing loadable is a :class:`PolicySpecError` with one
line saying what is wrong and what would be right; so is a checkpoint that
cannot be read, and a factory that raises (its exception and where it was
raised, in the line). :func:`load_policy` returns the policy itself; the
action check wraps it where it is played
(:class:`sd_env.experiments.lab.seating.CheckedPolicy`).

**A ``module.path:factory`` spec runs code**: it imports the module and calls
the factory with the parameters, whatever they do. Load only factories you
trust. **A checkpoint file does not**, by default: a stable-baselines3 zip is
read without unpickling anything but plain data
(:mod:`sd_env.agents.policy_files`), and RLlib and BenchMARL checkpoints, which
load only by unpickling, are refused unless the user trusts policy files
(``--trust-policy-files``).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from sd_env.agents.policy_files import UntrustedPolicyFileError
from sd_env.errors import PolicyError, describe_exception
from sd_env.params import EnvParams
from sd_env.stances import SCRIPTED_POLICIES, is_policy_name, make_policy

BASELINE_PREFIX = "baseline:"
_IMPORT_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
#: What a good spec looks like, for error messages.
SPEC_FORMS = ("baseline:NAME, a checkpoint (PATH.zip or an RLlib checkpoint directory), a run directory, "
              "or module.path:factory")
#: Kinds of spec that may hold one policy per seat (loaded once per seat); the others are loaded once.
SEAT_DEPENDENT_KINDS = ("run", "rllib")


class PolicySpecError(PolicyError):
    """A policy spec that names no loadable policy (one line)."""


def spec_kind(spec: str) -> str:
    """``baseline``, ``sb3``, ``rllib``, ``run`` or ``import``; a spec of no kind is a PolicySpecError.

    Checks the form only (and that paths exist); nothing is loaded.

    :param spec: a policy spec (module docstring).
    :returns: the kind, one of the five above.
    :raises PolicySpecError: an empty spec, an unknown baseline, a checkpoint or folder that is not there
        (or holds no policy), or a string of no spec form.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise PolicySpecError(f"policy spec must be a non-empty string: {SPEC_FORMS}")
    if spec.startswith(BASELINE_PREFIX):
        name = spec[len(BASELINE_PREFIX):]
        if not is_policy_name(name):
            raise PolicySpecError(f"unknown baseline {name!r} in {spec!r}; stances: {', '.join(SCRIPTED_POLICIES)}, "
                                  "or GREEDY/SEEKER pairs such as hawk/dove, with options such as "
                                  "defender:burden=0.3")
        return "baseline"
    path = Path(spec)
    if path.suffix == ".zip":
        if not path.is_file():
            raise PolicySpecError(f"checkpoint {spec!r} not found")
        return "sb3"
    if path.is_dir():
        if (path / "rllib_checkpoint.json").is_file() or (path / "learner_group").is_dir():
            return "rllib"
        if (path / "policy.zip").is_file() or (path / "policy_state_0.zip").is_file() or \
                (path / "checkpoints" / "rllib").is_dir() or (path / "benchmarl").is_dir() or \
                (path / "psro.json").is_file():
            return "run"
        raise PolicySpecError(f"folder {spec!r} is neither an RLlib checkpoint nor a run directory with a policy")
    if _IMPORT_SPEC.match(spec):
        return "import"
    raise PolicySpecError(f"{spec!r} is not a policy spec: give {SPEC_FORMS}")


def load_policy(spec: str, params: EnvParams, seed: int = 0, seat: int = 0, kind: str | None = None,
                deterministic: bool = False):
    """The policy ``spec`` names, for environments with ``params``, to play in seat ``seat``.

    :param spec: a policy spec (module docstring).
    :param params: the environment the policy will play.
    :param seed: seeds a scripted stance's own random draws.
    :param seat: picks a learner's own policy where a run or checkpoint holds one per state.
    :param kind: the spec's kind if already known (:func:`spec_kind`, which touches the file system).
    :param deterministic: a learned policy plays the most likely action instead of sampling, as trained (the
        default). Scripted stances and imported policies act by their own rule either way.
    :returns: an object with ``act(observations) -> actions`` (unchecked: see the module docstring).
    """
    kind = spec_kind(spec) if kind is None else kind
    if kind == "baseline":
        return make_policy(spec[len(BASELINE_PREFIX):], params, seed=seed)
    if kind == "sb3":
        return _checked_space(_read_sb3(Path(spec), params, spec, deterministic), params, spec)
    if kind == "rllib":
        return _rllib(Path(spec), params, seat, spec, deterministic)
    if kind == "run":
        return _from_run(Path(spec), params, seat, spec, deterministic)
    return _imported(spec, params)


def _read_sb3(path: Path, params: EnvParams, spec: str, deterministic: bool = False):
    """A stable-baselines3 checkpoint; a file it cannot read is a PolicySpecError (the file is the input)."""
    from sd_env.agents.learned import SB3Policy

    try:
        return SB3Policy.load(path, params, deterministic)
    except UntrustedPolicyFileError:
        raise
    except FileNotFoundError as error:
        raise PolicySpecError(str(error)) from None
    except Exception as error:  # a truncated or foreign file: zipfile, pickle and torch errors of every kind
        raise PolicySpecError(f"checkpoint {spec!r} cannot be read as a stable-baselines3 PPO checkpoint: "
                              f"{describe_exception(error)}") from error


def _rllib(folder: Path, params: EnvParams, seat: int, spec: str, deterministic: bool = False):
    from sd_env.agents.learned import RLlibModulePolicy

    modules = folder / "learner_group" / "learner" / "rl_module"
    module_id = "shared" if (modules / "shared").is_dir() else f"state_{seat}"
    try:
        return RLlibModulePolicy.load(folder, params, module_id, deterministic)
    except UntrustedPolicyFileError:
        raise
    except FileNotFoundError as error:
        raise PolicySpecError(str(error)) from None
    except Exception as error:  # a checkpoint RLlib cannot restore
        raise PolicySpecError(f"RLlib checkpoint {spec!r} cannot be read: {describe_exception(error)}") from error


def _from_run(run: Path, params: EnvParams, seat: int, spec: str, deterministic: bool = False):
    own = run / f"policy_state_{seat}.zip"
    if own.is_file():
        return _checked_space(_read_sb3(own, params, str(own), deterministic), params, spec)
    if (run / "policy.zip").is_file():
        return _checked_space(_read_sb3(run / "policy.zip", params, str(run / "policy.zip"), deterministic), params,
                              spec)
    if (run / "policy_state_0.zip").is_file():
        raise PolicySpecError(f"run {spec!r} has no policy for seat {seat} (policy_state_{seat}.zip)")
    if (run / "psro.json").is_file():
        from sd_env.agents.learned import load_psro_mixture

        try:
            return load_psro_mixture(run, params, deterministic)
        except FileNotFoundError as error:
            raise PolicySpecError(str(error)) from None
    if (run / "benchmarl").is_dir():
        return _benchmarl(run, params, seat, spec, deterministic)
    return _rllib(run / "checkpoints" / "rllib", params, seat, spec, deterministic)


def _benchmarl(run: Path, params: EnvParams, seat: int, spec: str, deterministic: bool = False):
    from sd_env.agents.learned import BenchMARLPolicy

    try:
        return BenchMARLPolicy.load(run / "benchmarl", params, seat, deterministic)
    except UntrustedPolicyFileError:
        raise
    except FileNotFoundError as error:
        raise PolicySpecError(str(error)) from None
    except Exception as error:  # a checkpoint BenchMARL cannot restore
        raise PolicySpecError(f"BenchMARL run {spec!r} cannot be read: {describe_exception(error)}") from error


def _checked_space(policy, params: EnvParams, spec: str):
    """An SB3 policy must have been trained on observations of this length and actions of these sizes."""
    from sd_env.spaces import action_space, observation_space

    model = policy.model
    expected_observation, expected_action = observation_space(params).shape, tuple(action_space(params).nvec)
    if model.observation_space.shape != expected_observation or tuple(model.action_space.nvec) != expected_action:
        raise PolicySpecError(
            f"checkpoint {spec!r} was trained on observations {model.observation_space.shape} and actions "
            f"{tuple(int(x) for x in model.action_space.nvec)}; this scenario has {expected_observation} and "
            f"{tuple(int(x) for x in expected_action)} (another number of states, systems or burden levels)"
        )
    return policy


def _imported(spec: str, params: EnvParams):
    module_name, attribute = spec.rsplit(":", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise PolicySpecError(f"cannot import {module_name!r} for policy spec {spec!r}: {error}") from None
    if not hasattr(module, attribute):
        raise PolicySpecError(f"module {module_name!r} has no {attribute!r} (policy spec {spec!r})")
    target = getattr(module, attribute)
    # A class or a factory function is called with the parameters; an object with act() is used as it is.
    calls = isinstance(target, type) or (callable(target) and not hasattr(target, "act"))
    try:
        policy = target(params) if calls else target
    except Exception as error:  # the user's factory failed: say where, in one line
        raise PolicySpecError(f"policy {spec!r} could not be loaded: {describe_exception(error)}") from error
    if not callable(getattr(policy, "act", None)):
        raise PolicySpecError(f"{spec!r} gives {type(policy).__name__}, which has no act(observations) method")
    return policy
