"""Robust accuracy of a classifier sign(f), bracketed like the Lipschitz constant, in float64.

For a point x with label sign s and a radius r (L2, in the inputs' units), the share of points
that keep the right sign under every perturbation of norm <= r lies between
- certified: s f(x) > r L, with L a certified upper bound of Lip(f) on a set holding the ball
  B(x, r): no perturbation of norm <= r can move f by s f(x) (a true lower bound), and
- attacked: the sign survives the attack at radius r (an attack that succeeds proves the point is
  not robust, so this is an upper bound).
A certified point that the attack flips is an estimator bug (RobustnessError), so certified <=
attacked on every row.

The attack, for every point at once and then per radius for the points still open:
1. a boundary search (a decoupled-direction-and-norm, DDN-style minimum-norm attack, its iterates
   evaluated in float32) finds for each point a small perturbation that flips it (verified in
   float64, as every flip is); its norm answers every radius at once: the point
   is flipped at every radius at least that norm. It runs on every point open at some radius, so a
   point certified at the small radii is still searched, and a flip it finds inside a radius where
   the point is certified stops the run;
2. at each radius, in increasing order, PGD-L2 attacks only the points neither certified nor
   already flipped, from the boundary search's direction scaled to the radius and from random
   points of the ball; a point it flips is flipped at every larger radius too.
A quadratic form f(z) = z^T Q z (the even-NTK control) needs no search: the smallest s f over a
ball is a trust-region subproblem, solved exactly from one eigendecomposition of sym(Q), so its
attacked share is the exact robust accuracy.

Brackets valid only on the unit ball (the closed-form controls): x + delta leaves it, so the
constant used is the one on the ball of radius ||x|| + r around the origin (1 + r on the unit
sphere). A quadratic form's gradient 2 sym(Q) z grows linearly with ||z||, so that constant is
(||x|| + r) times the unit-ball one; a gated linear model is positively homogeneous, so its
constant is the same on every ball around the origin. An infinite constant certifies nothing.
"""

import copy
import math
from dataclasses import dataclass

import torch

from robustlaw.lipschitz.lower import forward
from robustlaw.lipschitz.rounding import evaluation_error_bound, inflate, round_down
from robustlaw.results.paths import SPLITS
from robustlaw.seeding import torch_generator
from robustlaw.training.models import MLP, GatedLinearModel, QuadraticModel

# PGD steps this much past the linearised decision boundary, so that a point whose boundary is
# locally flat is flipped in one step rather than approached from one side forever.
OVERSHOOT = 0.05
# The boundary search shrinks its norm budget by this factor after a flipping iterate and grows it
# after a standing one (DDN's gamma): the budget then hovers at the boundary while the direction improves.
BUDGET_RATE = 0.05
# Perturbations are kept this far inside the ball, so that rounding in the projection can never leave
# a "flipping" perturbation a hair longer than the radius it is counted at.
INSIDE = 1.0 - 2.0**-40
# Bisection halves the multiplier's bracket: 64 halvings take it below float64's resolution.
TRUST_REGION_BISECTIONS = 64
# softplus(beta t) / beta in place of ReLU for the boundary search's directions, at these beta (in units
# of one over a pre-activation): a neuron that is off has a small but non-zero surrogate gradient
# pointing towards switching it on, where the net's own gradient sees nothing.
SURROGATE_SHARPNESSES = (10.0,)


class RobustnessError(RuntimeError):
    """Certified robust accuracy above attacked robust accuracy: a bug, never a result."""


@dataclass(frozen=True)
class AttackSpec:
    """Config key `robustness` (defaults in schemas/config.schema.yaml) and a seed for the random restarts."""

    radii: tuple[float, ...]
    boundary_steps: int
    boundary_restarts: int
    attack_steps: int
    attack_restarts: int
    seed: int

    @classmethod
    def from_settings(cls, settings: dict, seed: int) -> "AttackSpec":
        return cls(
            radii=tuple(sorted(settings["radii"])),
            boundary_steps=settings["boundary_steps"],
            boundary_restarts=settings["boundary_restarts"],
            attack_steps=settings["attack_steps"],
            attack_restarts=settings["attack_restarts"],
            seed=seed,
        )


def label_signs(y: torch.Tensor) -> torch.Tensor:
    """The class of each label: +1 for y >= 0, -1 otherwise (labels are +-1 or a teacher's values in [-1, 1])."""
    return torch.where(y >= 0, 1.0, -1.0).to(torch.float64)


