"""Project hygiene a user relies on: linters clean, one set of pins, the evaluator on a hand-made file."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from helpers import ROOT
from safetensors.torch import save_file

from robustlaw.results.safetensor_files import save_dataset

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "snakefmt"), "--check", "."],
        [str(BIN / "snakemake"), "--lint"],
    ],
    ids=["ruff", "ruff-format", "snakefmt", "snakemake-lint"],
)
def test_linters_are_clean(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_conda_environment_installs_the_same_pins_as_requirements():
    requirements = [
        line.strip()
        for line in (ROOT / "envs" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    environment = yaml.safe_load((ROOT / "envs" / "robustlaw.yaml").read_text())
    pip_section = next(entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict))
    assert pip_section == requirements
    assert all("==" in requirement for requirement in requirements)
    assert any(requirement.startswith("torch==") for requirement in requirements)


def evaluate(checkpoint: Path, *options: str) -> subprocess.CompletedProcess:
    """`robustlaw evaluate CHECKPOINT [OPTIONS]`, the installed command the README gives readers."""
    command = [str(Path(sys.executable).with_name("robustlaw")), "evaluate", str(checkpoint), *options]
    return subprocess.run(command, cwd=checkpoint.parent, capture_output=True, text=True, timeout=300)


def test_standalone_evaluator_reads_a_checkpoint_written_without_the_project(tmp_path):
    """A one-neuron net written with safetensors alone, per the README: its bracket is |a| ||w||."""
    weight = torch.tensor([[3.0, 4.0]])
    tensors = {
        "layers.0.weight": weight,
        "layers.0.bias": torch.tensor([0.5]),
        "layers.1.weight": torch.tensor([[-2.0]]),
        "layers.1.bias": torch.tensor([0.0]),
    }
    path = tmp_path / "hand-made.safetensors"
    save_file(tensors, str(path), metadata={"format": "robustlaw-mlp/1", "activation": "relu", "depth": "2"})
    result = evaluate(path)
    assert result.returncode == 0, result.stderr
    bracket = json.loads(result.stdout)
    assert bracket["lip_lower"] == pytest.approx(10.0, rel=1e-9)
    assert bracket["lip_upper"] == pytest.approx(10.0, rel=1e-8)
    assert bracket["lip_domain"] == "R^d"


def test_standalone_evaluator_brackets_robust_accuracy_at_the_radii_asked_for(tmp_path):
    """f(x) = relu(3 x1 + 4 x2 + 5) - 4 changes sign exactly on the line 3 x1 + 4 x2 = -1 and, on the unit
    circle, equals 3 x1 + 4 x2 + 1: the smallest perturbation that flips a point is |f(x)| / 5, and both
    ends of the bracket are the exact share of right-signed points farther than r from the line."""
    tensors = {
        "layers.0.weight": torch.tensor([[3.0, 4.0]]),
        "layers.0.bias": torch.tensor([5.0]),
        "layers.1.weight": torch.tensor([[1.0]]),
        "layers.1.bias": torch.tensor([-4.0]),
    }
    path = tmp_path / "line.safetensors"
    save_file(tensors, str(path), metadata={"format": "robustlaw-mlp/1", "activation": "relu", "depth": "2"})
    angles = torch.linspace(0, 6.2, 40, dtype=torch.float64)
    points = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1).float()
    labels = torch.where(torch.arange(40) % 3 == 0, -1.0, 1.0)
    arrays = {"x_train": points[:20], "y_train": labels[:20], "x_test": points[20:], "y_test": labels[20:]}
    save_dataset(tmp_path / "data.safetensors", {key: value.numpy() for key, value in arrays.items()}, {})
    result = evaluate(path, "--dataset", str(tmp_path / "data.safetensors"), "--radii", "0.1", "0.3")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["robustness"]
    assert [(row["split"], row["radius"]) for row in rows] == [
        ("train", 0.1),
        ("train", 0.3),
        ("test", 0.1),
        ("test", 0.3),
    ]
    for row in rows:
        split = row["split"]
        values = 3 * arrays[f"x_{split}"][:, 0] + 4 * arrays[f"x_{split}"][:, 1] + 1
        margins = arrays[f"y_{split}"].sign() * values
        exact = float(((margins > 0) & (values.abs() / 5 > row["radius"])).double().mean())
        assert row["certified_accuracy"] == pytest.approx(exact) and row["attacked_accuracy"] == pytest.approx(exact)
        assert row["clean_accuracy"] == pytest.approx(float((margins > 0).double().mean()))
    refused = evaluate(path, "--radii", "0.1")
    assert refused.returncode == 2 and "--radii needs --dataset" in refused.stderr


def test_standalone_evaluator_names_a_broken_file(tmp_path):
    path = tmp_path / "not-a-model.safetensors"
    path.write_bytes(b"\x00" * 40)
    result = evaluate(path)
    assert result.returncode != 0
    assert "not-a-model.safetensors" in result.stderr


def test_license_and_citation_agree_and_cite_the_article():
    """A reader can reuse the code (LICENSE) and cite it and the article it measures (CITATION.cff)."""
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["title"] and citation["authors"]
    assert (ROOT / "LICENSE").read_text().startswith(f"{citation['license']} License")
    assert "Universal Law of Robustness" in citation["preferred-citation"]["title"]
    project = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{citation["version"]}"' in project


def test_the_command_line_answers_help_and_version_and_names_a_missing_command():
    """`robustlaw --help` and `robustlaw COMMAND --help` exit 0, `--version` prints the installed version,
    and a missing or unknown command is an argparse usage error (exit 2) listing the commands."""
    command = str(Path(sys.executable).with_name("robustlaw"))
    run = lambda *args: subprocess.run([command, *args], capture_output=True, text=True)  # noqa: E731
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"robustlaw {pinned_project_version()}"
    for args in (["--help"], *([name, "--help"] for name in ("evaluate", "check-config", "verify", "compare"))):
        assert run(*args).returncode == 0, args
    for args in ([], ["unknown"]):
        missing = run(*args)
        assert missing.returncode == 2 and "evaluate" in missing.stderr and "compare" in missing.stderr, args


def pinned_project_version() -> str:
    return next(
        line.split('"')[1] for line in (ROOT / "pyproject.toml").read_text().splitlines() if line.startswith("version")
    )
