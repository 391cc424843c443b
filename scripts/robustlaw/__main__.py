"""Command line for readers of the results, without Snakemake:

PYTHONPATH=scripts python -m robustlaw evaluate CHECKPOINT [--dataset DATASET]
PYTHONPATH=scripts python -m robustlaw verify [RESULTS_DIR]
PYTHONPATH=scripts python -m robustlaw compare RESULTS_A RESULTS_B [--deviations]
"""

import argparse
import sys

from . import compare as comparison
from . import lipschitz
from .manifest import MANIFEST_NAME, verify_manifest


def verify(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m robustlaw verify", description=f"check {MANIFEST_NAME}")
    parser.add_argument("results", nargs="?", default="results", help="the results folder (default: results)")
    args = parser.parse_args(argv)
    problems = verify_manifest(args.results)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        hint = "results of another machine or kernel path differ in their last bits: check them with `compare`"
        print(hint, file=sys.stderr)
    if not problems:
        print(f"{args.results}: every file matches {MANIFEST_NAME}")
    return 1 if problems else 0


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
