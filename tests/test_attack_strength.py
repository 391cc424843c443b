"""The attack held to a maintained library (foolbox's PGD, FMN, DDN and DeepFool, tests/library_attacks.py)
on trained nets, and to exact answers on quadratic forms; and its cost following the work left."""

import itertools
import math

import numpy as np
import pytest
import torch
from helpers import on_sphere, sphere_dataset
from library_attacks import library_best_accuracy, library_flips
from scipy.optimize import minimize

from robustlaw.lipschitz.bracket import BracketSpec, lipschitz_bracket
from robustlaw.robustness import attack as robustness
from robustlaw.robustness.attack import AttackSpec, label_signs, margins, robust_accuracy
from robustlaw.settings import lipschitz_settings, robustness_settings, trainer_settings
from robustlaw.training.fit import TrainSpec, train_full_batch
from robustlaw.training.models import MLP, QuadraticModel

RADII = (0.02, 0.05, 0.1, 0.2, 0.4)
CHEAP = lipschitz_settings(
    random_points=16, ascent_starts=2, ascent_steps=5, sharpness=[8.0], line_search_rounds=0,
    pattern_starts=4, walk_rounds=0, lipsdp_steps=50, branch_max_dim=0,
)  # fmt: skip
# The requirement: the project's attacked share is never more than this above the library's best.
LIBRARY_SLACK = 0.01


pytestmark = pytest.mark.usefixtures("one_thread")


def attack_spec(radii=RADII) -> AttackSpec:
    return AttackSpec.from_settings(robustness_settings(radii=list(radii)), seed=0)


def bracket_of(model, data) -> dict:
    return lipschitz_bracket(model, BracketSpec.from_settings(CHEAP, seed=0), data["x_train"], data["x_test"])[
        "bracket"
    ]


# Widths on both sides of the interpolation threshold (p ~ n = 96 at d = 16: k ~ 5), trained plainly
# (rough fits) and with the gradient penalty (smooth ones), as the pipeline trains them.
TRAINED = list(itertools.product((1, 2, 4, 16, 64), ("plain", "gradient_penalty")))


@pytest.fixture(scope="module", params=TRAINED, ids=[f"k{k}-{method}" for k, method in TRAINED])
def trained(request):
    width, method = request.param
    data = sphere_dataset(16, seed=width, count=96)
    model = MLP(16, width, 2, generator=torch.Generator().manual_seed(width))
    trainer = trainer_settings(
        name=method, method=method, learning_rate=0.02, max_steps=2000, strength=0.01, smooth_steps=200, probe_points=64
    )
    spec = TrainSpec.from_trainer(trainer, target_mse=0.01)
    train_full_batch(model, data["x_train"].float(), data["y_train"].float(), spec)
    model = model.to(torch.float64)
    return model, data, bracket_of(model, data)


def test_the_attack_is_never_weaker_than_the_library_suite_by_more_than_a_hundredth(trained):
    model, data, bracket = trained
    rows = robust_accuracy(model, data, bracket, attack_spec())
    for split in ("train", "test"):
        x, signs = data[f"x_{split}"], label_signs(data[f"y_{split}"])
        library = library_best_accuracy(model, x, signs, list(RADII))
        ours = [row for row in rows if row["split"] == split]
        for row, best in zip(ours, library, strict=True):
            assert row["attacked_accuracy"] <= best + LIBRARY_SLACK, (split, row, best)
            assert row["certified_accuracy"] <= best
        # The comparison means something only where the suite bites: at the largest radius it flips points.
        assert library[-1] < ours[-1]["clean_accuracy"]


def test_the_library_flips_no_certified_point(trained):
    model, data, bracket = trained
    x, signs = data["x_train"], label_signs(data["y_train"])
    flips = torch.stack(list(library_flips(model, x, signs, list(RADII)).values())).any(dim=0)
    for radius, flipped in zip(RADII, flips, strict=True):
        certified = margins(model, x, signs) > radius * bracket["lip_upper"]
        assert not (certified & flipped).any()


def sphere_minimum(quadratic: np.ndarray, x: np.ndarray, sign: float, radius: float) -> float:
    """min over ||delta|| <= r of sign (x + delta)^T A (x + delta), A symmetric, in d = 3, by an independent
    route: the interior's only critical point (delta = -x, where the value is 0) and the sphere ||delta|| = r
    searched on a fine grid of angles, each of the best grid points polished by a local optimiser."""

    def sphere_point(angles: np.ndarray) -> np.ndarray:
        theta, phi = angles[..., 0], angles[..., 1]
        unit = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=-1)
        return x + radius * unit

    def value(points: np.ndarray) -> np.ndarray:
        return sign * np.einsum("...i,ij,...j->...", points, quadratic, points)

    theta, phi = np.meshgrid(np.linspace(0, np.pi, 121), np.linspace(0, 2 * np.pi, 241), indexing="ij")
    grid = np.stack([theta, phi], axis=-1).reshape(-1, 2)
    values = value(sphere_point(grid))
    options = {"xatol": 1e-12, "fatol": 1e-14}
    polished = [
        minimize(lambda angles: value(sphere_point(angles)), grid[index], method="Nelder-Mead", options=options).fun
        for index in np.argsort(values)[:4]
    ]
    interior = [0.0] if np.linalg.norm(x) <= radius else []
    return min([*polished, *interior, float(values.min())])


