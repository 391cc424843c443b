"""Rule lipschitz: the certified bracket lower <= Lip(f) <= upper of one trained model.

The work is robustlaw.steps.lipschitz; robustlaw.worker runs it in a warm interpreter.
"""

from robustlaw.worker import run_step

run_step("lipschitz", snakemake)
