# One job per (dataset, trainer) sweep: the brackets of every model and seed of the sweep, one file per
# seed. Bracketing is cheap next to training, so a sweep shares one process; an edited estimator module
# re-brackets every sweep and retrains nothing.
rule lipschitz:
    input:
        models=sweep_model_folders,
        data="results/data/{dataset}.safetensors",
        code=package_modules("lipschitz"),
    output:
        brackets=directory("results/lipschitz/{dataset}/{trainer}"),
        timings="results/timings/lipschitz/{dataset}/{trainer}.tsv",
    log:
        "results/logs/lipschitz/{dataset}/{trainer}.log",
    benchmark:
        "results/benchmarks/lipschitz/{dataset}/{trainer}.tsv"
    wildcard_constraints:
        trainer=SWEEP_IDS,
    priority: SWEEP_PRIORITY
    conda:
        "../envs/robustlaw.yaml"
    threads: 1
    resources:
        mem_mb=per_attempt(4000),
        runtime=per_attempt(120),
    params:
        models=beside_output("timings", "results/timings/lipschitz/{dataset}/{trainer}.tsv", paths.SWEEP_MODEL_FOLDER),
        configurations=sweep_configurations,
        settings=config["lipschitz"],
    script:
        "../scripts/lipschitz.py"
