"""Training on a CUDA GPU: every method reaches the fit criterion there, and how long it takes.

The workflow trains on CUDA when the config sets `gpu: true` and a GPU is present (scripts/train.py);
this exercises that path through the same package functions on the default dataset, next to the
CPU, and checks the checkpoint written from GPU weights loads and evaluates on the CPU.

    .venv/bin/python benchmarks/cuda_training_check.py
"""

import tempfile
import time
from pathlib import Path

import torch

from robustlaw.data.synthetic import DatasetSpec, generate_dataset
from robustlaw.lipschitz.bracket import BracketSpec, lipschitz_bracket
from robustlaw.results.safetensor_files import load_checkpoint, save_checkpoint
from robustlaw.seeding import torch_generator
from robustlaw.settings import lipschitz_settings, trainer_settings
from robustlaw.training.fit import TrainSpec, train_full_batch
from robustlaw.training.models import MLP

METHODS = ("plain", "weight_decay", "gradient_penalty", "adversarial")


def main() -> None:
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this check runs only where a GPU is present")
    print(f"torch {torch.__version__}, device {torch.cuda.get_device_name()}")
    arrays = generate_dataset(DatasetSpec("sphere", 256, 128, 1000, "random_sign", 1.0, 1, 0))
    for device in ("cuda", "cpu"):
        x, y = (torch.from_numpy(arrays[name]).to(device) for name in ("x_train", "y_train"))
        for method in METHODS:
            for width in (64, 512):
                model = MLP(128, width, 2, generator=torch_generator("cuda-check", method, width)).to(device)
                trainer = trainer_settings(name=method, method=method, log_every=10**9)
                spec = TrainSpec.from_trainer(trainer, target_mse=0.01)
                start = time.perf_counter()
                result = train_full_batch(model, x, y, spec, generator=torch_generator("probes", method, width))
                if device == "cuda":
                    torch.cuda.synchronize()
                seconds = time.perf_counter() - start
                with tempfile.TemporaryDirectory() as folder:
                    path = Path(folder) / "model.safetensors"
                    save_checkpoint(path, model)
                    bracket = lipschitz_bracket(
                        load_checkpoint(path), BracketSpec.from_settings(lipschitz_settings(), seed=0)
                    )["bracket"]
                print(
                    f"{device:4} {method:16} k={width:4d} status={result.status:9} steps={result.steps:5d} "
                    f"train_mse={result.train_mse:.4f} {seconds:6.2f} s  Lip in [{bracket['lip_lower']:.3f}, "
                    f"{bracket['lip_upper']:.3f}]",
                    flush=True,
                )
                assert result.fitted, f"{method} k={width} did not fit on {device}"


if __name__ == "__main__":
    main()
