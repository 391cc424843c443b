"""Wall time of the default reproduction, cold, in a fresh results folder.

Runs `snakemake --cores N` on config.yaml in a temporary working directory and prints the total
wall time next to the seconds Snakemake's benchmark files recorded per rule.

    .venv/bin/python benchmarks/default_run.py [--cores 2] [--configfile config.yaml]
"""

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cores", default="2")
    parser.add_argument("--configfile", default=str(ROOT / "config.yaml"))
    args = parser.parse_args()
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    with tempfile.TemporaryDirectory(prefix="robustlaw-benchmark-") as workdir:
        command = [snakemake, "-s", str(ROOT / "Snakefile"), "--directory", workdir, "--configfile", args.configfile]
        command += ["--cores", args.cores, "--quiet", "all"]
        start = time.perf_counter()
        subprocess.run(command, check=True)
        wall = time.perf_counter() - start
        per_rule: dict[str, list[float]] = defaultdict(list)
        for path in Path(workdir, "results", "benchmarks").rglob("*.tsv"):
            rule = path.relative_to(Path(workdir, "results", "benchmarks")).parts[0]
            with path.open() as handle:
                per_rule[rule].extend(float(row["s"]) for row in csv.DictReader(handle, delimiter="\t"))
    print(f"config: {args.configfile}; cores: {args.cores}")
    print(f"total wall time: {wall:.1f} s")
    for rule, seconds in sorted(per_rule.items()):
        print(f"  {rule:>12}: {len(seconds):4d} jobs, {sum(seconds):7.1f} s summed, {max(seconds):6.2f} s slowest")


if __name__ == "__main__":
    main()
