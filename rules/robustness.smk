ROBUSTNESS_FOLDERS = paths.robustness_folders(CONFIGURATIONS)
ROBUSTNESS_RECORDS = paths.run_files(CONFIGURATIONS, paths.ROBUSTNESS_FOLDER, ".json")


# One job per (dataset, trainer) sweep, as for the brackets it reads: robust accuracy costs a few
# attack steps per point, cheap next to training, so a sweep shares one process. An edited attack
# re-evaluates every sweep and neither retrains nor re-brackets anything. With `gpu: true` the attacks
# run on the GPU, as the trainings do: at paper scale they are matrix products of the size of training's.
rule robustness:
    input:
        models=sweep_model_folders,
        brackets=paths.SWEEP_BRACKET_FOLDER,
        data="results/data/{dataset}.safetensors",
        code=package_modules("robustness"),
    output:
        robustness=directory(paths.SWEEP_ROBUSTNESS_FOLDER),
        timings="results/timings/robustness/{dataset}/{trainer}.tsv",
    log:
        "results/logs/robustness/{dataset}/{trainer}.log",
    benchmark:
        "results/benchmarks/robustness/{dataset}/{trainer}.tsv"
    wildcard_constraints:
        trainer=SWEEP_IDS,
    priority: SWEEP_PRIORITY
    conda:
        "../envs/robustlaw.yaml"
    threads: 1
    resources:
        mem_mb=per_attempt(4000),
        runtime=per_attempt(120),
        gpu=1 if config["gpu"] else 0,
    params:
        device="cuda" if config["gpu"] else "cpu",
        models=beside_output("timings", "results/timings/robustness/{dataset}/{trainer}.tsv", paths.SWEEP_MODEL_FOLDER),
        configurations=sweep_configurations,
        settings=config["robustness"],
    script:
        "../scripts/robustness.py"


rule robustness_table:
    input:
        folders=ROBUSTNESS_FOLDERS,
        code=package_modules("robustness_table"),
    output:
        **result_tables(catalogue.stage_tables("robustness_table")),
    log:
        "results/logs/robustness_table.log",
    # Short final steps: on a cluster they share one submission.
    group:
        submission_group("summary")
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(10),
    params:
        records=beside_output("robustness", "results/robustness.parquet", ROBUSTNESS_RECORDS),
        config=config,
    script:
        "../scripts/robustness_table.py"
