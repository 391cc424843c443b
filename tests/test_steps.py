"""Rule steps called directly: one job fits every seed of a configuration, and one brackets every model
of a series, each seed exactly as a job of its own would."""

from pathlib import Path

import torch
from helpers import data_job, validated_config

from robustlaw.files import read_json
from robustlaw.io import load_checkpoint
from robustlaw.steps import generate_data, lipschitz, rule_job, train


def fit_and_bracket(folder: Path, seeds: list[int]) -> None:
    """Train and bracket `seeds` of one gradient-penalty configuration of the tiny config in `folder`."""
    tiny = validated_config()
    folder.mkdir()
    data = folder.parent / "data.safetensors"
    if not data.exists():
        generate_data.run(data_job(folder.parent))
    wildcards = {"dataset": "d", "trainer": "gradient_penalty", "model": "relu2-k16"}
    model = {"family": "mlp", "activation": "relu", "depth": 2, "width": 16}
    dataset, trainer = tiny["datasets"][0], tiny["trainers"][1]
    params = {"seeds": seeds, "device": "cpu", "dataset": dataset, "model": model, "trainer": trainer}
    models = {"models": str(folder / "models" / "relu2-k16")}
    train.run(rule_job("train", {"data": str(data)}, models, params, wildcards, str(folder / "train.log")))
    series = {"dataset": "d", "trainer": "gradient_penalty"}
    settings = {
        "models": str(folder / "models"),
        "configurations": [{"model": "relu2-k16", "seeds": seeds, "spec": model}],
        "settings": tiny["lipschitz"],
    }
    inputs = {**models, "data": str(data)}
    brackets = {"brackets": str(folder / "brackets")}
    lipschitz.run(rule_job("lipschitz", inputs, brackets, settings, series, str(folder / "lipschitz.log")))


def untimed(record: dict) -> dict:
    return {key: value for key, value in record.items() if key not in ("wall_time_s", "seconds")}


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
        records = [read_json(folder / kind / "relu2-k16" / "seed1.json") for folder in (together, alone)]
        assert untimed(records[0]) == untimed(records[1]) and records[0]["seed"] == 1
    assert (
        read_json(together / "models" / "relu2-k16" / "seed0.json")["train_mse"]
        != read_json(alone / "models" / "relu2-k16" / "seed1.json")["train_mse"]
    )
