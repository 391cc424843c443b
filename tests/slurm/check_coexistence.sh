#!/usr/bin/env bash
# Does tests/test_slurm.py pass beside a system SLURM, and leave it as it was? (Run by hand, as root.)
#
#     tests/slurm/check_coexistence.sh [pytest arguments]
#
# In a private mount namespace, so other users of the machine see none of it, this script gives the
# machine a system SLURM the way Debian lays one out: /etc/slurm/slurm.conf, munged on its default
# socket and key, slurmctld and slurmd on the default ports 6817/6818 with their state under /var/lib/slurm
# and logs under /var/log/slurm (scratch folders mounted there). It starts that cluster, runs a job on
# it, then runs the SLURM tests with SLURM_CONF pointing at the system configuration, as a user's shell
# may. Afterwards the system configuration must be byte-identical, its daemons the same processes, its
# node idle, and a job must still run on it. Its daemons are stopped by PID; the mounts go with the
# namespace.
set -euo pipefail

if [ "${ROBUSTLAW_IN_NAMESPACE:-}" != 1 ]; then
    exec env ROBUSTLAW_IN_NAMESPACE=1 unshare --mount --propagation private "$0" "$@"
fi

repo=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d /tmp/robustlaw-system-slurm-XXXXXX)
node=$(hostname -s)

# Scratch folders in place of the system's, seen only inside this namespace. /run first, with --no-mtab:
# mount's own bookkeeping (/run/mount) then stays in the namespace too.
mount --no-mtab -t tmpfs -o mode=0755 tmpfs /run
install -d -o munge -g munge -m 0755 /run/munge
mkdir -p "$scratch"/{etc-slurm,lib-slurm/slurmctld,lib-slurm/slurmd,log-slurm}
cp -a /etc/slurm/. "$scratch/etc-slurm/" 2>/dev/null || true
chown -R slurm:slurm "$scratch"/lib-slurm "$scratch"/log-slurm
mount --bind "$scratch/etc-slurm" /etc/slurm
mount --bind "$scratch/lib-slurm" /var/lib/slurm
mount --bind "$scratch/log-slurm" /var/log/slurm

read -r cpus boards sockets cores threads < <(/usr/sbin/slurmd -C | head -1 |
    sed -E 's/.*CPUs=([0-9]+) Boards=([0-9]+) SocketsPerBoard=([0-9]+) CoresPerSocket=([0-9]+) ThreadsPerCore=([0-9]+).*/\1 \2 \3 \4 \5/')
memory=$(($(awk '/^MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
cat > /etc/slurm/slurm.conf <<EOF
# A system SLURM, as an administrator would configure it (tests/slurm/check_coexistence.sh).
ClusterName=system
SlurmctldHost=$node
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=100
ReturnToService=2
MailProg=/bin/true
NodeName=$node CPUs=$cpus Boards=$boards SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$memory State=UNKNOWN
PartitionName=system Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
checksum=$(sha256sum /etc/slurm/slurm.conf)

stop_system() {
    for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
        if [ -s "$pidfile" ]; then
            pid=$(cat "$pidfile")
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$scratch"
}
trap stop_system EXIT

runuser -u munge -- /usr/sbin/munged
/usr/sbin/slurmctld
/usr/sbin/slurmd
for _ in $(seq 300); do
    [ "$(sinfo --noheader --format=%T 2>/dev/null)" = idle ] && break
    sleep 0.2
done
daemons="$(cat /run/munge/munged.pid /run/slurmctld.pid /run/slurmd.pid | tr '\n' ' ')"
echo "system SLURM up: $(sinfo --noheader --format='%R %T'); daemons $daemons; srun: $(srun --mem=100 hostname)"

status=0
SLURM_CONF=/etc/slurm/slurm.conf "$repo/.venv/bin/python" -m pytest "$repo/tests/test_slurm.py" "$@" || status=$?

after="$(cat /run/munge/munged.pid /run/slurmctld.pid /run/slurmd.pid | tr '\n' ' ')"
for pid in $after; do kill -0 "$pid"; done
[ "$after" = "$daemons" ] || { echo "system daemons changed: $daemons -> $after"; status=1; }
echo "$checksum" | sha256sum --check --quiet || { echo "/etc/slurm/slurm.conf changed"; status=1; }
state=$(sinfo --noheader --format=%T)
[ "$state" = idle ] || { echo "system node $state, not idle"; status=1; }
echo "system SLURM after the tests: node $state; daemons $after; srun: $(srun --mem=100 hostname)"
exit $status
