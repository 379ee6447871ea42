#!/usr/bin/env bash
# slurm-cluster.sh start|stop|status|env: a one-node Slurm cluster for
# executor/slurm's tests, as root, everything under $LATHE_SLURM_ROOT
# (/tmp/lathe-slurm). This host (`hostname -s`) is the controller and the only
# compute node; munged runs with its own key and socket, so nothing in /etc or
# /run is touched. No accounting database: sacct answers nothing, and the
# plugin reads a finished job's state from squeue (kept MinJobAge seconds) or
# from its own exit record.
#
# start is idempotent and waits at most 30 s for the node to be idle; it exits
# 77 with a reason when the cluster cannot start here (not root, packages
# missing), which the tests turn into a skip.
set -euo pipefail

ROOT=${LATHE_SLURM_ROOT:-/tmp/lathe-slurm}
CONF=$ROOT/etc/slurm.conf
MUNGE_SOCKET=$ROOT/munge/munge.socket.2
HOST=$(hostname -s)
# Ports of our own, so a cluster already on this host (6817/6818) is left alone.
CTLD_PORT=${LATHE_SLURM_CTLD_PORT:-16817}
SLURMD_PORT=${LATHE_SLURM_SLURMD_PORT:-16818}

skip() { echo "slurm-cluster: SKIP: $*" >&2; exit 77; }

# A zombie (a daemon whose parent does not reap it, as in some containers)
# counts as gone.
pid_alive() {
  local pid
  [ -f "$1" ] && pid=$(cat "$1" 2>/dev/null) && kill -0 "$pid" 2>/dev/null &&
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

# The daemons by their pid files, never by name: another cluster may be running.
stop_pidfile() {
  local f=$1 i
  pid_alive "$f" || { rm -f "$f"; return 0; }
  kill -TERM "$(cat "$f")" 2>/dev/null || true
  for i in $(seq 1 50); do pid_alive "$f" || break; sleep 0.1; done
  pid_alive "$f" && kill -KILL "$(cat "$f")" 2>/dev/null || true
  rm -f "$f"
}

write_conf() {
  local cpus mem_mb
  cpus=$(nproc)
  # Leave room for the OS: slurmd drains a node whose RealMemory exceeds what it finds.
  mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 512 ))
  mkdir -p "$ROOT"/{etc,state,spool,log,run,munge}
  cat >"$CONF.new" <<EOF
# Written by tests/slurm/slurm-cluster.sh: a one-node cluster under $ROOT.
ClusterName=lathe
SlurmctldHost=$HOST
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$ROOT/state
SlurmdSpoolDir=$ROOT/spool
SlurmctldPidFile=$ROOT/run/slurmctld.pid
SlurmdPidFile=$ROOT/run/slurmd.pid
SlurmctldLogFile=$ROOT/log/slurmctld.log
SlurmdLogFile=$ROOT/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups here: processes are tracked through /proc, memory through
# jobacct_gather/linux, which kills a job over its --mem (OUT_OF_MEMORY).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# A job without --mem would otherwise hold the whole node's memory.
DefMemPerCPU=1024
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# A finished job stays visible (squeue -t all, scontrol) this long: without an
# accounting database that is where TIMEOUT and OUT_OF_MEMORY are read.
MinJobAge=120
# Time limits bite at once, and a killed job is killed quickly.
OverTimeLimit=0
KillWait=2
SlurmdTimeout=30
InactiveLimit=0
NodeName=$HOST CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=other Nodes=$HOST Default=NO MaxTime=INFINITE State=UP
EOF
  mv "$CONF.new" "$CONF"
}

start_munge() {
  local key=$ROOT/munge/munge.key
  if [ ! -s "$key" ]; then
    dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
  fi
  chmod 700 "$ROOT/munge"
  chmod 400 "$key"
  pid_alive "$ROOT/munge/munged.pid" && return 0
  # --force: runs as root with its socket under /tmp, which munged would refuse.
  munged --force --socket="$MUNGE_SOCKET" --key-file="$key" \
    --pid-file="$ROOT/munge/munged.pid" --log-file="$ROOT/munge/munged.log" \
    --seed-file="$ROOT/munge/munged.seed" 2>>"$ROOT/munge/munged.err" 9>&- ||
    skip "munged would not start: see $ROOT/munge/munged.log"
}

node_idle() {
  SLURM_CONF=$CONF timeout 5 sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'
}

cmd_start() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (the one-node cluster runs its daemons as root)"
  local b
  for b in munged slurmctld slurmd sinfo sbatch squeue scancel scontrol; do
    command -v "$b" >/dev/null || skip "$b not found: install slurm-wlm and munge (scripts/deps.sh)"
  done
  # The config is rewritten while the controller is down, so an older one is
  # never kept by accident.
  pid_alive "$ROOT/run/slurmctld.pid" || write_conf
  start_munge
  export SLURM_CONF=$CONF
  if ! pid_alive "$ROOT/run/slurmctld.pid"; then
    # -c on a first start only: later starts keep the queue (a test stops the
    # controller mid-job and expects the job back).
    local clean=""
    [ -e "$ROOT/state/clustername" ] || clean="-c"
    slurmctld $clean -f "$CONF" 9>&- || skip "slurmctld would not start: see $ROOT/log/slurmctld.log"
  fi
  if ! pid_alive "$ROOT/run/slurmd.pid"; then
    slurmd -f "$CONF" 9>&- || skip "slurmd would not start: see $ROOT/log/slurmd.log"
  fi
  local i
  for i in $(seq 1 60); do
    if node_idle; then
      echo "slurm-cluster: up ($HOST, SLURM_CONF=$CONF)" >&2
      return 0
    fi
    # A node left DOWN by an earlier stop comes back by hand.
    [ $((i % 10)) -eq 5 ] && scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
    sleep 0.5
  done
  echo "slurm-cluster: the node is not idle after 30 s: see $ROOT/log/" >&2
  SLURM_CONF=$CONF sinfo -N >&2 || true
  exit 77
}

cmd_stop() {
  stop_pidfile "$ROOT/run/slurmd.pid"
  stop_pidfile "$ROOT/run/slurmctld.pid"
  stop_pidfile "$ROOT/munge/munged.pid"
}

# Two tests starting the cluster at once take turns (the daemons get the lock
# descriptor closed, 9>&-, or they would hold it for good).
mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
flock -w 60 9 || true

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
# The controller alone, for the tests that take it away for a while.
stop-controller) stop_pidfile "$ROOT/run/slurmctld.pid" ;;
status)
  [ -f "$CONF" ] && pid_alive "$ROOT/run/slurmctld.pid" && pid_alive "$ROOT/run/slurmd.pid" &&
    node_idle && { echo "up"; exit 0; }
  echo "down"; exit 1 ;;
env)
  echo "export SLURM_CONF=$CONF" ;;
*)
  echo "usage: $0 start|stop|stop-controller|status|env" >&2; exit 2 ;;
esac
