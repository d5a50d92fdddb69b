"""A real single-node Slurm for tests: its own munged, slurmctld and slurmd on localhost, with every file (config,
state, spool, logs, munge socket) in one folder and free ports, so it touches nothing else on the machine.

    with LocalSlurm(folder) as slurm:
        jid = slurm.sbatch("--array=0-1", "scripts/x.sbatch", cwd=repo)
        slurm.wait([jid], timeout=60)
"""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol")


def missing_binaries():
    return [b for b in BINARIES if shutil.which(b) is None]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid(path):
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


class LocalSlurm:
    # More CPUs than the machine has (config_overrides lets the config win), so that a test's small jobs run side by
    # side instead of queueing behind each other; they are mostly waiting on Python start-up.
    CPUS = 8

    def __init__(self, folder):
        self.dir = Path(folder)
        self.conf = self.dir / "slurm.conf"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))
        self.munge_pid = self.dir / "munged.pid"

    def __enter__(self):
        for sub in ("state", "spool", "log"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self._start_munge()
        self.conf.write_text(self._config())
        self._run("slurmctld", "-f", str(self.conf))
        self._run("slurmd", "-f", str(self.conf))
        deadline = time.time() + 30
        while time.time() < deadline:
            state = self._run("sinfo", "-h", "-o", "%t", check=False).stdout.strip()
            if state == "idle":
                return self
            time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"Slurm did not come up (node state {state!r}); logs in {self.dir / 'log'}")

    def __exit__(self, *exc):
        ctld, slurmd = _pid(self.dir / "slurmctld.pid"), _pid(self.dir / "slurmd.pid")
        self._run("scontrol", "shutdown", check=False)
        deadline = time.time() + 15
        while time.time() < deadline and any(p and _alive(p) for p in (ctld, slurmd)):
            time.sleep(0.2)
        for pid in (ctld, slurmd, _pid(self.munge_pid)):
            if pid and _alive(pid):
                os.kill(pid, signal.SIGTERM)

    def _start_munge(self):
        """Our own munged on a socket in the folder; where munged cannot run, Slurm falls back to auth/none."""
        self.munge_socket = self.dir / "munge.socket"
        started = subprocess.run(["munged", "--force", f"--socket={self.munge_socket}",
                                  f"--pid-file={self.munge_pid}", f"--log-file={self.dir / 'log' / 'munged.log'}",
                                  f"--seed-file={self.dir / 'munged.seed'}"], capture_output=True, text=True)
        if started.returncode:
            self.munge_socket = None

    def _auth(self):
        if self.munge_socket is None:
            return "AuthType=auth/none\nCredType=cred/none"
        return f"AuthType=auth/munge\nAuthInfo=socket={self.munge_socket}\nCredType=cred/munge"

    def _config(self):
        memory = min(4000, os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20 // 2)
        d = self.dir
        return f"""\
ClusterName=ermitest
SlurmctldHost=localhost
{self._auth()}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MpiDefault=none
NodeName=localhost CPUs={self.CPUS} RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""

    def _run(self, *cmd, check=True, cwd=None, env=None):
        result = subprocess.run(cmd, env=env or self.env, cwd=cwd, capture_output=True, text=True, timeout=60)
        if check and result.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr}{result.stdout}")
        return result

    def sbatch(self, *args, cwd, env=None):
        """Submit with --parsable; returns the job id."""
        out = self._run("sbatch", "--parsable", *args, cwd=cwd, env=dict(self.env, **(env or {}))).stdout
        return out.strip().split(";")[0]

    def queued(self, job_ids):
        """{job id (array tasks as 'id_k'): (state, reason)} for the given jobs still in the queue."""
        out = self._run("squeue", "-h", "-r", "-o", "%i|%T|%r", "-j", ",".join(job_ids), check=False).stdout
        jobs = (line.split("|") for line in out.splitlines() if line.strip())
        return {i: (state, reason) for i, state, reason in jobs}

    def wait(self, job_ids, timeout):
        """Poll until none of job_ids is queued or running. Raises on timeout or on a job stuck on a dependency
        that can never be met (an upstream job failed)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            jobs = self.queued(job_ids)
            if not jobs:
                return
            stuck = {i: r for i, (_, r) in jobs.items() if r == "DependencyNeverSatisfied"}
            if stuck:
                raise RuntimeError(f"jobs {sorted(stuck)} will never run: an upstream job failed")
            time.sleep(0.5)
        raise TimeoutError(f"jobs still queued after {timeout} s: {self.queued(job_ids)}")
