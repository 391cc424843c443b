import itertools

import pytest
import torch

from robustlaw.lipschitz.bracket import BracketSpec, lipschitz_bracket
from robustlaw.results.safetensor_files import load_checkpoint, save_checkpoint
from robustlaw.seeding import torch_generator
from robustlaw.settings import lipschitz_settings
from robustlaw.training.controls import (
    control_parameter_count,
    effective_parameter_count,
    even_ntk_interpolator,
    feature_weights,
    random_features_interpolator,
    relu_ntk_interpolator,
)
from robustlaw.training.models import MLP, input_gradients


def sphere_points(count: int, d: int, name: str) -> torch.Tensor:
    points = torch.randn(count, d, generator=torch_generator(name), dtype=torch.float64)
    return points / torch.linalg.vector_norm(points, dim=1, keepdim=True)


def signs(count: int, name: str) -> torch.Tensor:
    return torch.where(torch.rand(count, generator=torch_generator(name)) < 0.5, -1.0, 1.0).to(torch.float64)


def test_even_ntk_kernel_solution_equals_the_explicit_feature_min_norm_solution():
    n, d, k = 20, 6, 5
    x, y = sphere_points(n, d, "x"), signs(n, "y")
    model = even_ntk_interpolator(x, y, k, torch_generator("w"))
    weights = feature_weights(k, d, torch_generator("w"))
    features = torch.stack([torch.kron(point, weights @ point) for point in x])  # phi(x) = x (x) W x
    theta = torch.linalg.pinv(features) @ y
    explicit = theta.reshape(d, k) @ weights  # f(z) = sum_ij theta_ij z_i (w_j . z) = z^T Theta W z
    assert torch.allclose(model.quadratic, explicit, atol=1e-8)
    assert torch.allclose(model(x), y, atol=1e-8)


def test_even_ntk_lipschitz_on_the_unit_ball_matches_brute_force():
    n, d, k = 30, 4, 12
    model = even_ntk_interpolator(sphere_points(n, d, "x2"), signs(n, "y2"), k, torch_generator("w2"))
    bracket = lipschitz_bracket(model, BracketSpec.from_settings(lipschitz_settings(random_points=64), seed=0))[
        "bracket"
    ]
    # Brute force: gradient norms (autograd, not the closed form) on a dense sample of the ball's surface,
    # where ||2 sym(Q) z|| is largest, and secants between random pairs inside the ball.
    surface = sphere_points(200_000, d, "surface")
    brute = float(torch.linalg.vector_norm(input_gradients(model, surface), dim=1).max())
    inside = sphere_points(20_000, d, "a") * torch.rand(20_000, 1, generator=torch_generator("r"), dtype=torch.float64)
    others = inside + 1e-4 * sphere_points(20_000, d, "b")
    secants = (model(inside) - model(others)).abs() / torch.linalg.vector_norm(inside - others, dim=1)
    assert bracket["lip_domain"] == "unit ball"
    assert brute == pytest.approx(bracket["lip_exact"], rel=1e-3)
    assert float(secants.max()) <= bracket["lip_upper"]
    assert bracket["lip_lower"] <= bracket["lip_exact"] <= bracket["lip_upper"]
    assert bracket["lip_upper"] / bracket["lip_lower"] < 1 + 1e-5


@pytest.mark.parametrize(("d", "k"), [(4, 1), (4, 3), (4, 6), (6, 4)])
def test_effective_parameter_count_is_the_dimension_the_features_span(d, k):
    """dim span{sym(e_i w_j^T)} over coordinates i and random directions w_j, computed by rank."""
    weights = feature_weights(k, d, torch_generator("span", d, k))
    basis = [
        (
            torch.outer(torch.eye(d, dtype=torch.float64)[i], weights[j]) + torch.outer(weights[j], torch.eye(d)[i])
        ).flatten()
        for i, j in itertools.product(range(d), range(k))
    ]
    rank = int(torch.linalg.matrix_rank(torch.stack(basis)))
    assert effective_parameter_count("even_ntk", d, k) == rank
    assert control_parameter_count("even_ntk", d, k) == k * d


def test_random_features_interpolator_is_a_relu_network_that_fits():
    n, d, k = 25, 5, 60
    x, y = sphere_points(n, d, "x3"), signs(n, "y3")
    model = random_features_interpolator(x, y, k, torch_generator("w3"))
    assert isinstance(model, MLP) and model.width == k and len(model.layers) == 2
    assert torch.allclose(model(x), y, atol=1e-8)
    assert control_parameter_count("random_features", d, k) == k
    bracket = lipschitz_bracket(
        model, BracketSpec.from_settings(lipschitz_settings(random_points=64, ascent_steps=20), seed=0), x
    )
    assert bracket["bracket"]["lip_lower"] <= bracket["bracket"]["lip_upper"]


def test_relu_ntk_kernel_solution_equals_the_explicit_feature_min_norm_solution():
    n, d, k = 20, 6, 5
    x, y = sphere_points(n, d, "x4"), signs(n, "y4")
    model = relu_ntk_interpolator(x, y, k, torch_generator("w4"))
    weights = feature_weights(k, d, torch_generator("w4"))
    features = torch.stack([torch.kron(point, (weights @ point > 0).to(torch.float64)) for point in x])
    theta = torch.linalg.pinv(features) @ y  # phi(x) = x (x) 1[W x > 0]
    assert torch.allclose(model.coefficients, theta.reshape(d, k).T, atol=1e-8)
    assert torch.allclose(model(x), y, atol=1e-8)
    assert control_parameter_count("relu_ntk", d, k) == k * d


def test_relu_ntk_bracket_is_infinite_with_a_certified_jump(tmp_path):
    n, d, k = 30, 5, 12
    model = relu_ntk_interpolator(sphere_points(n, d, "x5"), signs(n, "y5"), k, torch_generator("w5"))
    path = tmp_path / "gated.safetensors"
    save_checkpoint(path, model)
    loaded = load_checkpoint(path)
    assert torch.equal(loaded.coefficients, model.coefficients)
    bracket = lipschitz_bracket(loaded, BracketSpec.from_settings(lipschitz_settings(random_points=64), seed=0))[
        "bracket"
    ]
    assert bracket["lip_upper"] == bracket["lip_exact"] == float("inf")
    assert bracket["lip_upper_method"] == "discontinuity" and bracket["lip_domain"] == "unit ball"
    assert bracket["lip_lower_method"] == "certified_search" and bracket["lip_lower"] > 1e4
    assert bracket["lip_lower"] > 100 * bracket["lip_lower_sampled_gradient"]
    # An independent look at the jump: along a segment crossing a gate's hyperplane, f changes by a
    # finite amount over a vanishing distance.
    w, theta = model.gates[0], model.coefficients[0]
    normal = w / torch.linalg.vector_norm(w)
    centre = 0.5 * (theta - (theta @ normal) * normal) / torch.linalg.vector_norm(theta - (theta @ normal) * normal)
    gaps = [abs(float(model(centre + h * normal) - model(centre - h * normal))) for h in (1e-3, 1e-5, 1e-7)]
    assert min(gaps) > 0.1 * float(torch.linalg.vector_norm(theta - (theta @ normal) * normal))
