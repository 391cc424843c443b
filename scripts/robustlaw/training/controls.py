"""Closed-form controls: minimum-norm interpolators of fixed feature maps (exact linear algebra, no SGD).

- even_ntk: features phi(x) = x (x) psi'(W x) with psi(t) = t^2 / 2, so psi'(t) = t and p = k d. The
  interpolator is a quadratic form f(z) = z^T Q z with Q = Theta^T W, Theta (k x d) the coefficients;
  its Lipschitz constant on the unit ball is exactly 2 ||sym(Q)||_op.
- relu_ntk: features phi(x) = x (x) 1[W x > 0], the NTK of a ReLU layer, p = k d. The interpolator
  f(z) = sum_j 1[w_j . z > 0] theta_j . z jumps across each hyperplane w_j . z = 0, so its
  Lipschitz constant is infinite; the bracket says so, with a certified secant across a jump.
- random_features: f(x) = sum_j a_j relu(w_j . x + b_j) with W, b fixed at random and only a
  (p = k numbers) solved for; the result is an ordinary two-layer ReLU network.
W has N(0, 1/d) entries (rows of norm ~1), drawn from the run's seed. With p >= n and features in
general position the kernel matrix is invertible and the interpolation is exact; otherwise the
least-squares solution of smallest norm is returned and the run is flagged as not fitted.
"""

import torch

from robustlaw.training.models import MLP, GatedLinearModel, QuadraticModel

KINDS = ("even_ntk", "relu_ntk", "random_features")


def feature_weights(k: int, d: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(k, d, generator=generator, dtype=torch.float64) / d**0.5


def min_norm_coefficients(kernel: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """alpha with K alpha = y, of smallest norm when K is singular (pseudo-inverse by lstsq)."""
    return torch.linalg.lstsq(kernel, y[:, None], driver="gelsd").solution[:, 0]


def even_ntk_interpolator(x: torch.Tensor, y: torch.Tensor, k: int, generator: torch.Generator) -> QuadraticModel:
    """Min-norm interpolator of the even-NTK features, built through the n x n kernel.

    K_il = (x_i . x_l)(W x_i . W x_l) = phi(x_i) . phi(x_l), so theta = Phi^T alpha never forms
    the n x kd feature matrix: Theta = (X W^T)^T diag(alpha) X.
    """
    x, y = x.to(torch.float64), y.to(torch.float64)
    weights = feature_weights(k, x.shape[1], generator)
    projections = x @ weights.T
    kernel = (x @ x.T) * (projections @ projections.T)
    alpha = min_norm_coefficients(kernel, y)
    theta = projections.T @ (alpha[:, None] * x)
    return QuadraticModel(theta.T @ weights)


def relu_ntk_interpolator(x: torch.Tensor, y: torch.Tensor, k: int, generator: torch.Generator) -> GatedLinearModel:
    """Min-norm interpolator of the ReLU-NTK features through the kernel K = (X X^T) o (S S^T), S = 1[X W^T > 0]."""
    x, y = x.to(torch.float64), y.to(torch.float64)
    weights = feature_weights(k, x.shape[1], generator)
    gates = (x @ weights.T > 0).to(torch.float64)
    alpha = min_norm_coefficients((x @ x.T) * (gates @ gates.T), y)
    return GatedLinearModel(weights, gates.T @ (alpha[:, None] * x))


def random_features_interpolator(x: torch.Tensor, y: torch.Tensor, k: int, generator: torch.Generator) -> MLP:
    x, y = x.to(torch.float64), y.to(torch.float64)
    weights = feature_weights(k, x.shape[1], generator)
    biases = torch.randn(k, generator=generator, dtype=torch.float64) / x.shape[1] ** 0.5
    features = torch.relu(x @ weights.T + biases)
    alpha = min_norm_coefficients(features @ features.T, y)
    output = (features.T @ alpha)[None, :]
    zero = torch.zeros(1, dtype=torch.float64)
    return MLP.from_tensors([weights, output], [biases, zero], "relu")


def fit_control(kind: str, x: torch.Tensor, y: torch.Tensor, k: int, generator: torch.Generator):
    if kind == "even_ntk":
        return even_ntk_interpolator(x, y, k, generator)
    if kind == "relu_ntk":
        return relu_ntk_interpolator(x, y, k, generator)
    if kind == "random_features":
        return random_features_interpolator(x, y, k, generator)
    raise ValueError(f"unknown control {kind!r}; expected one of {KINDS}")


def control_parameter_count(kind: str, input_dim: int, width: int) -> int:
    """The p of the law: the number of coefficients the interpolator solves for."""
    return width if kind == "random_features" else width * input_dim


def effective_parameter_count(kind: str, input_dim: int, width: int) -> int:
    """Dimension of the function space the features reach (p_eff <= p).

    Every even-NTK model is a quadratic form z^T Q z with Q in the span of {theta_j w_j^T}: only
    sym(Q) matters, of dimension at most d(d+1)/2, and k such rank-one terms span
    d k - k(k-1)/2 dimensions of it while k <= d.
    """
    if kind != "even_ntk":
        return control_parameter_count(kind, input_dim, width)
    cap = input_dim * (input_dim + 1) // 2
    if width >= input_dim:
        return cap
    return min(input_dim * width - width * (width - 1) // 2, cap)
