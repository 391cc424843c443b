"""Debian packages a test needs, installed on demand: tests skip only where that is impossible.

CI machines start bare, so a test that needs a system program installs it with apt-get (as root).
It is skipped with the reason only on a machine that can neither run nor install it, and under CI
(the environment variable CI set) it fails instead of skipping, so a green CI means it ran.
"""

import os
import shutil
import subprocess
from pathlib import Path


def unavailable_reason(programs: tuple[str, ...], packages: tuple[str, ...]) -> str | None:
    if all(Path(program).exists() for program in programs):
        return None
    if os.geteuid() != 0:
        return f"{' '.join(packages)} not installed, and installing Debian packages needs root"
    if shutil.which("apt-get") is None:
        return f"{' '.join(packages)} not installed, and there is no apt-get"
    return None


def install(programs: tuple[str, ...], packages: tuple[str, ...]) -> None:
    if all(Path(program).exists() for program in programs):
        return
    # Without recommends: SLURM's alone are 35 packages nothing here uses.
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *packages]):
        result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def require(programs: tuple[str, ...], packages: tuple[str, ...]) -> None:
    """Install the packages if needed; skip (or, under CI, fail) where this machine cannot."""
    import pytest  # only here: tests/slurm/cluster.py imports this module outside pytest too

    reason = unavailable_reason(programs, packages)
    if reason is not None:
        if under_ci():
            pytest.fail(f"CI must run this test, but {reason}")
        pytest.skip(reason)
    install(programs, packages)


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")
