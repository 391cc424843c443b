"""The work of rule manifest: results/MANIFEST.sha256 over every result file that a rerun must reproduce,
results/MANIFEST-timings.sha256 over the timing files, which a rerun does not."""

from pathlib import Path

from robustlaw.joblog import file_logger
from robustlaw.results.manifest import MANIFEST_NAME, TIMINGS_MANIFEST_NAME, write_manifest
from robustlaw.rulejob import RuleJob


def run(job: RuleJob) -> None:
    log = file_logger(job.log[0], "manifest")
    # The manifests sit side by side at the root of the results folder, where verify looks for them by
    # name; paths in them are relative to that folder.
    manifest, timings = Path(job.output.manifest), Path(job.output.timings)
    assert (manifest.name, timings.name, timings.parent) == (MANIFEST_NAME, TIMINGS_MANIFEST_NAME, manifest.parent)
    root = manifest.parent
    # Each run's files, inside the configurations' folders, are listed by name: a folder's
    # bookkeeping (Snakemake's .snakemake_timestamp) is not a result.
    files = [*job.input.files, *job.params.run_files]
    write_manifest(root, files, MANIFEST_NAME)
    write_manifest(root, job.input.timings, TIMINGS_MANIFEST_NAME)
    log.info(f"{len(files)} result files and {len(job.input.timings)} timing files listed")


if __name__ == "__main__":  # run by Snakemake's script directive, which defines `snakemake`
    run(snakemake)
