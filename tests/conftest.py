import sys
from pathlib import Path

import pytest
import torch

# Test modules share helpers.py, which sits beside this file.
sys.path.insert(0, str(Path(__file__).parent))

from helpers import copy_workflow, snakemake  # noqa: E402


@pytest.fixture(scope="session")
def workflow(tmp_path_factory) -> Path:
    """A private copy of the workflow, so a test may edit its code without touching the repository."""
    return copy_workflow(tmp_path_factory.mktemp("workflow"))


@pytest.fixture(scope="session")
def finished_run(workflow, tmp_path_factory) -> Path:
    """One complete run of the tiny config, the reference the other runs are compared with."""
    workdir = tmp_path_factory.mktemp("run")
    snakemake(workflow, workdir)
    return workdir


@pytest.fixture(scope="module")
def one_thread():
    """One thread, as the rule runs: on a shared machine torch's default thread pool mostly waits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
