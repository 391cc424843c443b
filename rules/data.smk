rule generate_data:
    input:
        code=package_modules("generate_data"),
        source=dataset_files,
    output:
        "results/data/{dataset}.safetensors",
    log:
        "results/logs/generate_data/{dataset}.log",
    conda:
        "../envs/robustlaw.yaml"
    # A whole MNIST training set normalised in float64 peaks near 1 GB.
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(10),
    params:
        spec=lambda wildcards: data_settings(wildcards.dataset),
    script:
        "../scripts/generate_data.py"


rule data_floor:
    input:
        data="results/data/{dataset}.safetensors",
        code=package_modules("data_floor"),
    output:
        "results/data/{dataset}.floor.json",
    log:
        "results/logs/data_floor/{dataset}.log",
    benchmark:
        "results/benchmarks/data_floor/{dataset}.tsv"
    # Quick, and the tables wait for it: ahead of the trainings, like a sweep's jobs.
    priority: SWEEP_PRIORITY
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(30),
    script:
        "../scripts/data_floor.py"
