"""The benchmarks' CPU accounting (loadtests.harness ``Stack.cpu_seconds``):
each process's CPU is counted under its part, and a process that ended keeps
what it used, so a part's total never falls between two readings."""

import subprocess
import sys
import time

from loadtests.harness import Stack, cpu_delta

# Burns 0.3 s of CPU, then waits until its stdin is closed.
BURNER = (
    "import sys, time\nend = time.process_time() + 0.3\nwhile time.process_time() < end:\n    pass\nsys.stdin.read()\n"
)


def _stack() -> Stack:
    # Never entered: no service is started, only the processes handed to it are read.
    return Stack(instance="harness-cpu-test", pg_port=1, redis_port=1, port=1)


def _burner(stack: Stack, *, server: bool) -> tuple[subprocess.Popen[bytes], dict[str, float]]:
    """A burner registered as a server or as another process, and a reading
    taken once it has burnt its CPU (while it still runs)."""
    process = subprocess.Popen([sys.executable, "-c", BURNER], stdin=subprocess.PIPE)
    stack.processes.append(process)
    if server:
        stack.server_processes.append(process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reading = stack.cpu_seconds()
        if max(reading.values()) >= 0.25:
            return process, reading
        time.sleep(0.02)
    process.kill()
    raise AssertionError("the burner never showed its CPU")


def _end(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=30)


def test_a_process_that_ended_keeps_its_cpu_in_its_part() -> None:
    stack = _stack()
    worker, running = _burner(stack, server=False)
    _end(worker)
    ended = stack.cpu_seconds()
    assert ended["celery"] >= running["celery"] >= 0.25
    assert cpu_delta(running, ended)["celery"] >= 0
    assert ended["server"] == 0  # no server started
    assert "nginx" not in ended  # nor a balancer


def test_servers_and_the_other_processes_are_counted_apart() -> None:
    stack = _stack()
    server, reading = _burner(stack, server=True)
    _end(server)
    assert reading["server"] >= 0.25
    assert reading["celery"] == 0
