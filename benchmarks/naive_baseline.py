"""The naive baseline: the default reproduction scripted by hand, one Python process per model.

What a user without a workflow manager would write: a loop that starts one fresh Python process per
dataset (draw it, compute its floor), then one per model to fit, i.e. per seed of every
configuration (train or fit the model, bracket its Lipschitz constant, measure its robust accuracy), then one
for the
tables, figures and manifest, `--jobs` processes at a time. Each process runs the pipeline's own
steps in-process on the same files, so the results are the pipeline's;
benchmarks/default_run.py times the two against each other and compares runs.parquet byte for byte.

    .venv/bin/python benchmarks/naive_baseline.py [--configfile config.yaml] [--jobs 2]

It writes results/ in the current directory.
"""

import argparse
import importlib
import pickle
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from robustlaw.grid import FIGURE_NAMES, Grid, build_grid, data_settings  # noqa: E402
from robustlaw.paths import (  # noqa: E402
    BRACKET_FOLDER,
    CLOSED_FORM,
    MODEL_FOLDER,
    ROBUSTNESS_FOLDER,
    SERIES_BRACKET_FOLDER,
    SERIES_MODEL_FOLDER,
    SERIES_ROBUSTNESS_FOLDER,
    job_folders,
    run_files,
)
from robustlaw.steps import rule_job  # noqa: E402

Steps = list[tuple[str, object]]
# The figures step's inputs, by the names rules/aggregate.smk gives them.
FIGURE_TABLES = {"runs": "runs", "fits": "law_fit", "frontier": "frontier", "robustness": "robustness"}
# One process per seed: each writes its seed's timings to a file of its own.
SEED_TIMINGS = "results/timings/{stage}/{dataset}/{trainer}/{model}/seed{seed}.tsv"


def seed_timing_files(run: dict) -> tuple[str, str, str]:
    """The timing files of one seed's fit, of its bracket and of its robust accuracy."""
    fit_stage = "fit_control" if run["trainer"] == CLOSED_FORM else "train"
    return tuple(SEED_TIMINGS.format(stage=stage, **run) for stage in (fit_stage, "lipschitz", "robustness"))


def dataset_steps(grid: Grid, dataset: str) -> Steps:
    data = f"results/data/{dataset}.safetensors"
    wildcards = {"dataset": dataset}
    return [
        (
            "generate_data",
            rule_job(
                "generate_data",
                outputs={"data": data},
                params={"spec": data_settings(grid, dataset)},
                wildcards=wildcards,
                log=f"results/logs/generate_data/{dataset}.log",
            ),
        ),
        (
            "data_floor",
            rule_job(
                "data_floor",
                inputs={"data": data},
                outputs={"floor": f"results/data/{dataset}.floor.json"},
                wildcards=wildcards,
                log=f"results/logs/data_floor/{dataset}.log",
            ),
        ),
    ]


def model_steps(config: dict, grid: Grid, run: dict) -> Steps:
    """Fit one seed's model, bracket it, attack it: the pipeline's steps with one model and one seed."""
    series = {key: str(run[key]) for key in ("dataset", "trainer")}
    data = f"results/data/{run['dataset']}.safetensors"
    log = "{dataset}/{trainer}/{model}/seed{seed}.log".format(**run)
    one_model = [{"model": run["model"], "seeds": [run["seed"]], "spec": grid.models[run["model"]]}]
    fit_timings, bracket_timings, robustness_timings = seed_timing_files(run)
    if run["trainer"] == CLOSED_FORM:
        fit = rule_job(
            "fit_control",
            {"data": data},
            {"models": SERIES_MODEL_FOLDER.format(**run), "timings": fit_timings},
            {"configurations": one_model, "dataset": grid.datasets[run["dataset"]]},
            {"dataset": run["dataset"]},
            f"results/logs/fit_control/{log}",
        )
    else:
        specs = {
            "seeds": [run["seed"]],
            "dataset": grid.datasets[run["dataset"]],
            "model": grid.models[run["model"]],
            "trainer": grid.trainers[run["trainer"]],
            "device": "cuda" if config["gpu"] else "cpu",
        }
        wildcards = {**series, "model": run["model"]}
        outputs = {"models": MODEL_FOLDER.format(**run), "timings": fit_timings}
        fit = rule_job("train", {"data": data}, outputs, specs, wildcards, f"results/logs/train/{log}")
    bracket = rule_job(
        "lipschitz",
        inputs={"data": data},
        outputs={"brackets": SERIES_BRACKET_FOLDER.format(**run), "timings": bracket_timings},
        params={
            "models": SERIES_MODEL_FOLDER.format(**run),
            "configurations": one_model,
            "settings": config["lipschitz"],
        },
        wildcards=series,
        log=f"results/logs/lipschitz/{log}",
    )
    robustness = rule_job(
        "robustness",
        inputs={"data": data, "brackets": SERIES_BRACKET_FOLDER.format(**run)},
        outputs={"robustness": SERIES_ROBUSTNESS_FOLDER.format(**run), "timings": robustness_timings},
        params={
            "device": "cuda" if config["gpu"] else "cpu",
            "models": SERIES_MODEL_FOLDER.format(**run),
            "configurations": one_model,
            "settings": config["robustness"],
        },
        wildcards=series,
        log=f"results/logs/robustness/{log}",
    )
    return [(fit.rule, fit), ("lipschitz", bracket), ("robustness", robustness)]


