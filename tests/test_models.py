import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import ROOT
from safetensors import safe_open
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import load_file, save_file

from robustlaw.results.safetensor_files import (
    CheckpointError,
    load_checkpoint,
    load_dataset,
    save_checkpoint,
    save_dataset,
)
from robustlaw.seeding import torch_generator
from robustlaw.training.models import MLP, GatedLinearModel, QuadraticModel, parameter_count


@pytest.mark.parametrize(("d", "width", "depth"), [(1, 1, 2), (128, 512, 2), (7, 3, 3), (20, 9, 5)])
def test_parameter_count_is_exact(d, width, depth):
    model = MLP(d, width, depth, generator=torch_generator(d, width, depth))
    assert parameter_count(d, width, depth) == sum(t.numel() for t in model.parameters()) == model.parameter_count()


def test_two_layer_count_is_k_times_d_plus_2_plus_1():
    assert parameter_count(128, 512, 2) == 512 * (128 + 2) + 1


def test_checkpoint_round_trip_preserves_function(tmp_path):
    model = MLP(5, 4, 3, generator=torch_generator("roundtrip"))
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, model)
    loaded = load_checkpoint(path, dtype=torch.float32)
    x = torch.randn(10, 5, generator=torch_generator("x"))
    assert torch.equal(model(x), loaded(x))


def test_truncated_checkpoint_names_the_file(tmp_path):
    path = tmp_path / "broken.safetensors"
    save_checkpoint(path, MLP(5, 4, 2, generator=torch_generator(1)))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(CheckpointError, match="broken.safetensors"):
        load_checkpoint(path)


def test_checkpoint_with_wrong_tensors_is_refused(tmp_path):
    path = tmp_path / "odd.safetensors"
    save_file(
        {"layers.0.weight": torch.zeros(3, 2)},
        str(path),
        metadata={"format": "robustlaw-mlp/1", "activation": "relu", "depth": "2"},
    )
    with pytest.raises(CheckpointError, match="odd.safetensors.*do not match depth 2"):
        load_checkpoint(path)


def tiny_models() -> dict[str, torch.nn.Module]:
    return {
        "mlp": MLP(5, 4, 3, generator=torch_generator("metadata")),
        "quadratic": QuadraticModel(torch.eye(3, dtype=torch.float64)),
        "gated": GatedLinearModel(torch.eye(2, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64)),
    }


TINY_DATASET = {name: np.arange(6, dtype=np.float32).reshape(3, 2) for name in ("x_train", "x_test")}
TINY_DATASET |= {name: np.ones(3, dtype=np.float32) for name in ("y_train", "y_test")}

# Writes every kind of file in a fresh process: safetensors orders metadata keys per process.
WRITE_ALL = """
import sys
sys.path.insert(0, "tests")
from test_models import TINY_DATASET, tiny_models
from robustlaw.results.safetensor_files import save_checkpoint, save_dataset
for name, model in tiny_models().items():
    save_checkpoint(f"{sys.argv[1]}/{name}.safetensors", model)
save_dataset(f"{sys.argv[1]}/data.safetensors", TINY_DATASET, {"seed": 0, "d": 2, "noise_variance": 1.0})
"""


def test_files_written_in_separate_processes_are_the_same_bytes(tmp_path):
    folders = [tmp_path / str(index) for index in range(4)]
    for folder in folders:
        folder.mkdir()
        environment = {"PYTHONPATH": str(ROOT / "scripts"), "PATH": "/usr/bin:/bin"}
        subprocess.run([sys.executable, "-c", WRITE_ALL, str(folder)], cwd=ROOT, env=environment, check=True)
    names = sorted(path.name for path in folders[0].iterdir())
    assert names == ["data.safetensors", "gated.safetensors", "mlp.safetensors", "quadratic.safetensors"]
    for name in names:
        assert len({(folder / name).read_bytes() for folder in folders}) == 1, name


def test_metadata_is_one_entry_holding_sorted_json(tmp_path):
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, tiny_models()["mlp"])
    with safe_open(str(path), framework="pt") as handle:
        stored = handle.metadata()
    assert list(stored) == ["robustlaw"]
    assert stored["robustlaw"] == '{"activation": "relu", "depth": "3", "format": "robustlaw-mlp/1"}'


def flat_metadata(path) -> dict[str, str]:
    """The entries a file of ours holds, as the one-key-per-entry layout written before."""
    with safe_open(str(path), framework="pt") as handle:
        return json.loads(handle.metadata()["robustlaw"])


@pytest.mark.parametrize("kind", ["mlp", "quadratic", "gated"])
def test_a_checkpoint_with_one_metadata_key_per_entry_still_loads(tmp_path, kind):
    model = tiny_models()[kind]
    path, old = tmp_path / "new.safetensors", tmp_path / "old.safetensors"
    save_checkpoint(path, model)
    save_file(load_file(str(path)), str(old), metadata=flat_metadata(path))
    x = torch.randn(7, model.input_dim, generator=torch_generator("old layout"), dtype=torch.float64)
    assert torch.equal(load_checkpoint(old)(x), load_checkpoint(path)(x))


def test_a_dataset_with_one_metadata_key_per_entry_still_loads(tmp_path):
    meta = {"seed": 3, "d": 2, "noise_variance": 1.0}
    path, old = tmp_path / "new.safetensors", tmp_path / "old.safetensors"
    save_dataset(path, TINY_DATASET, meta)
    save_numpy(TINY_DATASET, str(old), metadata=flat_metadata(path))
    arrays, loaded_meta = load_dataset(old)
    assert loaded_meta == meta == load_dataset(path)[1]
    assert all(np.array_equal(arrays[name], TINY_DATASET[name]) for name in TINY_DATASET)


def test_packed_metadata_that_is_not_json_names_the_file(tmp_path):
    path = tmp_path / "garbled.safetensors"
    save_file({"quadratic": torch.eye(2, dtype=torch.float64)}, str(path), metadata={"robustlaw": "{format"})
    with pytest.raises(CheckpointError, match="garbled.safetensors: metadata 'robustlaw' is not JSON"):
        load_checkpoint(path)
