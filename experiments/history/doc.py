"""Regenerate the measured results in ``docs/history.md`` from the historical data.

    python -m sd_env.experiments.history.doc [--data ../shared/data] [--check]

Runs the same function as ``sd-env history`` (:func:`sd_env.experiments.history.report.run_history`)
on the COW files in ``--data`` and rewrites the generated block
``history-results`` of ``docs/history.md`` (through
``sd_env.experiments.output.blocks``, the repository's one writer of generated
blocks); the block names the exact commands, so a reader can rerun any
number in it. ``--check`` only compares and exits 1 if the page is out of
date. Without the data (the project never ships it) the script
says so and exits 0 under ``--check``, 2 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sd_env.experiments.history.coding import FILTERS
from sd_env.experiments.history.report import history_text, run_history
from sd_env.experiments.output.blocks import MissingMarkersError, update_blocks

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "history.md"
BLOCK = "history-results"
FILES = {"nmc": "NMC-70-abridged.csv", "rivalries": "td_rivalries.csv", "races": "grh_arms_races_sample.csv",
         "wars": "cow_interstate_war_dyad_years.csv"}
#: The headline run: GRH's rule and tolerance, precision over the years GRH's list covers (1816-1993), the
#: primary interdependence filter (chosen on principle before it was scored, see docs/history.md).
HEADLINE = {"tolerance": 2, "rule": "either", "list_years": (1816, 1993), "richardson": ["220+365:255+300@1909-1913"],
            "filter_name": "system"}


def command_line(data: str, wars: bool = True, **options: object) -> str:
    """The ``sd-env history`` command that computes a run with ``options``."""
    parts = ["sd-env history", f"--nmc {data}/{FILES['nmc']}", f"--rivalries {data}/{FILES['rivalries']}",
             f"--races {data}/{FILES['races']}"]
    if wars:
        parts.append(f"--wars {data}/{FILES['wars']}")
    if options.get("rule", "either") != "either":
        parts.append(f"--rule {options['rule']}")
    if options.get("tolerance", 2) != 2:
        parts.append(f"--tolerance {options['tolerance']}")
    if options.get("list_years"):
        first, last = options["list_years"]
        parts.append(f"--list-years {first}-{last}")
    if options.get("filter_name", "reaction") != "reaction":
        parts.append(f"--filter {options['filter_name']}")
    for spec in options.get("richardson", []):
        parts.append(f"--richardson {spec}")
    return " ".join(parts)


def results_block(data_dir: Path, shown_as: str = "../shared/data") -> str:
    """The generated Markdown of the block."""
    paths = {key: data_dir / name for key, name in FILES.items()}
    headline = run_history(paths["nmc"], paths["rivalries"], paths["races"], paths["wars"], **HEADLINE)
    lines = ["", "The headline run (GRH's rule, tolerance 2 years, precision over 1816-1993), from the "
             "repository root:", "", "```text", f"$ {command_line(shown_as, **HEADLINE)}",
             history_text(headline, show=10), "```", "",
             "How recall and precision move with the rule and the tolerance, on the whole sample (each row is the "
             "command above with `--rule` and `--tolerance` as shown, and without `--richardson`; a filter's cell is "
             "its recall / precision, read from `filters` in the JSON):", "",
             "| rule | tolerance | races found | recall | precision | "
             + " | ".join(f"{name}" for name in FILTERS) + " |",
             "| --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in FILTERS) + " |"]
    for rule in ("either", "same"):
        for tolerance in (0, 1, 2):
            report = run_history(paths["nmc"], paths["rivalries"], paths["races"], paths["wars"], tolerance=tolerance,
                                 rule=rule, list_years=HEADLINE["list_years"], filter_name=HEADLINE["filter_name"])
            cells = [f"{report['filters'][name]['recall']:.3f} / {report['filters'][name]['precision']:.3f}"
                     for name in FILTERS]
            lines.append(f"| {rule} | {tolerance} | {report['races_found']}/{report['races_listed']} | "
                         f"{report['recall']:.3f} | {report['precision']:.3f} | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"),
                        help="folder with the COW files (default: ../shared/data beside the repository)")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/history.md is out of date")
    args = parser.parse_args(argv)
    data = Path(args.data)
    missing = [name for name in FILES.values() if not (data / name).is_file()]
    if missing:
        print(f"history_doc: the historical data is not in {data} (missing {', '.join(missing)}); "
              "the project never ships it: see docs/history.md", file=sys.stderr)
        return 0 if args.check else 2
    try:
        stale = update_blocks(PAGE, {BLOCK: results_block(data)}, check=args.check)
    except MissingMarkersError as error:
        print(f"history_doc: {error}", file=sys.stderr)
        return 2
    if args.check and stale:
        print(f"{PAGE} is out of date: run python -m sd_env.experiments.history.doc", file=sys.stderr)
        return 1
    print(f"{PAGE} is up to date" if args.check or not stale else f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
