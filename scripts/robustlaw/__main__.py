"""Command line for readers of the results, without Snakemake:

PYTHONPATH=scripts python -m robustlaw evaluate CHECKPOINT [--dataset DATASET]
PYTHONPATH=scripts python -m robustlaw verify [RESULTS_DIR] [--reference PUBLISHED_RESULTS_DIR]
"""

import argparse
import sys

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
    if not checked.problems:
        print(f"{args.results}: all {checked.checked} files listed in {reference}/{MANIFEST_NAME} match")
    if checked.timing_files:
        print(
            f"{args.results}: the {checked.timing_files} timing files listed apart in {reference}/"
            f"{TIMINGS_MANIFEST_NAME} (timings.tsv, timings/) are expected to differ on a rerun; "
            f"{len(checked.differing_timings)} differ here"
        )
    print(f"{args.results}: logs/ and benchmarks/ are in no manifest: they hold time stamps and timings")
    return 1 if checked.problems else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"evaluate": lipschitz.main, "verify": verify}
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
