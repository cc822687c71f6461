"""One timed run of a command, shared by bench/targets and bench/ab. Standard library only."""
import os
import subprocess
import time


def run_timed(argv, stdout=subprocess.DEVNULL):
    """Runs argv; returns (exit code, wall seconds, cpu seconds, peak rss bytes, stderr).

    wait4 gives this child's own usage (not the maximum over every child so far). stderr is read
    to its end before waiting, so a chatty child cannot block on a full pipe."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, err
