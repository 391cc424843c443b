"""The documentation cannot drift from what runs: every command it shows in a `bash` block and every
Python snippet is run by CI as written (.ci/documented-commands, then the test command in .ci/run), and the
column dictionary is generated."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SCRIPT = ROOT / ".ci" / "documented-commands"
# What CI runs: the documented commands, then the README's test command.
CI_SCRIPTS = [SCRIPT, ROOT / ".ci" / "run"]
FENCE = re.compile(r"^(?P<indent> *)```(?P<language>\w*)\n(?P<body>.*?)^(?P=indent)```$", re.MULTILINE | re.DOTALL)
# <dataset>, <id>, <folder>: a reader would have to fill these in, so CI could not run the line as written.
PLACEHOLDER = re.compile(r"<[A-Za-z_]+>")


def code_blocks(language: str) -> list[tuple[str, str]]:
    """(document name, block text with its list indentation removed) of every fenced block in `language`."""
    blocks = []
    for document in DOCUMENTS:
        for match in FENCE.finditer(document.read_text()):
            if match["language"] == language:
                indent = len(match["indent"])
                text = "".join(line[indent:] for line in match["body"].splitlines(keepends=True))
                blocks.append((document.name, text))
    return blocks


def command_lines(text: str) -> list[str]:
    """The shell commands of a text, a line continued with a trailing backslash joined to the next."""
    joined = re.sub(r"\\\n\s*", "", text)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_every_code_block_is_run_or_marked_as_not_run():
    """A block in sh, shell or no language would escape the checks below: bash and python blocks are run by
    CI, console blocks (cluster commands, long benchmarks) and text, yaml blocks are not."""
    for document in DOCUMENTS:
        for match in FENCE.finditer(document.read_text()):
            assert match["language"] in {"bash", "python", "console", "text", "yaml"}, (
                f"{document.name}: a ```{match['language']} block; use bash (run by CI) or console (not run)"
            )


def test_the_docs_show_commands_and_the_script_is_executable():
    assert code_blocks("bash"), "no bash block found: the fence pattern no longer matches the docs"
    assert SCRIPT.stat().st_mode & 0o111, f"{SCRIPT} is not executable"


def block_ids(blocks: list[tuple[str, str]]) -> list[str]:
    return [f"{document}-{index}" for index, (document, _) in enumerate(blocks)]


@pytest.mark.parametrize("document, block", code_blocks("bash"), ids=block_ids(code_blocks("bash")))
def test_every_documented_command_is_run_by_ci_as_written(document, block):
    run = {line for script in CI_SCRIPTS for line in command_lines(script.read_text())}
    for line in command_lines(block):
        assert not PLACEHOLDER.search(line), f"{document}: placeholder in a runnable command: {line}"
        assert line in run, f"{document}: `{line}` is run by neither .ci/documented-commands nor .ci/run"


@pytest.mark.parametrize("document, block", code_blocks("python"), ids=block_ids(code_blocks("python")))
def test_every_documented_python_snippet_is_run_by_ci_as_written(document, block):
    assert block in SCRIPT.read_text(), f"{document}: a Python snippet not run by {SCRIPT.relative_to(ROOT)}"


def test_columns_page_is_the_output_of_robustlaw_columns():
    command = [str(Path(sys.executable).with_name("robustlaw")), "columns"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    page = (ROOT / "docs" / "columns.md").read_text()
    assert page == result.stdout, "docs/columns.md is stale: regenerate it with `robustlaw columns > docs/columns.md`"