def summary_steps(config: dict, grid: Grid) -> Steps:
    tables = {name: f"results/{name}.parquet" for name in ("runs", "law_fit", "frontier", "local_slopes", "robustness")}
    figures = {
        f"{figure}_{ext}": f"results/figures/{figure}.{ext}" for figure in FIGURE_NAMES for ext in ("png", "svg")
    }
    figures |= {f"{figure}_caption": f"results/figures/{figure}.rst" for figure in FIGURE_NAMES}
    records = run_files(grid.configurations, MODEL_FOLDER, ".json")
    brackets = run_files(grid.configurations, BRACKET_FOLDER, ".json")
    robustness = run_files(grid.configurations, ROBUSTNESS_FOLDER, ".json")
    model_folders, bracket_folders = job_folders(grid.configurations)
    timings = [file for run in grid.runs for file in seed_timing_files(run)]
    aggregate_inputs = {
        "models": model_folders,
        "brackets": bracket_folders,
        "timings": timings,
        "floors": [f"results/data/{dataset}.floor.json" for dataset in grid.datasets],
    }
    aggregate_params = {"records": records, "brackets": brackets, "config": config}
    aggregate_outputs = {
        "runs": tables["runs"],
        "timings": "results/timings.tsv",
        "config_page": "results/report/config.html",
    }
    fit_outputs = {"fits": tables["law_fit"], "frontier": tables["frontier"], "local": tables["local_slopes"]}
    fit_outputs["page"] = "results/report/law_fit.html"
    result_files = [*tables.values(), aggregate_outputs["config_page"], fit_outputs["page"], *figures.values()]
    for dataset in grid.datasets:
        result_files += [f"results/data/{dataset}.safetensors", f"results/data/{dataset}.floor.json"]
    checkpoints = run_files(grid.configurations, MODEL_FOLDER, ".safetensors")
    return [
        (
            "aggregate",
            rule_job(
                "aggregate", aggregate_inputs, aggregate_outputs, aggregate_params, {}, "results/logs/aggregate.log"
            ),
        ),
        (
            "law_fit",
            rule_job(
                "law_fit", {"runs": tables["runs"]}, fit_outputs, {"config": config}, {}, "results/logs/law_fit.log"
            ),
        ),
        (
            "robustness_table",
            rule_job(
                "robustness_table",
                {},
                {"table": tables["robustness"]},
                {"records": robustness, "config": config},
                {},
                "results/logs/robustness_table.log",
            ),
        ),
        (
            "figures",
            rule_job(
                "figures",
                {key: tables[name] for key, name in FIGURE_TABLES.items()},
                figures,
                {},
                {},
                "results/logs/figures.log",
            ),
        ),
        (
            "manifest",
            rule_job(
                "manifest",
                {"files": result_files, "timings": ["results/timings.tsv", *timings]},
                {"manifest": "results/MANIFEST.sha256", "timings": "results/MANIFEST-timings.sha256"},
                {"run_files": [*checkpoints, *records, *brackets, *robustness]},
                {},
                "results/logs/manifest.log",
            ),
        ),
    ]


def run_processes(batches: list[Steps], jobs: int, scratch: Path) -> None:
    """One fresh `python` process per batch of steps, `jobs` of them at a time."""

    def run_batch(index: int, steps: Steps) -> None:
        for _, job in steps:
            for path in [*job.output, *job.log]:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        batch_file = scratch / f"batch{index}.pickle"
        batch_file.write_bytes(pickle.dumps(steps))
        subprocess.run([sys.executable, __file__, "--steps", str(batch_file)], check=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for finished in [pool.submit(run_batch, index, steps) for index, steps in enumerate(batches)]:
            finished.result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configfile", type=Path, default=ROOT / "config.yaml")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--steps", type=Path, help=argparse.SUPPRESS)  # one process's batch
    args = parser.parse_args()
    if args.steps:
        for name, job in pickle.loads(args.steps.read_bytes()):
            importlib.import_module(f"robustlaw.steps.{name}").run(job)
        return
    config = yaml.safe_load(args.configfile.read_text())
    validate(config, str(ROOT / "schemas" / "config.schema.yaml"))
    grid = build_grid(config)
    with tempfile.TemporaryDirectory() as scratch:
        run_processes([dataset_steps(grid, dataset) for dataset in grid.datasets], args.jobs, Path(scratch))
        run_processes([model_steps(config, grid, run) for run in grid.runs], args.jobs, Path(scratch))
        run_processes([summary_steps(config, grid)], args.jobs, Path(scratch))


if __name__ == "__main__":
    main()
