"""Running the workflow from tests: a private copy of it, and the snakemake CLI in a work directory."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch
import yaml
from snakemake.utils import validate

from robustlaw.rulejob import RuleJob

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY = yaml.safe_load((ROOT / "tests" / "tiny_config.yaml").read_text())
WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "scripts", "schemas", "report", "envs", "profiles")
# Only a guard against a run that never ends: far above any run's time on a slow or busy machine, so a
# slow run is never reported as a failure.
HANG_S = 1800


class Named(list):
    """Entries by position and by name, as Snakemake gives a script its input, output, params, log
    and wildcards; a list-valued entry spans several positions."""

    def __init__(self, entries: dict | None = None) -> None:
        entries = entries or {}
        super().__init__(item for value in entries.values() for item in (value if isinstance(value, list) else [value]))
        self.__dict__.update(entries)

    def __getitem__(self, key):
        return self.__dict__[key] if isinstance(key, str) else super().__getitem__(key)

    def items(self):
        return self.__dict__.items()


@dataclass
class HandMadeJob:
    """What rule_job builds: a RuleJob without Snakemake."""

    rule: str
    input: Named
    output: Named
    params: Named
    wildcards: Named
    log: Named
    threads: int


def rule_job(
    rule: str,
    inputs: dict | None = None,
    outputs: dict | None = None,
    params: dict | None = None,
    wildcards: dict | None = None,
    log: str = "",
    threads: int = 1,
) -> RuleJob:
    """The job of a rule, built by hand: to run its script's run() without Snakemake."""
    logs = Named({"log": log} if log else {})
    return HandMadeJob(rule, Named(inputs), Named(outputs), Named(params), Named(wildcards), logs, threads)


def job_script(rule: str) -> ModuleType:
    """Rule `rule`'s job code, scripts/<rule>.py, loaded as a module: its run() without Snakemake."""
    path = ROOT / "scripts" / f"{rule}.py"
    spec = importlib.util.spec_from_file_location(f"rule_{rule}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def copy_workflow(copy: Path) -> Path:
    """A private copy of the workflow, so a test may edit its code without touching the repository."""
    for name in WORKFLOW_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    return copy


def run_environment(workflow: Path, environment: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment of a test's Snakemake run: `environment` without a profile of the user's
    (SNAKEMAKE_PROFILE would change how the workflow runs); the copy's own package ahead of the installed
    one, so the jobs run the code the test may have edited there; and git kept from looking above the
    workflow's copy, so its provenance says "unknown" wherever the temporary folders live (a TMPDIR inside
    a checkout would lend it that checkout's commit)."""
    inherited = {name: value for name, value in environment.items() if name != "SNAKEMAKE_PROFILE"}
    package = str(workflow / "scripts")
    return {**inherited, "PYTHONPATH": package, "GIT_CEILING_DIRECTORIES": str(workflow.parent)}


def snakemake(
    workflow: Path, workdir: Path, *args: str, config: dict = TINY, check: bool = True, env: dict | None = None
):
    """Run the workflow in `workdir` with `config` written there as its config file (and `env` added
    to the environment)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    command = [SNAKEMAKE, "-s", str(workflow / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(config_path), "--cores", "2", *args]
    environment = run_environment(workflow, {**os.environ, **(env or {})})
    result = subprocess.run(command, capture_output=True, text=True, timeout=HANG_S, env=environment)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def planned_jobs(workflow: Path, workdir: Path, config: dict = TINY) -> dict[str, int]:
    """Rule name -> job count of a dry run, read from Snakemake's job stats table."""
    output = snakemake(workflow, workdir, "--dry-run", config=config).stdout
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1]
    counts = re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.MULTILINE)
    return {rule: int(count) for rule, count in counts if rule != "total"}


def pinned_version(package: str) -> str:
    """The version envs/requirements.txt pins `package` to, the one place versions are set."""
    for line in (ROOT / "envs" / "requirements.txt").read_text().splitlines():
        name, separator, version = line.partition("==")
        if separator and name.strip() == package:
            return version.strip()
    raise AssertionError(f"envs/requirements.txt pins no {package}")


def validated_config() -> dict:
    """The tiny config as Snakemake sees it: validated, defaults filled in."""
    config = yaml.safe_load((ROOT / "tests" / "tiny_config.yaml").read_text())
    validate(config, str(ROOT / "schemas" / "config.schema.yaml"))
    return config


def data_job(folder: Path, name: str = "data") -> RuleJob:
    """A generate_data job drawing the tiny config's dataset into folder/<name>.safetensors."""
    dataset = validated_config()["datasets"][0]
    settings = {key: value for key, value in dataset.items() if key != "eps"}
    outputs = {"data": str(folder / f"{name}.safetensors")}
    return rule_job("generate_data", {}, outputs, {"spec": settings}, {}, str(folder / f"{name}.log"))


def on_sphere(count: int, d: int, seed: int) -> torch.Tensor:
    """Points uniform on the unit sphere in float64, from a seeded generator."""
    points = torch.randn(count, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return points / torch.linalg.vector_norm(points, dim=1, keepdim=True)


def random_signs(count: int, seed: int) -> torch.Tensor:
    return torch.where(torch.rand(count, generator=torch.Generator().manual_seed(seed)) < 0.5, -1.0, 1.0)


def sphere_dataset(d: int, seed: int, count: int = 300) -> dict[str, torch.Tensor]:
    """Training and test points on the sphere with random +-1 labels, as robust_accuracy takes them."""
    return {
        "x_train": on_sphere(count, d, seed),
        "y_train": random_signs(count, seed + 1),
        "x_test": on_sphere(count, d, seed + 2),
        "y_test": random_signs(count, seed + 3),
    }
