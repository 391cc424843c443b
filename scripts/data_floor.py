"""Rule data_floor: L_sep, the smallest Lipschitz constant of any interpolant of the training data.

The work is robustlaw.steps.data_floor, run in this job's own process.
"""

from robustlaw.steps.data_floor import run

run(snakemake)
