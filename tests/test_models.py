import pytest
import torch
from safetensors.torch import save_file

from robustlaw.io import CheckpointError, load_checkpoint, save_checkpoint
from robustlaw.models import MLP, parameter_count
from robustlaw.seeding import torch_generator


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
