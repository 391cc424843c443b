rule train:
    input:
        data="results/data/{dataset}.safetensors",
        code=package_modules("train", "io", "seeding"),
    output:
        model="results/models/{dataset}/{model}/{trainer}/seed{seed}.safetensors",
        record="results/models/{dataset}/{model}/{trainer}/seed{seed}.json",
    log:
        "results/logs/train/{dataset}/{model}/{trainer}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{model}/{trainer}/seed{seed}.tsv"
    conda:
        "../envs/robustlaw.yaml"
    # One thread per job: results do not depend on how many jobs share the machine.
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        dataset=lambda wildcards: DATASETS[wildcards.dataset],
        model=lambda wildcards: MODELS[wildcards.model],
        trainer=lambda wildcards: TRAINERS[wildcards.trainer],
    script:
        "../scripts/train.py"
