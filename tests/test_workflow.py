"""The workflow end to end on a tiny config, in temporary directories, through the snakemake CLI."""

import json
import re
import shutil
import subprocess

import pandas as pd
import pyarrow.parquet as pq
import yaml
from helpers import HANG_S, ROOT, SNAKEMAKE, TINY, planned_jobs, run_environment, snakemake

from robustlaw.__main__ import main
from robustlaw.catalogue import FIGURES, STAGES
from robustlaw.files import read_json
from robustlaw.results.columns import LOCAL_SLOPE_COLUMNS, ROBUSTNESS_COLUMNS
from robustlaw.results.provenance import read_provenance
from robustlaw.results.tables import COLUMNS


def grid_size() -> tuple[int, int]:
    """(trained runs, control runs) of the tiny config."""
    seeds = len(TINY["seeds"])
    trained = len(TINY["models"][0]["widths"]) * len(TINY["trainers"]) * seeds
    return trained, len(TINY["controls"][0]["widths"]) * seeds


# The stages with one job per run (catalogue.STAGES), and the final target.
SUMMARY_STAGES = {name: 1 for name, stage in STAGES.items() if stage.scope == "run"} | {"all": 1}


def test_runs_parquet_has_the_documented_schema_and_one_row_per_model(finished_run):
    runs = pd.read_parquet(finished_run / "results" / "runs.parquet")
    d = TINY["datasets"][0]["d"]
    trained, controls = grid_size()
    assert tuple(runs.columns) == COLUMNS
    assert len(runs) == trained + controls
    networks = runs[runs["family"] == "mlp"]
    assert len(networks) == trained
    assert (networks["p"] == networks["width"] * (d + 2) + 1).all()
    assert set(networks["trainer"]) == {trainer["name"] for trainer in TINY["trainers"]}
    quadratic = runs[runs["family"] == "even_ntk"]
    assert (quadratic["p"] == quadratic["width"] * d).all() and (quadratic["p_eff"] <= d * (d + 1) // 2).all()
    assert (quadratic["lip_domain"] == "unit ball").all() and (networks["lip_domain"] == "R^d").all()
    assert (runs["lip_lower"] <= runs["lip_upper"]).all()
    assert runs["fitted"].dtype == bool
    assert (runs.loc[runs["fitted"], "train_mse"] <= 1 - TINY["datasets"][0]["eps"] + 1e-12).all()
    assert runs["l_sep"].nunique() == 1 and runs["l_sep"].iloc[0] > 0


def test_runs_that_did_not_fit_are_kept_and_flagged(finished_run):
    runs = pd.read_parquet(finished_run / "results" / "runs.parquet")
    width_two = runs[runs["model"] == "relu2-k2"]
    assert len(width_two) == len(TINY["trainers"]) * len(TINY["seeds"])
    assert not width_two["fitted"].any() and (width_two["train_mse"] > width_two["target_mse"]).all()
    assert runs.loc[runs["width"] == 16, "fitted"].all()


def test_law_fit_frontier_and_figures_are_written(finished_run):
    results = finished_run / "results"
    fits = pd.read_parquet(results / "law_fit.parquet")
    assert set(fits["side"]) == {"upper", "lower"} and len(fits) == 2 * 3  # 3 series x trainer pairs
    frontier = pd.read_parquet(results / "frontier.parquet")
    runs = pd.read_parquet(results / "runs.parquet")
    fitted = runs[runs["fitted"]]
    assert sorted(frontier["p"]) == sorted(fitted["p"].unique())
    for row in frontier.itertuples():
        assert row.lip_upper == fitted.loc[fitted["p"] == row.p, "lip_upper"].min()
    assert (runs["d_intrinsic"] == runs["d"]).all() and (runs["d_pca90"] <= runs["d"]).all()
    local = pd.read_parquet(results / "local_slopes.parquet")
    # Only the control fits at two neighbouring widths (8, 16); the networks fit at width 16 alone.
    assert list(local.columns) == list(LOCAL_SLOPE_COLUMNS) and set(local["series"]) == {"even_ntk"}
    for figure in FIGURES:
        for extension in ("png", "svg"):
            assert (results / "figures" / f"{figure}.{extension}").stat().st_size > 10_000
        assert f"n = {TINY['datasets'][0]['n']}" in (results / "figures" / f"{figure}.rst").read_text()


def test_robustness_parquet_brackets_every_model_at_every_radius_on_both_splits(finished_run):
    results = finished_run / "results"
    table = pd.read_parquet(results / "robustness.parquet")
    runs = pd.read_parquet(results / "runs.parquet")
    radii = [0.01, 0.02, 0.05, 0.1, 0.2]  # the schema's default: the tiny config sets none
    assert tuple(table.columns) == tuple(ROBUSTNESS_COLUMNS)
    assert len(table) == len(runs) * 2 * len(radii)
    for _, model in table.groupby(["dataset", "model", "trainer", "seed"]):
        assert list(model["split"]) == ["train"] * len(radii) + ["test"] * len(radii)
        assert list(model["radius"]) == radii * 2
        for _, split in model.groupby("split"):
            # Robust accuracy cannot rise with the radius, and never exceeds the clean accuracy.
            assert split["attacked_accuracy"].is_monotonic_decreasing
            assert split["certified_accuracy"].is_monotonic_decreasing
            assert (split["attacked_accuracy"] <= split["clean_accuracy"]).all()
    assert (table["certified_accuracy"] <= table["attacked_accuracy"]).all()
    # The fitted models classify their (noisy) training labels right: the sign of a fit matches.
    fitted = runs.loc[runs["fitted"], ["dataset", "model", "trainer", "seed"]]
    on_fitted = table.merge(fitted).query("split == 'train'")
    assert len(on_fitted) and (on_fitted["clean_accuracy"] == 1).all()
    # The attack bites: at the largest radius it flips training points of fitted models.
    assert (on_fitted.loc[on_fitted["radius"] == radii[-1], "attacked_accuracy"] < 1).any()
    provenance = read_provenance(pq.read_schema(results / "robustness.parquet").metadata)
    assert set(provenance["columns"]) == set(ROBUSTNESS_COLUMNS) and provenance["config"]["robustness"]
    record = read_json(results / "robustness" / "sphere-n32-d8-sign-s0" / "plain" / "relu2-k16" / "seed0.json")
    assert len(record["rows"]) == 2 * len(radii) and record["lip_upper"] > 0
    timings = pd.read_csv(results / "timings.tsv", sep="\t")
    assert timings["robustness_s"].notna().all()


def test_training_progress_is_in_the_log(finished_run):
    logs = sorted((finished_run / "results" / "logs" / "train").rglob("*.log"))
    assert logs and all("train_mse" in log.read_text() and "done: steps=" in log.read_text() for log in logs)


def test_rerun_after_a_complete_run_has_nothing_to_do(workflow, finished_run):
    assert planned_jobs(workflow, finished_run) == {}


def test_fresh_runs_give_byte_identical_parquet_and_figures(workflow, finished_run, tmp_path):
    """The second run has a compute node's environment: sbatch exports the login node's
    XDG_RUNTIME_DIR, a folder that does not exist there, and TMPDIR is another job's scratch."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    node = {"XDG_RUNTIME_DIR": str(tmp_path / "run" / "user" / "1000"), "TMPDIR": str(scratch)}
    snakemake(workflow, tmp_path, env=node)
    for name in (
        "runs.parquet",
        "law_fit.parquet",
        "frontier.parquet",
        "local_slopes.parquet",
        "figures/lipschitz_vs_p.png",
        "figures/lipschitz_vs_p.svg",
        "figures/law_ratio.png",
        "robustness.parquet",
        "figures/robust_accuracy_vs_p.png",
    ):
        assert (tmp_path / "results" / name).read_bytes() == (finished_run / "results" / name).read_bytes()


def test_changing_one_width_reruns_only_that_width(workflow, finished_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run, workdir, symlinks=True)
    changed = yaml.safe_load(yaml.safe_dump(TINY))
    changed["models"][0]["widths"] = [TINY["models"][0]["widths"][0], 5]
    jobs = planned_jobs(workflow, workdir, changed)
    # One training per trainer (all seeds in it); each trainer's sweep is bracketed and attacked again.
    trainers = len(TINY["trainers"])
    assert jobs == {"train": trainers, "lipschitz": trainers, "robustness": trainers, **SUMMARY_STAGES}


def test_adding_a_seed_to_the_controls_refits_and_rebrackets_only_the_controls(workflow, finished_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run, workdir, symlinks=True)
    changed = yaml.safe_load(yaml.safe_dump(TINY))
    changed["controls"][0]["seeds"] = [*TINY["seeds"], 7]
    jobs = planned_jobs(workflow, workdir, changed)
    assert jobs == {"fit_control": 1, "lipschitz": 1, "robustness": 1, **SUMMARY_STAGES}


def test_editing_an_estimator_module_reruns_the_estimates_not_the_training(workflow, finished_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run, workdir, symlinks=True)
    module = workflow / "scripts" / "robustlaw" / "lipschitz" / "upper.py"
    source = module.read_text()
    module.write_text(source + "\n# an edit\n")
    try:
        jobs = planned_jobs(workflow, workdir)
    finally:
        module.write_text(source)
    sweeps = len(TINY["trainers"]) + 1  # each trainer's, and the controls'
    assert jobs == {"lipschitz": sweeps, "robustness": sweeps, **SUMMARY_STAGES}


def test_editing_config_checks_figure_names_or_column_descriptions_refits_and_rebrackets_nothing(
    workflow, finished_run, tmp_path
):
    """Support code the models' jobs do not run (the catalogue of figures, the config layer's error
    messages, the column dictionary) is not their input: on a cluster such an edit would cost days."""
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run, workdir, symlinks=True)
    package = workflow / "scripts" / "robustlaw"
    edits = {
        package / "catalogue.py": [('    "law_ratio": (', '    "law_ratio_renamed": (')],
        package / "grid.py": [("has nothing to fit", "holds nothing to fit")],
        package / "results" / "columns.py": [
            ('("label / input norm", "data floor")', '("label / input norm", "the data floor")')
        ],
    }
    sources = {module: module.read_text() for module in edits}
    try:
        for module, replacements in edits.items():
            text = sources[module]
            for old, new in replacements:
                assert old in text, (module, old)
                text = text.replace(old, new)
            module.write_text(text)
        jobs = planned_jobs(workflow, workdir)
    finally:
        for module, source in sources.items():
            module.write_text(source)
    assert jobs["figures"] == 1  # the renamed figure is a new output: the edits took effect
    assert set(jobs) <= set(SUMMARY_STAGES), jobs


def test_the_workflow_runs_as_a_snakemake_module_of_another(workflow, finished_run, tmp_path):
    """A study that imports this workflow with `module`, its rules renamed and its files under a prefix,
    makes the same tables as the workflow run on its own: the module finds its schema and package beside
    its own Snakefile, and its jobs find their files under the prefix."""
    host = tmp_path / "host"
    host.mkdir()
    (host / "config.yaml").write_text(yaml.safe_dump(TINY))
    (host / "Snakefile").write_text(
        'configfile: "config.yaml"\n\n\n'
        f'module robustlaw:\n    snakefile:\n        "{workflow / "Snakefile"}"\n    config:\n        config\n'
        '    prefix:\n        "study"\n\n\n'
        "use rule * from robustlaw as robustlaw_*\n"
    )
    command = [SNAKEMAKE, "-s", str(host / "Snakefile"), "--directory", str(host), "--cores", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=HANG_S, env=run_environment(workflow))
    assert result.returncode == 0, result.stdout + result.stderr
    for table in ("runs.parquet", "robustness.parquet"):
        ours = pd.read_parquet(host / "study" / "results" / table)
        assert ours.equals(pd.read_parquet(finished_run / "results" / table)), table


def test_a_users_own_profile_sets_the_cores(workflow, finished_run, tmp_path):
    """The workflow's default profile overrides a user's --profile key by key, so it must leave cores to them."""
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run, workdir, symlinks=True)
    profile = tmp_path / "mine"
    profile.mkdir()
    (profile / "config.yaml").write_text("cores: 3\n")  # neither this machine's count nor the default 1
    command = [SNAKEMAKE, "-s", str(workflow / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(workdir / "config.yaml"), "--profile", str(profile)]
    command += ["--forcerun", "manifest", "--until", "manifest"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=HANG_S, env=run_environment(workflow))
    assert result.returncode == 0, result.stdout + result.stderr
    log = max((workdir / ".snakemake" / "log").glob("*.snakemake.log"), key=lambda path: path.stat().st_mtime)
    assert "Provided cores: 3\n" in log.read_text()


def test_editing_the_attack_reruns_robustness_only(workflow, finished_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run, workdir, symlinks=True)
    module = workflow / "scripts" / "robustlaw" / "robustness" / "attack.py"
    source = module.read_text()
    module.write_text(source + "\n# an edit\n")
    try:
        jobs = planned_jobs(workflow, workdir)
    finally:
        module.write_text(source)
    sweeps = len(TINY["trainers"]) + 1
    # Neither training nor brackets: the summary steps follow from the new robustness and timing files.
    assert jobs == {"robustness": sweeps, **SUMMARY_STAGES}


def test_report_bundles_the_figures(workflow, finished_run):
    snakemake(workflow, finished_run, "--report", "results/report.html")
    report = (finished_run / "results" / "report.html").read_text()
    assert all(f"{figure}.png" in report for figure in FIGURES)
    # The captions the figures step wrote from the run's tables, not static text.
    assert "data floor L_sep" in report and "sphere-n32-d8-sign-s0" in report and "colour-blind" in report


def test_evaluate_with_the_runs_results_folder_gives_the_numbers_the_run_recorded(finished_run, capsys):
    """`robustlaw evaluate CHECKPOINT --results RESULTS` takes the run's settings, seeds and dataset: its bracket
    is runs.parquet's and its robust accuracies robustness.parquet's, to the bit."""
    results = finished_run / "results"
    runs = pd.read_parquet(results / "runs.parquet")
    robustness = pd.read_parquet(results / "robustness.parquet")
    for _, run in runs.groupby("trainer").head(1).iterrows():  # a trained model of each trainer, a control
        checkpoint = (
            results / "models" / run["dataset"] / run["trainer"] / run["model"] / f"seed{run['seed']}.safetensors"
        )
        assert main(["evaluate", str(checkpoint), "--results", str(results)]) == 0
        output = json.loads(capsys.readouterr().out)
        assert (output["lip_upper"], output["lip_lower"]) == (run["lip_upper"], run["lip_lower"])
        keys = ["dataset", "model", "trainer", "seed"]
        recorded = robustness.merge(run[keys].to_frame().T.astype(robustness[keys].dtypes), on=keys)
        ours = pd.DataFrame(output["robustness"])
        assert len(ours) == len(recorded) > 0
        for column in ("split", "radius", "clean_accuracy", "certified_accuracy", "attacked_accuracy"):
            assert list(ours[column]) == list(recorded[column]), column


def test_the_catalogue_lists_every_rule_of_the_workflow():
    """catalogue.STAGES is the list of rules the tests count jobs by: a rule added without an entry there,
    or an entry without a rule, fails here."""
    rules = re.findall(
        r"^rule (\w+):", "".join(path.read_text() for path in sorted((ROOT / "rules").glob("*.smk"))), re.M
    )
    snakefile = re.findall(r"^rule (\w+):", (ROOT / "Snakefile").read_text(), re.M)
    assert sorted(rules) == sorted(STAGES) and snakefile == ["all"]
