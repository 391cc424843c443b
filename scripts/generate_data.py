"""Rule generate_data: draw one dataset from its config entry (synthetic, or subsampled from real data).

The work is robustlaw.steps.generate_data, run in this job's own process.
"""

from robustlaw.steps.generate_data import run

run(snakemake)
