"""The work of rule manifest: results/MANIFEST.sha256 over every result file."""

from pathlib import Path

from ..joblog import file_logger
from ..manifest import MANIFEST_NAME, write_manifest
from . import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "manifest")
    # The manifest sits at the root of the results folder; paths in it are relative to that folder.
    manifest = Path(job.output[0])
    assert manifest.name == MANIFEST_NAME
    # Each run's files, inside the configurations' folders, are listed by name: a folder's
    # bookkeeping (Snakemake's .snakemake_timestamp) is not a result.
    files = [*job.input.files, *job.params.run_files]
    write_manifest(manifest.parent, files)
    log.info(f"{len(files)} files listed")
