"""Bad configs stop before any job, with an error naming the key, and leave results/ untouched."""

import copy
import subprocess

import pytest
import yaml
from helpers import SNAKEMAKE, TINY, copy_workflow, planned_jobs, snakemake


def mutated(change) -> dict:
    config = copy.deepcopy(TINY)
    change(config)
    return config


def set_in(path, value):
    def change(config):
        *parents, last = path
        target = config
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def delete_in(path):
    def change(config):
        *parents, last = path
        target = config
        for key in parents:
            target = target[key]
        del target[last]

    return change


CASES = {
    "typo in a key": (set_in(["models", 0, "widht"], [3]), "models[0]", "'widht' was unexpected"),
    "unknown top-level key": (set_in(["sedes"], [0]), "(top level)", "'sedes' was unexpected"),
    "missing key": (delete_in(["datasets", 0, "d"]), "datasets[0]", "'d' is a required property"),
    "wrong type": (set_in(["datasets", 0, "n"], "many"), "datasets[0].n", "'many' is not of type 'integer'"),
    "n below 2": (set_in(["datasets", 0, "n"], 1), "datasets[0].n", "less than the minimum of 2"),
    "d below 1": (set_in(["datasets", 0, "d"], 0), "datasets[0].d", "less than the minimum of 1"),
    "width below 1": (set_in(["models", 0, "widths"], [0, 4]), "models[0].widths[0]", "less than the minimum of 1"),
    "unknown distribution": (
        set_in(["datasets", 0, "distribution"], "cube"),
        "datasets[0].distribution",
        "'cube' is not one of ['sphere', 'gaussian', 'hypercube', 'subspace']",
    ),
    "unknown labels": (
        set_in(["datasets", 0, "labels"], "gaussian_noise"),
        "datasets[0].labels",
        "is not one of ['random_sign', 'teacher']",
    ),
    "sigma above 1": (set_in(["datasets", 0, "sigma"], 1.5), "datasets[0].sigma", "greater than the maximum of 1"),
    "sigma zero": (set_in(["datasets", 0, "sigma"], 0), "datasets[0].sigma", "less than or equal to the minimum of 0"),
    "unknown trainer method": (
        set_in(["trainers", 0, "method"], "dropout"),
        "trainers[0].method",
        "is not one of ['plain', 'weight_decay', 'gradient_penalty', 'adversarial']",
    ),
    "unknown control": (set_in(["controls", 0, "kind"], "tanh_ntk"), "controls[0].kind", "is not one of"),
    "path in a trainer name": (
        set_in(["trainers", 0, "name"], "../../etc"),
        "trainers[0].name",
        "does not match",
    ),
    "unknown dataset in a filter": (
        set_in(["models", 0, "datasets"], ["sphere-n9-d9-sign-s0"]),
        "models[0].datasets",
        "unknown datasets ['sphere-n9-d9-sign-s0']",
    ),
    "negative seed": (set_in(["seeds"], [0, -1]), "seeds[1]", "less than the minimum of 0"),
    "duplicate width": (set_in(["models", 0, "widths"], [4, 4]), "models[0].widths", "non-unique elements"),
    "eps at the noise level": (set_in(["datasets", 0, "eps"], 1.0), "datasets[...].eps", "must be below the noise"),
    "nothing to fit": (lambda config: config.update(models=[], controls=[]), "models", "nothing to fit"),
    "subspace without its dimension": (
        set_in(["datasets", 0, "distribution"], "subspace"),
        "datasets[0]",
        "'intrinsic_dim' is a required property",
    ),
    "subspace wider than d": (
        lambda config: config["datasets"][0].update(distribution="subspace", intrinsic_dim=9),
        "datasets[...].intrinsic_dim",
        "must be at most d = 8",
    ),
    "intrinsic_dim on full-dimensional data": (
        set_in(["datasets", 0, "intrinsic_dim"], 4),
        "datasets[...].intrinsic_dim",
        "only subspace data take it",
    ),
    "trainer name with a trailing newline": (
        set_in(["trainers", 0, "name"], "plain\n"),
        "trainers[0].name",
        "'plain\\n' holds characters other than letters, digits and _",
    ),
    "NaN learning rate": (
        set_in(["trainers", 0, "learning_rate"], float("nan")),
        "trainers[0].learning_rate",
        "nan is not of type 'number'",
    ),
    "infinite robustness radius": (
        set_in(["robustness"], {"radii": [0.1, float("inf")]}),
        "robustness.radii[1]",
        "inf is not of type 'number'",
    ),
    "NaN sigma": (set_in(["datasets", 0, "sigma"], float("nan")), "datasets[0].sigma", "nan is not of type 'number'"),
    "n written as a float": (set_in(["datasets", 0, "n"], 16.0), "datasets[0].n", "16.0 is not of type 'integer'"),
    "seed at 2^63": (
        set_in(["seeds"], [0, 2**63]),
        "seeds[1]",
        "9223372036854775808 is greater than the maximum of 9223372036854775807",
    ),
    "enormous width": (
        set_in(["models", 0, "widths"], [4, 10**12]),
        "models[0].widths[1]",
        "1000000000000 is greater than the maximum of 1000000",
    ),
    "enormous depth": (
        set_in(["models", 0, "depth"], 10**6),
        "models[0].depth",
        "1000000 is greater than the maximum of 100",
    ),
    "enormous control width": (
        set_in(["controls", 0, "widths"], [10**9]),
        "controls[0].widths[0]",
        "greater than the maximum of 1000000",
    ),
    "duplicate dataset": (
        lambda config: config["datasets"].append(dict(config["datasets"][0])),
        "datasets[1]",
        "duplicate grid entry",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_config_names_the_key_and_touches_nothing(case, workflow, tmp_path):
    change, key, reason = CASES[case]
    sentinel = tmp_path / "results" / "runs.parquet"
    sentinel.parent.mkdir(parents=True)
    sentinel.write_bytes(b"earlier results")
    result = snakemake(workflow, tmp_path, config=mutated(change), check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert f"config key '{key}'" in message and reason in message, message
    assert sentinel.read_bytes() == b"earlier results"
    assert sorted(path.name for path in (tmp_path / "results").iterdir()) == ["runs.parquet"]


def test_the_default_config_is_valid(workflow, tmp_path):
    default = yaml.safe_load((workflow / "config.yaml").read_text())
    assert snakemake(workflow, tmp_path, "--dry-run", config=default).returncode == 0


@pytest.mark.parametrize("kept", ["models", "controls"])
def test_a_grid_of_only_trained_models_or_only_controls_is_a_study(workflow, tmp_path, kept):
    config = copy.deepcopy(TINY)
    config["controls" if kept == "models" else "models"] = []
    jobs = planned_jobs(workflow, tmp_path, config)
    fitting = {"models": "train", "controls": "fit_control"}
    assert jobs[fitting[kept]] >= 1 and fitting["controls" if kept == "models" else "models"] not in jobs


def test_a_configfile_is_a_whole_study_the_default_grid_is_not_merged_in(tmp_path):
    """From the workflow's own folder, as a user runs it: config.yaml is there, and its controls name
    a dataset the study does not have; the study's keys alone make the grid."""
    (tmp_path / "repository").mkdir()
    workflow = copy_workflow(tmp_path / "repository")
    study = {"datasets": TINY["datasets"], "controls": TINY["controls"], "seeds": [0]}
    (workflow / "study.yaml").write_text(yaml.safe_dump(study))
    command = [SNAKEMAKE, "--configfile", "study.yaml", "--cores", "1", "--dry-run"]
    result = subprocess.run(command, cwd=workflow, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fit_control" in result.stdout and "train " not in result.stdout
