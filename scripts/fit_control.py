"""Rule fit_control: the closed-form minimum-norm interpolators (no SGD) of one dataset, every width and seed.

The work is robustlaw.steps.fit_control, run in this job's own process.
"""

from robustlaw.steps.fit_control import run

run(snakemake)
