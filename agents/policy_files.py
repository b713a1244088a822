"""Policy files that cannot run code when they are loaded, unless the user says they trust them.

A stable-baselines3 checkpoint (``.zip``) keeps its network weights in torch files, which stable-baselines3
loads with ``torch.load(weights_only=True)``, and everything else in an entry ``data``: JSON in which the
objects JSON cannot hold (the policy class, the spaces, the schedules, the last observations) are Python
pickles. Unpickling runs whatever callable the pickle names, so a crafted ``.zip`` runs its author's code
the moment stable-baselines3 loads it. RLlib checkpoints (``class_and_ctor_args.pkl``) and BenchMARL's
reload of a run (``config.pkl``: the task, the configs and the callbacks, pickled) are the same.

By default sd-env therefore never unpickles a policy file with Python's own unpickler:

- the pickles in an SB3 checkpoint's ``data`` are read by :class:`RestrictedUnpickler`, which builds only
  the plain data types such a checkpoint holds (NumPy arrays and generators, Gymnasium spaces, deques,
  stable-baselines3's constant and linear schedules) and refers only to the policy and buffer classes of
  stable-baselines3 and sb3-contrib, and the results are handed to ``load`` as ``custom_objects``, so
  stable-baselines3 unpickles nothing itself. Every checkpoint that ``sd-env train`` writes reads this way,
  unchanged: the file format is the same.
- an RLlib checkpoint of RLlib's default PPO module (what ``backend: rllib`` trains) is read the same way,
  its constructor's arguments and its weights as data, and sd-env builds the module
  (:func:`read_rllib_module`).
- a BenchMARL checkpoint (``checkpoint_<frames>.pt``, a torch file of tensors and plain values) is read with
  ``torch.load(weights_only=True)``, which builds tensors and containers only; the policy is built from the
  actor's weights in it (:func:`read_benchmarl_actor`), and a resumed run restores from it the same way.
  BenchMARL's ``config.pkl`` is never read.
- A file that needs anything else (a pickled function, a custom class, another RLlib module, an RLlib
  algorithm to resume) is refused with one line that says what it holds and how to opt in.

The opt-in is ``--trust-policy-files`` on the command line, or the environment variable
:data:`TRUST_VARIABLE` set to ``1`` (how the CLI hands the choice to a sweep's worker processes). Under
it, files load with their libraries' own loaders; the command line says once, on standard error, what that
means.
"""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import re
import sys
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

from sd_env.errors import PolicyError

#: Environment variable that, set to ``1``, trusts pickle-bearing policy files (``--trust-policy-files``).
TRUST_VARIABLE = "SD_ENV_TRUST_POLICY_FILES"

#: The command-line flag that sets :data:`TRUST_VARIABLE`; named in every refusal.
TRUST_FLAG = "--trust-policy-files"

#: Every global a restricted unpickle may refer to: ``module -> names``. Data constructors only (no
#: function that reads files, imports or evaluates), plus the algorithm classes stable-baselines3 stores
#: by reference. NumPy's private module is ``numpy._core`` from NumPy 2 and ``numpy.core`` before.
ALLOWED_GLOBALS: dict[str, frozenset[str]] = {
    "builtins": frozenset({"complex", "slice", "frozenset", "set", "range", "bytearray"}),
    "collections": frozenset({"deque", "OrderedDict"}),
    **{f"numpy.{core}.multiarray": frozenset({"_reconstruct", "scalar"}) for core in ("_core", "core")},
    **{f"numpy.{core}.numeric": frozenset({"_frombuffer"}) for core in ("_core", "core")},
    "numpy": frozenset({"dtype", "ndarray"}),
    "numpy.random._pickle": frozenset({"__generator_ctor", "__bit_generator_ctor", "__randomstate_ctor"}),
    "numpy.random._pcg64": frozenset({"PCG64", "PCG64DXSM"}),
    "numpy.random._mt19937": frozenset({"MT19937"}),
    "numpy.random._philox": frozenset({"Philox"}),
    "numpy.random._sfc64": frozenset({"SFC64"}),
    "numpy.random.bit_generator": frozenset({"SeedSequence", "__pyx_unpickle_SeedSequence"}),
    "gymnasium.spaces.box": frozenset({"Box"}),
    "gymnasium.spaces.discrete": frozenset({"Discrete"}),
    "gymnasium.spaces.multi_discrete": frozenset({"MultiDiscrete"}),
    "gymnasium.spaces.multi_binary": frozenset({"MultiBinary"}),
    "stable_baselines3.common.utils": frozenset({"ConstantSchedule", "FloatSchedule", "LinearSchedule"}),
    "stable_baselines3.common.policies": frozenset({"ActorCriticPolicy", "MultiInputActorCriticPolicy"}),
    "stable_baselines3.common.buffers": frozenset({"RolloutBuffer"}),
    "sb3_contrib.common.recurrent.policies": frozenset({"RecurrentActorCriticPolicy",
                                                        "RecurrentMultiInputActorCriticPolicy"}),
    "sb3_contrib.common.recurrent.buffers": frozenset({"RecurrentRolloutBuffer"}),
    "torch.nn.modules.activation": frozenset({"ReLU", "Tanh", "ELU", "LeakyReLU", "GELU", "SiLU", "Sigmoid"}),
}


