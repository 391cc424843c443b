import subprocess
import sys

import pytest
import torch

from robustlaw.seeding import torch_generator
from robustlaw.training.models import MLP
from robustlaw.training.optimizers import OPTIMIZERS

TORCH_CLASSES = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


def steps_of(optimizer, model: MLP, x: torch.Tensor, y: torch.Tensor, steps: int) -> list[torch.Tensor]:
    for _ in range(steps):
        optimizer.zero_grad()
        torch.mean((model(x) - y) ** 2).backward()
        optimizer.step()
    return [parameter.detach().clone() for parameter in model.parameters()]


@pytest.mark.parametrize("name", ["adam", "sgd"])
@pytest.mark.parametrize("foreach", [True, None])
def test_the_functional_steps_give_torch_optims_numbers_to_the_bit(name, foreach):
    x = torch.randn(64, 12, generator=torch_generator("x"))
    y = torch.randn(64, generator=torch_generator("y"))
    ours, theirs = (MLP(12, 16, 3, generator=torch_generator("init")) for _ in range(2))
    ours_after = steps_of(OPTIMIZERS[name](ours.parameters(), 0.01, foreach=foreach), ours, x, y, 60)
    theirs_after = steps_of(TORCH_CLASSES[name](theirs.parameters(), lr=0.01, foreach=foreach), theirs, x, y, 60)
    assert all(torch.equal(a, b) for a, b in zip(ours_after, theirs_after, strict=True))
    assert not torch.equal(ours_after[0], next(MLP(12, 16, 3, generator=torch_generator("init")).parameters()))


def test_a_training_job_and_a_bracket_never_import_torchs_compiler():
    """torch._dynamo costs about 1.2 s of CPU per process: a job's set-up, a training and the
    estimators that ascend must not import it (a fresh interpreter, so other tests cannot hide it)."""
    code = """
import sys, torch
from robustlaw.lipschitz.lower import LowerSearchSpec, surrogate_ascent
from robustlaw.lipschitz.upper import lipsdp_network, lipsdp_two_layer
from robustlaw.training.models import MLP
from robustlaw.runtime import configure_torch
from robustlaw.settings import trainer_settings
from robustlaw.training.fit import TrainSpec, train_full_batch
configure_torch(1)
assert torch.are_deterministic_algorithms_enabled()
model = MLP(5, 4, 2)
x, y = torch.randn(20, 5), torch.randn(20)
trainer = trainer_settings(name="t", method="gradient_penalty", max_steps=20, probe_points=4)
train_full_batch(model, x, y, TrainSpec.from_trainer(trainer, 0.0))
search = dict(random_points=4, scales=(1.0,), ascent_starts=2, ascent_steps=5, sharpness=(10.0,), line_search_rounds=1,
              pattern_starts=1, walk_rounds=1, walk_candidates=1, pursuit_starts=1, pursuit_rounds=1)
surrogate_ascent(model, x[:3], LowerSearchSpec(**search))
weights = [layer.weight.detach() for layer in model.layers]
lipsdp_two_layer(*weights, steps=5)
lipsdp_network([*weights[:1], weights[0][:, :4], *weights[1:]], steps=5)
print(sorted(name for name in sys.modules if name.startswith(("torch._dynamo", "torch._inductor"))))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
