"""Issue 28, one test per case: configs that cannot run code, results that follow the umask, bad input
that stops with one line, a failed job's log, what verify refuses, and the repair verify prints."""

import copy
import subprocess
import sys
from pathlib import Path

import yaml
from helpers import SNAKEMAKE, TINY, run_environment

ROBUSTLAW = str(Path(sys.executable).with_name("robustlaw"))


def robustlaw(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([ROBUSTLAW, *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def templated_config(folder: Path) -> tuple[Path, Path]:
    """The tiny config as a YTE template whose one expression creates a marker file: (config, marker)."""
    marker = folder / "template-ran"
    templated = copy.deepcopy(TINY)
    templated["law_fit"]["min_p_over_n"] = f"?__import__('pathlib').Path({str(marker)!r}).touch() or 1.0"
    config = folder / "templated.yaml"
    config.write_text("__use_yte__: true\n" + yaml.safe_dump(templated))
    return config, marker


def test_check_config_refuses_a_yte_template_without_evaluating_it(tmp_path):
    config, marker = templated_config(tmp_path)
    result = robustlaw("check-config", str(config))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"config file '{config}': '__use_yte__' makes Snakemake run the file's templates as Python; "
        "a robustlaw config is plain YAML data: remove the key and any template"
    )
    assert not marker.exists()
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(TINY))
    assert robustlaw("check-config", str(plain)).returncode == 0


def test_check_config_refuses_yaml_tags_that_build_python_objects(tmp_path):
    config = tmp_path / "tagged.yaml"
    config.write_text(yaml.safe_dump(TINY) + "gpu: !!python/name:os.system\n")
    result = robustlaw("check-config", str(config))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"config file '{config}': not plain YAML data")


def test_the_workflow_refuses_a_yte_template_config_before_any_job(workflow, tmp_path):
    config, marker = templated_config(tmp_path)
    command = [SNAKEMAKE, "-s", str(workflow / "Snakefile"), "--directory", str(tmp_path)]
    command += ["--configfile", str(config), "--cores", "1", "--dry-run"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=run_environment(workflow))
    assert result.returncode != 0
    assert f"config file '{config}': '__use_yte__' makes Snakemake run" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()
    # Snakemake ran the template as it read the file, before any workflow code: hence check-config.
    assert marker.exists()
