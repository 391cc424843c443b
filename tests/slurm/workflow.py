"""The workflow through `--executor slurm` with profiles/slurm, from the tests, on the cluster of cluster.py."""

import copy
import re
import subprocess
from pathlib import Path

import yaml
from helpers import HANG_S, ROOT, SNAKEMAKE, TINY, run_environment

from .cluster import Cluster

PROFILE = ROOT / "profiles" / "slurm"
TEST_FLAGS = (
    # The plugin waits 40 s before its first status check by default, and 10 s more after every check
    # that finds no job finished; from 1 s the tiny grid takes about a minute instead of several.
    "--slurm-init-seconds-before-status-checks=1",
    # Without slurmdbd, sacct fails, and the plugin counts a failed check as "still running": it would
    # wait forever. squeue sees finished jobs for MinJobAge (an hour here: cluster.MIN_JOB_AGE_S).
    "--slurm-status-command=squeue",
    # The SLURM logs of successful jobs are the record of what ran inside SLURM.
    "--slurm-keep-successful-logs",
)
INJECTED = """\
import pathlib

switch = pathlib.Path("injected-failures") / snakemake.rule
if switch.exists():
    if switch.read_text() == "once":
        switch.unlink()
    raise RuntimeError(f"failure injected by tests/test_slurm.py into rule {snakemake.rule}")
"""


def small_grid(config: dict = TINY) -> dict:
    """The tiny grid cut to one seed, one trainer, its widest network and one closed-form control: every rule
    still runs, and two models share one submission, in the time the SLURM tests may take."""
    small = copy.deepcopy(config)
    small["seeds"] = config["seeds"][:1]
    small["trainers"] = config["trainers"][:1]
    for entry in small["models"]:
        entry["widths"] = entry["widths"][-1:]
    for entry in small.get("controls", []):
        entry["widths"] = entry["widths"][:1]
    return small


def inject_failures(workflow: Path, scripts: tuple[str, ...]) -> None:
    """Make each rule script fail while `injected-failures/<rule>` exists in the work directory; a file
    that says "once" is removed by the failure, so only the first attempt fails."""
    for script in scripts:
        path = workflow / "scripts" / script
        path.write_text(INJECTED + path.read_text())


def fail_rule(workdir: Path, rule: str, how: str) -> None:
    switch = workdir / "injected-failures" / rule
    switch.parent.mkdir(exist_ok=True)
    switch.write_text(how)


def run_locally(workflow: Path, workdir: Path, config: dict) -> subprocess.CompletedProcess:
    """The local run of helpers.snakemake, beside the SLURM runs. At the test's own priority: at nice 19 it
    starved for over 30 min beside two busy processes, and nothing on the SLURM side has a deadline it
    could slow a job past (squeue shows finished jobs for MIN_JOB_AGE_S)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    command = [SNAKEMAKE, "-s", str(workflow / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(config_path), "--cores", "2"]
    result = subprocess.run(command, env=run_environment(workflow), capture_output=True, text=True, timeout=HANG_S)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}")
    return result


def run_on_slurm(
    cluster: Cluster, workflow: Path, workdir: Path, *args: str, config: dict
) -> subprocess.CompletedProcess:
    """snakemake --workflow-profile profiles/slurm in `workdir`, killed after HANG_S (then unlocked): only a
    guard against the plugin waiting forever on a status it cannot read."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    command = [SNAKEMAKE, "-s", str(workflow / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(config_path), "--workflow-profile", str(PROFILE), *TEST_FLAGS, *args]
    # Snakemake waiting on SLURM does not always exit on SIGTERM; timeout's SIGKILL 10 s later does.
    wrapped = ["timeout", "-k", "10", str(HANG_S), *command]
    environment = run_environment(workflow, cluster.env)
    result = subprocess.run(wrapped, cwd=workdir, env=environment, capture_output=True, text=True)
    if result.returncode in (124, 137):
        subprocess.run([*command, "--unlock"], cwd=workdir, env=environment, capture_output=True, timeout=HANG_S)
        raise AssertionError(f"no result after {HANG_S} s:\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}")
    return result


def run_id(result: subprocess.CompletedProcess) -> str:
    """The plugin's id of one Snakemake run; it is the SLURM job name of all the run's jobs."""
    return re.search(r"^SLURM run ID: (\S+)$", result.stdout + result.stderr, flags=re.MULTILINE).group(1)


def slurm_logs(workdir: Path) -> dict[str, str]:
    """SLURM job id -> the text of the plugin's log of that job (named <job id>.log)."""
    return {log.stem: log.read_text() for log in (workdir / ".snakemake" / "slurm_logs").rglob("*.log")}


def rules_run_in_slurm_jobs(workdir: Path) -> dict[str, set[str]]:
    """SLURM job id -> the rules that Snakemake ran inside that job."""
    return {
        job_id: set(re.findall(r"^localrule (\w+):$", text, flags=re.MULTILINE))
        for job_id, text in slurm_logs(workdir).items()
    }


def job_counts(output: str) -> dict[str, int]:
    """Rule name -> job count, from the job stats table Snakemake prints before it starts."""
    table = output.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.MULTILINE)
    return {rule: int(count) for rule, count in counts if rule != "total"}


def megabytes(squeue_memory: str) -> int:
    """squeue's %m (e.g. 2000M, 4G) in MB."""
    number, unit = float(squeue_memory[:-1]), squeue_memory[-1]
    return int(number * {"M": 1, "G": 1024, "T": 1024**2}[unit])
