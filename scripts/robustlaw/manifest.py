"""The results folder's manifests, in `sha256sum -c` format: MANIFEST.sha256 lists every result file that a
rerun of the same config and software on the same machine writes byte for byte again;
MANIFEST-timings.sha256 lists apart the timing files (timings.tsv and timings/), which differ on every run."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .files import write_text

MANIFEST_NAME = "MANIFEST.sha256"
TIMINGS_MANIFEST_NAME = "MANIFEST-timings.sha256"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(root: str | Path, files: list[str | Path], name: str = MANIFEST_NAME) -> None:
    """root/name: one line '<sha256>  <path relative to root>' per file, sorted by path."""
    root = Path(root)
    relative = sorted(Path(file).resolve().relative_to(root.resolve()).as_posix() for file in files)
    write_text(root / name, "".join(f"{file_digest(root / path)}  {path}\n" for path in relative))


def read_manifest(manifest: Path) -> tuple[dict[str, str], list[str]]:
    """(path -> digest, problems) of a manifest: each line not in '<sha256>  <path>' form is a problem."""
    listed, problems = {}, []
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        digest, separator, name = line.partition("  ")
        if separator and len(digest) == 64:
            listed[name] = digest
        else:
            problems.append(f"{manifest}:{number}: not a '<sha256>  <path>' line")
    return listed, problems


def differing_files(listed: dict[str, str], root: Path) -> list[str]:
    """Each listed file under root that is missing or has another checksum, with what is wrong."""
    differing = []
    for name, digest in listed.items():
        if not (root / name).is_file():
            differing.append(f"{name}: missing")
        elif file_digest(root / name) != digest:
            differing.append(f"{name}: checksum differs from the manifest")
    return differing


@dataclass(frozen=True)
class Verification:
    """A results folder checked against a folder's manifests (its own, or a published one's)."""

    problems: list[str]  # files that must match and do not, broken manifest lines: the check fails
    checked: int  # files listed in MANIFEST.sha256
    timing_files: int  # files listed in MANIFEST-timings.sha256 (0 where there is none)
    differing_timings: list[str]  # timing files missing or changed: expected after a rerun, not a failure


def verify_results(root: str | Path, reference: str | Path | None = None) -> Verification:
    """Check the files under root against the manifests in reference (default: root itself).

    Against a reference, a file that root's own MANIFEST.sha256 lists but the reference's does not
    is a problem too: the rerun made results the published folder does not have.
    """
    root = Path(root)
    reference = root if reference is None else Path(reference)
    manifest = reference / MANIFEST_NAME
    if not manifest.is_file():
        return Verification([f"{manifest}: no manifest"], 0, 0, [])
    listed, problems = read_manifest(manifest)
    problems += differing_files(listed, root)
    own = root / MANIFEST_NAME
    if reference != root and own.is_file():
        problems += [f"{name}: not in {manifest}" for name in sorted(read_manifest(own)[0].keys() - listed.keys())]
    timings = reference / TIMINGS_MANIFEST_NAME
    timing_listed, timing_problems = read_manifest(timings) if timings.is_file() else ({}, [])
    problems += timing_problems
    return Verification(problems, len(listed), len(timing_listed), differing_files(timing_listed, root))
