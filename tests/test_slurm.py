"""The workflow on a real one-node SLURM through `--executor slurm` and profiles/slurm (no mocks).

The module starts a private cluster (its own slurm.conf, munged, ports and files in one fresh directory,
whatever SLURM the machine has besides) and stops its daemons by PID at the end. SLURM and munge come
from .ci/install-system-packages; where they are missing, or the tests do not run as root, the module is
skipped, and under CI it fails.

A SLURM round trip is slow for reasons outside the project: Snakemake starts twice inside every job, and
the plugin checks on its jobs ever less often while none finishes (1 s, then 11 s, 21 s, ...), also
before it exits after a failure. The runs are small, and made side by side while they mostly wait.
"""

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from debian import skip_or_fail
from helpers import TINY, copy_workflow, planned_jobs
from slurm import cluster as slurm_cluster
from slurm.workflow import (
    fail_rule,
    inject_failures,
    job_counts,
    megabytes,
    rules_run_in_slurm_jobs,
    run_id,
    run_locally,
    run_on_slurm,
    slurm_logs,
    small_grid,
)

GRID = small_grid()


@pytest.fixture(scope="module")
def cluster():
    reason = slurm_cluster.unavailable_reason()
    if reason:
        skip_or_fail(f"no SLURM cluster on this machine: {reason}")
    started = slurm_cluster.start()
    yield started
    started.stop()
    shutil.rmtree(started.root, ignore_errors=True)


@pytest.fixture(scope="module")
def slurm_workflow(tmp_path_factory) -> Path:
    """A copy of the workflow whose generate_data and data_floor fail on demand."""
    copy = copy_workflow(tmp_path_factory.mktemp("slurm-workflow"))
    inject_failures(copy, ("generate_data.py", "data_floor.py"))
    return copy


@dataclass
class Runs:
    local: Path
    local_result: CompletedProcess
    grid: Path
    grid_result: CompletedProcess
    failing: Path
    failed: CompletedProcess
    rerun: CompletedProcess


def fail_then_rerun(cluster, workflow: Path, workdir: Path) -> tuple[CompletedProcess, CompletedProcess]:
    """The first job of the grid fails on every attempt; once the failure is gone, the same command again."""
    fail_rule(workdir, "generate_data", "always")
    # --retries=0: each further failed attempt would only add another SLURM round trip.
    command = ("--until", "generate_data", "--retries=0")
    failed = run_on_slurm(cluster, workflow, workdir, *command, config=GRID)
    (workdir / "injected-failures" / "generate_data").unlink()
    return failed, run_on_slurm(cluster, workflow, workdir, *command, config=GRID)


@pytest.fixture(scope="module")
def runs(cluster, workflow, slurm_workflow, tmp_path_factory) -> Runs:
    """Side by side: the grid locally; the grid on SLURM with data_floor failing on its first attempt; on
    SLURM, a run that fails and its rerun."""
    local, grid, failing = (tmp_path_factory.mktemp(name) for name in ("local", "on-slurm", "failing"))
    fail_rule(grid, "data_floor", "once")
    with ThreadPoolExecutor(2) as background:
        local_run = background.submit(run_locally, workflow, local, GRID)
        failing_runs = background.submit(fail_then_rerun, cluster, slurm_workflow, failing)
        grid_result = run_on_slurm(cluster, slurm_workflow, grid, config=GRID)
        return Runs(local, local_run.result(), grid, grid_result, failing, *failing_runs.result())


def jobs_of(cluster, result: CompletedProcess) -> list[dict[str, str]]:
    return [job for job in cluster.jobs() if job["name"] == run_id(result)]


