"""Wall and CPU time of the default reproduction, cold, against another commit.

All measured in one run.

Runs `snakemake --cores N` on config.yaml in a fresh folder with this checkout, then, with --against,
the same with another commit's code (checked out in a temporary git worktree, its package first on
PYTHONPATH). For each it prints the wall time, the CPU time summed over every process involved, and the share of that
CPU spent outside the models' own work (training, closed-form fits, brackets and robustness, as timings.tsv gives
them: interpreter start, imports, data, tables, figures, Snakemake); then the ratios, and whether
runs.parquet holds the same data (its metadata names the commit, so the bytes differ across commits).
Last, the training throughput of the pipeline's models of width >= 256 in GFLOP/s, counting 6 n p FLOPs
per full-batch step (and the FLOPs torch's profiler counts in one such step), next to torch's matmul
peak on one thread.

    .venv/bin/python benchmarks/default_run.py [--cores 2] [--configfile config.yaml]
        [--against COMMIT]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import torch
from torch.profiler import ProfilerActivity, profile

from robustlaw.settings import trainer_settings
from robustlaw.training.fit import TrainSpec, make_penalty
from robustlaw.training.models import MLP

ROOT = Path(__file__).resolve().parents[1]

MIN_WIDTH = 256


@dataclass(frozen=True)
class Measured:
    wall_s: float
    cpu_s: float
    work_s: float

    @property
    def overhead_share(self) -> float:
        return 1 - self.work_s / self.cpu_s


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def models_work_s(results: Path) -> float:
    """Seconds the models' own work took (one thread each): training or fitting, every bound, robustness."""
    timings = pd.read_csv(results / "timings.tsv", sep="\t")
    return float(timings.drop(columns=["dataset", "model", "trainer", "seed"]).sum().sum())


def measure(command: list[str], workdir: Path, environment: dict[str, str] | None = None) -> Measured:
    """Wall and CPU time of `command` and of everything it starts, and the models' own work in it."""
    cpu_before = children_cpu_s()
    start = time.perf_counter()
    subprocess.run(command, check=True, env=dict(os.environ, **(environment or {})), cwd=workdir)
    wall = time.perf_counter() - start
    return Measured(wall, children_cpu_s() - cpu_before, models_work_s(workdir / "results"))


def same_data(first: Path, second: Path) -> bool:
    """The same table, metadata aside (it names the git commit)."""
    tables = [pq.read_table(path) for path in (first, second)]
    return tables[0].replace_schema_metadata(None).equals(tables[1].replace_schema_metadata(None))


def matmul_peak_gflops(threads: int, size: int = 1024, seconds: float = 2.0) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    repeats, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        repeats += 1
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def counted_flops_per_step(method: str, n: int, d: int, width: int, probe_points: int) -> float:
    """FLOPs of one full-batch step (loss, penalty, backward) as torch's profiler counts them."""
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, d, generator=generator), torch.randn(n, 1, generator=generator)
    model = MLP(d, width, 2, "relu", generator=generator)
    trainer = trainer_settings(name="flops", method=method, max_steps=1, log_every=1, probe_points=probe_points)
    spec = TrainSpec.from_trainer(trainer, target_mse=0.0)
    penalty_of = make_penalty(spec, x, generator)
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as profiler:
        loss = torch.mean((model(x) - y) ** 2)
        (loss if penalty_of is None else loss + penalty_of(model)).backward()
    return sum(event.flops for event in profiler.key_averages() if event.flops)


