"""Float noise between compute paths: one config run in fresh folders under several CPU kernel paths
(or on CUDA), each result compared with the first by `robustlaw compare --deviations`.

The tolerances of scripts/robustlaw/results/compare.py come from this measurement (docs/cross-machine.md).

    .venv/bin/python benchmarks/cross_machine.py [--configfile tests/tiny_config.yaml] [--folder DIR]
        [--variants avx512 avx2 default generic] [--reference RESULTS --widths K ...]

A long config need not run twice: `--reference` compares every variant with a finished run of the same
config (its results folder), and `--widths` runs only those widths of every model and control series.
The rows, tables and config entries of the other widths are then on the reference's side only and
reported as such; the deviations over the matched rows (and the law fits whose points are all among
the widths run) are the measurement.

Variants: `avx512`, `avx2`, `default` set ATEN_CPU_CAPABILITY (torch's vectorised kernels, or none);
`generic` also drops MKL and OpenBLAS to their SSE4.2 / Prescott code paths, the nearest this machine
gets to another CPU; `cpu` changes nothing; `cuda` trains on the GPU (config `gpu: true`) and needs
one: run `--variants cpu cuda` where a GPU is lent to see what CUDA training changes.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from robustlaw.results.compare import compare_folders, report  # noqa: E402
from robustlaw.results.provenance import read_provenance  # noqa: E402

GENERIC = {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "OPENBLAS_CORETYPE": "Prescott"}
VARIANTS: dict[str, tuple[dict[str, str], dict]] = {
    "avx512": ({"ATEN_CPU_CAPABILITY": "avx512"}, {}),
    "avx2": ({"ATEN_CPU_CAPABILITY": "avx2"}, {}),
    "default": ({"ATEN_CPU_CAPABILITY": "default"}, {}),
    "generic": (GENERIC, {}),
    "cpu": ({}, {"gpu": False}),
    "cuda": ({}, {"gpu": True}),
}


def with_widths(config: dict, widths: set[int]) -> dict:
    """`config` with every model and control series cut to `widths`; a series left empty is dropped."""
    cut = dict(config)
    for section in [name for name in ("models", "controls") if name in config]:
        if any("widths" not in series for series in config[section]):
            raise SystemExit(f"--widths: every entry of {section} in the config needs its own widths list")
        kept = [{**series, "widths": [k for k in series["widths"] if k in widths]} for series in config[section]]
        cut[section] = [series for series in kept if series["widths"]]
    return cut


def run_variant(name: str, config: dict, folder: Path, cores: int) -> Path:
    """The workflow in folder/name with the variant's environment and config; returns its work folder."""
    environment, overrides = VARIANTS[name]
    workdir = folder / name
    workdir.mkdir(parents=True)
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump({**config, **overrides}))
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    command = [snakemake, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--configfile", str(configfile)]
    # Every step in a process of its own, so each starts under the variant's kernels.
    env = dict(os.environ, **environment)
    start = time.perf_counter()
    with (workdir / "snakemake.log").open("w") as log:
        subprocess.run([*command, "--cores", str(cores)], check=True, env=env, stdout=log, stderr=subprocess.STDOUT)
    compute = read_provenance(pq.read_schema(workdir / "results" / "runs.parquet").metadata)["compute"]
    print(f"{name}: {time.perf_counter() - start:.0f} s; compute {compute}", flush=True)
    return workdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configfile", type=Path, default=ROOT / "tests" / "tiny_config.yaml")
    parser.add_argument("--folder", type=Path, default=None, help="where the runs go (default: a new temp folder)")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=["avx512", "avx2", "default", "generic"])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--reference", type=Path, default=None, help="a finished run of the config to compare with")
    parser.add_argument("--widths", type=int, nargs="+", default=None, help="run only these widths of each series")
    args = parser.parse_args()
    if args.widths and not args.reference:
        raise SystemExit("--widths runs part of the config: give the full run to compare with as --reference")
    if "cuda" in args.variants:
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("variant cuda needs a CUDA device; none is visible here")
    folder = args.folder or Path(subprocess.check_output(["mktemp", "-d"], text=True).strip())
    config = yaml.safe_load(args.configfile.read_text())
    if args.widths:
        config = with_widths(config, set(args.widths))
    runs = {name: run_variant(name, config, folder, args.cores) for name in args.variants}
    if args.reference:
        runs = {str(args.reference): args.reference, **runs}
    reference, *others = runs
    for name in others:
        print(f"\n=== {reference} (A) vs {name} (B): robustlaw compare --deviations", flush=True)
        print(report(compare_folders(runs[reference], runs[name]), show_deviations=True), flush=True)


if __name__ == "__main__":
    main()
