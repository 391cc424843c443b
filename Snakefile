# robustlaw: the universal law of robustness (Bubeck & Sellke 2021) measured on trained networks.
# Stages (scripts/robustlaw/catalogue.py): data -> train -> lipschitz -> robustness -> tables, law fit,
# figures, manifest. See README.md and docs/development.md.
from snakemake.utils import min_version

# The oldest Snakemake this workflow is tested with (envs/requirements.txt pins 9.27.1): rule priorities
# computed per job and the workflow profile's keys are recent.
min_version("9.27")


# A config file is a whole study: config.yaml, the default reproduction, is read only when no
# --configfile is given, so a study never inherits the default's grid entries.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/lipschitz.smk"
include: "rules/robustness.smk"
include: "rules/aggregate.smk"


rule all:
    default_target: True
    input:
        TABLE_FILES,
        "results/timings.tsv",
        FIGURES,
        "results/MANIFEST.sha256",
        "results/MANIFEST-timings.sha256",
