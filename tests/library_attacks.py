"""A maintained attack library's suite (foolbox 3.3.4, pinned in envs/requirements-dev.txt) on a classifier
sign(f): the reference the project's attack is held to, in tests/test_attack_strength.py and
benchmarks/attack_strength.py.

foolbox attacks classifiers with logits: sign(f) is the two-class model with logits (-f, f), class 1
for s = +1. Every attack is asked about every radius; a point counts as flipped at radius r when any
attack of the suite found a misclassified point within r of it (foolbox clips its perturbations to r).
"""

import foolbox
import torch

# Inputs have norm about 1 (unit sphere, N(0, I/d), scaled images): no coordinate leaves these bounds,
# which foolbox needs only to clip to.
BOUNDS = (-10.0, 10.0)


class TwoClassLogits(torch.nn.Module):
    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value = self.model(x)[:, None]
        return torch.cat([-value, value], dim=1)


def suite() -> dict[str, foolbox.attacks.Attack]:
    """Fixed- and minimum-norm L2 attacks at budgets above the project's own (a reference should be strong)."""
    return {
        "pgd": foolbox.attacks.L2PGD(steps=100, rel_stepsize=0.05, random_start=True),
        "pgd_short": foolbox.attacks.L2PGD(steps=20, rel_stepsize=0.125, random_start=False),
        "fmn": foolbox.attacks.L2FMNAttack(steps=200),
        "ddn": foolbox.attacks.DDNAttack(steps=200),
        "deepfool": foolbox.attacks.L2DeepFoolAttack(steps=100, candidates=None, overshoot=0.02),
    }


def library_flips(
    model: torch.nn.Module, x: torch.Tensor, signs: torch.Tensor, radii: list[float]
) -> dict[str, torch.Tensor]:
    """Per attack of the suite, a (radii, points) boolean tensor: flipped within that radius."""
    torch.manual_seed(0)  # foolbox's random starts draw from torch's global generator
    wrapped = foolbox.PyTorchModel(TwoClassLogits(model.to(torch.float64)).eval(), bounds=BOUNDS)
    labels = (signs > 0).long()
    flips = {}
    for name, attack in suite().items():
        _, _, success = attack(wrapped, x.to(torch.float64), labels, epsilons=list(radii))
        flips[name] = success.cpu()
    return flips


def library_best_accuracy(
    model: torch.nn.Module, x: torch.Tensor, signs: torch.Tensor, radii: list[float]
) -> list[float]:
    """Per radius, the share of points that no attack of the suite flips (points already wrong count as flipped)."""
    flips = library_flips(model, x, signs, radii)
    with torch.no_grad():
        wrong = ~(signs * model.to(torch.float64)(x.to(torch.float64)) > 0)
    union = wrong[None, :] | torch.stack(list(flips.values())).any(dim=0)
    return [float((~flipped).to(torch.float64).mean()) for flipped in union]
