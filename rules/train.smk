# One job per configuration (dataset, trainer, model): it fits every seed of that configuration in
# one process, one seed after another, and writes each seed's checkpoint and record into the
# configuration's folder. A changed width, trainer or seed list retrains only the configurations it
# touches; each seed's numbers are the same as those of a job of its own.
rule train:
    input:
        data="results/data/{dataset}.safetensors",
        code=package_modules("train"),
    output:
        models=directory("results/models/{dataset}/{trainer}/{model}"),
        timings="results/timings/train/{dataset}/{trainer}/{model}.tsv",
    log:
        "results/logs/train/{dataset}/{trainer}/{model}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{trainer}/{model}.tsv"
    wildcard_constraints:
        model=NETWORK_IDS,
        trainer=TRAINER_IDS,
    priority: training_priority
    # On a cluster the SLURM profile batches several trainings into one submission
    # (--group-components), since each submission pays Snakemake's start-up.
    group:
        "train"
    conda:
        "../envs/robustlaw.yaml"
    # One thread per job: results do not depend on how many jobs share the machine.
    threads: 1
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(60),
        gpu=1 if config["gpu"] else 0,
    params:
        seeds=configuration_seeds,
        device="cuda" if config["gpu"] else "cpu",
        dataset=lambda wildcards: DATASETS[wildcards.dataset],
        model=lambda wildcards: MODELS[wildcards.model],
        trainer=lambda wildcards: TRAINERS[wildcards.trainer],
    script:
        "../scripts/train.py"


# The closed-form controls of one dataset, every width and seed in one job: exact linear algebra, cheap
# next to training, so a changed control width refits them all rather than paying a process per model.
rule fit_control:
    input:
        data="results/data/{dataset}.safetensors",
        code=package_modules("fit_control"),
    output:
        models=directory("results/models/{dataset}/closed_form"),
        timings="results/timings/fit_control/{dataset}.tsv",
    log:
        "results/logs/fit_control/{dataset}.log",
    benchmark:
        "results/benchmarks/fit_control/{dataset}.tsv"
    priority: SWEEP_PRIORITY
    conda:
        "../envs/robustlaw.yaml"
    threads: 1
    resources:
        mem_mb=per_attempt(4000),
        runtime=per_attempt(60),
    params:
        configurations=sweep_configurations,
        dataset=lambda wildcards: DATASETS[wildcards.dataset],
    script:
        "../scripts/fit_control.py"
