rule lipschitz:
    input:
        model="results/models/{dataset}/{model}/{trainer}/seed{seed}.safetensors",
        data="results/data/{dataset}.safetensors",
        code=package_modules("lipschitz"),
    output:
        "results/lipschitz/{dataset}/{model}/{trainer}/seed{seed}.json",
    log:
        "results/logs/lipschitz/{dataset}/{model}/{trainer}/seed{seed}.log",
    benchmark:
        "results/benchmarks/lipschitz/{dataset}/{model}/{trainer}/seed{seed}.tsv"
    group:
        "model"
    conda:
        "../envs/robustlaw.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        settings=config["lipschitz"],
    script:
        "../scripts/lipschitz.py"
