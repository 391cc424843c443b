"""Faults: diverging training, a killed run, a second run on a busy directory. Nothing lost."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import yaml
from helpers import HANG_S, SNAKEMAKE, TINY, copy_workflow, run_environment, snakemake


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


# Put into a private copy of scripts/lipschitz.py, ahead of its call of run(). Run on one core, jobs run
# one at a time, each to its end; the first bracket written into a second model's folder (the same sweep's
# next model) stops its job right there (that one seed's file written, the next seed not begun) until the
# test kills the run. The
# "held" folder, made once, keeps a later run from holding.
HOLD = """

# Injected by tests/test_faults.py.
import os as _os
import time as _time

_write_json = write_json


def write_json(path, record):
    _write_json(path, record)
    first, folder = _os.path.join({hold!r}, "first"), _os.path.dirname(path)
    if not _os.path.exists(first):
        with open(first, "w") as note:
            note.write(folder)
    with open(first) as note:
        if note.read() == folder:
            return
    try:
        _os.mkdir(_os.path.join({hold!r}, "held"))
    except FileExistsError:
        return
    while True:
        _time.sleep(1)
"""
MAIN = 'if __name__ == "__main__":'


def outputs(results: Path) -> dict[str, int]:
    """Finished model and bracket files (atomic writes: present means complete), by mtime."""
    files = [*results.glob("models/**/*.json"), *results.glob("lipschitz/**/*.json")]
    return {str(path.relative_to(results)): path.stat().st_mtime_ns for path in files}


def test_killed_run_resumes_to_identical_results_and_a_second_run_is_locked_out(finished_run, tmp_path):
    """The run is killed at a moment the test chooses, not one it races for: the first lipschitz job (one
    sweep) half done, its first model's brackets written and one seed of the next, no other job under way."""
    (tmp_path / "workflow").mkdir()
    workflow = copy_workflow(tmp_path / "workflow")
    step = workflow / "scripts" / "lipschitz.py"
    hold = tmp_path / "hold"
    hold.mkdir()
    step.write_text(step.read_text().replace(MAIN, HOLD.format(hold=str(hold)) + MAIN))
    workdir, results = tmp_path / "run", tmp_path / "run" / "results"
    workdir.mkdir()
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(TINY))
    command = [SNAKEMAKE, "-s", str(workflow / "Snakefile"), "--directory", str(workdir), "--configfile"]
    command += [str(config_path), "--cores", "1"]
    first = subprocess.Popen(
        command,
        env=run_environment(workflow),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # Only a guard against a hang: the run holds whatever time its jobs take before.
        deadline = time.monotonic() + HANG_S
        while not (hold / "held").exists():
            assert first.poll() is None, f"the run ended (exit {first.returncode}) before any job held"
            assert time.monotonic() < deadline, f"no job held after {HANG_S} s"
            time.sleep(0.2)
        second = snakemake(workflow, workdir, check=False)
        assert second.returncode != 0
        assert "LockException" in second.stdout + second.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    before = outputs(results)
    assert not (results / "runs.parquet").exists()
    # The job in Snakemake's working directory wrote paths relative to it.
    finished_folder = workdir / (hold / "first").read_text()
    seeds = {f"seed{seed}.json" for seed in TINY["seeds"]}
    assert {path.name for path in finished_folder.glob("*.json")} == seeds

    assert snakemake(workflow, workdir, "--unlock").returncode == 0
    plan = snakemake(workflow, workdir, "--dry-run").stdout
    planned = {line.split(":", 1)[1].strip() for line in plan.splitlines() if line.strip().startswith("output:")}
    planned = {name.removeprefix("results/") for entry in planned for name in entry.split(", ")}
    # The held job is one sweep's brackets: its folder holds a finished model and one seed of the next, is
    # incomplete and is redone whole; every other file is kept.
    redone = {name for name in before if any(name.startswith(f"{folder}/") for folder in planned)}
    assert redone and all(name.startswith("lipschitz/") for name in redone)
    assert {str((finished_folder / seed).relative_to(results)) for seed in seeds} < redone
    kept = {name: mtime for name, mtime in before.items() if name not in redone}
    assert "runs.parquet" in planned
    snakemake(workflow, workdir)
    after = outputs(results)
    assert {name: after[name] for name in kept} == kept
    assert all(after[name] != before[name] for name in redone)
    assert set(after) == set(outputs(finished_run / "results"))
    assert (results / "runs.parquet").read_bytes() == (finished_run / "results" / "runs.parquet").read_bytes()
