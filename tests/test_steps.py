"""Rules' job code (scripts/<rule>.py) called directly: one job fits every seed of a configuration, and one
brackets every model of a sweep, each seed exactly as a job of its own would, and keeps the seconds it took
apart from the results."""

from pathlib import Path

import torch
from helpers import data_job, job_script, rule_job, validated_config

from robustlaw.files import read_json
from robustlaw.results.safetensor_files import load_checkpoint
from robustlaw.results.timings import read_timings


def fit_and_bracket(folder: Path, seeds: list[int]) -> None:
    """Train and bracket `seeds` of one gradient-penalty configuration of the tiny config in `folder`."""
    tiny = validated_config()
    folder.mkdir()
    data = folder.parent / "data.safetensors"
    if not data.exists():
        job_script("generate_data").run(data_job(folder.parent))
    wildcards = {"dataset": "d", "trainer": "gradient_penalty", "model": "relu2-k16"}
    model = {"family": "mlp", "activation": "relu", "depth": 2, "width": 16}
    dataset, trainer = tiny["datasets"][0], tiny["trainers"][1]
    params = {"seeds": seeds, "device": "cpu", "dataset": dataset, "model": model, "trainer": trainer}
    models = {"models": str(folder / "models" / "relu2-k16")}
    outputs = {**models, "timings": str(folder / "train.tsv")}
    job_script("train").run(
        rule_job("train", {"data": str(data)}, outputs, params, wildcards, str(folder / "train.log"))
    )
    sweep = {"dataset": "d", "trainer": "gradient_penalty"}
    settings = {
        "models": str(folder / "models"),
        "configurations": [{"model": "relu2-k16", "seeds": seeds, "spec": model}],
        "settings": tiny["lipschitz"],
    }
    inputs = {**models, "data": str(data)}
    outputs = {"brackets": str(folder / "brackets"), "timings": str(folder / "lipschitz.tsv")}
    job_script("lipschitz").run(rule_job("lipschitz", inputs, outputs, settings, sweep, str(folder / "lipschitz.log")))


def test_a_configuration_job_gives_each_seed_what_a_job_of_its_own_gives(tmp_path):
    together, alone = tmp_path / "together", tmp_path / "alone"
    fit_and_bracket(together, [0, 1])
    fit_and_bracket(alone, [1])
    assert sorted(path.name for path in (together / "models" / "relu2-k16").iterdir()) == [
        "seed0.json", "seed0.safetensors", "seed1.json", "seed1.safetensors"
    ]  # fmt: skip
    first, second = (
        load_checkpoint(folder / "models" / "relu2-k16" / "seed1.safetensors") for folder in (together, alone)
    )
    for (name, tensor), (_, other) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(tensor, other), name
    for kind in ("models", "brackets"):
        files = [folder / kind / "relu2-k16" / "seed1.json" for folder in (together, alone)]
        assert files[0].read_bytes() == files[1].read_bytes() and read_json(files[0])["seed"] == 1
    assert (
        read_json(together / "models" / "relu2-k16" / "seed0.json")["train_mse"]
        != read_json(alone / "models" / "relu2-k16" / "seed1.json")["train_mse"]
    )


def test_each_job_keeps_its_seeds_timings_in_its_timing_file_and_none_in_the_results(tmp_path):
    folder = tmp_path / "job"
    fit_and_bracket(folder, [0, 1])
    trained, bracketed = read_timings(folder / "train.tsv"), read_timings(folder / "lipschitz.tsv")
    ids = {"dataset": "d", "model": "relu2-k16", "trainer": "gradient_penalty"}
    assert trained == [{**ids, "seed": seed, "step": "train", "seconds": trained[seed]["seconds"]} for seed in (0, 1)]
    assert all(row["seconds"] > 0 for row in trained + bracketed)
    # Every method of a two-layer network's bracket, each seed in turn.
    methods = {row["step"] for row in bracketed}
    assert {"lipschitz_spectral_product", "lipschitz_lipsdp", "lipschitz_search"} <= methods
    assert [row["seed"] for row in bracketed] == [0] * len(methods) + [1] * len(methods)
    for kind in ("models", "brackets"):
        records = [read_json(path) for path in sorted((folder / kind).rglob("*.json"))]
        assert len(records) == 2
        for record in records:
            assert not {"wall_time_s", "seconds"} & (set(record) | set(record.get("bracket", {})))
