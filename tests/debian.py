"""The Debian programs some tests drive (SLURM, munge, Chromium): installed by .ci/install-system-packages.

Tests never install packages. One whose programs are missing is skipped with a reason that names the
install script, and fails with the same reason under CI (the environment variable CI set), so a green CI
means it ran.
"""

import os
from dataclasses import dataclass
from pathlib import Path

INSTALL_SCRIPT = ".ci/install-system-packages"


@dataclass(frozen=True)
class Tools:
    """Programs some tests run, and the Debian packages INSTALL_SCRIPT installs them from."""

    programs: tuple[str, ...]
    packages: tuple[str, ...]


SLURM = Tools(
    programs=("/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/bin/squeue", "/usr/bin/srun")
    + ("/usr/bin/sinfo", "/usr/bin/scancel", "/usr/sbin/munged", "/usr/sbin/mungekey"),
    packages=("slurmctld", "slurmd", "slurm-client", "munge"),
)
CHROMIUM = Tools(programs=("/usr/bin/chromium", "/usr/bin/chromedriver"), packages=("chromium", "chromium-driver"))
EVERY_TOOL = (SLURM, CHROMIUM)


def missing_reason(tools: Tools) -> str | None:
    """Why these programs cannot be used, or None when all of them are installed."""
    missing = [program for program in tools.programs if not Path(program).exists()]
    if not missing:
        return None
    return (
        f"{', '.join(missing)} not installed: run {INSTALL_SCRIPT} as root "
        f"(it installs the Debian packages {' '.join(tools.packages)})"
    )


def skip_or_fail(reason: str) -> None:
    """Skip the test with `reason`; under CI, fail with it instead."""
    import pytest  # only here: tests/slurm/cluster.py imports this module outside pytest too

    if under_ci():
        pytest.fail(f"CI must run this test, but {reason}", pytrace=False)
    pytest.skip(reason)


def require(tools: Tools) -> None:
    """Skip (under CI, fail) the test unless every program is installed."""
    reason = missing_reason(tools)
    if reason is not None:
        skip_or_fail(reason)


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")
