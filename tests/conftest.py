import sys
from pathlib import Path

import pytest

# Test modules share helpers.py, which sits beside this file.
sys.path.insert(0, str(Path(__file__).parent))

from helpers import copy_workflow  # noqa: E402


@pytest.fixture(scope="session")
def workflow(tmp_path_factory) -> Path:
    """A private copy of the workflow, so a test may edit its code without touching the repository."""
    return copy_workflow(tmp_path_factory.mktemp("workflow"))
