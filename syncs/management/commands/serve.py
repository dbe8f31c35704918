"""Run the web server and the django-q2 cluster together in the foreground.

Ctrl-C (or SIGTERM) stops both; if either exits, the other is stopped too. Children are also
tied to this process with PR_SET_PDEATHSIG so a killed supervisor leaves no orphans.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGTERM it when the supervisor dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = "Start the web server and the task cluster; Ctrl-C stops both."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web server")

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, "manage.py"]
        commands = {
            "web": [*manage, "runserver", options["addr"], "--noreload"],
            "cluster": [*manage, "qcluster"],
        }
        self.supervise(commands)

    def supervise(self, commands: dict[str, list[str]]) -> None:
        """1. start every child; 2. wait for a signal or a child's exit; 3. stop them all."""
        stopping = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        children = {
            name: subprocess.Popen(argv, preexec_fn=_die_with_parent)  # noqa: S603 - our own argv
            for name, argv in commands.items()
        }
        self.stdout.write(f"Started {', '.join(f'{n} (pid {p.pid})' for n, p in children.items())}")
        exited = None
        while not stopping and exited is None:
            time.sleep(0.3)
            exited = next((n for n, p in children.items() if p.poll() is not None), None)
        if exited:
            self.stderr.write(f"{exited} exited with code {children[exited].returncode}; stopping")
        self._stop(children)
        if exited:
            raise SystemExit(1)

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        for proc in children.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for name, proc in children.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                proc.kill()
                proc.wait()