def test_a_quadratic_forms_attacked_share_is_the_exact_robust_accuracy():
    generator = torch.Generator().manual_seed(7)
    for trial in range(2):
        q = torch.randn(3, 3, generator=generator, dtype=torch.float64)
        model = QuadraticModel(q)
        a = model.symmetric().numpy()
        data = sphere_dataset(3, seed=40 + trial, count=60)
        data = {
            **data,
            "y_train": torch.sign(
                model(data["x_train"]) + 0.3 * torch.randn(60, generator=generator, dtype=torch.float64)
            ),
        }
        rows = robust_accuracy(model, data, bracket_of(model, data), attack_spec())
        x, signs = data["x_train"].numpy(), label_signs(data["y_train"]).numpy()
        train_rows = [row for row in rows if row["split"] == "train"]
        # The radii span the margins, so the exact share moves between them.
        assert train_rows[0]["attacked_accuracy"] > train_rows[-1]["attacked_accuracy"]
        for row in train_rows:
            radius = row["radius"]
            minima = np.array([sphere_minimum(a, point, sign, radius) for point, sign in zip(x, signs, strict=True)])
            # Away from ties, where the comparison is meaningful.
            assert np.abs(minima).min() > 1e-6
            assert row["attacked_accuracy"] == float(np.mean(minima > 0)), (trial, row)


def test_the_trust_region_minimiser_meets_its_optimality_conditions():
    """delta* minimises s f(x + delta) over the ball: ||delta*|| <= r, and (2 s A + mu I) delta* = -2 s A x with
    mu >= 0 and 2 s A + mu I positive semidefinite (the trust-region subproblem's necessary and sufficient
    conditions), on random forms in d = 12, including a hard case (x orthogonal to the lowest eigenvector)."""
    generator = torch.Generator().manual_seed(3)
    q = torch.randn(12, 12, generator=generator, dtype=torch.float64)
    model = QuadraticModel(q)
    a = model.symmetric()
    x = on_sphere(20, 12, seed=5)
    eigenvalues, vectors = torch.linalg.eigh(a)
    x[0] = x[0] - (x[0] @ vectors[:, 0]) * vectors[:, 0]
    signs = torch.ones(20, dtype=torch.float64)
    for radius in (0.05, 0.3, 2.0):
        delta = robustness.trust_region_minimum(model, x, signs, radius)
        assert (torch.linalg.vector_norm(delta, dim=1) <= radius).all()
        for point, step in zip(x, delta, strict=True):
            residual = 2 * a @ (point + step)
            # mu from the least-squares fit of mu * delta = -residual.
            mu = float(-(residual @ step) / max(float(step @ step), 1e-300))
            assert mu >= -1e-8
            assert float(torch.linalg.eigvalsh(2 * a + mu * torch.eye(12, dtype=torch.float64)).min()) >= -1e-7
            assert torch.allclose(mu * step, -residual, atol=1e-7 * (1 + float(residual.norm())))
            if mu > 1e-8:
                assert math.isclose(float(step.norm()), radius, rel_tol=1e-9)


def test_pgd_attacks_only_the_points_neither_certified_nor_flipped(monkeypatch):
    model = MLP(16, 16, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    data = sphere_dataset(16, seed=11, count=64)
    bracket = bracket_of(model, data)
    attacked = []
    original = robustness.pgd_flips

    def recording(model, x, signs, radius, steps, starts):
        attacked.append((radius, x.clone()))
        return original(model, x, signs, radius, steps, starts)

    monkeypatch.setattr(robustness, "pgd_flips", recording)
    robust_accuracy(model, data, bracket, attack_spec())
    assert attacked
    x, signs = data["x_train"], label_signs(data["y_train"])
    margin = margins(model, x, signs)
    for radius, points in attacked:
        if points.shape[0] and any(torch.equal(points[0], row) for row in x):
            index = [int(torch.nonzero((x == row).all(dim=1))[0, 0]) for row in points]
            assert not (margin[index] > radius * bracket["lip_upper"]).any()
            assert (margin[index] > 0).all()


def test_a_model_whose_every_point_is_settled_gets_no_pgd(monkeypatch):
    """A linear model with its exact constant: the boundary search flips every point at its exact distance,
    and every point farther than a radius is certified there, so no radius is left to attack."""
    d = 10
    w = torch.randn(d, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    model = MLP.from_tensors(
        [w[None, :], torch.ones(1, 1, dtype=torch.float64)],
        [torch.tensor([10.0], dtype=torch.float64), torch.tensor([0.2 - 10.0], dtype=torch.float64)],
        "relu",
    )
    data = sphere_dataset(d, seed=12, count=64)
    monkeypatch.setattr(robustness, "pgd_flips", lambda *args: pytest.fail("PGD ran on settled points"))
    rows = robust_accuracy(model, data, {"lip_upper": float(torch.linalg.vector_norm(w)) * (1 + 1e-9)}, attack_spec())
    assert all(row["certified_accuracy"] == row["attacked_accuracy"] for row in rows)
