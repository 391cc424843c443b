"""Wall time of a dry run of a 10,000-job grid, in a fresh results folder.

Runs `snakemake -n --quiet all` on benchmarks/grid_10k.yaml (10,000 configurations) in a temporary working
directory, counts the planned jobs from Snakemake's job table and prints them with the wall time
against the target (60 s on 2 cores). Exits with status 1 when the dry run fails or is too slow.

    .venv/bin/python benchmarks/dry_run.py [--configfile benchmarks/grid_10k.yaml] [--target 60]
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The rows of the table Snakemake prints before a run: "train    10000", ..., "total    10606".
JOB_ROW = re.compile(r"^(\w+)\s+(\d+)$", flags=re.MULTILINE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configfile", default=str(ROOT / "benchmarks" / "grid_10k.yaml"))
    parser.add_argument("--target", type=float, default=60.0, help="seconds the dry run may take")
    args = parser.parse_args()
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    with tempfile.TemporaryDirectory(prefix="robustlaw-dry-run-") as workdir:
        command = [snakemake, "-s", str(ROOT / "Snakefile"), "--directory", workdir, "--configfile", args.configfile]
        command += ["-n", "--quiet", "all"]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"snakemake -n failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    table = (result.stdout + result.stderr).rpartition("Job stats:")[2]
    counts = {rule: int(count) for rule, count in JOB_ROW.findall(table.partition("\n\n")[0])}
    total = counts.pop("total", None)
    if total is None:
        sys.exit(f"no job table in the dry run's output:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    passed = wall < args.target
    print(f"config: {args.configfile}")
    print(f"jobs: {total} ({', '.join(f'{rule} {count}' for rule, count in counts.items())})")
    print(f"dry run wall time: {wall:.1f} s (target < {args.target:g} s): {'pass' if passed else 'FAIL'}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
