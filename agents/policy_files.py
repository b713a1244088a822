"""Policy files that cannot run code when they are loaded, unless the user says they trust them.

A stable-baselines3 checkpoint (``.zip``) keeps its network weights in torch files, which stable-baselines3
loads with ``torch.load(weights_only=True)``, and everything else in an entry ``data``: JSON in which the
objects JSON cannot hold (the policy class, the spaces, the schedules, the last observations) are Python
pickles. Unpickling runs whatever callable the pickle names, so a crafted ``.zip`` runs its author's code
the moment stable-baselines3 loads it. RLlib checkpoints (``class_and_ctor_args.pkl``) and BenchMARL
checkpoints (a torch pickle of the whole experiment) are the same.

By default sd-env therefore never unpickles a policy file with Python's own unpickler:

- the pickles in an SB3 checkpoint's ``data`` are read by :class:`RestrictedUnpickler`, which builds only
  the plain data types such a checkpoint holds (NumPy arrays and generators, Gymnasium spaces, deques,
  stable-baselines3's constant and linear schedules) and refers only to the policy and buffer classes of
  stable-baselines3 and sb3-contrib, and the results are handed to ``load`` as ``custom_objects``, so
  stable-baselines3 unpickles nothing itself. Every checkpoint that ``sd-env train`` writes reads this way,
  unchanged: the file format is the same.
- A file that needs anything else (a pickled function, a custom class, an RLlib or BenchMARL checkpoint)
  is refused with one line that says what it holds and how to opt in.

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
import sys
import zipfile
from pathlib import Path
from typing import Any

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


def sb3_custom_objects(path: str | Path) -> dict[str, Any]:
    """Every pickled entry of an SB3 checkpoint's ``data``, unpickled by :class:`RestrictedUnpickler`.

    Handed to ``PPO.load(..., custom_objects=...)``, they replace the pickles, so stable-baselines3 unpickles
    nothing (its torch files it loads with ``weights_only=True``).

    :param path: the checkpoint (``.zip``).
    :raises UntrustedPolicyFileError: an entry needs a global outside :data:`ALLOWED_GLOBALS` (one line
        naming the file, the entry and the global, and the opt-in).
    :raises ValueError: the file is not a readable SB3 checkpoint (one line naming it).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise PolicyError(f"{str(path)!r} is not a readable stable-baselines3 checkpoint ({error})") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{str(path)!r} is not a readable stable-baselines3 checkpoint (its data is not a mapping)")
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