def margins(model: torch.nn.Module, x: torch.Tensor, signs: torch.Tensor) -> torch.Tensor:
    """s f(x): positive where sign(f) is right (f = 0 counts as wrong)."""
    with torch.no_grad():
        return signs * model(x)


def certifying_constants(
    model: torch.nn.Module, lip_upper: float, domain: str | None, x: torch.Tensor, radius: float
) -> torch.Tensor:
    """Per point, an upper bound of Lip(f) on a set holding the ball B(x, radius)."""
    constant = torch.full((len(x),), float(lip_upper), dtype=torch.float64, device=x.device)
    if domain in (None, "R^d"):
        return constant
    if isinstance(model, QuadraticModel):
        reach = torch.linalg.vector_norm(x, dim=1) + radius
        return constant * torch.clamp(reach, min=1.0)
    if isinstance(model, GatedLinearModel):
        return constant
    raise ValueError(f"no certifying constant for a {type(model).__name__} bracketed on {domain!r}")


def random_in_ball(count: int, dim: int, radius: float, generator: torch.Generator) -> torch.Tensor:
    """Points uniform in the L2 ball of the given radius, drawn on the CPU (the same draws on any device)."""
    directions = torch.randn(count, dim, generator=generator, dtype=torch.float64)
    directions = directions / torch.linalg.vector_norm(directions, dim=1, keepdim=True).clamp_min(1e-300)
    scales = torch.rand(count, 1, generator=generator, dtype=torch.float64) ** (1.0 / dim)
    return radius * scales * directions


