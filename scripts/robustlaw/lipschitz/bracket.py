"""The Lipschitz bracket lower <= Lip(f) <= upper of one model, in float64 (`robustlaw evaluate` prints it for
any checkpoint: robustlaw.results.evaluate)."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import torch

from robustlaw.data.floor import max_pairwise_secant
from robustlaw.lipschitz.branch import branch_and_bound_two_layer
from robustlaw.lipschitz.exact import all_patterns_realisable, best_pattern_exhaustive
from robustlaw.lipschitz.lower import (
    LowerSearchSpec,
    best_certified,
    certified_gradient,
    distinct_regions,
    lower_bound,
    pattern_pursuit,
)
from robustlaw.lipschitz.rounding import certified_norm, gamma, inflate, secant_lower_bound, secant_values
from robustlaw.lipschitz.upper import (
    UPPER_MARGIN,
    liplt_two_layer,
    lipsdp_network,
    lipsdp_two_layer,
    spectral_product,
)
from robustlaw.seeding import torch_generator
from robustlaw.training.models import MLP, GatedLinearModel, QuadraticModel


class EstimatorError(RuntimeError):
    """A certified upper bound fell below a certified lower bound: a bug, never a result."""


@dataclass(frozen=True)
class BracketSpec:
    """The bracket's settings: config key `lipschitz` (defaults in schemas/config.schema.yaml), and a seed."""

    lower: LowerSearchSpec
    lipsdp_steps: int
    exact_max_width: int
    branch_max_dim: int
    branch_max_vertices: int
    branch_max_boxes: int
    branch_target_gap: float
    seed: int

    @classmethod
    def from_settings(cls, settings: dict, seed: int) -> "BracketSpec":
        """The spec of a validated `lipschitz` section (robustlaw.settings.lipschitz_settings completes one
        outside Snakemake): the search's keys go to LowerSearchSpec, the others to the bracket."""
        search = {field.name for field in fields(LowerSearchSpec)}
        lower = LowerSearchSpec(**{key: value for key, value in settings.items() if key in search})
        return cls(lower=lower, seed=seed, **{key: value for key, value in settings.items() if key not in search})


class Timer:
    """Seconds per named computation, kept apart from the values so reruns compare equal."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, compute: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = compute()
        self.seconds[name] = time.perf_counter() - start
        return value


def training_secant(model: torch.nn.Module, x_train: torch.Tensor) -> float:
    """The largest secant between training points, less the rounding of the model's values there."""
    x = x_train.to(torch.float64)
    return max_pairwise_secant(x, *secant_values(model, x))


def branch_applies(model: MLP, spec: BracketSpec) -> bool:
    """Input-space branch-and-bound: two layers, low d, k >= d, and an affordable C(k, d) vertex box."""
    k, d = model.width, model.input_dim
    small = d <= spec.branch_max_dim and k >= d and math.comb(k, d) <= spec.branch_max_vertices
    return len(model.layers) == 2 and small


def network_bounds(model: MLP, spec: BracketSpec, data_points: torch.Tensor, timed: Timer):
    """(uppers, lowers, exact) of a ReLU network over all of R^d."""
    weights = model.weights()
    uppers = {"spectral_product": timed("spectral_product", lambda: spectral_product(weights))}
    lowers = {}
    exact, exact_pattern = None, None
    if len(weights) == 2:
        hidden, output = weights
        uppers["liplt"] = timed("liplt", lambda: liplt_two_layer(hidden, output))
        uppers["lipsdp"] = timed("lipsdp", lambda: lipsdp_two_layer(hidden, output, steps=spec.lipsdp_steps))
        if hidden.shape[0] <= spec.exact_max_width and all_patterns_realisable(hidden):
            exact, exact_pattern = timed("pattern_enumeration", lambda: best_pattern_exhaustive(hidden, output))
            uppers["pattern_enumeration"] = exact * (1 + UPPER_MARGIN)
    else:
        uppers["lipsdp"] = timed("lipsdp", lambda: lipsdp_network(weights, steps=spec.lipsdp_steps))
    if exact is None and branch_applies(model, spec):
        try:
            found = timed(
                "branch_and_bound",
                lambda: branch_and_bound_two_layer(
                    weights[0], model.biases()[0], weights[1], spec.branch_max_boxes, spec.branch_target_gap
                ),
            )
        except ValueError:
            # A non-generic arrangement (near-parallel hyperplanes): the vertex box is not reliable.
            found = None
        if found is not None:
            uppers["branch_and_bound"] = found.upper
            lowers["branch_and_bound"] = certified_gradient(model, found.best_point) or 0.0
    generator = torch_generator("lipschitz", spec.seed)
    extra = None if exact_pattern is None else exact_pattern[None, :]
    found = timed("search", lambda: lower_bound(model, data_points, spec.lower, generator, extra))
    lowers.update({"sampled_gradient": found.sampled, "certified_search": found.certified})
    if len(weights) == 2 and model.width > model.input_dim and spec.lower.pursuit_rounds > 0:
        starts = distinct_regions(model, found.leaders, spec.lower.pursuit_starts)
        pursued = timed("pattern_pursuit", lambda: pattern_pursuit(model, starts, spec.lower.pursuit_rounds))
        lowers["pattern_pursuit"] = best_certified(model, pursued)
    return uppers, lowers, exact


