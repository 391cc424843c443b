"""Command line for readers of the results, without Snakemake (`pip install -e .` puts it in the venv):

robustlaw evaluate CHECKPOINT [--dataset DATASET] [--radii R ...] [--results RESULTS_DIR]
                                                    the Lipschitz bracket of any checkpoint, as JSON, and
                                                    with --radii its robust accuracy on the dataset; with
                                                    --results the run's own settings, seeds and dataset
robustlaw check-config CONFIG ...                   refuse a config that is not plain YAML data (a YTE template
                                                    runs Python as Snakemake reads it), without evaluating it
robustlaw verify [RESULTS_DIR] [--reference DIR]   check every result file against MANIFEST.sha256
robustlaw compare RESULTS_A RESULTS_B [--deviations]  two results folders, equal up to float noise?
robustlaw columns                                   the column dictionary of every table, as Markdown
robustlaw figures                                   the table of every figure, as Markdown (docs/figures.md)
robustlaw --version
"""

import argparse
import shlex
import sys
from importlib.metadata import version

from robustlaw.catalogue import TABLES, figures_markdown, table_file
from robustlaw.grid import ConfigError, check_plain_config
from robustlaw.results import compare as comparison
from robustlaw.results import evaluate
from robustlaw.results.manifest import MANIFEST_NAME, TIMINGS_MANIFEST_NAME, rebuilt_output, verify_results

BAR = "\\|"


def verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="?", default="results", help="the results folder (default: results)")
    parser.add_argument(
        "--reference",
        help=f"a folder holding the published {MANIFEST_NAME} (and {TIMINGS_MANIFEST_NAME}) to check a rerun against",
    )


def verify(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
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


def check_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("configs", nargs="+", help="config files to check before passing them to snakemake")


def check_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
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


def compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="results folder A (or the work folder holding results/)")
    parser.add_argument("b", help="results folder B")
    parser.add_argument("--deviations", action="store_true", help="also print the largest deviation per column")


def compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
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
        "Generated by `.venv/bin/robustlaw columns` from the tables of `scripts/robustlaw/catalogue.py` and",
        "their column dictionaries (`scripts/robustlaw/results/columns.py`), which each Parquet file also",
        "carries in its schema metadata (`robustlaw.columns`); tests/test_docs.py fails",
        "when this file and the command's output differ. Units: `label` is a label value (labels lie in",
        "[-1, 1]), `input norm` a distance between inputs; `-` marks ids, flags and dimensionless numbers.",
    ]
    for table_name, table in TABLES.items():
        lines += ["", f"## results/{table_file(table_name)}", "", "| column | unit | meaning |", "| --- | --- | --- |"]
        for name, (unit, meaning) in table.columns.items():
            # A '|' inside a cell would end it early; Markdown keeps an escaped one as text.
            lines.append(f"| `{name}` | {unit} | {meaning.replace('|', BAR)} |")
    return "\n".join(lines) + "\n"


def columns(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    sys.stdout.write(columns_markdown())
    return 0


def figures(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    sys.stdout.write(figures_markdown())
    return 0


# name -> (what it does, its arguments, the function that runs it)
COMMANDS = {
    "evaluate": (
        "the Lipschitz bracket of any checkpoint, and with --radii its robust accuracy on a dataset, as JSON",
        evaluate.add_arguments,
        evaluate.run,
    ),
    "check-config": (
        "refuse a config file Snakemake would evaluate as a template; the file is only read",
        check_config_arguments,
        check_config,
    ),
    "verify": (
        f"check a results folder against {MANIFEST_NAME}, its own or a published folder's",
        verify_arguments,
        verify,
    ),
    "compare": (
        "compare two results folders up to float noise (exit 1 on a real disagreement)",
        compare_arguments,
        compare,
    ),
    "columns": ("print every table's columns as Markdown", lambda parser: None, columns),
    "figures": ("print the table of every figure as Markdown (docs/figures.md)", lambda parser: None, figures),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="robustlaw", description=__doc__.split("\n\n")[0])
    top.add_argument("--version", action="version", version=f"robustlaw {version('robustlaw')}")
    commands = top.add_subparsers(dest="command", required=True)
    for name, (summary, add_arguments, run) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        add_arguments(command)
        command.set_defaults(run=run, parser=command)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    return args.run(args, args.parser)


if __name__ == "__main__":
    sys.exit(main())