def training_throughput(results: Path, peak: float) -> pd.DataFrame:
    runs = pd.read_parquet(results / "runs.parquet")
    timings = pd.read_csv(results / "timings.tsv", sep="\t")
    runs = runs.merge(timings, on=["dataset", "model", "trainer", "seed"])
    runs = runs[(runs["family"] == "mlp") & (runs["width"] >= MIN_WIDTH) & (runs["steps"] > 0)]
    config = json.loads(pq.read_schema(results / "runs.parquet").metadata[b"robustlaw.config"])
    probe_points = {trainer["name"]: trainer["probe_points"] for trainer in config["trainers"]}
    rows = []
    for (trainer, method, width, n, d), group in runs.groupby(["trainer", "method", "width", "n", "d"]):
        probes = probe_points[trainer]
        nominal = float((6 * group["n"] * group["p"] * group["steps"]).sum())
        seconds = float(group["train_s"].sum())
        factor = counted_flops_per_step(method, n, d, width, probes) / (6 * n * group["p"].iloc[0])
        rows.append(
            {
                "trainer": trainer,
                "width": width,
                "steps": int(group["steps"].sum()),
                "train_s": seconds,
                "gflops_6np": nominal / seconds / 1e9,
                "of_peak_6np": nominal / seconds / 1e9 / peak,
                "gflops_counted": factor * nominal / seconds / 1e9,
                "of_peak_counted": factor * nominal / seconds / 1e9 / peak,
            }
        )
    return pd.DataFrame(rows)


def report(name: str, measured: Measured) -> None:
    print(f"{name}: wall {measured.wall_s:.1f} s, CPU {measured.cpu_s:.1f} s summed over all processes")
    print(f"  models' own work {measured.work_s:.1f} s; outside it: {measured.overhead_share:.1%} of CPU")


def commit_arm(commit: str, configfile: Path, cores: int, scratch: Path) -> Measured:
    """The default run with `commit`'s code (its Snakefile, profile and package), in a fresh folder
    (scratch/other). Commits up to 3c2b183 ran their steps in a warm fork server that outlived the run:
    its CPU time after the run is not counted here."""
    tree = scratch / "other-tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit], check=True)
    try:
        workdir = scratch / "other"
        workdir.mkdir()
        command = [str(Path(sys.executable).with_name("snakemake")), "-s", str(tree / "Snakefile")]
        command += ["--configfile", str(configfile), "--cores", str(cores), "--quiet", "all"]
        # That commit's package first on the path, ahead of this checkout's installed one.
        environment = {"PYTHONPATH": str(tree / "scripts")}
        return measure(command, workdir, environment)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=ROOT / "config.yaml")
    parser.add_argument("--against", metavar="COMMIT", help="another commit to measure the same way (default: none)")
    args = parser.parse_args()
    configfile = args.configfile.resolve()
    peak_one, peak_all = matmul_peak_gflops(1), matmul_peak_gflops(args.cores)
    print(f"config: {configfile}; cores: {args.cores}")
    print(
        f"torch matmul peak (1024 x 1024 float32): {peak_one:.1f} GFLOP/s on 1 thread, {peak_all:.1f} on {args.cores}"
    )
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    with tempfile.TemporaryDirectory(prefix="robustlaw-benchmark-") as scratch:
        ours_dir = Path(scratch, "pipeline")
        ours_dir.mkdir()
        command = [snakemake, "-s", str(ROOT / "Snakefile"), "--configfile", str(configfile)]
        ours = measure([*command, "--cores", str(args.cores), "--quiet", "all"], ours_dir)
        report("pipeline (snakemake --cores), every job in its own process", ours)
        ours_table = ours_dir / "results" / "runs.parquet"
        throughput = training_throughput(ours_dir / "results", peak_one)
        if args.against:
            other = commit_arm(args.against, configfile, args.cores, Path(scratch))
            report(f"commit {args.against}", other)
            other_table = Path(scratch, "other", "results", "runs.parquet")
            print(f"  runs.parquet holds the same data: {same_data(ours_table, other_table)}")
            print(f"  this checkout / commit {args.against} wall time: {ours.wall_s / other.wall_s:.3f}")
    print(f"training throughput, widths >= {MIN_WIDTH} (one thread per job; % of the 1-thread peak):")
    with pd.option_context("display.width", 200, "display.float_format", "{:.3g}".format):
        print(throughput.to_string(index=False))


if __name__ == "__main__":
    main()
