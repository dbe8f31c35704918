"""Run the web server and the django-q2 cluster (and, with --demo, the emulator) in the foreground.

Production (no --demo): collectstatic, then gunicorn on config.wsgi:application and the cluster,
every setting from the environment. Demo: Django's runserver, the emulator and its set-up.
Ctrl-C (or SIGTERM) stops them all; if one exits, the others are stopped too. On Linux children
are also tied to this process with PR_SET_PDEATHSIG so a killed supervisor leaves no orphans.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import certifi
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

PR_SET_PDEATHSIG = 1
# Seconds a gunicorn worker may spend on one request: the sync form may wait on a describe
# call for up to SALESFORCE_READ_TIMEOUT (120 s).
WEB_REQUEST_TIMEOUT = 150


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGTERM it when the supervisor dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(argv: list[str]) -> subprocess.Popen:
    """Start a child; prctl is Linux's, so elsewhere (macOS) a killed supervisor may orphan it."""
    tie = _die_with_parent if sys.platform.startswith("linux") else None
    return subprocess.Popen(argv, preexec_fn=tie)  # noqa: S603 - our own argv


class Command(BaseCommand):
    help = ("Start the web server (gunicorn) and the task cluster; Ctrl-C stops both. "
            "--demo: runserver, the Salesforce emulator and the demo org instead.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000",
                            help="host:port for the web server (0.0.0.0:8000 behind a proxy)")
        parser.add_argument(
            "--demo", action="store_true",
            help="also run the Salesforce emulator with the demo org and connect it (setup_demo)",
        )
        parser.add_argument("--emulator-port", type=int, default=8765,
                            help="HTTPS port of the demo emulator (its consent page uses port+1)")

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, "manage.py"]
        # The pages name the hashed files collectstatic writes (WhiteNoise serves them).
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["demo"]:
            web = [sys.executable, "-m", "gunicorn", "config.wsgi:application",
                   "--bind", options["addr"], "--workers", str(settings.FORCEBRIDGE_WEB_WORKERS),
                   "--timeout", str(WEB_REQUEST_TIMEOUT), "--graceful-timeout", "10",
                   "--access-logfile", "-"]
            self.supervise({"web": web, "cluster": [*manage, "qcluster"]})
            return
        commands = {
            "web": [*manage, "runserver", options["addr"], "--noreload"],
            "cluster": [*manage, "qcluster"],
        }
        port = options["emulator_port"]
        data_dir = settings.VAR_DIR / "sfemulator"
        emulator = [sys.executable, "-m", "sfemulator", "--host", "127.0.0.1", "--port", str(port),
                    "--seed", "demo", "--data-dir", str(data_dir)]
        os.environ.setdefault("SALESFORCE_CA_BUNDLE", str(self._demo_ca_bundle(data_dir)))
        url = f"https://127.0.0.1:{port}"
        setup = [*manage, "setup_demo", "--emulator-url", url]
        self.supervise({"emulator": emulator, **commands}, ready_port=port, then=setup)

    def _demo_ca_bundle(self, data_dir: Path) -> Path:
        """Public CAs plus the emulator's, so the demo org and a real org both verify.

        The emulator writes its CA on first start; make it now (same code) so the bundle exists
        before the web server and the cluster read SALESFORCE_CA_BUNDLE.
        """
        from sfemulator import tls

        ca_path, _, _ = tls.ensure_certificates(tls.data_dir(data_dir))
        bundle = settings.VAR_DIR / "demo-ca-bundle.pem"
        bundle.write_text(Path(certifi.where()).read_text() + "\n" + ca_path.read_text())
        return bundle

    def supervise(self, commands: dict[str, list[str]], ready_port: int | None = None,
                  then: list[str] | None = None) -> None:
        """Start every child, wait for a signal or a child's exit, then stop them all.

        1. start the first child; with ready_port, wait until it accepts connections;
        2. start the others, then run the one-shot `then` command (demo set-up);
        3. wait for Ctrl-C/SIGTERM or any child's exit; 4. stop every child.
        """
        stopping = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        children: dict[str, subprocess.Popen] = {}
        for position, (name, argv) in enumerate(commands.items()):
            children[name] = _start(argv)
            if position == 0 and ready_port and not self._wait_for_port(ready_port, children[name]):
                self._stop(children)
                raise CommandError(f"{name} did not start listening on port {ready_port}")
        self.stdout.write(f"Started {', '.join(f'{n} (pid {p.pid})' for n, p in children.items())}")
        if then:
            children["setup"] = _start(then)
        exited = None
        while not stopping and exited is None:
            time.sleep(0.3)
            setup = children.get("setup")
            if setup is not None and setup.poll() is not None:
                # A one-shot command: report how it ended and keep serving either way, so a
                # failed demo set-up can be looked at (and retried) in the running UI.
                if setup.returncode:
                    self.stderr.write(f"demo set-up failed (exit {setup.returncode}); see above")
                del children["setup"]
            exited = next((n for n, p in children.items() if p.poll() is not None), None)
        if exited:
            self.stderr.write(f"{exited} exited with code {children[exited].returncode}; stopping")
        self._stop(children)
        if exited:
            raise SystemExit(1)

    def _wait_for_port(self, port: int, proc: subprocess.Popen, timeout: float = 120) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.3)
        return False

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
