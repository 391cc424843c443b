"""Rule robustness_table: every model's robust accuracies into results/robustness.parquet.

The work is robustlaw.steps.robustness_table, run in this job's own process.
"""

from robustlaw.steps.robustness_table import run

run(snakemake)
