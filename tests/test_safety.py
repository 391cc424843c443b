"""Issue 28, one test per case: configs that cannot run code, results that follow the umask, bad input
that stops with one line, a failed job's log, what verify refuses, and the repair verify prints."""

import copy
import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from helpers import SNAKEMAKE, TINY, copy_workflow, run_environment, snakemake
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file

from robustlaw.files import write_json, write_text
from robustlaw.results.manifest import MANIFEST_NAME, TIMINGS_MANIFEST_NAME, file_digest, write_manifest
from robustlaw.results.safetensor_files import DATASET_ARRAYS, save_checkpoint, save_dataset
from robustlaw.results.tables import write_parquet
from robustlaw.training.models import MLP

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


def two_layer_checkpoint(path: Path, depth_claimed: str = "2", d: int = 2) -> Path:
    """A hand-made two-layer net (the README's format) whose metadata claims `depth_claimed`."""
    tensors = {
        "layers.0.weight": torch.ones(1, d),
        "layers.0.bias": torch.zeros(1),
        "layers.1.weight": torch.ones(1, 1),
        "layers.1.bias": torch.zeros(1),
    }
    save_file(tensors, str(path), metadata={"format": "robustlaw-mlp/1", "activation": "relu", "depth": depth_claimed})
    return path


def dataset_file(path: Path, d: int = 2, y_train: np.ndarray | None = None, meta: str | None = None) -> Path:
    """A 4-point dataset of dimension d, with y_train and the 'meta' entry replaced where given."""
    arrays = {
        "x_train": np.full((4, d), 0.5),
        "y_train": np.array([1.0, -1.0, 1.0, -1.0]) if y_train is None else y_train,
        "x_test": np.full((4, d), 0.5),
        "y_test": np.array([1.0, -1.0, 1.0, -1.0]),
    }
    save_dataset(path, arrays, {})
    if meta is not None:  # rewritten as other code following the documented format might write it
        save_numpy(arrays, str(path), metadata={"format": "robustlaw-dataset/1", "meta": meta})
    return path


@pytest.mark.parametrize("depth", ["1000000", "100000000"])
def test_a_tiny_checkpoint_claiming_an_enormous_depth_is_refused_at_once(tmp_path, depth):
    path = two_layer_checkpoint(tmp_path / "claims.safetensors", depth)
    assert path.stat().st_size < 1024
    started = time.monotonic()
    result = robustlaw("evaluate", str(path))
    assert result.returncode == 2 and time.monotonic() - started < 60
    assert result.stderr == (
        f"error: {path}: its 4 tensors do not match depth {depth} (metadata 'depth'): a net has "
        "a weight and a bias per layer, and at least 2 layers\n"
    )


EVALUATE_DATASETS = {
    "dataset of another dimension": (dict(d=3), "points of d = 3, but {checkpoint} takes inputs of d = 2"),
    "NaN label": (dict(y_train=np.array([1.0, np.nan, 1.0, 1.0])), "y_train must hold labels in [-1, 1]"),
    "label outside [-1, 1]": (dict(y_train=np.array([1.0, 7.0, 1.0, 1.0])), "y_train must hold labels in [-1, 1]"),
    "labels of another length": (dict(y_train=np.array([1.0, -1.0])), "x_train of shape (4, 2) and y_train of shape"),
    "metadata that is not JSON": (dict(meta="{d: 2"), "metadata 'meta' is not JSON"),
    "metadata that is not an object": (dict(meta="[2]"), "metadata 'meta' is not a JSON object"),
}


@pytest.mark.parametrize("case", EVALUATE_DATASETS, ids=list(EVALUATE_DATASETS))
def test_evaluate_refuses_a_bad_dataset_in_one_line_naming_the_file(tmp_path, case):
    changes, reason = EVALUATE_DATASETS[case]
    checkpoint = two_layer_checkpoint(tmp_path / "net.safetensors")
    dataset = dataset_file(tmp_path / "data.safetensors", **changes)
    result = robustlaw("evaluate", str(checkpoint), "--dataset", str(dataset), "--radii", "0.1")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"error: {dataset}: ")
    assert reason.format(checkpoint=checkpoint) in result.stderr


def test_a_failed_job_writes_its_traceback_to_its_log_file(tmp_path):
    """The job code of rule generate_data fails in a private copy of the workflow; Snakemake points to the
    job's log, and the log holds the error that the console shows."""
    (tmp_path / "workflow").mkdir()
    workflow = copy_workflow(tmp_path / "workflow")
    step = workflow / "scripts" / "generate_data.py"
    step.write_text(
        step.read_text().replace("    arrays, meta = make_dataset", "    1 / 0\n    arrays, meta = make_dataset")
    )
    workdir = tmp_path / "run"
    dataset = "results/data/sphere-n32-d8-sign-s0.safetensors"
    result = snakemake(workflow, workdir, dataset, check=False)
    assert result.returncode != 0
    log = (workdir / "results" / "logs" / "generate_data" / "sphere-n32-d8-sign-s0.log").read_text()
    assert "Traceback (most recent call last)" in log and log.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "generate_data.py" in log


