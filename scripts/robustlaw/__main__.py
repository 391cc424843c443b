"""Command line for readers of the results, without Snakemake:

PYTHONPATH=scripts python -m robustlaw evaluate CHECKPOINT [--dataset DATASET]
PYTHONPATH=scripts python -m robustlaw verify [RESULTS_DIR]
"""

import argparse
import sys

from . import lipschitz
from .manifest import MANIFEST_NAME, verify_manifest


def verify(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m robustlaw verify", description=f"check {MANIFEST_NAME}")
    parser.add_argument("results", nargs="?", default="results", help="the results folder (default: results)")
    args = parser.parse_args(argv)
    problems = verify_manifest(args.results)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{args.results}: every file matches {MANIFEST_NAME}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"evaluate": lipschitz.main, "verify": verify}
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
