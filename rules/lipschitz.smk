# One job per configuration, as for training: the brackets of all its seeds, one file per seed.
rule lipschitz:
    input:
        models="results/models/{dataset}/{model}/{trainer}",
        data="results/data/{dataset}.safetensors",
        code=package_modules("lipschitz"),
    output:
        brackets=directory("results/lipschitz/{dataset}/{model}/{trainer}"),
        timings="results/timings/lipschitz/{dataset}/{model}/{trainer}.tsv",
    log:
        "results/logs/lipschitz/{dataset}/{model}/{trainer}.log",
    benchmark:
        "results/benchmarks/lipschitz/{dataset}/{model}/{trainer}.tsv"
    group:
        "model"
    conda:
        "../envs/robustlaw.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        seeds=configuration_seeds,
        settings=config["lipschitz"],
    script:
        "../scripts/lipschitz.py"
