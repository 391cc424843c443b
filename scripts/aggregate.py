"""Rule aggregate: every model's record and bracket into results/runs.parquet (+ timings, config page).

The work is robustlaw.steps.aggregate; robustlaw.worker runs it in a warm interpreter.
"""

from robustlaw.worker import run_step

run_step("aggregate", snakemake)
