"""Rule fit_control: a closed-form minimum-norm interpolator (no SGD) of one dataset and seed.

The work is robustlaw.steps.fit_control; robustlaw.worker runs it in a warm interpreter.
"""

from robustlaw.worker import run_step

run_step("fit_control", snakemake)
