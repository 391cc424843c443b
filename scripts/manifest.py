"""Rule manifest: results/MANIFEST.sha256 over every result file."""

from pathlib import Path

from robustlaw.manifest import MANIFEST_NAME, write_manifest
from robustlaw.runtime import file_logger

log = file_logger(snakemake.log[0], "manifest")
# The manifest sits at the root of the results folder; paths in it are relative to that folder.
manifest = Path(snakemake.output[0])
assert manifest.name == MANIFEST_NAME
write_manifest(manifest.parent, list(snakemake.input.files))
log.info(f"{len(snakemake.input.files)} files listed")
