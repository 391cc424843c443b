"""What a paper reader relies on: provenance inside every Parquet file, checksums, a verify command."""

import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import yaml
from helpers import ROOT, TINY

from robustlaw.columns import TABLES
from robustlaw.manifest import verify_manifest
from robustlaw.provenance import git_commit, read_provenance


@pytest.mark.parametrize("table", TABLES)
def test_every_parquet_carries_config_versions_commit_and_column_dictionary(finished_run, table):
    schema = pq.read_schema(finished_run / "results" / table)
    provenance = read_provenance(schema.metadata)
    assert provenance["config"]["seeds"] == TINY["seeds"]
    assert provenance["config"]["lipschitz"]["exact_max_width"] == 20  # a default, filled in
    assert {"python", "torch", "numpy", "snakemake"} <= set(provenance["versions"])
    assert provenance["versions"]["torch"].startswith("2.13.0")
    assert provenance["git_commit"] == "unknown"  # the tests run a copy of the workflow outside git
    assert list(provenance["columns"]) == schema.names == list(TABLES[table])
    assert all(entry["unit"] and entry["meaning"] for entry in provenance["columns"].values())


def test_git_commit_names_the_checkout_or_unknown(tmp_path):
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert git_commit(ROOT / "scripts" / "robustlaw").startswith(head.stdout.strip())
    assert git_commit(tmp_path) == "unknown"


def test_manifest_lists_every_result_and_verifies(finished_run):
    results = finished_run / "results"
    listed = [line.split("  ", 1)[1] for line in (results / "MANIFEST.sha256").read_text().splitlines()]
    # Hidden files are bookkeeping (Snakemake's .snakemake_timestamp in each configuration's folder).
    expected = [
        path.relative_to(results).as_posix()
        for pattern in ("*.parquet", "figures/*", "models/**/*.*", "lipschitz/**/*.json", "data/*")
        for path in results.glob(pattern)
        if not path.name.startswith(".")
    ]
    expected += ["timings.tsv"]
    assert sorted(listed) == sorted(expected)
    assert verify_manifest(results) == []
    check = subprocess.run(["sha256sum", "-c", "--quiet", "MANIFEST.sha256"], cwd=results, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_verify_command_reports_a_changed_and_a_missing_file(finished_run, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(finished_run / "results", results)
    (results / "frontier.parquet").write_bytes(b"tampered")
    next(results.glob("lipschitz/**/*.json")).unlink()
    command = [sys.executable, "-m", "robustlaw", "verify", str(results)]
    result = subprocess.run(command, cwd=ROOT / "scripts", capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "frontier.parquet: checksum differs from the manifest" in result.stderr
    assert "missing" in result.stderr


def test_report_pages_hold_the_config_and_the_law_fit(finished_run):
    report = finished_run / "results" / "report"
    config_page = (report / "config.html").read_text()
    assert "exact_max_width" in config_page and yaml.safe_dump(TINY["seeds"]).strip().splitlines()[0] in config_page
    assert "slope" in (report / "law_fit.html").read_text()
