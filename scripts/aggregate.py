"""Rule aggregate: every model's record and bracket into results/runs.parquet (+ timings, config page).

The work is robustlaw.steps.aggregate, run in this job's own process.
"""

from robustlaw.steps.aggregate import run

run(snakemake)
