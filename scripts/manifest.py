"""Rule manifest: results/MANIFEST.sha256 over every result file.

The work is robustlaw.steps.manifest, run in this job's own process.
"""

from robustlaw.steps.manifest import run

run(snakemake)
