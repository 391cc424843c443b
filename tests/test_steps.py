"""Rule steps called directly: one job fits and brackets every seed of a configuration, each seed
exactly as a job of its own would."""

import pytest
import torch
import yaml
from helpers import ROOT
from snakemake.utils import validate

from robustlaw.io import load_checkpoint, read_json
from robustlaw.steps import generate_data, lipschitz, rule_job, train


@pytest.fixture(scope="module")
def tiny() -> dict:
    config = yaml.safe_load((ROOT / "tests" / "tiny_config.yaml").read_text())
    validate(config, str(ROOT / "schemas" / "config.schema.yaml"))
    return config


def fit_and_bracket(tiny: dict, folder, seeds: list[int]) -> None:
    folder.mkdir()
    dataset = tiny["datasets"][0]
    data = str(folder.parent / "data.safetensors")
    if not (folder.parent / "data.safetensors").exists():
        settings = {key: value for key, value in dataset.items() if key != "eps"}
        generate_data.run(
            rule_job("generate_data", {}, {"data": data}, {"spec": settings}, {}, str(folder.parent / "d.log"))
        )
    wildcards = {"dataset": "d", "model": "relu2-k16", "trainer": "gradient_penalty"}
    model = {"family": "mlp", "activation": "relu", "depth": 2, "width": 16}
    params = {"seeds": seeds, "device": "cpu", "dataset": dataset, "model": model, "trainer": tiny["trainers"][1]}
    models, brackets = {"models": str(folder / "models")}, {"brackets": str(folder / "brackets")}
    train.run(rule_job("train", {"data": data}, models, params, wildcards, str(folder / "train.log")))
    settings = {"seeds": seeds, "settings": tiny["lipschitz"]}
    lipschitz.run(rule_job("lipschitz", {**models, "data": data}, brackets, settings, wildcards, str(folder / "l.log")))


def test_a_configuration_job_gives_each_seed_what_a_job_of_its_own_gives(tiny, tmp_path):
    together, alone = tmp_path / "together", tmp_path / "alone"
    fit_and_bracket(tiny, together, [0, 1])
    fit_and_bracket(tiny, alone, [1])
    assert sorted(path.name for path in (together / "models").iterdir()) == [
        "seed0.json", "seed0.safetensors", "seed1.json", "seed1.safetensors"
    ]  # fmt: skip
    first, second = (load_checkpoint(folder / "models" / "seed1.safetensors") for folder in (together, alone))
    for (name, tensor), (_, other) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(tensor, other), name
    untimed = lambda record: {key: value for key, value in record.items() if key not in ("wall_time_s", "seconds")}  # noqa: E731
    for kind in ("models", "brackets"):
        records = [read_json(folder / kind / "seed1.json") for folder in (together, alone)]
        assert untimed(records[0]) == untimed(records[1]) and records[0]["seed"] == 1
    assert (
        read_json(together / "models" / "seed0.json")["train_mse"]
        != read_json(alone / "models" / "seed1.json")["train_mse"]
    )
