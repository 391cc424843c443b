rule train:
    input:
        data="results/data/{dataset}.safetensors",
        code=package_modules("train"),
    output:
        model="results/models/{dataset}/{model}/{trainer}/seed{seed}.safetensors",
        record="results/models/{dataset}/{model}/{trainer}/seed{seed}.json",
    log:
        "results/logs/train/{dataset}/{model}/{trainer}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{model}/{trainer}/seed{seed}.tsv"
    wildcard_constraints:
        model=NETWORK_IDS,
        trainer=TRAINER_IDS,
    # On a cluster, a model's training and evaluation run in one submission; the SLURM profile
    # batches several models into one job with --group-components.
    group:
        "model"
    conda:
        "../envs/robustlaw.yaml"
    # One thread per job: results do not depend on how many jobs share the machine.
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=1 if config["gpu"] else 0,
    params:
        device="cuda" if config["gpu"] else "cpu",
        dataset=lambda wildcards: DATASETS[wildcards.dataset],
        model=lambda wildcards: MODELS[wildcards.model],
        trainer=lambda wildcards: TRAINERS[wildcards.trainer],
    script:
        "../scripts/train.py"


rule fit_control:
    input:
        data="results/data/{dataset}.safetensors",
        code=package_modules("fit_control"),
    output:
        model="results/models/{dataset}/{model}/closed_form/seed{seed}.safetensors",
        record="results/models/{dataset}/{model}/closed_form/seed{seed}.json",
    log:
        "results/logs/fit_control/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/fit_control/{dataset}/{model}/seed{seed}.tsv"
    wildcard_constraints:
        model=CONTROL_IDS,
    group:
        "model"
    conda:
        "../envs/robustlaw.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        dataset=lambda wildcards: DATASETS[wildcards.dataset],
        model=lambda wildcards: MODELS[wildcards.model],
    script:
        "../scripts/fit_control.py"
