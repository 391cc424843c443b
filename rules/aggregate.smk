FIGURES = expand("results/figures/{figure}.{ext}", figure=["lipschitz_vs_p", "training_mse"], ext=["png", "svg"])


rule aggregate:
    input:
        records=run_files("results/models/{dataset}/{model}/{trainer}/seed{seed}.json"),
        brackets=run_files("results/lipschitz/{dataset}/{model}/{trainer}/seed{seed}.json"),
        floors=expand("results/data/{dataset}.floor.json", dataset=DATASETS),
        code=package_modules("aggregate"),
    output:
        runs="results/runs.parquet",
        timings="results/timings.tsv",
    log:
        "results/logs/aggregate.log",
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/aggregate.py"


rule figures:
    input:
        runs="results/runs.parquet",
        code=package_modules("figures"),
    output:
        lipschitz_png=report(
            "results/figures/lipschitz_vs_p.png",
            caption="../report/lipschitz_vs_p.rst",
            category="Figures",
        ),
        lipschitz_svg="results/figures/lipschitz_vs_p.svg",
        mse_png=report(
            "results/figures/training_mse.png",
            caption="../report/training_mse.rst",
            category="Figures",
        ),
        mse_svg="results/figures/training_mse.svg",
    log:
        "results/logs/figures.log",
    conda:
        "../envs/robustlaw.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/figures.py"
