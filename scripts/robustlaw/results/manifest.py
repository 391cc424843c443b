"""The results folder's manifests, in `sha256sum -c` format: MANIFEST.sha256 lists every result file that a
rerun of the same config and software on the same machine writes byte for byte again;
MANIFEST-timings.sha256 lists apart the timing files (timings.tsv and timings/), which differ on every run."""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from robustlaw.files import write_text
from robustlaw.results.paths import CLOSED_FORM

MANIFEST_NAME = "MANIFEST.sha256"
TIMINGS_MANIFEST_NAME = "MANIFEST-timings.sha256"
# In no manifest: they hold time stamps and timings (report.html: `snakemake --report`, made on demand).
UNLISTED_FOLDERS = ("logs", "benchmarks")
UNLISTED_FILES = (MANIFEST_NAME, TIMINGS_MANIFEST_NAME, "report.html")
SNAKEMAKE_TIMESTAMP = ".snakemake_timestamp"


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


def outside(root: Path, name: str) -> bool:
    """Whether a manifest path leads out of root: absolute, through '..', or through a symbolic link."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        return True
    return not (root / name).resolve().is_relative_to(root.resolve())


def differing_files(listed: dict[str, str], root: Path) -> list[tuple[str, str]]:
    """(name, what is wrong) of each listed file under root that is missing or has another checksum; a
    path that leads out of root is wrong too and is not read."""
    differing = []
    for name, digest in listed.items():
        if outside(root, name):
            differing.append((name, f"outside {root}, not checked (a manifest lists files under its folder)"))
        elif not (root / name).is_file():
            differing.append((name, "missing"))
        elif file_digest(root / name) != digest:
            differing.append((name, "checksum differs from the manifest"))
    return differing


def rebuilt_output(name: str) -> str:
    """The output of the job that writes a result file (relative to the results folder): the folder a
    job writes whole (a configuration's models, a dataset's controls, a sweep's brackets or robust
    accuracies; paths.MODEL_FOLDER and the SERIES_ folders), else the file itself."""
    parts = PurePosixPath(name).parts
    if parts[0] == "models" and len(parts) > 4 and parts[2] != CLOSED_FORM:
        return "/".join(parts[:4])
    if parts[0] in ("models", "lipschitz", "robustness") and len(parts) > 3:
        return "/".join(parts[:3])
    return name


def present_files(root: Path) -> tuple[list[str], list[str]]:
    """(files, links out of root) under root, as paths relative to it, symbolic links not followed.
    Not results: logs/, benchmarks/ and report.html (time stamps and timings), the manifests themselves,
    and the .snakemake_timestamp that Snakemake leaves in each folder a rule writes."""
    files, links = [], []
    for folder, folders, names in os.walk(root):
        here = Path(folder)
        if here == root:
            folders[:] = [name for name in folders if name not in UNLISTED_FOLDERS]
            names = [name for name in names if name not in UNLISTED_FILES]
        for name in [*folders, *names]:
            path = here / name
            if path.is_symlink() and outside(root, path.relative_to(root).as_posix()):
                links.append(path.relative_to(root).as_posix())
        files += [(here / name).relative_to(root).as_posix() for name in names if name != SNAKEMAKE_TIMESTAMP]
    return sorted(files), sorted(links)


@dataclass(frozen=True)
class Verification:
    """A results folder checked against a folder's manifests (its own, or a published one's)."""

    problems: list[str]  # files that must match and do not, broken manifest lines: the check fails
    damaged: list[str]  # listed files missing or changed, relative to the results folder
    checked: int  # files listed in MANIFEST.sha256
    timing_files: int  # files listed in MANIFEST-timings.sha256 (0 where there is none)
    differing_timings: list[str]  # timing files missing or changed: expected after a rerun, not a failure


def verify_results(root: str | Path, reference: str | Path | None = None) -> Verification:
    """Check the files under root against the manifests in reference (default: root itself).

    A manifest that lists no file, a listed path that leads out of root, a file under root that no
    manifest lists (a result the reference does not have, a stray file) and a symbolic link out of
    root are problems too.
    """
    root = Path(root)
    reference = root if reference is None else Path(reference)
    manifest = reference / MANIFEST_NAME
    if not manifest.is_file():
        return Verification([f"{manifest}: no manifest"], [], 0, 0, [])
    listed, problems = read_manifest(manifest)
    if not listed:
        problems.append(f"{manifest}: lists no files")
    differing = differing_files(listed, root)
    problems += [f"{name}: {reason}" for name, reason in differing]
    timings = reference / TIMINGS_MANIFEST_NAME
    timing_listed, timing_problems = read_manifest(timings) if timings.is_file() else ({}, [])
    problems += timing_problems
    files, links = present_files(root)
    problems += [f"{name}: not in {manifest}" for name in files if name not in listed and name not in timing_listed]
    problems += [f"{name}: a symbolic link out of {root}" for name in links]
    differing_timings = [f"{name}: {reason}" for name, reason in differing_files(timing_listed, root)]
    damaged = [name for name, _ in differing if not outside(root, name)]
    return Verification(problems, damaged, len(listed), len(timing_listed), differing_timings)
