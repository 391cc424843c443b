import pytest
import torch

from robustlaw.data import DatasetSpec, generate_dataset
from robustlaw.models import MLP
from robustlaw.seeding import torch_generator
from robustlaw.settings import trainer_settings
from robustlaw.train import TrainSpec, make_penalty, mse, train_full_batch


def spec(target_mse: float = 0.01, **trainer) -> TrainSpec:
    """A trainer as the config would give it (schema defaults for the keys not given)."""
    return TrainSpec.from_trainer(trainer_settings(name="test", **trainer), target_mse)


def tiny_problem():
    arrays = generate_dataset(DatasetSpec("sphere", 40, 10, 10, "random_sign", 1.0, 1, 0))
    return torch.from_numpy(arrays["x_train"]), torch.from_numpy(arrays["y_train"])


def test_training_reaches_the_fit_criterion_and_logs_progress():
    x, y = tiny_problem()
    model = MLP(10, 64, 2, generator=torch_generator("fit"))
    lines = []
    plain = spec(1.0 - 0.99, max_steps=5000, log_every=50)
    result = train_full_batch(model, x, y, plain, log=lines.append)
    assert result.fitted and not result.diverged
    assert result.train_mse <= plain.target_mse
    assert mse(model, x, y) == result.train_mse
    assert lines[0].startswith("step 0 ") and lines[-1].endswith("fitted True")


def test_a_model_too_small_to_fit_is_reported_not_fitted():
    x, y = tiny_problem()
    model = MLP(10, 1, 2, generator=torch_generator("small"))
    result = train_full_batch(model, x, y, spec(max_steps=300, log_every=100))
    assert not result.fitted and result.steps == 300 and result.train_mse > 0.01


def test_divergence_stops_training_and_is_flagged():
    x, y = tiny_problem()
    model = MLP(10, 8, 2, generator=torch_generator("diverge"))
    result = train_full_batch(model, x, y, spec(optimizer="sgd", learning_rate=1e6, max_steps=200))
    assert result.diverged and not result.fitted and result.steps < 200


@pytest.mark.parametrize("method", ["weight_decay", "gradient_penalty", "adversarial"])
def test_every_smoothness_trainer_reaches_the_fit_criterion_and_lowers_its_penalty(method):
    x, y = tiny_problem()
    plain = MLP(10, 64, 2, generator=torch_generator("fit", method))
    smooth = MLP(10, 64, 2, generator=torch_generator("fit", method))
    base = dict(max_steps=5000, log_every=100)
    penalty_of = make_penalty(spec(**base, method=method, probe_points=32), x, torch_generator("probes"))
    train_full_batch(plain, x, y, spec(**base))
    smoothing = spec(**base, method=method, strength=0.01, smooth_steps=300, probe_points=32)
    result = train_full_batch(smooth, x, y, smoothing, generator=torch_generator("probes"))
    assert result.fitted and result.train_mse <= 0.01
    assert result.selected_step > 0 and result.steps >= result.selected_step
    assert float(penalty_of(smooth).detach()) < float(penalty_of(plain).detach())
