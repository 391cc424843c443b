"""Robust accuracy of a classifier sign(f), bracketed like the Lipschitz constant, in float64.

For a point x with label sign s and a radius r (L2, in the inputs' units), the share of points
that keep the right sign under every perturbation of norm <= r lies between
- certified: s f(x) > r L, with L a certified upper bound of Lip(f) on a set holding the ball
  B(x, r): no perturbation of norm <= r can move f by s f(x) (a true lower bound), and
- attacked: the sign survives a PGD-L2 attack of radius r (an attack that succeeds proves the
  point is not robust, so this is an upper bound).
A certified point that the attack flips is an estimator bug (RobustnessError), so certified <=
attacked on every row.

Brackets valid only on the unit ball (the closed-form controls): x + delta leaves it, so the
constant used is the one on the ball of radius ||x|| + r around the origin (1 + r on the unit
sphere). A quadratic form's gradient 2 sym(Q) z grows linearly with ||z||, so that constant is
(||x|| + r) times the unit-ball one; a gated linear model is positively homogeneous, so its
constant is the same on every ball around the origin. An infinite constant certifies nothing.
"""

from dataclasses import dataclass

import torch

from .columns import SPLITS
from .models import GatedLinearModel, QuadraticModel
from .seeding import torch_generator

# The attack steps this much past the linearised decision boundary, so that a point whose
# boundary is locally flat is flipped in one step rather than approached from one side forever.
OVERSHOOT = 0.05
STEP_DECAY = 0.75


class RobustnessError(RuntimeError):
    """Certified robust accuracy above attacked robust accuracy: a bug, never a result."""


@dataclass(frozen=True)
class AttackSpec:
    """Config key `robustness` (defaults in schemas/config.schema.yaml) and a seed for the random restarts."""

    radii: tuple[float, ...]
    attack_steps: int
    attack_restarts: int
    seed: int

    @classmethod
    def from_settings(cls, settings: dict, seed: int) -> "AttackSpec":
        return cls(
            radii=tuple(sorted(settings["radii"])),
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


def project(delta: torch.Tensor, radius: float) -> torch.Tensor:
    norms = torch.linalg.vector_norm(delta, dim=1, keepdim=True)
    return delta * torch.clamp(radius / norms.clamp_min(1e-300), max=1.0)


def step_cap(radius: float, step: int) -> float:
    """The longest move of a step: 2 r at first (the linearised boundary anywhere in the ball is in reach),
    then shrinking geometrically to r / 20. It does not depend on the number of steps, so an attack with
    more steps repeats a shorter one's iterates first and can only flip more points."""
    return radius * max(2.0 * STEP_DECAY**step, 0.05)


def margins_and_gradients(
    model: torch.nn.Module, x: torch.Tensor, signs: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """s f(x) and its gradient in x, from one forward and one backward pass."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        margin = signs * model(x)
        (gradient,) = torch.autograd.grad(margin.sum(), x)
    return margin.detach(), gradient


def pgd_flips(
    model: torch.nn.Module, x: torch.Tensor, signs: torch.Tensor, radius: float, steps: int, starts: torch.Tensor
) -> torch.Tensor:
    """Whether PGD-L2 from the start `starts` (one perturbation per point, of norm <= radius) found a
    perturbation of norm <= radius with s f(x + delta) <= 0, for each point.

    Margin-aware steps: each step moves against the margin's gradient by the distance to the
    linearised boundary (plus OVERSHOOT), at most step_cap, then projects back onto the ball; on a
    linear f the first step lands on the exact minimal perturbation. A point counts as flipped once
    any iterate flips it, and leaves the batch.
    """
    found = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    active = torch.arange(len(x), device=x.device)
    delta = starts.clone()
    for step in range(steps + 1):
        margin, gradient = margins_and_gradients(model, x[active] + delta, signs[active])
        flipped = ~(margin > 0)
        found[active[flipped]] = True
        if step == steps or flipped.all():
            break
        kept = ~flipped
        active, delta, margin, gradient = active[kept], delta[kept], margin[kept], gradient[kept]
        norms = torch.linalg.vector_norm(gradient, dim=1)
        length = torch.clamp((1 + OVERSHOOT) * margin / norms.clamp_min(1e-300), max=step_cap(radius, step))
        length = torch.where(norms == 0, 0.0, length)
        delta = project(delta - (length / norms.clamp_min(1e-300))[:, None] * gradient, radius)
    return found


def attack_flips(
    model: torch.nn.Module,
    x: torch.Tensor,
    signs: torch.Tensor,
    where: torch.Tensor,
    radius: float,
    spec: AttackSpec,
    split: str,
) -> torch.Tensor:
    """Whether any restart of the attack flips each point x[where]. Restart 0 starts at the point itself;
    restart j > 0 at a uniform point of the ball drawn from a stream of its own (seed, split, radius, j),
    one start for every point of the split, so a point's attack does not depend on which other points
    are attacked and more restarts can only flip more points. A restart attacks only the points that
    the earlier ones left standing."""
    flipped = torch.zeros(len(where), dtype=torch.bool, device=x.device)
    for restart in range(spec.attack_restarts):
        standing = (~flipped).nonzero().squeeze(1)
        if not len(standing):
            break
        points = where[standing]
        if restart == 0:
            starts = torch.zeros(len(points), x.shape[1], dtype=torch.float64, device=x.device)
        else:
            generator = torch_generator("robustness", spec.seed, split, radius, restart)
            starts = random_in_ball(len(x), x.shape[1], radius, generator).to(x.device)[points]
        flipped[standing] = pgd_flips(model, x[points], signs[points], radius, spec.attack_steps, starts)
    return flipped


def split_rows(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    bracket: dict,
    spec: AttackSpec,
    split: str,
) -> list[dict]:
    """One row per radius of one split: clean, certified and attacked accuracy.

    Radii are taken in increasing order: a point flipped within radius r is flipped within every
    larger one, so only the points that survived the smaller radii are attacked. Certified points
    are attacked too: a certified point that the attack flips is an estimator bug (RobustnessError).
    """
    x, signs = x.to(torch.float64), label_signs(y)
    margin = margins(model, x, signs)
    correct = margin > 0
    not_robust = ~correct
    rows = []
    for radius in spec.radii:
        constants = certifying_constants(model, bracket["lip_upper"], bracket.get("lip_domain"), x, radius)
        certified = correct & (margin > radius * constants)
        where = (~not_robust).nonzero().squeeze(1)
        if len(where):
            not_robust[where[attack_flips(model, x, signs, where, radius, spec, split)]] = True
        broken = certified & not_robust
        if broken.any():
            point = int(broken.nonzero()[0, 0])
            raise RobustnessError(
                f"radius {radius}: point {point} is certified (margin {float(margin[point])!r} > radius x "
                f"{float(constants[point])!r}) but the attack flipped it: an estimator is wrong"
            )
        rows.append(
            {
                "radius": radius,
                "clean_accuracy": share(correct),
                "certified_accuracy": share(certified),
                "attacked_accuracy": share(~not_robust),
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
