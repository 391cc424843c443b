FIGURES = expand("results/figures/{figure}.{ext}", figure=FIGURE_NAMES, ext=catalogue.FIGURE_FORMATS)
# The figures step writes each caption from the run's tables, so the report never describes other data.
# Snakemake reads a caption as a source file, relative to this file unless absolute: hence the
# absolute path into the working directory, under the prefix Snakemake gives this workflow's files
# where another imports it as a module with `prefix:` (it does not rewrite captions).
CAPTIONS = {figure: f"results/figures/{figure}.rst" for figure in FIGURE_NAMES}
CAPTION_SOURCES = {
    figure: str(Path(workflow.modifier.path_modifier.replace_prefix(caption)).absolute())
    for figure, caption in CAPTIONS.items()
}
MODEL_FOLDERS, BRACKET_FOLDERS = paths.job_folders(CONFIGURATIONS)
CHECKPOINTS = paths.run_files(CONFIGURATIONS, paths.MODEL_FOLDER, ".safetensors")
RECORDS = paths.run_files(CONFIGURATIONS, paths.MODEL_FOLDER, ".json")
BRACKETS = paths.run_files(CONFIGURATIONS, paths.BRACKET_FOLDER, ".json")
# The seconds each fit, bracket and robustness step took, one file per job: the only outputs a rerun does
# not reproduce.
TIMING_FILES = paths.timing_files(CONFIGURATIONS)


rule aggregate:
    input:
        models=MODEL_FOLDERS,
        brackets=BRACKET_FOLDERS,
        timings=TIMING_FILES,
        floors=expand("results/data/{dataset}.floor.json", dataset=DATASETS),
        code=package_modules("aggregate"),
    output:
        **result_tables(catalogue.stage_tables("aggregate")),
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
        mem_mb=per_attempt(2000),
        runtime=per_attempt(10),
    params:
        records=beside_output("runs", "results/runs.parquet", RECORDS),
        brackets=beside_output("runs", "results/runs.parquet", BRACKETS),
        config=config,
    script:
        "../scripts/aggregate.py"


rule law_fit:
    input:
        **result_tables(["runs"]),
        code=package_modules("law_fit"),
    output:
        **result_tables(catalogue.stage_tables("law_fit")),
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
        mem_mb=per_attempt(2000),
        runtime=per_attempt(10),
    params:
        config=config,
    script:
        "../scripts/law_fit.py"


rule figures:
    input:
        **result_tables(["runs", "law_fit", "frontier", "robustness"]),
        code=package_modules("figures"),
    output:
        **{
            f"{figure}_png": report(
                f"results/figures/{figure}.png",
                caption=CAPTION_SOURCES[figure],
                category="Figures",
            )
            for figure in FIGURE_NAMES
        },
        **{
            f"{figure}_{extension}": f"results/figures/{figure}.{extension}"
            for figure in FIGURE_NAMES
            for extension in catalogue.FIGURE_FORMATS
            if extension != "png"
        },
        **{f"{figure}_caption": CAPTIONS[figure] for figure in FIGURE_NAMES},
    log:
        "results/logs/figures.log",
    # Short final steps: on a cluster they share one submission.
    group:
        submission_group("summary")
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(10),
    script:
        "../scripts/figures.py"


rule manifest:
    input:
        files=[
            *TABLE_FILES,
            "results/report/config.html",
            "results/report/law_fit.html",
            *FIGURES,
            *CAPTIONS.values(),
            *expand("results/data/{dataset}.safetensors", dataset=DATASETS),
            *expand("results/data/{dataset}.floor.json", dataset=DATASETS),
        ],
        timings=["results/timings.tsv", *TIMING_FILES],
        folders=[*MODEL_FOLDERS, *BRACKET_FOLDERS, *ROBUSTNESS_FOLDERS],
        code=package_modules("manifest"),
    output:
        manifest="results/MANIFEST.sha256",
        timings="results/MANIFEST-timings.sha256",
    log:
        "results/logs/manifest.log",
    # Short final steps: on a cluster they share one submission.
    group:
        submission_group("summary")
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=per_attempt(1000),
        runtime=per_attempt(10),
    params:
        run_files=beside_output(
            "manifest", "results/MANIFEST.sha256", [*CHECKPOINTS, *RECORDS, *BRACKETS, *ROBUSTNESS_RECORDS]
        ),
    script:
        "../scripts/manifest.py"
