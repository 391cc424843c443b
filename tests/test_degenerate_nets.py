"""Degenerate but valid nets (issue 27): each gets a correct bracket or one clear error, never NaN or a crash."""

import json
import math
import types

import pytest
import scipy.optimize
import torch
from test_lipschitz import FAST, random_net, two_layer

from robustlaw.__main__ import main
from robustlaw.lipschitz.bracket import lipschitz_bracket
from robustlaw.lipschitz.exact import exact_two_layer_relu
from robustlaw.lipschitz.lower import certified_gradient
from robustlaw.lipschitz.upper import liplt_two_layer, lipsdp_network, lipsdp_two_layer, spectral_product
from robustlaw.results.safetensor_files import save_checkpoint
from robustlaw.training.models import MLP


def assert_sound(bracket: dict, exact: float | None = None) -> None:
    """Finite, ordered ends; around the exact value where it is known."""
    lower, upper = bracket["lip_lower"], bracket["lip_upper"]
    assert math.isfinite(lower) and math.isfinite(upper) and 0 <= lower <= upper
    if exact is not None:
        assert lower <= exact <= upper


def merged_exact(hidden: torch.Tensor, output: torch.Tensor, first: int, second: int) -> float:
    """Exact Lip of a net whose neurons `first` and `second` are identical: one neuron with a_1 + a_2."""
    keep = [index for index in range(hidden.shape[0]) if index != second]
    merged = output.reshape(-1).clone()
    merged[first] += merged[second]
    return exact_two_layer_relu(hidden[keep], merged[keep], max_width=20)


