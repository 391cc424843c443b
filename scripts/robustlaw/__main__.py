"""Command line for readers of the results, without Snakemake:

PYTHONPATH=scripts python -m robustlaw evaluate CHECKPOINT [--dataset DATASET]
PYTHONPATH=scripts python -m robustlaw verify [RESULTS_DIR] [--reference PUBLISHED_RESULTS_DIR]
PYTHONPATH=scripts python -m robustlaw compare RESULTS_A RESULTS_B [--deviations]
"""

import argparse
import sys

from . import compare as comparison
from . import lipschitz
from .manifest import MANIFEST_NAME, TIMINGS_MANIFEST_NAME, verify_results


def verify(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m robustlaw verify",
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
    if checked.problems:
        hint = "results of another machine or kernel path differ in their last bits: check them with `compare`"
        print(hint, file=sys.stderr)
    else:
        print(f"{args.results}: all {checked.checked} files listed in {reference}/{MANIFEST_NAME} match")
    if checked.timing_files:
        print(
            f"{args.results}: the {checked.timing_files} timing files listed apart in {reference}/"
            f"{TIMINGS_MANIFEST_NAME} (timings.tsv, timings/) are expected to differ on a rerun; "
            f"{len(checked.differing_timings)} differ here"
        )
    print(f"{args.results}: logs/ and benchmarks/ are in no manifest: they hold time stamps and timings")
    return 1 if checked.problems else 0


def compare(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m robustlaw compare",
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"evaluate": lipschitz.main, "verify": verify, "compare": compare}
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
