"""Issue 28, one test per case: configs that cannot run code, results that follow the umask, bad input
that stops with one line, a failed job's log, what verify refuses, and the repair verify prints."""

import copy
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from helpers import SNAKEMAKE, TINY, run_environment

from robustlaw.aggregate import write_parquet
from robustlaw.files import write_json, write_text
from robustlaw.io import DATASET_ARRAYS, save_checkpoint, save_dataset
from robustlaw.manifest import MANIFEST_NAME, write_manifest
from robustlaw.models import MLP

ROBUSTLAW = str(Path(sys.executable).with_name("robustlaw"))


def robustlaw(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([ROBUSTLAW, *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def templated_config(folder: Path) -> tuple[Path, Path]:
    """The tiny config as a YTE template whose one expression creates a marker file: (config, marker)."""
    marker = folder / "template-ran"
    templated = copy.deepcopy(TINY)
    templated["law_fit"]["min_p_over_n"] = f"?__import__('pathlib').Path({str(marker)!r}).touch() or 1.0"
    config = folder / "templated.yaml"
    config.write_text("__use_yte__: true\n" + yaml.safe_dump(templated))
    return config, marker


def test_check_config_refuses_a_yte_template_without_evaluating_it(tmp_path):
    config, marker = templated_config(tmp_path)
    result = robustlaw("check-config", str(config))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"config file '{config}': '__use_yte__' makes Snakemake run the file's templates as Python; "
        "a robustlaw config is plain YAML data: remove the key and any template"
    )
    assert not marker.exists()
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(TINY))
    assert robustlaw("check-config", str(plain)).returncode == 0


def test_check_config_refuses_yaml_tags_that_build_python_objects(tmp_path):
    config = tmp_path / "tagged.yaml"
    config.write_text(yaml.safe_dump(TINY) + "gpu: !!python/name:os.system\n")
    result = robustlaw("check-config", str(config))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"config file '{config}': not plain YAML data")


def test_the_workflow_refuses_a_yte_template_config_before_any_job(workflow, tmp_path):
    config, marker = templated_config(tmp_path)
    command = [SNAKEMAKE, "-s", str(workflow / "Snakefile"), "--directory", str(tmp_path)]
    command += ["--configfile", str(config), "--cores", "1", "--dry-run"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=run_environment(workflow))
    assert result.returncode != 0
    assert f"config file '{config}': '__use_yte__' makes Snakemake run" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()
    # Snakemake ran the template as it read the file, before any workflow code: hence check-config.
    assert marker.exists()


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_result_files_follow_the_umask_as_ordinary_tools_do(tmp_path, umask):
    """Tables, checkpoints, datasets, records and manifests, written through the atomic temporary file."""
    previous = os.umask(umask)
    try:
        write_text(tmp_path / "timings.tsv", "seconds\n1\n")
        write_json(tmp_path / "record.json", {"seed": 0})
        write_parquet(pd.DataFrame({"p": [1, 2]}), str(tmp_path / "runs.parquet"), {})
        save_checkpoint(tmp_path / "seed0.safetensors", MLP(3, 4, 2, "relu", generator=torch.Generator()))
        save_dataset(tmp_path / "data.safetensors", {name: np.zeros((2, 3)) for name in DATASET_ARRAYS}, {})
        written = sorted(path.name for path in tmp_path.iterdir())
        write_manifest(tmp_path, [tmp_path / name for name in written])
        (tmp_path / "plain.txt").touch()  # what an ordinary tool makes under this umask
    finally:
        os.umask(previous)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    assert modes == dict.fromkeys([*written, MANIFEST_NAME, "plain.txt"], 0o666 & ~umask)
