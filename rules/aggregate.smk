FIGURES = expand("results/figures/{figure}.{ext}", figure=FIGURE_NAMES, ext=["png", "svg"])
# The figures step writes each caption from the run's tables, so the report never describes other data.
# Snakemake reads a caption as a source file, relative to this file unless absolute: hence the
# absolute path into the working directory.
CAPTIONS = {figure: f"results/figures/{figure}.rst" for figure in FIGURE_NAMES}
# Each configuration's folder of models and of brackets, and the files of its seeds in them.
MODEL_FOLDER, BRACKET_FOLDER = (
    "results/models/{dataset}/{model}/{trainer}",
    "results/lipschitz/{dataset}/{model}/{trainer}",
)
MODEL_FOLDERS = grid.configuration_folders(CONFIGURATIONS, MODEL_FOLDER)
BRACKET_FOLDERS = grid.configuration_folders(CONFIGURATIONS, BRACKET_FOLDER)
CHECKPOINTS = grid.run_files(CONFIGURATIONS, MODEL_FOLDER, ".safetensors")
RECORDS = grid.run_files(CONFIGURATIONS, MODEL_FOLDER, ".json")
BRACKETS = grid.run_files(CONFIGURATIONS, BRACKET_FOLDER, ".json")


rule aggregate:
    input:
        models=MODEL_FOLDERS,
        brackets=BRACKET_FOLDERS,
        floors=expand("results/data/{dataset}.floor.json", dataset=DATASETS),
        code=package_modules("aggregate"),
    output:
        runs="results/runs.parquet",
        timings="results/timings.tsv",
        config_page=report(
            "results/report/config.html",
            caption="../report/config.rst",
            category="Tables",
        ),
    log:
        "results/logs/aggregate.log",
    # Short final steps: on a cluster they share one submission.
    group:
        submission_group("summary")
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        records=RECORDS,
        brackets=BRACKETS,
        config=config,
    script:
        "../scripts/aggregate.py"


rule law_fit:
    input:
        runs="results/runs.parquet",
        code=package_modules("law_fit"),
    output:
        fits="results/law_fit.parquet",
        frontier="results/frontier.parquet",
        page=report(
            "results/report/law_fit.html",
            caption="../report/law_fit.rst",
            category="Tables",
        ),
    log:
        "results/logs/law_fit.log",
    # Short final steps: on a cluster they share one submission.
    group:
        submission_group("summary")
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=config,
    script:
        "../scripts/law_fit.py"


rule figures:
    input:
        runs="results/runs.parquet",
        fits="results/law_fit.parquet",
        frontier="results/frontier.parquet",
        code=package_modules("figures"),
    output:
        **{
            f"{figure}_png": report(
                f"results/figures/{figure}.png",
                caption=str(Path(CAPTIONS[figure]).absolute()),
                category="Figures",
            )
            for figure in FIGURE_NAMES
        },
        **{f"{figure}_svg": f"results/figures/{figure}.svg" for figure in FIGURE_NAMES},
        **{f"{figure}_caption": CAPTIONS[figure] for figure in FIGURE_NAMES},
    log:
        "results/logs/figures.log",
    # Short final steps: on a cluster they share one submission.
    group:
        submission_group("summary")
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/figures.py"


rule manifest:
    input:
        files=[
            "results/runs.parquet",
            "results/law_fit.parquet",
            "results/frontier.parquet",
            "results/timings.tsv",
            *FIGURES,
            *CAPTIONS.values(),
            *expand("results/data/{dataset}.safetensors", dataset=DATASETS),
            *expand("results/data/{dataset}.floor.json", dataset=DATASETS),
        ],
        folders=[*MODEL_FOLDERS, *BRACKET_FOLDERS],
        code=package_modules("manifest"),
    output:
        "results/MANIFEST.sha256",
    log:
        "results/logs/manifest.log",
    # Short final steps: on a cluster they share one submission.
    group:
        submission_group("summary")
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        run_files=[*CHECKPOINTS, *RECORDS, *BRACKETS],
    script:
        "../scripts/manifest.py"
