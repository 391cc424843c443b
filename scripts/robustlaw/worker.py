"""Run each rule's step in a process forked from a warm interpreter.

A job of this pipeline is often a fraction of a second of work, while a fresh interpreter spends
about 1.5 s of CPU importing torch, pandas and matplotlib. So a rule script only calls
run_step(name, snakemake): it connects to a server over a Unix socket (starting one if none
answers) and hands over the job, its working directory, environment and standard streams. The
server has imported every step once; it forks a child per job, which runs exactly the code a
fresh process would run, and sends back the child's exit status. The server kills a job's child
when the job's script goes away (Snakemake cancelled it) and exits after ROBUSTLAW_WORKER_IDLE
seconds without work (default 30).

The server's address is a digest of the package's source, the interpreter and its import path,
the host, the user and the SLURM job step: an edited module, another environment or another
allocation never runs on a stale server. ROBUSTLAW_WORKER=off (the default off Linux) runs every
step in the script's own process instead; results are the same bytes either way (tested).

ROBUSTLAW_CPU_LOG, when set, names a file that gets one JSON line per step with the CPU seconds
and peak memory of the step itself (benchmarks/default_run.py sums them).
"""

import fcntl
import hashlib
import importlib
import json
import os
import pickle
import pkgutil
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

PACKAGE = Path(__file__).resolve().parent
HEADER = struct.Struct("!Q")  # length of the pickled request that follows the streams
STARTED = b"s"  # sent once the job's child exists: a connection lost before it may be retried
REPLY = struct.Struct("!idq")  # exit code, CPU seconds and peak memory (KiB) of the child
START_TIMEOUT_S = 300


def run_step(name: str, job: Any) -> None:
    """Run step `name` (robustlaw.steps.<name>.run) on a Snakemake job; exit as it did."""
    # Forking a process that has loaded torch and friends is safe on Linux; macOS's system
    # frameworks are not fork-safe, so elsewhere each step runs in the script's own process.
    if os.environ.get("ROBUSTLAW_WORKER", "on" if sys.platform == "linux" else "off") == "off":
        start = time.process_time()
        run_here(name, job)
        record_cpu(name, job, time.process_time() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return
    code, cpu_s, max_rss_kb = run_on_server(name, job)
    record_cpu(name, job, cpu_s, max_rss_kb)
    if code != 0:
        raise SystemExit(code)


def run_here(name: str, job: Any) -> None:
    importlib.import_module(f"{__package__}.steps.{name}").run(job)


def record_cpu(name: str, job: Any, cpu_s: float, max_rss_kb: int) -> None:
    """The step's CPU time and peak memory, at the end of the job's log (Snakemake's benchmark file
    measures the job's script, not the worker's child) and in ROBUSTLAW_CPU_LOG when set."""
    if job.log:
        with open(job.log[0], "a") as log:
            log.write(f"step {name}: {cpu_s:.2f} s of CPU, peak memory {max_rss_kb / 1024:.0f} MiB\n")
    path = os.environ.get("ROBUSTLAW_CPU_LOG")
    if path:
        with open(path, "a") as log:
            log.write(json.dumps({"step": name, "cpu_s": cpu_s, "max_rss_kb": max_rss_kb}) + "\n")


def server_address() -> Path:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(f"{path.relative_to(PACKAGE)}\0".encode() + path.read_bytes())
    host_and_step = [socket.gethostname(), os.environ.get("SLURM_JOB_ID", ""), os.environ.get("SLURM_STEP_ID", "")]
    for part in [sys.executable, *sys.path, *host_and_step]:
        digest.update(f"{part}\0".encode())
    return private_folder() / f"{digest.hexdigest()[:16]}.sock"


def private_folder() -> Path:
    """Where the user's servers listen: a folder only the user can enter, as the server runs the
    pickled jobs it is sent (the server also checks each client's uid)."""
    folder = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir(), f"robustlaw-worker-{os.getuid()}")
    folder.mkdir(mode=0o700, exist_ok=True)
    status = folder.stat()
    if status.st_uid != os.getuid() or status.st_mode & 0o077:
        raise RuntimeError(f"{folder} must belong to you and be closed to others (chmod 700) for robustlaw's worker")
    return folder


def run_on_server(name: str, job: Any) -> tuple[int, float, int]:
    address = server_address()
    request = pickle.dumps((name, job, os.getcwd(), dict(os.environ)))
    server: subprocess.Popen | None = None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            try:
                connection.connect(str(address))
                socket.send_fds(connection, [HEADER.pack(len(request))], [0, 1, 2])
                connection.sendall(request)
                started = receive_exactly(connection, len(STARTED))
            except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
                started = b""
            if started == STARTED:
                reply = receive_exactly(connection, REPLY.size)
                if len(reply) != REPLY.size:
                    raise RuntimeError(f"the robustlaw worker died while running step {name}; see {log_of(address)}")
                return REPLY.unpack(reply)
        # Nobody took the job (no server yet, or one that was exiting): start a server unless one
        # is up or coming up.
        if server is not None and server.poll() not in (None, 0):
            raise RuntimeError(f"the robustlaw worker failed to start:\n{log_of(address).read_text()[-4000:]}")
        if (server is None or server.poll() is not None) and not server_alive(address):
            server = start_server(address)
        time.sleep(0.05)
    raise RuntimeError(f"no robustlaw worker answered at {address} within {START_TIMEOUT_S} s; see {log_of(address)}")


