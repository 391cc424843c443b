"""The warm worker: rule steps run in children forked from one server, with the same results."""

import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from helpers import ROOT, data_job, validated_config

from robustlaw.io import load_dataset
from robustlaw.steps import RuleJob, rule_job

SCRIPTS = ROOT / "scripts"


def run_client(tmp_path: Path, step: str, job: RuleJob, worker: str = "on", wait: bool = True):
    """A rule script's process: python with the package on its path, calling run_step."""
    job_file = tmp_path / f"{step}-{time.monotonic_ns()}.pickle"
    job_file.write_bytes(pickle.dumps(job))
    job_text = f"pickle.loads(pathlib.Path({str(job_file)!r}).read_bytes())"
    code = f"import pathlib, pickle; from robustlaw.worker import run_step; run_step({step!r}, {job_text})"
    environment = dict(
        os.environ,
        PYTHONPATH=str(SCRIPTS),
        XDG_RUNTIME_DIR=str(tmp_path),
        ROBUSTLAW_WORKER=worker,
        ROBUSTLAW_WORKER_IDLE="60",
    )
    command = [sys.executable, "-c", code]
    if not wait:
        return subprocess.Popen(command, env=environment, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=300)


def servers(tmp_path: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = process.info["cmdline"] or []
        if "robustlaw.worker" in command and any(str(tmp_path) in part for part in command):
            found.append(process)
    return found


@pytest.fixture
def runtime(tmp_path):
    """A private socket folder, and every server started there stopped afterwards."""
    yield tmp_path
    for server in servers(tmp_path):
        server.kill()


def test_steps_on_one_warm_server_write_the_bytes_a_fresh_process_writes(runtime):
    first = run_client(runtime, "generate_data", data_job(runtime, "on_first"))
    second = run_client(runtime, "generate_data", data_job(runtime, "on_second"))
    fresh = run_client(runtime, "generate_data", data_job(runtime, "off"), worker="off")
    assert first.returncode == second.returncode == fresh.returncode == 0, first.stderr + second.stderr + fresh.stderr
    # safetensors writes its metadata keys in a per-process hash order, so compare what the files hold.
    (arrays, meta), *others = [
        load_dataset(runtime / f"{name}.safetensors") for name in ("on_second", "off", "on_first")
    ]
    for other_arrays, other_meta in others:
        assert other_meta == meta and other_arrays.keys() == arrays.keys()
        assert all(np.array_equal(arrays[key], other_arrays[key]) for key in arrays)
    assert len(servers(runtime)) == 1  # the second job found the first one's server


def test_a_failing_step_fails_its_job_with_the_traceback_on_the_job_stderr(runtime):
    missing = runtime / "missing.safetensors"
    outputs = {"floor": str(runtime / "f.json")}
    job = rule_job("data_floor", {"data": str(missing)}, outputs, {}, {"dataset": "missing"}, str(runtime / "f.log"))
    result = run_client(runtime, "data_floor", job)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and str(missing) in result.stderr
    assert not (runtime / "f.json").exists()


def test_a_cancelled_job_stops_its_forked_child(runtime):
    assert run_client(runtime, "generate_data", data_job(runtime)).returncode == 0
    config = validated_config()
    dataset, trainer = config["datasets"][0], dict(config["trainers"][0], learning_rate=0.0, max_steps=10**9)
    model = {"family": "mlp", "activation": "relu", "depth": 2, "width": 16}
    outputs = {"models": str(runtime / "models")}
    wildcards = {"dataset": "d", "model": "relu2-k16", "trainer": "long"}
    params = {"seeds": [0], "device": "cpu", "dataset": dataset, "model": model, "trainer": trainer}
    data = {"data": str(runtime / "data.safetensors")}
    job = rule_job("train", data, outputs, params, wildcards, str(runtime / "train.log"))
    client = run_client(runtime, "train", job, wait=False)
    [server] = servers(runtime)
    deadline = time.monotonic() + 60
    while not server.children() and time.monotonic() < deadline:
        time.sleep(0.1)
    [child] = server.children()
    client.send_signal(signal.SIGKILL)
    client.wait()
    assert psutil.wait_procs([child], timeout=10)[1] == []  # gone, not still training
    assert not list(runtime.glob("models/seed0.*"))


def test_a_killed_server_is_replaced_by_the_next_job(runtime):
    assert run_client(runtime, "generate_data", data_job(runtime, "before")).returncode == 0
    [server] = servers(runtime)
    server.kill()
    server.wait(10)
    assert list(runtime.glob("robustlaw-worker-*/*.sock"))  # a stale socket left behind
    result = run_client(runtime, "generate_data", data_job(runtime, "after"))
    assert result.returncode == 0, result.stderr
    [replacement] = servers(runtime)
    assert replacement.pid != server.pid


def test_an_edited_package_gets_its_own_server(tmp_path):
    package = tmp_path / "scripts" / "robustlaw"
    shutil.copytree(SCRIPTS / "robustlaw", package, ignore=shutil.ignore_patterns("__pycache__"))

    def address() -> str:
        code = "from robustlaw.worker import server_address; print(server_address())"
        environment = dict(os.environ, PYTHONPATH=str(package.parent), XDG_RUNTIME_DIR=str(tmp_path))
        return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True).stdout

    before = address()
    (package / "lipschitz_upper.py").write_text((package / "lipschitz_upper.py").read_text() + "\n# an edit\n")
    assert address() != before and before.startswith(str(tmp_path))
