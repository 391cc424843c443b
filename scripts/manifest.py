"""Rule manifest: results/MANIFEST.sha256 over every result file.

The work is robustlaw.steps.manifest; robustlaw.worker runs it in a warm interpreter.
"""

from robustlaw.worker import run_step

run_step("manifest", snakemake)