class UntrustedPolicyFileError(PolicyError):
    """A policy file that would run code to load, refused because the user has not said they trust it."""


def trusted() -> bool:
    """Whether the user trusts pickle-bearing policy files (:data:`TRUST_VARIABLE` is ``1``)."""
    return os.environ.get(TRUST_VARIABLE, "") == "1"


def trust_policy_files(enabled: bool = True) -> None:
    """Trust (or stop trusting) pickle-bearing policy files in this process and the processes it starts.

    Trusting says so once, in one line on standard error, with what it means.
    """
    if enabled:
        os.environ[TRUST_VARIABLE] = "1"
        print(f"sd-env: {TRUST_FLAG}: policy files load with their libraries' own loaders, "
              "which run any Python code pickled inside them", file=sys.stderr)
    else:
        os.environ.pop(TRUST_VARIABLE, None)


def require_trust(path: str | Path, what: str) -> None:
    """Refuse to load ``path`` (a file of kind ``what`` that only loads by unpickling) unless trusted.

    :raises UntrustedPolicyFileError: one line naming the file and the opt-in.
    """
    if not trusted():
        raise UntrustedPolicyFileError(
            f"{str(path)!r} is {what}, which loads only by running the Python code pickled inside it; "
            f"load it only if you trust its author, with {TRUST_FLAG}"
        )


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only the globals in :data:`ALLOWED_GLOBALS` and refuses every other one.

    Pickle runs code only through the globals it looks up (every call in a pickle is to a looked-up
    global), so a pickle that can name none but data constructors can build data and nothing else.
    """

    def find_class(self, module: str, name: str) -> Any:
        if name in ALLOWED_GLOBALS.get(module, ()):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("a persistent reference")


def restricted_loads(payload: bytes) -> Any:
    """Unpickle ``payload`` with :class:`RestrictedUnpickler`; ``pickle.UnpicklingError`` names what it refused."""
    return RestrictedUnpickler(io.BytesIO(payload)).load()


def read_sb3_data(path: str | Path) -> dict[str, Any]:
    """The JSON of an SB3 checkpoint's ``data`` entry, its pickles still encoded (nothing is unpickled).

    :param path: the checkpoint (``.zip``).
    :raises PolicyError: the file is not a readable SB3 checkpoint (one line naming it).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise PolicyError(f"{str(path)!r} is not a readable stable-baselines3 checkpoint ({error})") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{str(path)!r} is not a readable stable-baselines3 checkpoint (its data is not a mapping)")
    return data