def row_norms(vectors: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(vectors, dim=1)


def project(delta: torch.Tensor, radius: float | torch.Tensor) -> torch.Tensor:
    """Each row moved into the ball of its radius (a float, or one per row), just inside its sphere."""
    norms = row_norms(delta).clamp_min(1e-300)
    return delta * torch.clamp(INSIDE * radius / norms, max=1.0)[:, None]


def unit_rows(vectors: torch.Tensor) -> torch.Tensor:
    """Each row divided by its norm; a zero row stays zero (no direction to follow)."""
    return vectors / row_norms(vectors).clamp_min(1e-300)[:, None]


def cosine_schedule(step: int, steps: int, low: float) -> float:
    """1 at the first step, falling along a half cosine to `low` at the last: long moves first, fine ones last."""
    progress = step / max(steps - 1, 1)
    return low + (1.0 - low) * 0.5 * (1.0 + math.cos(math.pi * progress))


def margins_and_gradients(
    model: torch.nn.Module, x: torch.Tensor, signs: torch.Tensor, sharpness: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """s f(x) and its gradient in x, from one forward and one backward pass; with a sharpness, the gradient
    is the softplus surrogate's (a ReLU net's own gradient is zero wherever its neurons are off)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        if sharpness is None:
            margin = signs * model(x)
            (gradient,) = torch.autograd.grad(margin.sum(), x)
            return margin.detach(), gradient
        (gradient,) = torch.autograd.grad((signs * forward(model, x, sharpness)).sum(), x)
    return margins(model, x.detach(), signs), gradient


def boundary_search(
    model: torch.nn.Module,
    x: torch.Tensor,
    signs: torch.Tensor,
    start: torch.Tensor,
    reach: float,
    steps: int,
    sharpness: float | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each point, the shortest flipping perturbation found (its norm, inf where none, and itself) and
    a direction towards the boundary (the shortest flip's, or the last iterate's where none flipped).

    DDN-style: the iterate always has norm equal to a budget that shrinks after a flipping iterate and
    grows after a standing one, while a normalised step against the margin's gradient (the softplus
    surrogate's with a sharpness), of a length falling with a cosine schedule, turns its direction. The
    first iterate is `start`. Budgets are capped at `reach`: a flip farther away answers no radius.

    `model` is the float32 copy of the net (single_precision): the iterates are evaluated in float32,
    half the cost of float64's matrix products on a wide net, while the perturbations are kept in
    float64. A flip counts only once verified in float64 (split_rows' keep_shorter), so the lower
    precision can cost a flip, never invent one.
    """
    best_norms = torch.full((len(x),), math.inf, dtype=torch.float64, device=x.device)
    best = torch.zeros_like(x)
    delta = start
    budget = row_norms(start).clamp(max=reach)
    x_single, signs_single = x.to(torch.float32), signs.to(torch.float32)
    for step in range(steps):
        margin, gradient = margins_and_gradients(model, x_single + delta.to(torch.float32), signs_single, sharpness)
        margin, gradient = margin.to(torch.float64), gradient.to(torch.float64)
        norms = row_norms(delta)
        flipped = ~(margin > 0)
        shorter = flipped & (norms < best_norms)
        best_norms = torch.where(shorter, norms, best_norms)
        best = torch.where(shorter[:, None], delta, best)
        budget = torch.where(flipped, torch.minimum(budget, norms) * (1 - BUDGET_RATE), budget * (1 + BUDGET_RATE))
        budget = budget.clamp(max=reach)
        turned = delta - (cosine_schedule(step, steps, 0.01) * budget)[:, None] * unit_rows(gradient)
        delta = budget[:, None] * unit_rows(turned)
    towards = torch.where(torch.isfinite(best_norms)[:, None], best, delta)
    return best_norms, best, unit_rows(towards)


def single_precision(model: torch.nn.Module) -> torch.nn.Module:
    """A float32 copy of the model, for the boundary search's iterates."""
    return copy.deepcopy(model).to(torch.float32)


def deepfool_start(
    model: torch.nn.Module, x: torch.Tensor, signs: torch.Tensor, reach: float, sharpness: float | None
) -> torch.Tensor:
    """The step to the linearised boundary (plus OVERSHOOT), at most `reach` long."""
    margin, gradient = margins_and_gradients(model, x, signs, sharpness)
    length = torch.clamp((1 + OVERSHOOT) * margin / row_norms(gradient).clamp_min(1e-300), max=reach)
    return -length[:, None] * unit_rows(gradient)


def boundary_searches(model: torch.nn.Module, spec: AttackSpec) -> list[tuple[float | None, int | None]]:
    """The searches, in order, as (sharpness, random start): from the DeepFool step on the net's own gradient;
    for a ReLU net also on softplus surrogates' (a neuron that is off has no gradient of its own); then
    from random directions, since the search settles on the nearest boundary its start leads to."""
    surrogates = SURROGATE_SHARPNESSES if isinstance(model, MLP) else ()
    return [
        (None, None),
        *((beta, None) for beta in surrogates),
        *((None, j) for j in range(1, spec.boundary_restarts + 1)),
    ]


def pgd_flips(
    model: torch.nn.Module, x: torch.Tensor, signs: torch.Tensor, radius: float, steps: int, starts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each point, the first flipping perturbation PGD-L2 found within the radius from its start: its
    norm (inf where none) and itself.

    Normalised steps against the margin's gradient, of a length falling along a cosine from r / 2 to
    r / 40, each followed by the projection onto the ball: long steps move along the sphere, where the
    boundary search's minimum-norm iterates cannot go, short ones settle. A point leaves the batch once
    an iterate flips it.
    """
    found = torch.full((len(x),), math.inf, dtype=torch.float64, device=x.device)
    found_deltas = torch.zeros_like(x)
    active = torch.arange(len(x), device=x.device)
    delta = project(starts, radius)
    for step in range(steps + 1):
        margin, gradient = margins_and_gradients(model, x[active] + delta, signs[active])
        flipped = ~(margin > 0)
        found[active[flipped]] = row_norms(delta[flipped])
        found_deltas[active[flipped]] = delta[flipped]
        if step == steps or flipped.all():
            break
        kept = ~flipped
        active, delta, gradient = active[kept], delta[kept], gradient[kept]
        length = 0.5 * radius * cosine_schedule(step, steps, 0.05)
        delta = project(delta - length * unit_rows(gradient), radius)
    return found, found_deltas


def pgd_attack(
    model: torch.nn.Module,
    x: torch.Tensor,
    signs: torch.Tensor,
    towards: torch.Tensor,
    where: torch.Tensor,
    radius: float,
    spec: AttackSpec,
    split: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first flip any restart of PGD finds for each point x[where] within the radius: its norm (inf
    where none) and itself. Restart 0 starts at the boundary search's direction scaled to the radius; restart j > 0 at a
    uniform point of the ball drawn from a stream of its own (seed, split, radius, j), one start for every
    point of the split, so a point's attack does not depend on which other points are attacked. A
    restart attacks only the points that the earlier ones left standing."""
    norms = torch.full((len(where),), math.inf, dtype=torch.float64, device=x.device)
    deltas = torch.zeros(len(where), x.shape[1], dtype=torch.float64, device=x.device)
    for restart in range(spec.attack_restarts):
        standing = torch.isinf(norms).nonzero().squeeze(1)
        if not len(standing):
            break
        points = where[standing]
        if restart == 0:
            starts = radius * towards[points]
        else:
            generator = torch_generator("robustness", spec.seed, split, radius, restart)
            starts = random_in_ball(len(x), x.shape[1], radius, generator).to(x.device)[points]
        norms[standing], deltas[standing] = pgd_flips(
            model, x[points], signs[points], radius, spec.attack_steps, starts
        )
    return norms, deltas


def trust_region_minimum(
    model: QuadraticModel,
    x: torch.Tensor,
    signs: torch.Tensor,
    radius: float,
    eigen: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """For each point, the perturbation of norm <= radius that minimises s f(x + delta), f(z) = z^T A z.

    A trust-region subproblem: with s A = V diag(lam) V^T, c = V^T x and u = V^T delta, minimise
    sum_i lam_i u_i^2 + 2 lam_i c_i u_i over ||u|| <= r. Its minimiser is u_i = -2 lam_i c_i / (2 lam_i + mu)
    for the multiplier mu >= max(0, -2 min lam) at which ||u|| = r (or mu = 0 inside the ball), found by
    bisection on the decreasing ||u(mu)||, keeping the side with ||u|| <= r. Where ||u|| stays below r
    for every admissible mu (the hard case), the rest of the budget goes along the eigenvector of the
    smallest lam, which cannot raise the objective there. `eigen`: sym(Q)'s eigendecomposition, if already made.
    """
    eigenvalues, vectors = eigen or torch.linalg.eigh(model.symmetric().to(x))
    lam = signs[:, None] * eigenvalues[None, :]
    c = x @ vectors
    linear = 2 * lam * c
    lowest = lam.min(dim=1).values
    low = torch.clamp(-2 * lowest, min=0.0)
    high = low + 2 * lam.abs().max(dim=1).values + row_norms(linear) / radius

    twice_lam, squared_linear = 2 * lam, linear**2

    def minimiser(mu: torch.Tensor) -> torch.Tensor:
        denominators = twice_lam + mu[:, None]
        return torch.where(denominators > 0, -linear / denominators.clamp_min(1e-300), 0.0)

    for _ in range(TRUST_REGION_BISECTIONS):
        middle = 0.5 * (low + high)
        # ||u(middle)||^2 <= r^2; middle > low, so every denominator is positive (a zero one counts as outside).
        inside = (squared_linear / (twice_lam + middle[:, None]).clamp_min(1e-300) ** 2).sum(dim=1) <= radius**2
        high = torch.where(inside, middle, high)
        low = torch.where(inside, low, middle)
    u = minimiser(high)
    smallest = lam.argmin(dim=1)[:, None]
    along = torch.gather(u, 1, smallest).squeeze(1)
    # The lowest component lengthened, keeping its side, until ||u|| = r: only where s A has no
    # positive-definite part to lose (elsewhere the interior minimiser stands).
    others = row_norms(u) ** 2 - along**2
    lengthened = torch.where(along > 0, 1.0, -1.0) * torch.sqrt(torch.clamp(radius**2 - others, min=0.0))
    along = torch.where((lowest <= 0) & (lengthened.abs() > along.abs()), lengthened, along)
    return project(u.scatter(1, smallest, along[:, None]) @ vectors.T, radius)


def certified_points(
    model: torch.nn.Module, x: torch.Tensor, margin: torch.Tensor, bracket: dict, radius: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which points are certified at the radius, and the constant each was held to: margin > r L with both
    sides taken the safe way round, the margin less its float64 evaluation error bound (rounded down),
    r L as an upper bound of the exact product (the constant's own arithmetic, a norm for the
    quadratic form's reach, counted in)."""
    constant = certifying_constants(model, bracket["lip_upper"], bracket.get("lip_domain"), x, radius)
    least_margin = round_down(margin - evaluation_error_bound(model, x))
    return (margin > 0) & (least_margin > inflate(radius * constant, x.shape[1] + 4)), constant


def verified_flips(model: torch.nn.Module, x: torch.Tensor, signs: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
    """Whether s f(x + delta) <= 0 for the exact f: the computed margin plus its evaluation error bound is
    at most 0. An attack's flip that rounding could explain is not counted (the attacked share stays an
    upper bound)."""
    moved = x + deltas
    return margins(model, moved, signs) + evaluation_error_bound(model, moved) <= 0


def split_rows(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    bracket: dict,
    spec: AttackSpec,
    split: str,
) -> list[dict]:
    """One row per radius of one split: clean, certified and attacked accuracy.

    `flip_norms` holds, per point, the norm of the shortest flipping perturbation found so far (0 for a
    point already wrong): a point is flipped at every radius at least that norm. A point is open at a
    radius where it is neither certified nor flipped; only open points are attacked. Every flip is
    verified under rounding (verified_flips) before it counts.
    """
    x, signs = x.to(torch.float64), label_signs(y)
    margin = margins(model, x, signs)
    correct = margin > 0
    certificates = [certified_points(model, x, margin, bracket, radius) for radius in spec.radii]
    certified = torch.stack([flags for flags, _ in certificates])
    flip_norms = torch.where(correct, math.inf, 0.0).to(torch.float64)
    radii = torch.tensor(spec.radii, dtype=torch.float64, device=x.device)

    def open_at() -> torch.Tensor:
        return correct[None, :] & ~certified & (flip_norms[None, :] > radii[:, None])

    def keep_shorter(points: torch.Tensor, norms: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
        """Record the perturbations shorter than the flips held that verified_flips shows to flip; returns which."""
        shorter = norms < flip_norms[points]
        shorter[shorter.clone()] = verified_flips(model, x[points[shorter]], signs[points[shorter]], deltas[shorter])
        flip_norms[points[shorter]] = norms[shorter]
        return shorter

    if isinstance(model, QuadraticModel):
        eigen = torch.linalg.eigh(model.symmetric().to(x))
        for index, radius in enumerate(spec.radii):
            points = open_at()[index].nonzero().squeeze(1)
            deltas = trust_region_minimum(model, x[points], signs[points], radius, eigen)
            keep_shorter(points, row_norms(deltas), deltas)
    else:
        towards, search_model = torch.zeros_like(x), single_precision(model)
        reach = 2 * max(spec.radii)
        for sharpness, restart in boundary_searches(model, spec):
            points = open_at().any(dim=0).nonzero().squeeze(1)
            if not len(points):
                break
            if restart is None:
                start = deepfool_start(model, x[points], signs[points], reach, sharpness)
            else:
                generator = torch_generator("robustness", spec.seed, split, "boundary", restart)
                start = reach * unit_rows(torch.randn(len(x), x.shape[1], generator=generator, dtype=torch.float64))
                start = start.to(x.device)[points]
            norms, deltas, directions = boundary_search(
                search_model, x[points], signs[points], start, reach, spec.boundary_steps, sharpness
            )
            # The first search's direction stands until a search finds a shorter flip.
            turned = keep_shorter(points, norms, deltas) | (restart is None and sharpness is None)
            towards[points[turned]] = directions[turned]
        for index, radius in enumerate(spec.radii):
            points = open_at()[index].nonzero().squeeze(1)
            if len(points):
                keep_shorter(points, *pgd_attack(model, x, signs, towards, points, radius, spec, split))
    rows = []
    for index, radius in enumerate(spec.radii):
        flipped = flip_norms <= radius
        broken = certified[index] & flipped
        if broken.any():
            point = int(broken.nonzero()[0, 0])
            raise RobustnessError(
                f"radius {radius}: point {point} is certified (margin {float(margin[point])!r} > radius x "
                f"{float(certificates[index][1][point])!r}) but the attack flipped it at norm "
                f"{float(flip_norms[point])!r}: an estimator is wrong"
            )
        rows.append(
            {
                "radius": radius,
                "clean_accuracy": share(correct),
                "certified_accuracy": share(certified[index]),
                "attacked_accuracy": share(~flipped),
            }
        )
    return rows


def share(flags: torch.Tensor) -> float:
    return float(flags.to(torch.float64).mean())


def robust_accuracy(
    model: torch.nn.Module, data: dict[str, torch.Tensor], bracket: dict, spec: AttackSpec
) -> list[dict]:
    """Rows (split, radius, clean_accuracy, certified_accuracy, attacked_accuracy) of one model, splits
    train then test, radii increasing.

    `data`: x_train, y_train, x_test, y_test; training points are scored against their (noisy)
    training labels, test points against theirs. `bracket`: the model's Lipschitz bracket record. The
    model and the data may sit on a GPU; the random restarts are drawn on the CPU either way.
    """
    model = model.to(torch.float64).requires_grad_(False)
    return [
        {"split": split, **row}
        for split in SPLITS
        for row in split_rows(model, data[f"x_{split}"], data[f"y_{split}"], bracket, spec, split)
    ]
