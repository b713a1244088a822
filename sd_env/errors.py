"""The one root of every error a user must act on, and its families.

Every error that means *the input is wrong* (a parameter, a scenario name, a
stance, a config key, a policy file, a data file, an action outside the
space) is a :class:`SdEnvError`. The ``sd-env`` command line prints such an
error as one line and exits with code 2; any other exception is a bug and
reaches the user with its traceback. ``SdEnvError`` subclasses ``ValueError``,
so ``except ValueError`` keeps catching it.

A message names what is wrong in the library's own terms (a parameter's
name, a file's path), says what was given and what would be right; the
command line adds its flag names. Where the wrong value is one argument of a
function, ``parameter`` names it (``episodes``, ``budget``), so that the
command line can say which flag it came from.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SdEnvError(ValueError):
    """Input that cannot be used: one line saying what is wrong and what would be right.

    :param message: the line, naming what is wrong in the library's terms.
    :param parameter: the name of the argument that was wrong, if the error is about one (the command line
        shows its flag); None otherwise.
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class ParameterError(SdEnvError):
    """An environment parameter or scenario that cannot be used (``sd_env.params``, ``sd_env.scenarios``)."""


class PolicyError(SdEnvError):
    """A policy that cannot be made or loaded, or that answered with actions outside the action space."""


class ActionError(SdEnvError):
    """Actions given to an environment that do not fit its action space."""


def did_you_mean(name: str, known: Iterable[str], then: str = "", prefix: str = "") -> str:
    """What an error about an unknown ``name`` adds after it: ``"; did you mean 'X'?"`` when one of ``known``
    is close (:func:`difflib.get_close_matches`, cutoff 0.6), else nothing.

    :param name: the name that was given and is not known.
    :param known: the names that are.
    :param then: the rest of the line, if any (e.g. ``"known keys: a, b"``): it follows the suggestion after a
        space, or the name after ``"; "`` when there is no suggestion.
    :param prefix: written before the suggestion but not compared (the section of a nested config key,
        ``ppo.``, which every key of the section shares and would make any two of them look alike).
    :returns: ``"; did you mean 'X'? THEN"``, ``"; THEN"``, ``"; did you mean 'X'?"`` or ``""``.
    """
    close = difflib.get_close_matches(str(name), [str(each) for each in known], n=1, cutoff=0.6)
    suggestion = f"; did you mean {prefix + close[0]!r}?" if close else ""
    if not then:
        return suggestion
    return f"{suggestion} {then}" if suggestion else f"; {then}"


def describe_exception(error: BaseException) -> str:
    """One line for an exception raised by code from outside sd-env (a user's policy factory, a benchmark
    submission): ``Type: first line of the message (at file:line)``, the innermost frame being where it was
    raised, so the user can find it without a traceback."""
    import os
    import traceback

    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    where = ""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if not frame.filename.startswith("<")]
    if frames and not isinstance(error, ModuleNotFoundError):  # where a missing module was looked for says nothing
        frame = frames[-1]
        try:
            filename = os.path.relpath(frame.filename)
        except ValueError:
            filename = frame.filename
        where = f" at {filename}:{frame.lineno}"
    return f"{type(error).__name__}{': ' + message if message else ''}{where}"
