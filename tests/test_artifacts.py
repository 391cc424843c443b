"""What a paper reader relies on: provenance inside every Parquet file, checksums, a verify command, and
a rerun that reproduces every result file but the timings."""

import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
import yaml
from helpers import ROOT, TINY, pinned_version, snakemake

from robustlaw.catalogue import TABLES, table_file
from robustlaw.results.manifest import MANIFEST_NAME, TIMINGS_MANIFEST_NAME, read_manifest, verify_results
from robustlaw.results.provenance import git_commit, read_provenance


@pytest.mark.parametrize("table", TABLES)
def test_every_parquet_carries_config_versions_commit_and_column_dictionary(finished_run, table):
    schema = pq.read_schema(finished_run / "results" / table_file(table))
    provenance = read_provenance(schema.metadata)
    assert provenance["config"]["seeds"] == TINY["seeds"]
    assert provenance["config"]["lipschitz"]["exact_max_width"] == 20  # a default, filled in
    assert {"python", "torch", "numpy", "scipy", "scikit-learn", "mlxtend", "matplotlib", "snakemake"} <= set(
        provenance["versions"]
    )
    assert provenance["versions"]["torch"].startswith(pinned_version("torch"))
    assert provenance["git_commit"] == "unknown"  # the tests run a copy of the workflow outside git
    assert [entry["device"] for entry in provenance["compute"]] == ["cpu"]  # one machine, one kernel path
    assert provenance["compute"][0]["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert provenance["compute"][0]["numpy_blas_core"] not in ("", "unknown")  # OpenBLAS's kernels for this CPU
    assert list(provenance["columns"]) == schema.names == list(TABLES[table].columns)
    assert all(entry["unit"] and entry["meaning"] for entry in provenance["columns"].values())


def test_git_commit_names_the_checkout_or_unknown(tmp_path, monkeypatch):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    checkout = head.stdout.strip() if head.returncode == 0 else "unknown"  # a source archive has no .git
    assert git_commit(ROOT / "scripts" / "robustlaw").startswith(checkout)
    # Outside any repository even where the temporary folders live inside one.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert git_commit(tmp_path) == "unknown"


def listed(results, name: str = MANIFEST_NAME) -> list[str]:
    return sorted(read_manifest(results / name)[0])


def files(results, *patterns: str) -> list[str]:
    """The files under results matching patterns; hidden ones are bookkeeping (Snakemake's
    .snakemake_timestamp in each configuration's folder)."""
    found = (path for pattern in patterns for path in results.glob(pattern) if not path.name.startswith("."))
    return sorted(path.relative_to(results).as_posix() for path in found)


def test_manifests_list_every_result_and_the_timings_apart_and_verify(finished_run):
    results = finished_run / "results"
    patterns = ("*.parquet", "figures/*", "report/*.html", "models/**/*.*", "lipschitz/**/*.json", "data/*")
    patterns += ("robustness/**/*.json",)
    assert listed(results) == files(results, *patterns)
    # Per stage, one timing file per configuration (and the table they make).
    timings = listed(results, TIMINGS_MANIFEST_NAME)
    assert timings == ["timings.tsv", *files(results, "timings/**/*.tsv")]
    # One timing file per job: each trained configuration's, each dataset's controls', each sweep's brackets
    # and robust accuracies.
    trained = [folder for folder in files(results, "models/*/*/*") if "/closed_form/" not in folder]
    controls, sweeps = files(results, "models/*/closed_form"), files(results, "lipschitz/*/*")
    assert (
        trained
        and controls
        and sweeps
        and files(results, "robustness/*/*") == [folder.replace("lipschitz/", "robustness/", 1) for folder in sweeps]
    )
    assert len(timings) == 1 + len(trained) + len(controls) + 2 * len(sweeps)
    checked = verify_results(results)
    assert (checked.problems, checked.differing_timings) == ([], [])
    command = ["sha256sum", "-c", "--quiet", MANIFEST_NAME, TIMINGS_MANIFEST_NAME]
    check = subprocess.run(command, cwd=results, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_verify_command_reports_a_changed_and_a_missing_file(finished_run, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(finished_run / "results", results)
    (results / "frontier.parquet").write_bytes(b"tampered")
    next(results.glob("lipschitz/**/*.json")).unlink()
    (results / "timings.tsv").write_text("other seconds\n")
    result = verify(results)
    assert result.returncode == 1
    assert "frontier.parquet: checksum differs from the manifest" in result.stderr
    assert "missing" in result.stderr
    # A changed timing file is no failure: it is named as expected to differ.
    assert "timings.tsv" not in result.stderr and "expected to differ on a rerun; 1 differ here" in result.stdout


def verify(results, *args: str) -> subprocess.CompletedProcess:
    """`robustlaw verify RESULTS [args]`, the installed command the docs give a reader."""
    command = [str(Path(sys.executable).with_name("robustlaw")), "verify", str(results), *args]
    return subprocess.run(command, cwd=results, capture_output=True, text=True, timeout=120)


def test_a_fresh_rerun_reproduces_every_result_file_but_the_timings(workflow, finished_run, tmp_path):
    snakemake(workflow, tmp_path)
    first, second = finished_run / "results", tmp_path / "results"
    assert (second / MANIFEST_NAME).read_text() == (first / MANIFEST_NAME).read_text()
    assert listed(second, TIMINGS_MANIFEST_NAME) == listed(first, TIMINGS_MANIFEST_NAME)
    result = verify(second, "--reference", str(first))
    assert result.returncode == 0, result.stderr
    assert f"all {len(listed(first))} files listed in {first}/{MANIFEST_NAME} match" in result.stdout
    assert "are expected to differ on a rerun" in result.stdout


def test_a_rerun_with_a_result_the_reference_lacks_fails_and_names_it(finished_run, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(finished_run / "results", results)
    extra = results / "figures" / "extra.svg"
    extra.write_text("<svg/>")
    (results / MANIFEST_NAME).write_text(
        (results / MANIFEST_NAME).read_text() + f"{'0' * 64}  {extra.relative_to(results).as_posix()}\n"
    )
    result = verify(results, "--reference", str(finished_run / "results"))
    assert result.returncode == 1
    assert f"figures/extra.svg: not in {finished_run / 'results' / MANIFEST_NAME}" in result.stderr


def test_report_pages_hold_the_config_and_the_law_fit(finished_run):
    report = finished_run / "results" / "report"
    config_page = (report / "config.html").read_text()
    assert "exact_max_width" in config_page and yaml.safe_dump(TINY["seeds"]).strip().splitlines()[0] in config_page
    assert "slope" in (report / "law_fit.html").read_text()
