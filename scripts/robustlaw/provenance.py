"""What produced a table: the resolved config, package versions, the project's commit, the columns.

Stored as key-value metadata of every Parquet file we write. Nothing here depends on the time or
the machine, so a rerun with the same config and software writes the same bytes.
"""

import json
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = ("torch", "numpy", "pandas", "pyarrow", "safetensors", "snakemake")
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


def table_metadata(config: dict, columns: dict[str, tuple[str, str]]) -> dict[str, str]:
    dictionary = {name: {"unit": unit, "meaning": meaning} for name, (unit, meaning) in columns.items()}
    return {
        f"{PREFIX}config": json.dumps(config, sort_keys=True),
        f"{PREFIX}versions": json.dumps(package_versions(), sort_keys=True),
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
