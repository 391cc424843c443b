"""Rule data_floor: L_sep, the smallest Lipschitz constant of any interpolant of the training data.

The work is robustlaw.steps.data_floor; robustlaw.worker runs it in a warm interpreter.
"""

from robustlaw.worker import run_step

run_step("data_floor", snakemake)
