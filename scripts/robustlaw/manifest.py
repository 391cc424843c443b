"""results/MANIFEST.sha256: every result file with its SHA-256, in `sha256sum -c` format."""

import hashlib
from pathlib import Path

from .files import write_text

MANIFEST_NAME = "MANIFEST.sha256"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(root: str | Path, files: list[str | Path]) -> None:
    """One line '<sha256>  <path relative to root>' per file, sorted by path."""
    root = Path(root)
    relative = sorted(Path(file).resolve().relative_to(root.resolve()).as_posix() for file in files)
    write_text(root / MANIFEST_NAME, "".join(f"{file_digest(root / name)}  {name}\n" for name in relative))


def verify_manifest(root: str | Path) -> list[str]:
    """Problems found (empty when every listed file exists with its recorded checksum)."""
    root = Path(root)
    manifest = root / MANIFEST_NAME
    if not manifest.is_file():
        return [f"{manifest}: no manifest"]
    problems = []
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        digest, separator, name = line.partition("  ")
        if not separator or len(digest) != 64:
            problems.append(f"{manifest}:{number}: not a '<sha256>  <path>' line")
        elif not (root / name).is_file():
            problems.append(f"{name}: missing")
        elif file_digest(root / name) != digest:
            problems.append(f"{name}: checksum differs from the manifest")
    return problems