def issue_net() -> MLP:
    """f(x) = relu(x_1) - relu(-x_1) + 1 = x_1 + 1 (Lip exactly 1) plus the pair relu(2^40 x_1) - relu(2^40 x_1),
    which cancels exactly but, next to the rest, leaves f rounded to multiples of 2^-32."""
    hidden = torch.tensor([[1.0, 0.0], [2.0**40, 0.0], [2.0**40, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    output = torch.tensor([[1.0, 1.0, -1.0, -1.0]], dtype=torch.float64)
    biases = [torch.zeros(4, dtype=torch.float64), torch.ones(1, dtype=torch.float64)]
    return MLP.from_tensors([hidden, output], biases, "relu").requires_grad_(False)


def test_the_issue_net_keeps_its_lower_end_at_or_below_the_exact_constant():
    model = issue_net()
    # Training points 2^-72 apart along x_1, around 2^-20 + 2^-33: x_1 + 2^40 x_1 rounds to a multiple of
    # 2^-32, half of them down and half up, and the pair's second half leaves that rounding in f.
    offsets = torch.arange(-8, 8, dtype=torch.float64) * 2.0**-72
    x_train = torch.stack([2.0**-20 + 2.0**-33 + offsets, torch.zeros(16, dtype=torch.float64)], dim=1)
    values = model(x_train)
    naive = max(
        abs(float(values[i] - values[j])) / float(torch.linalg.vector_norm(x_train[i] - x_train[j]))
        for i in range(16)
        for j in range(i)
    )
    assert naive > 1e6  # without allowances the training secant would claim Lip > 10^6
    bracket = lipschitz_bracket(model, FAST, x_train)["bracket"]
    assert_sound(bracket, exact=1.0)
    # The in-region secant away from the data still finds it, less the pair's rounding (2^41 u |x| per value).
    assert bracket["lip_lower"] >= 0.99


def test_pruned_rows_past_k_equals_d_give_a_bracket_also_from_a_checkpoint(tmp_path, capsys):
    """All-zero hidden rows with k > d made the pursuit's LP costs NaN; `robustlaw evaluate` ran the same code."""
    model = random_net(4, 10, seed=2)
    model.layers[0].weight[[1, 5, 8]] = 0.0
    assert_sound(lipschitz_bracket(model, FAST)["bracket"])
    checkpoint = tmp_path / "pruned.safetensors"
    save_checkpoint(checkpoint, model)
    assert main(["evaluate", str(checkpoint)]) == 0
    assert_sound(json.loads(capsys.readouterr().out))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_duplicate_and_cancelling_neurons_are_bracketed_around_the_exact_value(sign):
    """Neuron 5 copies neuron 4 (a_5 = a_4: a duplicate; a_5 = -a_4: a pair that cancels exactly)."""
    model = random_net(8, 6, seed=4)
    hidden, output = two_layer(model)
    hidden[5], model.layers[0].bias[5] = hidden[4], model.layers[0].bias[4]
    output[0, 5] = sign * output[0, 4]
    exact = merged_exact(hidden, output, 4, 5)
    assert_sound(lipschitz_bracket(model, FAST)["bracket"], exact)


@pytest.mark.parametrize("scale", [1e-40, 1e30])
def test_tiny_and_huge_weights_and_biases_scale_the_bracket(scale):
    """Every weight and bias times s makes a two-layer f_s(x) = s^2 f((x)) + const: Lip_s = s^2 Lip exactly."""
    model = random_net(5, 4, seed=1)
    reference = lipschitz_bracket(model, FAST)["bracket"]
    for layer in model.layers:
        layer.weight.mul_(scale)
        layer.bias.mul_(scale)
    scaled = lipschitz_bracket(model, FAST)["bracket"]
    assert_sound(scaled)
    assert scaled["lip_upper"] >= scale**2 * reference["lip_lower"] * (1 - 1e-12)
    assert scaled["lip_upper"] <= scale**2 * reference["lip_upper"] * (1 + 1e-6)
    assert scaled["lip_lower"] <= scale**2 * reference["lip_upper"]


@pytest.mark.parametrize("scale", [1e-40, 1e-120, 1e30])
def test_upper_bounds_scale_exactly_and_never_underflow(scale):
    """LipSDP of a depth-3 net at weights 1e-40 was 0.0 (its squares underflowed); each bound of the
    scaled weights must be s^depth times the unscaled one, or, where that leaves the float range, positive."""
    hidden, output = two_layer(random_net(6, 8, seed=2))
    for weights in (random_net(6, 8, 3, seed=2).weights(), [hidden, output]):
        scaled = [scale * weight for weight in weights]
        factor = scale ** len(weights)
        pairs = [
            (lipsdp_network(scaled, steps=50), lipsdp_network(weights, steps=50)),
            (spectral_product(scaled), spectral_product(weights)),
        ]
        if len(weights) == 2:
            pairs.append((lipsdp_two_layer(*scaled, steps=50), lipsdp_two_layer(*weights, steps=50)))
            pairs.append((liplt_two_layer(*scaled), liplt_two_layer(*weights)))
        for small, reference in pairs:
            assert small > 0
            if factor > 1e-300:
                assert small == pytest.approx(reference * factor, rel=1e-9)
            else:
                assert small < 1e-300


def test_an_all_zero_net_has_lipschitz_constant_zero():
    model = random_net(3, 5, seed=0)
    for layer in model.layers:
        layer.weight.zero_()
        layer.bias.zero_()
    bracket = lipschitz_bracket(model, FAST, torch.randn(6, 3, dtype=torch.float64))["bracket"]
    assert bracket["lip_lower"] == bracket["lip_upper"] == 0.0


def test_points_within_rounding_of_a_switch_or_coincident_give_no_certificate_rather_than_a_crash():
    """x = 1 sits 2^-53 from the hyperplane x = 1 - 2^-53, inside its pre-activation's rounding (the old
    in-region secant's half step rounded away there, y = x, and it divided by zero); repeated training
    points give no secant."""
    hidden = torch.tensor([[1.0]], dtype=torch.float64)
    biases = [torch.tensor([-(1 - 2.0**-53)], dtype=torch.float64), torch.zeros(1, dtype=torch.float64)]
    model = MLP.from_tensors([hidden, -hidden], biases, "relu").requires_grad_(False)
    assert certified_gradient(model, torch.ones(1, dtype=torch.float64)) is None
    repeated = torch.tensor([[0.5], [0.5], [2.0]], dtype=torch.float64)
    assert_sound(lipschitz_bracket(model, FAST, repeated)["bracket"], exact=1.0)


def test_a_failing_linear_program_ends_the_pursuit_and_keeps_the_bracket(monkeypatch):
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        return types.SimpleNamespace(status=4, message="numerical difficulties", eqlin=None)

    monkeypatch.setattr(scipy.optimize, "linprog", failing)
    bracket = lipschitz_bracket(random_net(4, 20, seed=3), FAST)["bracket"]
    assert calls
    assert_sound(bracket)
    assert bracket["lip_lower_pattern_pursuit"] <= bracket["lip_upper"]


@pytest.mark.parametrize("scale", [1e100, 1e200])
def test_weights_near_the_float_range_give_a_sound_bracket(scale):
    """At 1e100 the gradient's squares overflowed and the lower end read 1.8e308 (EstimatorError); at 1e200 f
    itself overflows: the bracket is then [0, inf], never NaN."""
    model = random_net(4, 6, seed=1)
    for layer in model.layers:
        layer.weight.mul_(scale)
        layer.bias.mul_(scale)
    bracket = lipschitz_bracket(model, FAST, torch.randn(5, 4, dtype=torch.float64))["bracket"]
    assert 0 <= bracket["lip_lower"] <= bracket["lip_upper"]
    if scale == 1e100:
        assert bracket["lip_lower"] >= 0.9 * bracket["lip_upper"]
    else:
        assert bracket["lip_lower"] == 0.0 and bracket["lip_upper"] == math.inf