def receive_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def log_of(address: Path) -> Path:
    return address.with_suffix(".log")


def lock_of(address: Path) -> Path:
    return address.with_suffix(".lock")


def server_alive(address: Path) -> bool:
    """Whether a server holds the address's lock (it takes it before importing anything)."""
    with lock_of(address).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def start_server(address: Path) -> subprocess.Popen:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    with log_of(address).open("a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", f"{__package__}.worker", str(address)],
            env=environment,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )


def serve(address: Path, idle_s: float) -> None:
    """Accept jobs at `address` until idle for idle_s seconds; one server per address."""
    lock = lock_of(address).open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another server holds the address
    preload_steps()
    address.unlink(missing_ok=True)  # left behind by a server that was killed
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(address))
    listener.listen(64)
    wake_read, wake_write = os.pipe()
    for end in (wake_read, wake_write):
        os.set_blocking(end, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_read, selectors.EVENT_READ, "reap")
    server_files = [listener.fileno(), wake_read, wake_write, lock.fileno()]
    running: dict[int, socket.socket | None] = {}  # child pid -> its job's connection
    idle_since = time.monotonic()
    while running or time.monotonic() - idle_since < idle_s:
        timeout = None if running else idle_s - (time.monotonic() - idle_since)
        for key, _ in selector.select(timeout):
            if key.data == "accept":
                accept_job(listener, selector, running, server_files)
            elif key.data == "reap":
                drain(wake_read)
                reap(selector, running)
            else:
                client_gone(key.fileobj, key.data, selector, running)
        if running:
            idle_since = time.monotonic()
    listener.close()
    address.unlink(missing_ok=True)


def preload_steps() -> None:
    steps = importlib.import_module(f"{__package__}.steps")
    for module in pkgutil.iter_modules(steps.__path__):
        importlib.import_module(f"{steps.__name__}.{module.name}")
    importlib.import_module("snakemake.script")  # what a job unpickles to
    # The first optimizer a process builds imports torch._dynamo (about 800 modules, 0.8 s of CPU):
    # build one here, on a constant, so that no job pays for it.
    torch = importlib.import_module("torch")
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])


def accept_job(
    listener: socket.socket,
    selector: selectors.BaseSelector,
    running: dict[int, socket.socket | None],
    server_files: list[int],
) -> None:
    connection, _ = listener.accept()
    _, uid, _ = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    if uid != os.getuid():
        connection.close()
        return
    streams: list[int] = []
    try:
        header, streams, _, _ = socket.recv_fds(connection, HEADER.size, 3)
        header += receive_exactly(connection, HEADER.size - len(header))
        request = receive_exactly(connection, HEADER.unpack(header)[0])
        if len(streams) != 3:
            raise ValueError(f"{len(streams)} streams received, 3 expected")
    except (OSError, struct.error, ValueError):
        for stream in streams:
            os.close(stream)
        connection.close()
        return
    pid = os.fork()
    if pid == 0:
        run_child(request, streams, [*server_files, selector_fd(selector), *connections(running), connection.fileno()])
    for stream in streams:
        os.close(stream)
    try:
        connection.sendall(STARTED)
    except OSError:
        os.kill(pid, signal.SIGKILL)
    running[pid] = connection
    selector.register(connection, selectors.EVENT_READ, pid)


def selector_fd(selector: selectors.BaseSelector) -> int:
    return selector.fileno() if hasattr(selector, "fileno") else -1


def connections(running: dict[int, socket.socket | None]) -> list[int]:
    return [connection.fileno() for connection in running.values() if connection is not None]


def run_child(request: bytes, streams: list[int], server_files: list[int]) -> NoReturn:
    """The forked child: take the job's streams, directory and environment, run the step, exit."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for target, stream in enumerate(streams):
            os.dup2(stream, target)
        for descriptor in [*streams, *server_files]:
            if descriptor > 2:
                os.close(descriptor)
        name, job, cwd, environment = pickle.loads(request)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environment)
        run_here(name, job)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass
        os._exit(code)


def drain(wake_read: int) -> None:
    try:
        while os.read(wake_read, 4096):
            pass
    except BlockingIOError:
        pass


def reap(selector: selectors.BaseSelector, running: dict[int, socket.socket | None]) -> None:
    while running:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        connection = running.pop(pid, None)
        if connection is None:
            continue
        selector.unregister(connection)
        reply = REPLY.pack(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
        try:
            connection.sendall(reply)
        except OSError:
            pass
        connection.close()


def client_gone(
    connection: socket.socket, pid: int, selector: selectors.BaseSelector, running: dict[int, socket.socket | None]
) -> None:
    """The job's script closed its end (it was killed or cancelled): stop its child."""
    try:
        if connection.recv(4096):
            return  # a client sends nothing after its request; ignore anything it does
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    selector.unregister(connection)
    connection.close()
    running[pid] = None  # reaped later, with nobody to tell


def main() -> None:
    serve(Path(sys.argv[1]), float(os.environ.get("ROBUSTLAW_WORKER_IDLE", "30")))


if __name__ == "__main__":
    main()
