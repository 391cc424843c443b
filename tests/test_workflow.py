"""The workflow end to end on a tiny config, in temporary directories, through the snakemake CLI."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import TINY, planned_jobs, snakemake

from robustlaw.aggregate import COLUMNS


@pytest.fixture(scope="module")
def finished_run(workflow, tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("run")
    snakemake(workflow, workdir)
    return workdir


def test_runs_parquet_has_the_documented_schema_and_one_row_per_model(finished_run):
    runs = pd.read_parquet(finished_run / "results" / "runs.parquet")
    widths, d = TINY["models"][0]["widths"], TINY["datasets"][0]["d"]
    assert tuple(runs.columns) == COLUMNS
    assert len(runs) == len(widths) * len(TINY["seeds"])
    assert runs["p"].tolist() == [width * (d + 2) + 1 for width in widths]
    assert (runs["lip_lower"] <= runs["lip_upper"]).all()
    assert runs["fitted"].dtype == bool and runs["fitted"].any()
    assert (runs.loc[runs["fitted"], "train_mse"] <= 1 - TINY["datasets"][0]["eps"] + 1e-12).all()
    assert runs["l_sep"].nunique() == 1 and runs["l_sep"].iloc[0] > 0
    for figure in ("lipschitz_vs_p", "training_mse"):
        for extension in ("png", "svg"):
            assert (finished_run / "results" / "figures" / f"{figure}.{extension}").stat().st_size > 10_000


def test_training_progress_is_in_the_log(finished_run):
    logs = sorted((finished_run / "results" / "logs" / "train").rglob("*.log"))
    assert logs and all("train_mse" in log.read_text() and "done: steps=" in log.read_text() for log in logs)


def test_rerun_after_a_complete_run_has_nothing_to_do(workflow, finished_run):
    assert planned_jobs(workflow, finished_run) == {}


def test_fresh_runs_give_byte_identical_parquet_and_figures(workflow, finished_run, tmp_path):
    snakemake(workflow, tmp_path)
    for name in ("runs.parquet", "figures/lipschitz_vs_p.png", "figures/lipschitz_vs_p.svg"):
        assert (tmp_path / "results" / name).read_bytes() == (finished_run / "results" / name).read_bytes()


def test_changing_one_width_reruns_only_that_width(workflow, finished_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run, workdir, symlinks=True)
    changed = yaml.safe_load(yaml.safe_dump(TINY))
    changed["models"][0]["widths"] = [TINY["models"][0]["widths"][0], 5]
    jobs = planned_jobs(workflow, workdir, changed)
    assert jobs == {"train": 1, "lipschitz": 1, "aggregate": 1, "figures": 1, "all": 1}


def test_editing_an_estimator_module_reruns_the_estimates_not_the_training(workflow, finished_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run, workdir, symlinks=True)
    module = workflow / "scripts" / "robustlaw" / "lipschitz_upper.py"
    source = module.read_text()
    module.write_text(source + "\n# an edit\n")
    try:
        jobs = planned_jobs(workflow, workdir)
    finally:
        module.write_text(source)
    runs = len(TINY["models"][0]["widths"]) * len(TINY["seeds"])
    assert jobs == {"lipschitz": runs, "aggregate": 1, "figures": 1, "all": 1}


def test_report_bundles_the_figures(workflow, finished_run):
    snakemake(workflow, finished_run, "--report", "results/report.html")
    report = (finished_run / "results" / "report.html").read_text()
    assert "lipschitz_vs_p.png" in report and "training_mse.png" in report
    assert "data floor L_sep" in report