def test_the_grid_runs_every_job_inside_slurm_and_matches_the_local_run_byte_for_byte(cluster, slurm_workflow, runs):
    assert runs.grid_result.returncode == 0, runs.grid_result.stdout[-5000:] + runs.grid_result.stderr[-5000:]
    jobs = job_counts(runs.local_result.stdout + runs.local_result.stderr)
    completed = {job["id"] for job in jobs_of(cluster, runs.grid_result) if job["state"] == "COMPLETED"}
    ran = rules_run_in_slurm_jobs(runs.grid)
    assert set().union(*(rules for job_id, rules in ran.items() if job_id in completed)) == set(jobs) - {"all"}
    # The final steps share one submission (and trainings share theirs, 8 to one): fewer submissions
    # than jobs ('all' runs on the login node).
    summary = {"aggregate", "law_fit", "figures", "manifest"}
    assert any(summary <= rules for job_id, rules in ran.items() if job_id in completed), ran
    assert len(completed) < sum(jobs.values()) - 1
    local_table = (runs.local / "results" / "runs.parquet").read_bytes()
    assert (runs.grid / "results" / "runs.parquet").read_bytes() == local_table
    assert planned_jobs(slurm_workflow, runs.grid, GRID) == {}


def test_a_failed_attempt_is_submitted_again_with_more_memory(cluster, runs):
    floor_jobs = [job for job in jobs_of(cluster, runs.grid_result) if job["comment"].startswith("rule_data_floor")]
    assert [job["state"] for job in floor_jobs] == ["FAILED", "COMPLETED"]
    first, second = (megabytes(job["memory"]) for job in floor_jobs)
    assert second == 2 * first


def test_a_job_failing_on_slurm_fails_the_run_and_a_rerun_completes(cluster, runs):
    output = runs.failed.stdout + runs.failed.stderr
    assert runs.failed.returncode != 0
    assert "Error in rule generate_data" in output and "SLURM status is: 'FAILED'" in output, output[-5000:]
    [failed_job] = jobs_of(cluster, runs.failed)
    assert failed_job["state"] == "FAILED"
    assert "failure injected" in slurm_logs(runs.failing)[failed_job["id"]]

    assert runs.rerun.returncode == 0, runs.rerun.stdout[-5000:] + runs.rerun.stderr[-5000:]
    assert [job["state"] for job in jobs_of(cluster, runs.rerun)] == ["COMPLETED"]
    assert list((runs.failing / "results" / "data").glob("*.safetensors"))


# The scheduler's own reasons, as sbatch prints them.
TOO_MUCH = {
    "memory": ("mem_mb", lambda hardware: 2 * hardware["RealMemory"], "Requested node configuration is not available"),
    "cpus": ("cpus_per_task", lambda hardware: hardware["CPUs"] + 1, "More processors requested than permitted"),
}


@pytest.mark.parametrize("resource", TOO_MUCH)
def test_a_request_larger_than_the_partition_fails_at_submission(cluster, slurm_workflow, tmp_path, resource):
    name, amount, reason = TOO_MUCH[resource]
    request = f"generate_data:{name}={amount(cluster.hardware)}"
    result = run_on_slurm(cluster, slurm_workflow, tmp_path, "--set-resources", request, config=GRID)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "SLURM sbatch failed. The error message was 'sbatch: error: " in output, output[-5000:]
    assert reason in output
    assert not (tmp_path / "results" / "data").exists()


def test_gpu_training_asks_for_one_gpu_per_submission_and_a_cluster_without_gpus_refuses_it(
    cluster, slurm_workflow, runs, tmp_path
):
    """With gpu: true every training and robustness job asks for gpu=1; a submission of two trainings asks for
    one GPU, and this cluster, which has none, refuses it at sbatch."""
    workdir = tmp_path / "gpu"
    shutil.copytree(runs.grid, workdir, symlinks=True)
    two_networks = {**GRID, "gpu": True, "models": [{**GRID["models"][0], "widths": TINY["models"][0]["widths"][:2]}]}
    # --verbose prints each sbatch call; for a group, Snakemake 9.27 drops sbatch's own error message.
    result = run_on_slurm(cluster, slurm_workflow, workdir, "--verbose", config=two_networks)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Error in group train" in output, output[-5000:]
    calls = re.findall(r"^sbatch call: (.*)$", output, flags=re.MULTILINE)
    assert calls and all(re.findall(r"--gpus=\d+", call) == ["--gpus=1"] for call in calls), calls
    # The robustness jobs ask for the GPU too and go alone; the trainings go two to a submission.
    trainings = [call for call in calls if "--allowed-rules train " in call]
    assert trainings and len(re.findall(r"^    rule train:$", output, flags=re.MULTILINE)) == 2 * len(trainings)
    assert jobs_of(cluster, result) == []
