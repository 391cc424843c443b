"""The Debian programs some tests need: installed by .ci/install-system-packages, required by the tests."""

import re

import pytest
from debian import EVERY_TOOL, INSTALL_SCRIPT, Tools, require
from helpers import ROOT


def test_the_install_script_installs_every_package_a_test_requires():
    script = (ROOT / INSTALL_SCRIPT).read_text()
    listed = re.search(r"^PACKAGES=\(([^)]*)\)$", script, flags=re.MULTILINE).group(1).split()
    assert sorted(listed) == sorted({package for tools in EVERY_TOOL for package in tools.packages})


def test_a_test_missing_its_programs_is_skipped_and_fails_under_ci_both_naming_the_install_script(
    tmp_path, monkeypatch
):
    absent = Tools(programs=(str(tmp_path / "no-such-program"),), packages=("some-package",))
    expected = rf"no-such-program not installed: run {re.escape(INSTALL_SCRIPT)} as root .*some-package"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=expected):
        require(absent)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run this test, but .*" + expected):
        require(absent)
    present = Tools(programs=(str(ROOT / INSTALL_SCRIPT),), packages=("some-package",))
    require(present)
