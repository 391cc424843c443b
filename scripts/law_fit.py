"""Rule law_fit: slopes and prefactors of Lip vs p/(nd) with bootstrap intervals, and the frontier.

The work is robustlaw.steps.law_fit, run in this job's own process.
"""

from robustlaw.steps.law_fit import run

run(snakemake)