def sb3_custom_objects(path: str | Path, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every pickled entry of an SB3 checkpoint's ``data``, unpickled by :class:`RestrictedUnpickler`.

    Handed to ``PPO.load(..., custom_objects=...)``, they replace the pickles, so stable-baselines3 unpickles
    nothing (its torch files it loads with ``weights_only=True``).

    :param path: the checkpoint (``.zip``), named in errors.
    :param data: its ``data`` as :func:`read_sb3_data` reads it, if already read; read from ``path`` if None.
    :raises UntrustedPolicyFileError: an entry needs a global outside :data:`ALLOWED_GLOBALS` (one line
        naming the file, the entry and the global, and the opt-in).
    :raises PolicyError: the file is not a readable SB3 checkpoint (one line naming it).
    """
    data = read_sb3_data(path) if data is None else data
    objects: dict[str, Any] = {}
    for key, item in data.items():
        if not (isinstance(item, dict) and ":serialized:" in item):
            continue
        try:
            objects[key] = restricted_loads(base64.b64decode(str(item[":serialized:"]).encode()))
        except pickle.UnpicklingError as refused:
            raise UntrustedPolicyFileError(
                f"{str(path)!r} holds Python code to run when loaded (its entry {key!r} needs {refused}); "
                f"load it only if you trust its author, with {TRUST_FLAG}"
            ) from None
        except Exception as error:  # a damaged pickle: any exception a truncated or altered payload raises
            raise PolicyError(f"{str(path)!r} is damaged: its entry {key!r} does not read ({error})") from None
    return objects


def sb3_checkpoint_problem(path: str | Path) -> str | None:
    """What is wrong with an SB3 checkpoint file, or None if it is whole: a zip whose every entry passes its
    checksum, with the entries ``data`` (JSON) and ``policy.pth`` that loading needs.

    :param path: the checkpoint (``.zip``).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            if bad is not None:
                return f"its entry {bad!r} fails its checksum"
            missing = [name for name in ("data", "policy.pth") if name not in archive.namelist()]
            if missing:
                return f"it lacks the entr{'ies' if len(missing) > 1 else 'y'} {', '.join(missing)}"
            json.loads(archive.read("data"))
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        return f"it is not a whole zip file ({error})"
    return None


# ---------------------------------------------------------------------------------------------------------
# RLlib modules: their constructor arguments and weights read as data, the module built by sd-env

#: The RLlib classes a module checkpoint may name: read as inert :class:`Reference` values (never called
#: while unpickling), then mapped to the classes when sd-env builds the module itself.
RLLIB_REFERENCES: frozenset[tuple[str, str]] = frozenset({
    ("ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module", "DefaultPPOTorchRLModule"),
    ("ray.rllib.algorithms.ppo.ppo_catalog", "PPOCatalog"),
})


class Reference(NamedTuple):
    """A class named by a pickle, by module and name, not yet imported (and not callable)."""

    module: str
    name: str

    def resolve(self) -> Any:
        import importlib

        return getattr(importlib.import_module(self.module), self.name)


class _ReferenceUnpickler(RestrictedUnpickler):
    """:class:`RestrictedUnpickler` that reads the classes of :data:`RLLIB_REFERENCES` as references."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in RLLIB_REFERENCES:
            return Reference(module, name)
        return super().find_class(module, name)


def _plain(value: Any) -> bool:
    """Whether ``value`` is plain data (what a model config holds): numbers, strings, lists and dicts of them."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return False


def read_rllib_module(folder: str | Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """An RLlib module checkpoint (``.../rl_module/<module id>``) read as data: ``(class, kwargs, state)``.

    RLlib restores a module by unpickling ``class_and_ctor_args.pkl`` (the class and its constructor's
    arguments) and ``module_state.pkl`` (its weights). Here both are read without running code: the
    constructor's arguments must be spaces and a plain model config, the class RLlib's default PPO torch
    module (the one ``sd-env train --set backend=rllib`` trains) and the weights NumPy arrays. The caller
    builds the module with ``class(**kwargs)`` and ``set_state(state)``.

    :raises UntrustedPolicyFileError: the checkpoint holds anything else (one line naming the file).
    """
    folder = Path(folder)
    arguments_path, state_path = folder / "class_and_ctor_args.pkl", folder / "module_state.pkl"
    refusal = f"load it only if you trust its author, with {TRUST_FLAG}"
    try:
        with open(arguments_path, "rb") as stream:
            saved = _ReferenceUnpickler(stream).load()
        with open(state_path, "rb") as stream:
            state = RestrictedUnpickler(stream).load()
    except pickle.UnpicklingError as refused:
        raise UntrustedPolicyFileError(f"RLlib checkpoint {str(folder)!r} holds Python code to run when loaded "
                                       f"(it needs {refused}); {refusal}") from None
    except (OSError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        # A damaged file, or one that tries to call a reference (not callable): neither is a module to build.
        raise PolicyError(f"RLlib checkpoint {str(folder)!r} cannot be read ({type(error).__name__}: {error})") from None
    module_class = saved.get("class") if isinstance(saved, dict) else None
    arguments = saved.get("ctor_args_and_kwargs") if isinstance(saved, dict) else None
    if not (isinstance(module_class, Reference) and isinstance(arguments, tuple) and len(arguments) == 2
            and arguments[0] == () and isinstance(arguments[1], dict)):
        raise UntrustedPolicyFileError(f"RLlib checkpoint {str(folder)!r} is not the default PPO module sd-env "
                                       f"builds without running its code; {refusal}")
    kwargs = dict(arguments[1])
    catalog = kwargs.get("catalog_class")
    if (catalog is not None and not isinstance(catalog, Reference)) or not _plain(kwargs.get("model_config")):
        raise UntrustedPolicyFileError(f"RLlib checkpoint {str(folder)!r} has a custom catalog or model config; "
                                       f"{refusal}")
    if catalog is not None:
        kwargs["catalog_class"] = catalog.resolve()
    if not (isinstance(state, dict) and all(isinstance(key, str) for key in state)):
        raise PolicyError(f"RLlib checkpoint {str(folder)!r} is damaged: its module_state.pkl is not a mapping")
    return module_class.resolve(), kwargs, state


# ---------------------------------------------------------------------------------------------------------
# BenchMARL checkpoints: a torch file read weights-only; the actor rebuilt from its weights

#: Where a BenchMARL checkpoint keeps the actor's MLP (``torchrl.modules.MultiAgentMLP``) weights:
#: ``loss_agents`` -> ``<prefix><layer>.weight`` and ``<prefix><layer>.bias``.
BENCHMARL_ACTOR_PREFIX = "actor_network_params.module.0.mlp.params."


def read_torch_weights(path: str | Path) -> Any:
    """A torch file read with ``torch.load(weights_only=True)``: tensors, numbers, strings and containers only.

    :param path: the file (``.pt``).
    :raises UntrustedPolicyFileError: the file holds other objects (one line naming it).
    :raises PolicyError: the file is damaged or not a torch file (one line naming it).
    """
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as refused:
        named = re.search(r"GLOBAL ([\w.]+)", str(refused))
        detail = f"it needs {named.group(1)}" if named else "objects that are not tensors"
        # Not an opt-in matter: BenchMARL itself restores checkpoints with torch.load's weights-only default.
        raise UntrustedPolicyFileError(f"{str(path)!r} holds Python objects other than tensors, which could run "
                                       f"code ({detail}); sd-env and BenchMARL read checkpoints weights-only and "
                                       f"will not load it") from None
    except Exception as error:  # a truncated or altered file: torch raises RuntimeError, EOFError, OSError...
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PolicyError(f"{str(path)!r} is damaged or not a torch checkpoint ({first})") from None


def read_benchmarl_actor(path: str | Path, state: Any = None) -> dict[str, Any]:
    """The actor's MLP weights in a BenchMARL checkpoint, read without running code.

    :param path: the checkpoint (``.../checkpoints/checkpoint_<frames>.pt``), named in errors.
    :param state: its contents as :func:`read_torch_weights` reads them, if already read; read from ``path`` if
        None.
    :returns: ``{"<layer>.weight": tensor, "<layer>.bias": tensor}`` (layers 0, 2, 4...: the linear layers of
        ``torchrl.modules.MultiAgentMLP``); a weight is (out, in), or (agents, out, in) where each agent
        has its own network.
    :raises UntrustedPolicyFileError: the file holds code, or no actor MLP sd-env can build.
    :raises PolicyError: the file is damaged.
    """
    import torch

    state = read_torch_weights(path) if state is None else state
    loss = state.get("loss_agents") if isinstance(state, dict) else None
    weights = {key[len(BENCHMARL_ACTOR_PREFIX):]: value for key, value in (loss or {}).items()
               if isinstance(key, str) and key.startswith(BENCHMARL_ACTOR_PREFIX) and isinstance(value, torch.Tensor)}
    if not weights or any(not key.split(".")[0].isdigit() for key in weights):
        raise UntrustedPolicyFileError(
            f"BenchMARL checkpoint {str(path)!r} has no actor MLP that sd-env builds from its weights (not one "
            f"sd-env's benchmarl backend trains); load it with BenchMARL only if you trust its author, with {TRUST_FLAG}")
    return weights
