"""Robust accuracy against exact answers: a linear model (both ends of the bracket meet the exact
minimal flipping perturbation), small networks and a quadratic form with exact Lipschitz constants
(the certified share is the formula's). The attack against a library and exact answers: test_attack_strength.py."""

import pytest
import torch
from helpers import sphere_dataset

from robustlaw.lipschitz.bracket import BracketSpec, lipschitz_bracket
from robustlaw.robustness.attack import AttackSpec, RobustnessError, label_signs, robust_accuracy
from robustlaw.settings import lipschitz_settings, robustness_settings
from robustlaw.training.models import MLP, QuadraticModel

RADII = (0.01, 0.03, 0.1, 0.3)
# A cheap bracket: these models' exact constants come from pattern enumeration or eigenvalues.
CHEAP = lipschitz_settings(
    random_points=16,
    ascent_starts=2,
    ascent_steps=5,
    sharpness=[8.0],
    line_search_rounds=0,
    pattern_starts=4,
    walk_rounds=0,
    lipsdp_steps=20,
    branch_max_dim=0,
)


pytestmark = pytest.mark.usefixtures("one_thread")


def bracket_of(model, data) -> dict:
    spec = BracketSpec.from_settings(CHEAP, seed=0)
    return lipschitz_bracket(model, spec, data["x_train"], data["x_test"])["bracket"]


def attack(radii=RADII, **changes) -> AttackSpec:
    return AttackSpec.from_settings(robustness_settings(radii=list(radii), **changes), seed=0)


def exact_shares(margins: torch.Tensor, distances: torch.Tensor, radii) -> list[float]:
    """The share of points with the right sign whose distance to a sign flip exceeds each radius."""
    return [float(((margins > 0) & (distances > radius)).to(torch.float64).mean()) for radius in radii]


def away_from_ties(distances: torch.Tensor, radii) -> None:
    """The comparison with the exact share is meaningful only if no point sits on a radius."""
    for radius in radii:
        assert float((distances - radius).abs().min()) > 1e-6 * radius


def linear_net(d: int, seed: int) -> tuple[MLP, torch.Tensor, float]:
    """f(x) = w.x + c as a two-layer net whose one neuron is active on every input of norm below 3."""
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(d, generator=generator, dtype=torch.float64)
    w = 2 * w / torch.linalg.vector_norm(w)
    c = 0.3
    model = MLP.from_tensors(
        [w[None, :], torch.ones(1, 1, dtype=torch.float64)],
        [torch.tensor([10.0], dtype=torch.float64), torch.tensor([c - 10.0], dtype=torch.float64)],
        "relu",
    )
    return model, w, c


def rows_by(rows: list[dict], split: str) -> list[dict]:
    return [row for row in rows if row["split"] == split]


def test_a_linear_model_meets_the_exact_minimal_perturbation_at_both_ends():
    model, w, c = linear_net(12, seed=3)
    data = sphere_dataset(12, seed=5)
    rows = robust_accuracy(model, data, bracket_of(model, data), attack())
    for split in ("train", "test"):
        x, signs = data[f"x_{split}"], label_signs(data[f"y_{split}"])
        values = x @ w + c
        distances = values.abs() / torch.linalg.vector_norm(w)
        away_from_ties(distances, RADII)
        exact = exact_shares(signs * values, distances, RADII)
        found = rows_by(rows, split)
        assert [row["certified_accuracy"] for row in found] == exact
        assert [row["attacked_accuracy"] for row in found] == exact
        # The radii span the margins: the exact share falls from near the clean share to near 0.
        assert exact[0] > exact[-1]


def test_certified_share_is_the_formula_with_the_exact_constant_for_small_networks():
    for seed, (d, k) in enumerate([(6, 4), (8, 8), (10, 5)]):
        model = MLP(d, k, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        data = sphere_dataset(d, seed=10 + seed)
        bracket = bracket_of(model, data)
        # Exact by pattern enumeration (k <= d); the certified end is that value or a bound within 1e-9 of it.
        assert bracket["lip_exact"] <= bracket["lip_upper"] <= bracket["lip_exact"] * (1 + 1e-6)
        rows = robust_accuracy(model, data, bracket, attack())
        for split in ("train", "test"):
            with torch.no_grad():
                margins = label_signs(data[f"y_{split}"]) * model(data[f"x_{split}"])
            distances = margins.abs() / bracket["lip_exact"]
            away_from_ties(distances, RADII)
            found = rows_by(rows, split)
            assert [row["certified_accuracy"] for row in found] == exact_shares(margins, distances, RADII)
            assert all(row["certified_accuracy"] <= row["attacked_accuracy"] for row in found)


def test_a_unit_ball_bracket_certifies_with_the_constant_on_the_ball_of_radius_one_plus_r():
    generator = torch.Generator().manual_seed(0)
    model = QuadraticModel(torch.randn(6, 6, generator=generator, dtype=torch.float64))
    data = sphere_dataset(6, seed=20)
    bracket = bracket_of(model, data)
    assert bracket["lip_domain"] == "unit ball"
    rows = robust_accuracy(model, data, bracket, attack())
    margins = label_signs(data["y_train"]) * model(data["x_train"])
    for radius, row in zip(RADII, rows_by(rows, "train"), strict=True):
        # Points on the unit sphere: x + delta lies in the ball of radius 1 + r.
        distances = margins.abs() / ((1 + radius) * bracket["lip_exact"])
        away_from_ties(distances, [radius])
        assert row["certified_accuracy"] == exact_shares(margins, distances, [radius])[0]
        assert row["certified_accuracy"] <= row["attacked_accuracy"]


def test_an_infinite_constant_certifies_nothing():
    model, _, _ = linear_net(5, seed=1)
    data = sphere_dataset(5, seed=2)
    rows = robust_accuracy(model, data, {"lip_upper": float("inf"), "lip_domain": "R^d"}, attack())
    assert all(row["certified_accuracy"] == 0 for row in rows) and rows[0]["attacked_accuracy"] > 0


def test_a_certified_point_that_the_attack_flips_stops_the_run():
    model, w, _ = linear_net(8, seed=4)
    data = sphere_dataset(8, seed=6)
    # An "upper bound" ten times below the true constant certifies points the attack then flips.
    wrong = {"lip_upper": 0.1 * float(torch.linalg.vector_norm(w)), "lip_domain": "R^d"}
    with pytest.raises(RobustnessError, match="certified"):
        robust_accuracy(model, data, wrong, attack())
