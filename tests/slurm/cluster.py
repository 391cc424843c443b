"""A real one-node SLURM (munge, slurmctld, slurmd from Debian) for the tests, started and stopped by PID.

    python3 tests/slurm/cluster.py up          # prints the directory that holds its logs and PIDs
    python3 tests/slurm/cluster.py down DIR

Everything the cluster owns lives in one fresh directory: its slurm.conf (SLURM_CONF for the clients,
-f for the daemons), state, spool, logs, PID files, and a munged of its own with its own key and socket
(slurm.conf's AuthInfo points the clients at it). The daemons listen on free ports. So it neither reads
nor writes /etc/slurm, /etc/munge or /var, and coexists with a SLURM installed, configured or running on
the machine, and with another test session's cluster.

The Snakemake jobstep plugin strips SLURM_CONF from the environment of the `srun` it runs inside each
job; the cluster's bin/srun, first on the PATH that the jobs inherit, puts it back.

The programs come from .ci/install-system-packages; the tests do not install them.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# tests/ holds debian.py: on sys.path under pytest already, not when this file runs as a script.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import debian  # noqa: E402

SRUN = "/usr/bin/srun"
# munged refuses a socket or key below a directory others may write to; /run is root's, mode 0755.
PARENT = Path("/run")
# Finished jobs stay visible to squeue this long: the Snakemake plugin's squeue status mode needs it,
# and the tests read the job history from it (there is no accounting database), even on a slow machine.
MIN_JOB_AGE_S = 3600
# Client settings a caller (a CI job inside SLURM, a user's shell) may carry; they belong to another cluster.
FOREIGN_SETTINGS = ("SLURM_", "SBATCH_", "SRUN_", "SALLOC_", "SQUEUE_", "SINFO_", "SCANCEL_")


class Unavailable(RuntimeError):
    """This machine cannot host the cluster (not root, or SLURM and munge not installed)."""


def unavailable_reason() -> str | None:
    """Why this machine cannot run a SLURM cluster, or None when it can."""
    if os.geteuid() != 0:
        return "starting slurmctld and slurmd (as SlurmUser root, as the tests run jobs) needs root"
    return debian.missing_reason(debian.SLURM)


def node_hardware() -> dict[str, int]:
    """The node's topology as slurmd measures it, and RealMemory a little under the machine's memory.

    Declaring more memory than slurmd later finds would drain the node; the margin keeps it usable.
    """
    probe = subprocess.run(["/usr/sbin/slurmd", "-C"], capture_output=True, text=True, timeout=60, check=True)
    found = dict(re.findall(r"(\w+)=(\d+)", probe.stdout.splitlines()[0]))
    meminfo = Path("/proc/meminfo").read_text()
    total_mb = int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, flags=re.MULTILINE).group(1)) // 1024
    keys = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore")
    memory_mb = int(min(int(found["RealMemory"]), total_mb) * 0.95)
    return {**{key: int(found[key]) for key in keys}, "RealMemory": memory_mb}


def free_ports(count: int) -> list[int]:
    """Ports free now, all different: each probe stays bound until all are chosen."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def slurm_conf(root: Path, node: str, hardware: dict[str, int]) -> str:
    node_line = " ".join(f"{key}={value}" for key, value in hardware.items())
    controller_port, node_port = free_ports(2)
    return f"""\
# Test cluster written by robustlaw tests/slurm/cluster.py; its daemons keep their files in {root}.
ClusterName=robustlaw
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={controller_port}
SlurmdPort={node_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge/socket
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
# No cgroups without systemd: plain process tracking, no task containment, no MPI plugin.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default, a job that gives no --mem takes the whole node and jobs run one at a time.
DefMemPerCPU=1024
MinJobAge={MIN_JOB_AGE_S}
# A request larger than the partition fails at sbatch with the scheduler's reason, not pending forever.
EnforcePartLimits=ALL
ReturnToService=2
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
NodeName={node} NodeAddr=127.0.0.1 {node_line} State=UNKNOWN
PartitionName=main Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


@dataclass
class Cluster:
    root: Path
    hardware: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """The environment for SLURM clients (sbatch, squeue, Snakemake and its jobs): this cluster's
        slurm.conf and bin/srun; nothing inherited may send them to another cluster."""
        inherited = {name: value for name, value in os.environ.items() if not name.startswith(FOREIGN_SETTINGS)}
        path = os.pathsep.join([str(self.root / "bin"), inherited.get("PATH", os.defpath)])
        return {**inherited, "SLURM_CONF": str(self.conf), "PATH": path}

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=300, check=check)

    def jobs(self) -> list[dict[str, str]]:
        """Every job of the last MIN_JOB_AGE_S seconds, finished ones included, oldest first."""
        fields = ("id", "name", "state", "memory", "cpus", "comment")
        listing = self.run("squeue", "--noheader", "--states=all", "--sort=i", "--format=%i|%j|%T|%m|%C|%k").stdout
        return [dict(zip(fields, line.split("|", 5), strict=True)) for line in listing.splitlines() if line]

    def start_daemon(self, name: str, command: list[str], user: str | None = None) -> None:
        as_user = {} if user is None else {"user": user, "group": user, "extra_groups": []}
        with open(self.root / f"{name}.out", "ab") as output:
            # Their own session: a Ctrl-C aimed at pytest must not kill them before stop() has cancelled
            # the jobs.
            process = subprocess.Popen(
                command, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, **as_user
            )
        self.processes[name] = process
        self.pids[name] = process.pid
        (self.root / "pids.json").write_text(json.dumps(self.pids))

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail()}")

    def log_tail(self) -> str:
        parts = []
        for log in sorted(self.root.glob("*.log")) + sorted(self.root.glob("*.out")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def wait_until_idle(self, timeout_s: float = 300) -> None:
        deadline, state = time.monotonic() + timeout_s, ""
        while time.monotonic() < deadline:
            self.check_alive()
            state = self.run("sinfo", "--noheader", "--format=%T", check=False).stdout.strip()
            if state == "idle":
                return
            time.sleep(0.2)
        raise RuntimeError(f"node not idle after {timeout_s:.0f} s (sinfo: {state!r}):\n{self.log_tail()}")

    def stop(self) -> None:
        """Cancel the jobs still queued or running, then SIGTERM each daemon by PID (SIGKILL after 10 s)."""
        live = self.run("squeue", "--noheader", "--states=PENDING,RUNNING,CONFIGURING", "--format=%i", check=False)
        if live.returncode == 0 and live.stdout.split():
            self.run("scancel", *live.stdout.split(), check=False)
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self.pids.pop(name, None)
            if pid is not None:
                terminate(pid, self.processes.pop(name, None))
        (self.root / "pids.json").write_text(json.dumps(self.pids))


def terminate(pid: int, process: subprocess.Popen | None, grace_s: float = 10) -> None:
    def gone() -> bool:
        if process is not None:
            return process.poll() is not None
        return not Path(f"/proc/{pid}").exists()

    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while not gone():
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            if process is not None:
                process.wait(timeout=10)
            return
        time.sleep(0.1)


def start() -> Cluster:
    """Bring up a cluster of its own (a few seconds)."""
    reason = unavailable_reason()
    if reason:
        raise Unavailable(reason)
    hardware = node_hardware()
    root = Path(tempfile.mkdtemp(prefix="robustlaw-slurm-", dir=PARENT))
    root.chmod(0o755)
    cluster = Cluster(root=root, hardware=hardware)
    try:
        launch(cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def launch(cluster: Cluster) -> None:
    root, munge = cluster.root, cluster.root / "munge"
    for directory in (munge, root / "state", root / "spool"):
        directory.mkdir(mode=0o700)
    shutil.chown(munge, "munge", "munge")
    munge.chmod(0o755)
    # A fresh key per cluster: nothing outside this directory can authenticate to it.
    subprocess.run(
        ["/usr/sbin/mungekey", "--create", f"--keyfile={munge}/key"],
        check=True,
        capture_output=True,
        timeout=60,
        user="munge",
        group="munge",
        extra_groups=[],
    )
    # slurmctld runs only on the host its config names; the addresses in the config spare a name lookup.
    node = socket.gethostname().split(".")[0]
    cluster.conf.write_text(slurm_conf(root, node, cluster.hardware))
    bin_dir = root / "bin"
    bin_dir.mkdir()
    srun = bin_dir / "srun"
    srun.write_text(f'#!/bin/sh\nSLURM_CONF={cluster.conf} exec {SRUN} "$@"\n')
    srun.chmod(0o755)
    munged = ["/usr/sbin/munged", "--foreground", f"--socket={munge}/socket", f"--key-file={munge}/key"]
    munged += [f"--pid-file={munge}/pid", f"--log-file={munge}/log", f"--seed-file={munge}/seed"]
    cluster.start_daemon("munged", munged, user="munge")
    deadline = time.monotonic() + 120
    while not (munge / "socket").exists():
        cluster.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"munged made no socket in 120 s:\n{cluster.log_tail()}")
        time.sleep(0.05)
    cluster.start_daemon("slurmctld", ["/usr/sbin/slurmctld", "-D", "-f", str(cluster.conf)])
    cluster.start_daemon("slurmd", ["/usr/sbin/slurmd", "-D", "-f", str(cluster.conf), "-N", node])
    cluster.wait_until_idle()


def main(argv: list[str]) -> None:
    if argv[:1] == ["up"]:
        cluster = start()
        print(cluster.root)
        print(f"clients: export SLURM_CONF={cluster.conf} PATH={cluster.root / 'bin'}:$PATH", file=sys.stderr)
    elif len(argv) == 2 and argv[0] == "down":
        root = Path(argv[1])
        Cluster(root=root, pids=json.loads((root / "pids.json").read_text())).stop()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
