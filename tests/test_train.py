from dataclasses import replace

import pytest
import torch

from robustlaw.data.synthetic import DatasetSpec, generate_dataset
from robustlaw.seeding import torch_generator
from robustlaw.settings import trainer_settings
from robustlaw.training.fit import TrainResult, TrainSpec, make_penalty, mse, train_full_batch
from robustlaw.training.models import MLP


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


def test_a_run_that_stops_improving_stops_early_as_stalled():
    x, y = tiny_problem()
    model = MLP(10, 1, 2, generator=torch_generator("small"))
    lines = []
    result = train_full_batch(model, x, y, spec(max_steps=5000, stall_steps=100), log=lines.append)
    assert result.status == "stalled" and not result.fitted and not result.diverged
    assert result.steps < 5000 and result.steps % 100 == 0
    assert lines[-1].startswith("stalled: the best train MSE") and "over the last 100 steps" in lines[-1]


def test_the_stall_rule_is_off_at_window_zero():
    x, y = tiny_problem()
    model = MLP(10, 1, 2, generator=torch_generator("small"))
    result = train_full_batch(model, x, y, spec(max_steps=1000, stall_steps=0))
    assert result.status == "max_steps" and result.steps == 1000


def slow_fit(**stall) -> tuple[MLP, TrainResult]:
    """A fittable network trained with a small learning rate: its training MSE falls by 26-50% per 200 steps."""
    x, y = tiny_problem()
    model = MLP(10, 64, 2, generator=torch_generator("slow"))
    return model, train_full_batch(model, x, y, spec(learning_rate=3e-4, max_steps=20000, **stall))


def test_a_run_that_keeps_improving_slowly_is_not_cut():
    unruled_model, unruled = slow_fit(stall_steps=0)
    model, result = slow_fit(stall_steps=200, stall_improvement=0.2)
    assert unruled.status == result.status == "fitted" and result.steps == unruled.steps > 1000
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), unruled_model.parameters(), strict=True))
    # The same run against a rule stricter than its slowest progress is cut at the first check.
    _, cut = slow_fit(stall_steps=200, stall_improvement=0.3)
    assert cut.status == "stalled" and cut.steps == 200


def test_the_stall_rule_leaves_the_smoothing_steps_after_a_fit_alone():
    x, y = tiny_problem()
    model = MLP(10, 64, 2, generator=torch_generator("fit", "stall"))
    lines = []
    smoothing = spec(max_steps=5000, log_every=1, method="gradient_penalty", smooth_steps=300, probe_points=32)
    # A window of 20 steps: the smoothing phase holds the MSE near the target, far flatter than that asks.
    result = train_full_batch(model, x, y, replace(smoothing, stall_steps=20), log=lines.append)
    first_fit = next(int(line.split()[1]) for line in lines if line.endswith("fitted True"))
    assert result.status == "fitted" and result.steps == first_fit + 300
