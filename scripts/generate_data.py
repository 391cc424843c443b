"""Rule generate_data: draw one dataset from its config entry (synthetic, or subsampled from real data).

The work is robustlaw.steps.generate_data; robustlaw.worker runs it in a warm interpreter.
"""

from robustlaw.worker import run_step

run_step("generate_data", snakemake)
