"""Atomic writes of text and JSON, with the standard library only (steps that write tables and
manifests need not import torch)."""

import json
import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; rename it onto `path` only if the body succeeds.

    A kill mid-write leaves at worst a stray temp file, never a truncated file under the
    final name that Snakemake would take for finished output.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = create_beside(target)
    mode = stat.S_IMODE(tmp.stat().st_mode)
    try:
        yield tmp
        # A writer may replace the file with one of its own (safetensors writes its files with mode 0600).
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_beside(target: Path) -> Path:
    """A new empty file with a unique name beside target, created with mode 0666 less the umask, as
    ordinary tools create files (tempfile.mkstemp's 0600 would hide results from the user's group)."""
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, record: dict) -> None:
    write_text(path, json.dumps(record, indent=2, sort_keys=True, allow_nan=True) + "\n")


def read_json(path: str | os.PathLike) -> dict:
    return json.loads(Path(path).read_text())