def rounded_secant(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """|f(x) - f(y)| / ||x - y|| less the rounding of f at both points: a certified lower bound of Lip(f)."""
    values, errors = secant_values(model, torch.stack([x, y]))
    return float(secant_lower_bound(values[0] - values[1], errors.sum(), torch.linalg.vector_norm(x - y), len(x)))


def with_sphere_probes(data_points: torch.Tensor, spec: BracketSpec) -> torch.Tensor:
    """The data plus seeded random points of the unit sphere, where the NTK controls' gradients are largest."""
    generator = torch_generator("lipschitz", spec.seed)
    probes = torch.randn(spec.lower.random_points, data_points.shape[1], generator=generator, dtype=torch.float64)
    return torch.cat([data_points, probes / torch.linalg.vector_norm(probes, dim=1, keepdim=True)])


def quadratic_bounds(model: QuadraticModel, spec: BracketSpec, data_points: torch.Tensor, timed: Timer):
    """(uppers, lowers, exact) of f(z) = z^T Q z on the unit ball, where grad f = 2 sym(Q) z.

    Exact: 2 max |eigenvalue of sym(Q)|. Certified lower: the gradient norm at the top eigenvector,
    scaled into the ball (quadratic_gradient_certificate).
    """
    symmetric = model.symmetric()
    values, vectors = timed("eigenvalue", lambda: torch.linalg.eigh(symmetric))
    top = int(torch.argmax(values.abs()))
    exact = 2 * float(values.abs()[top])
    certified = quadratic_gradient_certificate(model.quadratic.detach(), vectors[:, top])
    points = with_sphere_probes(data_points, spec)
    sampled = float(torch.linalg.vector_norm(2 * points @ symmetric, dim=1).max())
    uppers = {"eigenvalue": exact * (1 + UPPER_MARGIN)}
    lowers = {"sampled_gradient": sampled, "certified_search": certified}
    return uppers, lowers, exact


def quadratic_gradient_certificate(quadratic: torch.Tensor, direction: torch.Tensor) -> float:
    """A certified lower bound of ||grad f(z)|| = ||(Q + Q^T) z|| at z = v / (fl(||v||)(1 + gamma_{d+4})), a point
    of the closed unit ball (the factor covers the norm's and the division's rounding), hence of Lip(f) on the ball.

    fl((Q + Q^T) z) is within gamma_{d+1} (|Q| + |Q|^T) |z| of the exact vector (one rounding forms each
    entry of Q + Q^T, d more the product), so ||(Q + Q^T) z|| >= fl(||fl(g)||) / (1 + gamma_{d+2}) - that
    error's 1-norm, rounded down. The old secant from v to (1 - 10^-6) v lost 5e-7 of the value by its step.
    """
    d = len(direction)
    z = direction / (float(torch.linalg.vector_norm(direction)) * math.nextafter(1 + gamma(d + 4), math.inf))
    gradient = (quadratic + quadratic.T) @ z
    error = inflate(gamma(d + 1) * inflate((quadratic.abs() + quadratic.abs().T) @ z.abs(), d + 1), 2)
    return certified_norm(gradient, error)


def gated_bounds(model: GatedLinearModel, spec: BracketSpec, data_points: torch.Tensor):
    """(uppers, lowers, exact) of f(z) = sum_j 1[w_j . z > 0] theta_j . z on the unit ball.

    f jumps by theta_j . z across w_j . z = 0, so wherever some theta_j has a component r_j
    orthogonal to w_j, Lip(f) is infinite. The certified lower end is the secant across the largest
    such jump, between z0 +- delta w_j / ||w_j|| with z0 = r_j / (2 ||r_j||) on the hyperplane; it
    grows like 1 / delta. If every theta_j is parallel to w_j, f is a continuous ReLU network whose
    gradient norm is at most sum_j ||theta_j||.
    """
    gates, coefficients = model.gates, model.coefficients
    normals = gates / torch.linalg.vector_norm(gates, dim=1, keepdim=True)
    tangential = coefficients - torch.sum(coefficients * normals, dim=1, keepdim=True) * normals
    sizes = torch.linalg.vector_norm(tangential, dim=1)
    points = with_sphere_probes(data_points, spec)
    active = (points @ gates.T > 0).to(torch.float64)
    gradients = active @ coefficients
    norms = torch.linalg.vector_norm(gradients, dim=1)
    lowers = {"sampled_gradient": float(norms.max())}
    if float(sizes.max()) <= 1e-12 * float(torch.linalg.vector_norm(coefficients)):
        # Continuous: certified by a short secant along the best sampled gradient (a secant is a lower
        # bound wherever it lies; inside the point's region it equals the gradient norm).
        best = int(torch.argmax(norms))
        ahead = points[best] + 1e-6 * gradients[best] / norms[best].clamp_min(1e-300)
        lowers["certified_search"] = rounded_secant(model, ahead, points[best])
        path_norm = float(torch.linalg.vector_norm(coefficients, dim=1).sum())
        return {"path_norm": path_norm * (1 + UPPER_MARGIN)}, lowers, None
    jump = int(torch.argmax(sizes))
    centre = 0.5 * tangential[jump] / sizes[jump]
    step = 1e-6 * normals[jump]
    lowers["certified_search"] = rounded_secant(model, centre + step, centre - step)
    return {"discontinuity": float("inf")}, lowers, float("inf")


def unevaluated_bracket(reason: str) -> dict:
    """The record of a model no bound applies to (e.g. a diverged training): every value NaN."""
    nan = float("nan")
    return {
        "lip_domain": None,
        "lip_exact": None,
        "lip_upper": nan,
        "lip_upper_method": f"none: {reason}",
        "lip_lower": nan,
        "lip_lower_method": f"none: {reason}",
        "lip_ratio": nan,
    }


def lipschitz_bracket(
    model: MLP | QuadraticModel,
    spec: BracketSpec,
    x_train: torch.Tensor | None = None,
    x_test: torch.Tensor | None = None,
) -> dict:
    """Every bound we compute, the best of each side, and the seconds each method took.

    The domain is all of R^d for networks and the unit ball for quadratic forms (whose Lipschitz
    constant on R^d is infinite); lower and upper always refer to the same domain.
    """
    model = model.to(torch.float64).requires_grad_(False)
    if not all(torch.isfinite(parameter).all() for parameter in model.parameters()):
        return {"bracket": unevaluated_bracket("non-finite weights"), "seconds": {}}
    timed = Timer()
    data = [points.to(torch.float64) for points in (x_train, x_test) if points is not None]
    data_points = torch.cat(data) if data else torch.empty(0, model.input_dim, dtype=torch.float64)
    if isinstance(model, QuadraticModel):
        domain = "unit ball"
        uppers, lowers, exact = quadratic_bounds(model, spec, data_points, timed)
    elif isinstance(model, GatedLinearModel):
        domain = "unit ball"
        uppers, lowers, exact = timed("gated", lambda: gated_bounds(model, spec, data_points))
    else:
        domain = "R^d"
        uppers, lowers, exact = network_bounds(model, spec, data_points, timed)
    if x_train is not None:
        lowers["training_secant"] = timed("training_secant", lambda: training_secant(model, x_train))

    # The sampled maximum is reported but not used: only secant-certified values set the bracket.
    certified_lowers = {name: value for name, value in lowers.items() if name != "sampled_gradient"}
    upper_method = min(uppers, key=uppers.get)
    lower_method = max(certified_lowers, key=certified_lowers.get)
    lip_upper, lip_lower = uppers[upper_method], lowers[lower_method]
    if lip_upper < lip_lower * (1 - 1e-9):
        raise EstimatorError(
            f"certified upper bound {lip_upper!r} ({upper_method}) is below the lower bound "
            f"{lip_lower!r} ({lower_method}): an estimator is wrong"
        )
    record = {
        "lip_domain": domain,
        "lip_exact": exact,
        "lip_upper": lip_upper,
        "lip_upper_method": upper_method,
        "lip_lower": lip_lower,
        "lip_lower_method": lower_method,
        "lip_ratio": lip_upper / lip_lower if lip_lower > 0 else float("inf"),
    }
    record.update({f"lip_upper_{name}": value for name, value in uppers.items()})
    record.update({f"lip_lower_{name}": value for name, value in lowers.items()})
    return {"bracket": record, "seconds": timed.seconds}
