# One job per configuration (dataset, model, trainer): it fits every seed of that configuration in
# one process, one seed after another, and writes each seed's checkpoint and record into the
# configuration's folder. A changed width, trainer or seed list reruns only the configurations it
# touches; each seed's numbers are the same as those of a job of its own.
rule train:
    input:
        data="results/data/{dataset}.safetensors",
        code=package_modules("train"),
    output:
        models=directory("results/models/{dataset}/{model}/{trainer}"),
        timings="results/timings/train/{dataset}/{model}/{trainer}.tsv",
    log:
        "results/logs/train/{dataset}/{model}/{trainer}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{model}/{trainer}.tsv"
    wildcard_constraints:
        model=NETWORK_IDS,
        trainer=TRAINER_IDS,
    # On a cluster, a configuration's training and evaluation run in one submission; the SLURM
    # profile batches several configurations into one job with --group-components.
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
        seeds=configuration_seeds,
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
        models=directory("results/models/{dataset}/{model}/closed_form"),
        timings="results/timings/fit_control/{dataset}/{model}/closed_form.tsv",
    log:
        "results/logs/fit_control/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/fit_control/{dataset}/{model}.tsv"
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
        seeds=configuration_seeds,
        dataset=lambda wildcards: DATASETS[wildcards.dataset],
        model=lambda wildcards: MODELS[wildcards.model],
    script:
        "../scripts/fit_control.py"
