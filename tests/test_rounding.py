"""The rounding allowances against exact rational arithmetic (fractions.Fraction holds every float64 exactly)."""

import math
from fractions import Fraction

import pytest
import torch

from robustlaw.lipschitz.rounding import (
    SMALLEST_DISTANCE,
    UNIT_ROUNDOFF,
    certified_norm,
    evaluation_error_bound,
    product_upper_bound,
    secant_lower_bound,
)
from robustlaw.seeding import torch_generator
from robustlaw.training.models import MLP, GatedLinearModel, QuadraticModel


def exact(values: torch.Tensor) -> list:
    return [Fraction(float(value)) for value in values.reshape(-1)]


def exact_mlp(model: MLP, x: torch.Tensor) -> Fraction:
    h = exact(x)
    for index, layer in enumerate(model.layers):
        weight, bias = layer.weight.detach(), layer.bias.detach()
        rows = zip([exact(row) for row in weight], exact(bias), strict=True)
        z = [sum((w * v for w, v in zip(row, h, strict=True)), Fraction(0)) + b for row, b in rows]
        h = z if index == len(model.layers) - 1 else [max(value, Fraction(0)) for value in z]
    return h[0]


def exact_quadratic(model: QuadraticModel, z: torch.Tensor) -> Fraction:
    q, v = [exact(row) for row in model.quadratic], exact(z)
    return sum((v[i] * q[i][j] * v[j] for i in range(len(v)) for j in range(len(v))), Fraction(0))


def exact_gated(model: GatedLinearModel, z: torch.Tensor) -> Fraction:
    v = exact(z)
    total = Fraction(0)
    for gate, theta in zip(model.gates, model.coefficients, strict=True):
        if sum((g * c for g, c in zip(exact(gate), v, strict=True)), Fraction(0)) > 0:
            total += sum((t * c for t, c in zip(exact(theta), v, strict=True)), Fraction(0))
    return total


def assert_bound_holds(model: torch.nn.Module, x: torch.Tensor, oracle) -> list[Fraction]:
    """Checks |computed - exact| <= bound exactly on every row; returns the actual errors."""
    computed = model(x)
    bounds = evaluation_error_bound(model, x)
    errors = []
    for row in range(len(x)):
        error = abs(Fraction(float(computed[row])) - oracle(model, x[row]))
        assert error <= Fraction(float(bounds[row])), f"row {row}: error {float(error)} > bound {float(bounds[row])}"
        errors.append(error)
    return errors


def scaled_net(d: int, k: int, depth: int, seed: int, weight_scale: float, bias_scale: float) -> MLP:
    generator = torch_generator("rounding", d, k, depth, seed)
    model = MLP(d, k, depth, generator=generator, dtype=torch.float64).requires_grad_(False)
    for layer in model.layers:
        layer.weight.copy_(weight_scale * torch.randn(layer.weight.shape, generator=generator, dtype=torch.float64))
        layer.bias.copy_(bias_scale * torch.randn(layer.bias.shape, generator=generator, dtype=torch.float64))
    return model


