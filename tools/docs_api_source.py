"""A MkDocs hook: the package as it installs, laid out for mkdocstrings to read without importing it.

The folders ``agents/`` and ``experiments/`` install as ``sd_env.agents`` and ``sd_env.experiments``
(pyproject.toml, ``package-dir``), a mapping that a reading of the source tree cannot see. When MkDocs
loads it, this hook lays out ``build/api-source/sd_env`` as the installed package is: links to every entry of
``sd_env/`` and to the two folders under their installed names. ``mkdocs.yml`` points mkdocstrings there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Where the laid-out package goes (``build/`` is ignored by git).
SOURCE = ROOT / "build" / "api-source"
#: Installed name inside ``sd_env`` -> folder of the repository.
SUBPACKAGES = {"agents": ROOT / "agents", "experiments": ROOT / "experiments"}


def lay_out() -> None:
    """Lay out ``SOURCE/sd_env`` afresh (links only)."""
    package = SOURCE / "sd_env"
    shutil.rmtree(SOURCE, ignore_errors=True)
    package.mkdir(parents=True)
    for entry in (ROOT / "sd_env").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for name, folder in SUBPACKAGES.items():
        (package / name).symlink_to(folder)


# At import, when MkDocs loads its hooks: before any plugin's ``on_config``, for mkdocstrings drops search
# paths that do not exist when it is configured.
lay_out()