def results_folder(root: Path) -> Path:
    """A small results folder with its two manifests, as the manifest step writes them."""
    for name, text in {"runs.parquet": "table", "models/a/seed0.json": "{}", "timings.tsv": "seconds"}.items():
        write_text(root / name, text)
    write_manifest(root, [root / "runs.parquet", root / "models/a/seed0.json"])
    write_manifest(root, [root / "timings.tsv"], TIMINGS_MANIFEST_NAME)
    return root


def test_verify_passes_a_whole_results_folder(tmp_path):
    result = robustlaw("verify", str(results_folder(tmp_path / "results")))
    assert result.returncode == 0, result.stderr


def test_verify_fails_on_an_empty_manifest(tmp_path):
    results = results_folder(tmp_path / "results")
    (results / "runs.parquet").unlink()
    shutil.rmtree(results / "models")
    (results / MANIFEST_NAME).write_text("")
    result = robustlaw("verify", str(results))
    assert result.returncode == 1 and f"{results / MANIFEST_NAME}: lists no files" in result.stderr


def test_verify_reports_a_file_no_manifest_lists_with_and_without_a_reference(tmp_path):
    reference = results_folder(tmp_path / "published")
    results = results_folder(tmp_path / "results")
    write_text(results / "figures" / "extra.svg", "<svg/>")
    # Not results, in no manifest: Snakemake's bookkeeping, logs, the report made on demand.
    (results / "models" / "a" / ".snakemake_timestamp").touch()
    write_text(results / "logs" / "aggregate.log", "done")
    write_text(results / "report.html", "<html/>")
    for args in ([], ["--reference", str(reference)]):
        result = robustlaw("verify", str(results), *args)
        manifest = (reference if args else results) / MANIFEST_NAME
        assert result.returncode == 1 and result.stderr.splitlines() == [f"figures/extra.svg: not in {manifest}"]


def test_verify_refuses_manifest_paths_outside_the_results_folder(tmp_path):
    results = results_folder(tmp_path / "results")
    secret = tmp_path / "secret.txt"
    secret.write_text("not a result")
    lines = [f"{file_digest(secret)}  ../secret.txt\n", f"{file_digest(secret)}  {secret}\n"]
    (results / MANIFEST_NAME).write_text((results / MANIFEST_NAME).read_text() + "".join(lines))
    result = robustlaw("verify", str(results))
    assert result.returncode == 1
    for name in ("../secret.txt", str(secret)):
        assert f"{name}: outside {results}, not checked" in result.stderr


def test_verify_reports_a_symbolic_link_out_of_the_results_folder(tmp_path):
    results = results_folder(tmp_path / "results")
    outside = tmp_path / "elsewhere"
    write_text(outside / "seed0.json", "{}")
    shutil.rmtree(results / "models" / "a")
    (results / "models" / "a").symlink_to(outside)  # same bytes as the listed file, elsewhere
    result = robustlaw("verify", str(results))
    assert result.returncode == 1
    assert f"models/a/seed0.json: outside {results}, not checked" in result.stderr
    assert f"models/a: a symbolic link out of {results}" in result.stderr


def test_verify_prints_the_command_that_repairs_a_truncated_checkpoint_and_a_deleted_model_folder(
    workflow, finished_run, tmp_path
):
    """Damage a finished run's copy, run the command verify prints (with the run's config) under umask 002,
    and verify passes: the rebuilt files are the first run's bytes, readable by the group."""
    workdir = tmp_path / "run"
    shutil.copytree(finished_run, workdir, symlinks=True)
    results = workdir / "results"
    truncated = next(results.glob("models/*/plain/*/seed0.safetensors"))
    truncated.write_bytes(truncated.read_bytes()[:100])
    deleted = next(results.glob("models/*/gradient_penalty/*"))
    shutil.rmtree(deleted)
    # Without the repair, Snakemake sees nothing to do: the tables are newer than what they were made from.
    assert "Nothing to be done" in snakemake(workflow, workdir, "--dry-run").stdout
    damaged = robustlaw("verify", "results", cwd=workdir)
    assert damaged.returncode == 1
    command = damaged.stderr.splitlines()[-1].strip()
    assert command.startswith("snakemake --cores all --forcerun ")
    targets = set(shlex.split(command)[4:])
    assert targets == {str(truncated.parent.relative_to(workdir)), str(deleted.relative_to(workdir))}
    previous = os.umask(0o002)
    try:
        snakemake(workflow, workdir, *shlex.split(command)[1:])
    finally:
        os.umask(previous)
    repaired = robustlaw("verify", "results", cwd=workdir)
    assert repaired.returncode == 0, repaired.stderr
    # verify checked the rebuilt manifest; it lists the first run's bytes, file for file.
    assert (results / MANIFEST_NAME).read_text() == (finished_run / "results" / MANIFEST_NAME).read_text()
    assert stat.S_IMODE(truncated.stat().st_mode) == 0o664
