"""`manage.py serve` (what `make run` starts) runs the web server and cluster; SIGINT stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import ROOT, database_url_for_subprocess
from tests.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """Every process whose parent chain leads to *pid* (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue  # the process ended while we were reading
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    """The processes of *pids* still running (zombies count as gone)."""
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _free_port_pair() -> int:
    """A port p with p + 1 free too (the emulator's consent page listens on p + 1)."""
    for _ in range(50):
        port = _free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no pair of free ports")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return '"status": "ok"' in resp.read().decode()
    except OSError:
        return False


def _serve_then_interrupt(args: list[str], env: dict[str, str], ready) -> str:
    """Start `manage.py serve ARGS`, wait for `ready()`, SIGINT it, check no child survives."""
    proc = subprocess.Popen(  # noqa: S603 - our own argv
        [sys.executable, "manage.py", "serve", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    children: list[int] = []
    try:
        # Stop waiting at once if serve exits (a failed start), not only on readiness.
        started = wait_until(lambda: proc.poll() is not None or ready(), 120, 0.5)
        if started and proc.poll() is None:
            children = _descendants(proc.pid)
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate()[0]
    # The assertions come after the output is read, so a failure shows what serve printed
    # (less the health checks the readiness probe itself caused).
    said = "\n".join(line for line in output.splitlines() if "GET /healthz" not in line)
    assert started, f"never ready:\n{said[-8000:]}"
    assert children, f"serve exited early:\n{said[-8000:]}"
    assert len(children) >= 3  # runserver, the cluster's guard and its workers (+ emulator)
    assert wait_until(lambda: not _alive(children), 20, 0.5), _alive(children)
    assert "Started " in output and "has stopped" in output, output[-3000:]
    return output


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_serve_runs_web_and_cluster_and_sigint_leaves_no_orphans():
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=database_url_for_subprocess())
    _serve_then_interrupt(["--addr", f"127.0.0.1:{port}"], env, lambda: _healthy(port))


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_serve_demo_connects_the_emulator_and_fills_the_hub(tmp_path):
    """What `make run` does: emulator demo org, OAuth connection, syncs, data in the hub."""
    from workspace.models import Event, Object, Person, Relationship

    port, emulator_port = _free_port(), _free_port_pair()
    env = dict(os.environ, DATABASE_URL=database_url_for_subprocess(),
               FORCEBRIDGE_VAR_DIR=str(tmp_path / "var"))
    env.pop("SALESFORCE_CA_BUNDLE", None)
    models = (Person, Object, Relationship, Event)
    output = _serve_then_interrupt(
        ["--addr", f"127.0.0.1:{port}", "--demo", "--emulator-port", str(emulator_port)], env,
        lambda: _healthy(port) and all(model.objects.exists() for model in models),
    )
    assert "Connected to Salesforce org" in output
    assert (tmp_path / "var" / "sfemulator" / "ca.pem").exists()
    assert Person.objects.filter(email__isnull=False).count() > 1000
