"""The work of rule manifest: results/MANIFEST.sha256 over every result file."""

from pathlib import Path

from ..manifest import MANIFEST_NAME, write_manifest
from ..runtime import file_logger
from . import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "manifest")
    # The manifest sits at the root of the results folder; paths in it are relative to that folder.
    manifest = Path(job.output[0])
    assert manifest.name == MANIFEST_NAME
    write_manifest(manifest.parent, list(job.input.files))
    log.info(f"{len(job.input.files)} files listed")