def cancelling_net(bias: float) -> MLP:
    """f(x) = relu(x_1) - relu(-x_1) + bias = x_1 + bias, plus a pair relu(2^40 x_1) - relu(2^40 x_1) that
    cancels exactly but not in float64, where x_1 + 2^40 x_1 is rounded to 2^-14 before the pair's second
    half takes it away."""
    hidden = torch.tensor([[1.0, 0.0], [2.0**40, 0.0], [2.0**40, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    output = torch.tensor([[1.0, 1.0, -1.0, -1.0]], dtype=torch.float64)
    zeros = torch.zeros(4, dtype=torch.float64)
    biases = [zeros, torch.tensor([bias], dtype=torch.float64)]
    return MLP.from_tensors([hidden, output], biases, "relu").requires_grad_(False)


@pytest.mark.parametrize(
    ("d", "k", "depth", "weight_scale", "bias_scale"),
    [(3, 5, 2, 1.0, 0.3), (4, 6, 3, 1.0, 1.0), (2, 7, 4, 0.5, 2.0), (5, 3, 2, 1e-40, 1e-40), (3, 4, 3, 1e30, 1e30)],
)
def test_mlp_bound_holds_against_exact_arithmetic(d, k, depth, weight_scale, bias_scale):
    model = scaled_net(d, k, depth, seed=depth, weight_scale=weight_scale, bias_scale=bias_scale)
    x = torch.randn(12, d, generator=torch_generator("points", d), dtype=torch.float64)
    errors = assert_bound_holds(model, x, exact_mlp)
    assert any(error > 0 for error in errors)  # the evaluations do round, so the check has teeth


def test_mlp_bound_is_small_on_an_ordinary_net():
    model = scaled_net(16, 64, 3, seed=0, weight_scale=0.25, bias_scale=0.3)
    x = torch.randn(50, 16, generator=torch_generator("points", 16), dtype=torch.float64)
    # About 500 u of |f| here: the allowance moves an ordinary secant by ~1e-13 of itself, not more.
    assert float(evaluation_error_bound(model, x).max()) < 1e-12 * float(model(x).abs().max())


def test_the_cancelling_pair_with_a_large_output_bias_is_covered():
    """The issue's adversarial net: the error is far above u |f(x)|, yet within the bound."""
    model = cancelling_net(bias=2.0**20)
    x = torch.tensor([[1 / 3, 0.25], [0.7, -1.0], [-0.1, 0.0], [5e-9, 3.0]], dtype=torch.float64)
    assert max(assert_bound_holds(model, x, exact_mlp)) > 0
    no_bias = cancelling_net(bias=0.0)
    errors = assert_bound_holds(no_bias, x, exact_mlp)
    assert float(errors[0]) > 1e6 * UNIT_ROUNDOFF * abs(float(no_bias(x[:1])[0]))


@pytest.mark.parametrize("d", [2, 5, 9])
def test_quadratic_bound_holds_against_exact_arithmetic(d):
    generator = torch_generator("quadratic", d)
    model = QuadraticModel(torch.randn(d, d, generator=generator, dtype=torch.float64) * 1e3)
    z = torch.randn(10, d, generator=generator, dtype=torch.float64)
    errors = assert_bound_holds(model, z, exact_quadratic)
    assert any(error > 0 for error in errors)


def test_gated_bound_holds_where_rounding_shuts_an_open_gate():
    """w . z = 2^-60 > 0 exactly, 0 in float64: the computed f drops a term of size 1e6."""
    gates = torch.tensor([[1.0, 2.0**-60, -1.0], [0.3, -0.2, 0.7]], dtype=torch.float64)
    coefficients = torch.tensor([[1e6, 0.0, 0.0], [0.1, 0.5, -0.2]], dtype=torch.float64)
    model = GatedLinearModel(gates, coefficients)
    z = torch.ones(1, 3, dtype=torch.float64)
    (error,) = assert_bound_holds(model, z, exact_gated)
    assert error >= 1e6 - 1


def test_gated_bound_holds_on_random_models():
    generator = torch_generator("gated")
    model = GatedLinearModel(*(torch.randn(6, 4, generator=generator, dtype=torch.float64) for _ in range(2)))
    assert_bound_holds(model, torch.randn(20, 4, generator=generator, dtype=torch.float64), exact_gated)


def test_an_overflowing_evaluation_has_an_infinite_bound():
    model = scaled_net(3, 4, 2, seed=0, weight_scale=1e200, bias_scale=1.0)
    x = torch.full((1, 3), 1e200, dtype=torch.float64)
    assert evaluation_error_bound(model, x).tolist() == [math.inf]


def test_secant_lower_bound_is_below_the_exact_secant():
    """Random values and distances, and the extreme ones, checked in exact arithmetic."""
    generator = torch_generator("secant")
    for dim in (1, 3, 100):
        x = torch.randn(40, dim, generator=generator, dtype=torch.float64)
        y = x + torch.randn(40, dim, generator=generator, dtype=torch.float64) * 10.0 ** torch.randint(
            -12, 3, (40, 1), generator=generator
        )
        fx, fy = torch.randn(40, generator=generator, dtype=torch.float64), torch.randn(40, generator=generator)
        errors = torch.rand(40, generator=generator, dtype=torch.float64) * 1e-3
        distances = torch.linalg.vector_norm(x - y, dim=1)
        bounds = secant_lower_bound((fx - fy.double()), errors, distances, dim)
        for row in range(40):
            squared = sum((a - b) ** 2 for a, b in zip(exact(x[row]), exact(y[row]), strict=True))
            gap = abs(Fraction(float(fx[row])) - Fraction(float(fy[row]))) - Fraction(float(errors[row]))
            # bound <= gap / sqrt(squared), i.e. bound^2 squared <= gap^2 (both sides non-negative)
            bound = Fraction(float(bounds[row]))
            assert bound == 0 or (gap > 0 and bound**2 * squared <= gap**2)
    assert secant_lower_bound(torch.ones(1), torch.zeros(1), torch.tensor([SMALLEST_DISTANCE / 2]), 1).item() == 0


def test_product_upper_bound_survives_extreme_factors():
    assert product_upper_bound([1e-200, 1e-200, 1e300]) >= 1e-100
    assert product_upper_bound([1e-200, 1e-200]) > 0
    assert product_upper_bound([1e200, 1e200]) == math.inf
    assert product_upper_bound([3.0, 0.0, 1e300]) == 0.0
    assert Fraction(product_upper_bound([0.1, 0.3, 0.7])) >= Fraction(0.1) * Fraction(0.3) * Fraction(0.7)


@pytest.mark.parametrize("scale", [1.0, 1e200, 1e-310])
def test_certified_norm_is_below_the_exact_norm_at_any_scale(scale):
    """Its squares would overflow at 1e200 and underflow at 1e-310 without the scaling: exact check by Fraction."""
    vector = torch.randn(50, generator=torch_generator("norm"), dtype=torch.float64) * scale
    error = vector.abs() * 1e-12
    bound = certified_norm(vector, error)
    squared = sum((value**2 for value in exact(vector)), Fraction(0))
    assert Fraction(bound) ** 2 <= squared
    assert bound >= float(torch.linalg.vector_norm(vector / scale)) * scale * (1 - 1e-10)
    assert certified_norm(torch.tensor([math.inf, 1.0]), torch.zeros(2)) == 0.0
