"""Faults: diverging training, a killed run, a second run on a busy directory. Nothing lost."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import yaml
from helpers import SNAKEMAKE, TINY, snakemake


def test_diverging_training_and_an_infinite_lipschitz_constant_do_not_break_aggregation(workflow, tmp_path):
    config = yaml.safe_load(yaml.safe_dump(TINY))
    config["trainers"] = [
        {"name": "plain", "learning_rate": 0.02, "max_steps": 3000},
        {"name": "unstable", "optimizer": "sgd", "learning_rate": 1.0e6, "max_steps": 3000},
    ]
    config["models"] = [{"widths": [16]}]
    config["controls"] = [{"kind": "relu_ntk", "widths": [16]}]  # discontinuous: Lip = inf
    config["seeds"] = [0]
    snakemake(workflow, tmp_path, config=config)
    runs = pd.read_parquet(tmp_path / "results" / "runs.parquet").set_index("trainer")
    assert runs.loc["closed_form", "lip_upper"] == float("inf") and runs.loc["closed_form", "fitted"]
    assert runs.loc["unstable", "status"] == "diverged" and runs.loc["unstable", "diverged"]
    assert not runs.loc["unstable", "fitted"] and runs.loc["unstable", "steps"] < 3000
    # Its weights may have stayed finite (then it has a bracket) or not (then an explained NaN).
    unstable = runs.loc["unstable"]
    assert unstable["lip_upper"] >= unstable["lip_lower"] or unstable["lip_upper_method"] == "none: non-finite weights"
    assert runs.loc["plain", "status"] == "fitted" and runs.loc["plain", "lip_upper"] > 0
    frontier = pd.read_parquet(tmp_path / "results" / "frontier.parquet")
    assert set(frontier["trainer"]) == {"plain"}
    fits = pd.read_parquet(tmp_path / "results" / "law_fit.parquet")
    assert not fits.filter(like="slope").isin([float("inf"), float("-inf")]).any().any()
    assert (tmp_path / "results" / "figures" / "lipschitz_vs_p.png").stat().st_size > 10_000


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def outputs(results: Path) -> dict[str, int]:
    """Finished model and bracket files (atomic writes: present means complete), by mtime."""
    files = [*results.glob("models/**/*.json"), *results.glob("lipschitz/**/*.json")]
    return {str(path.relative_to(results)): path.stat().st_mtime_ns for path in files}


def test_killed_run_resumes_to_identical_results_and_a_second_run_is_locked_out(workflow, finished_run, tmp_path):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(TINY))
    command = [SNAKEMAKE, "-s", str(workflow / "Snakefile"), "--directory", str(tmp_path), "--configfile"]
    command += [str(config_path), "--cores", "2"]
    results = tmp_path / "results"
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: any((tmp_path / ".snakemake" / "locks").glob("*.lock")), 60, "the first run's lock")
        second = snakemake(workflow, tmp_path, check=False)
        assert second.returncode != 0
        assert "LockException" in second.stdout + second.stderr
        # Kill the whole run (Snakemake and its jobs) once some brackets exist and training goes on.
        # With 2 cores at most 2 jobs run at once, each writing one bracket per seed (2 seeds): when 7
        # brackets exist, running jobs hold at most 4 of them and at least 2 jobs have finished.
        seeds = len(TINY["seeds"])
        wait_for(lambda: len(list(results.glob("lipschitz/**/*.json"))) >= 3 * seeds + 1, 300, "the first brackets")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    before = outputs(results)
    assert not (results / "runs.parquet").exists()

    assert snakemake(workflow, tmp_path, "--unlock").returncode == 0
    plan = snakemake(workflow, tmp_path, "--dry-run").stdout
    planned = {line.split(":", 1)[1].strip() for line in plan.splitlines() if line.strip().startswith("output:")}
    planned = {name.removeprefix("results/") for entry in planned for name in entry.split(", ")}
    # Files a killed job left behind are incomplete and redone; every job that had finished is kept.
    # A configuration's job writes a folder (one file per seed): a file is redone if its folder is.
    kept = {name: mtime for name, mtime in before.items() if str(Path(name).parent) not in planned}
    assert len([name for name in kept if name.startswith("lipschitz")]) >= 1
    assert len(planned) > 2 and "runs.parquet" in planned
    snakemake(workflow, tmp_path)
    after = outputs(results)
    assert {name: after[name] for name in kept} == kept
    assert (results / "runs.parquet").read_bytes() == (finished_run / "results" / "runs.parquet").read_bytes()
