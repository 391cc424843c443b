"""Rule law_fit: slopes and prefactors of Lip vs p/(nd) with bootstrap intervals, and the frontier.

The work is robustlaw.steps.law_fit; robustlaw.worker runs it in a warm interpreter.
"""

from robustlaw.worker import run_step

run_step("law_fit", snakemake)
