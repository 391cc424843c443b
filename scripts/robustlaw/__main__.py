"""Command line for readers of the results, without Snakemake (`pip install -e .` puts it in the venv):

robustlaw evaluate CHECKPOINT [--dataset DATASET] [--radii R ...]
                                                    the Lipschitz bracket of any checkpoint, as JSON, and
                                                    with --radii its robust accuracy on the dataset
robustlaw check-config CONFIG ...                   refuse a config that is not plain YAML data (a YTE template
                                                    runs Python as Snakemake reads it), without evaluating it
robustlaw verify [RESULTS_DIR] [--reference DIR]   check every result file against MANIFEST.sha256
robustlaw compare RESULTS_A RESULTS_B [--deviations]  two results folders, equal up to float noise?
robustlaw columns                                   the column dictionary of every table, as Markdown
"""

import argparse
import shlex
import sys

from . import compare as comparison
from . import evaluate
from .columns import TABLES
from .grid import ConfigError, check_plain_config
from .manifest import MANIFEST_NAME, TIMINGS_MANIFEST_NAME, rebuilt_output, verify_results

BAR = "\\|"


def verify(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="robustlaw verify",
        description=f"check a results folder against {MANIFEST_NAME}, its own or a published folder's",
    )
    parser.add_argument("results", nargs="?", default="results", help="the results folder (default: results)")
    parser.add_argument(
        "--reference",
        help=f"a folder holding the published {MANIFEST_NAME} (and {TIMINGS_MANIFEST_NAME}) to check a rerun against",
    )
    args = parser.parse_args(argv)
    reference = args.reference or args.results
    checked = verify_results(args.results, args.reference)
    for problem in checked.problems:
        print(problem, file=sys.stderr)
    if checked.damaged:
        print(
            f"{args.results}: {len(checked.damaged)} files missing or changed; to rebuild them and what was made "
            "from them, run in the folder that holds results/, with the --configfile they were made with:",
            file=sys.stderr,
        )
        print(f"  {repair_command(checked.damaged)}", file=sys.stderr)
    if checked.damaged and args.reference:
        hint = "results of another machine or kernel path differ in their last bits: check them with `compare`"
        print(hint, file=sys.stderr)
    if not checked.problems:
        print(f"{args.results}: all {checked.checked} files listed in {reference}/{MANIFEST_NAME} match")
    if checked.timing_files:
        print(
            f"{args.results}: the {checked.timing_files} timing files listed apart in {reference}/"
            f"{TIMINGS_MANIFEST_NAME} (timings.tsv, timings/) are expected to differ on a rerun; "
            f"{len(checked.differing_timings)} differ here"
        )
    print(f"{args.results}: logs/, benchmarks/ and report.html are in no manifest: they hold time stamps and timings")
    return 1 if checked.problems else 0


def check_config(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="robustlaw check-config",
        description="refuse a config file Snakemake would evaluate as a template; the file is only read",
    )
    parser.add_argument("configs", nargs="+", help="config files to check before passing them to snakemake")
    args = parser.parse_args(argv)
    refused = 0
    for path in args.configs:
        try:
            check_plain_config(path)
        except ConfigError as error:
            print(error, file=sys.stderr)
            refused += 1
        else:
            print(f"{path}: plain YAML data, no template")
    return 1 if refused else 0


def repair_command(damaged: list[str]) -> str:
    """The command that rebuilds the damaged files: --forcerun reruns the jobs that wrote them (Snakemake
    cannot see a file changed inside a folder it wrote, nor, once the tables exist, a deleted folder),
    then every job downstream of them."""
    targets = sorted({f"results/{rebuilt_output(name)}" for name in damaged})
    return shlex.join(["snakemake", "--cores", "all", "--forcerun", *targets])


def compare(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="robustlaw compare",
        description="compare two results folders up to float noise (exit 1 on a real disagreement)",
    )
    parser.add_argument("a", help="results folder A (or the work folder holding results/)")
    parser.add_argument("b", help="results folder B")
    parser.add_argument("--deviations", action="store_true", help="also print the largest deviation per column")
    args = parser.parse_args(argv)
    try:
        result = comparison.compare_folders(args.a, args.b)
    except (FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    print(comparison.report(result, args.deviations))
    return 0 if result.agree else 1


def columns_markdown() -> str:
    """docs/columns.md: one section per table, one row per column, from the dictionaries the tables carry."""
    lines = [
        "# Columns of the result tables",
        "",
        "Generated by `.venv/bin/robustlaw columns` from `scripts/robustlaw/columns.py`, the dictionary each",
        "Parquet file also carries in its schema metadata (`robustlaw.columns`); tests/test_docs.py fails",
        "when this file and the command's output differ. Units: `label` is a label value (labels lie in",
        "[-1, 1]), `input norm` a distance between inputs; `-` marks ids, flags and dimensionless numbers.",
    ]
    for table, columns in TABLES.items():
        lines += ["", f"## results/{table}", "", "| column | unit | meaning |", "| --- | --- | --- |"]
        for name, (unit, meaning) in columns.items():
            # A '|' inside a cell would end it early; Markdown keeps an escaped one as text.
            lines.append(f"| `{name}` | {unit} | {meaning.replace('|', BAR)} |")
    return "\n".join(lines) + "\n"


def columns(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="robustlaw columns", description="print every table's columns as Markdown")
    parser.parse_args(argv)
    sys.stdout.write(columns_markdown())
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {
        "evaluate": evaluate.main,
        "check-config": check_config,
        "verify": verify,
        "compare": compare,
        "columns": columns,
    }
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
