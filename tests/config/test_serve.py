"""`manage.py serve` runs the web server and the cluster (production: gunicorn, with the static
files collected; `make run`: `serve --demo`); SIGINT stops all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from sfemulator.ports import free_port, free_port_pair
from tests.config.environments import production_env
from tests.conftest import ROOT, database_url_for_subprocess
from tests.waiting import wait_until


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


def _cluster_up(pid: int) -> bool:
    """Whether serve's cluster has started its workers (its guard, the workers, the monitor and
    the pusher: four or more `qcluster` processes); the web server answers sooner."""
    count = 0
    for child in _descendants(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as fh:
                count += b"qcluster" in fh.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
    return count >= 4


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return '"status": "ok"' in resp.read().decode()
    except OSError:
        return False


def _serve_then_interrupt(args: list[str], env: dict[str, str], ready,
                          while_serving=None) -> str:
    """Start `manage.py serve ARGS`, wait for `ready()`, call `while_serving()`, SIGINT it,
    check no child survives."""
    proc = subprocess.Popen(  # noqa: S603 - our own argv
        [sys.executable, "manage.py", "serve", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    children: list[int] = []
    try:
        # Stop waiting at once if serve exits (a failed start), not only on readiness.
        started = wait_until(
            lambda: proc.poll() is not None or (ready() and _cluster_up(proc.pid)), 120, 0.5)
        if started and proc.poll() is None:
            children = _descendants(proc.pid)
            if while_serving is not None:
                while_serving()
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
    assert len(children) >= 3  # the web server, the cluster's guard and its workers (+ emulator)
    assert wait_until(lambda: not _alive(children), 20, 0.5), _alive(children)
    assert "Started " in output and "has stopped" in output, output[-3000:]
    return output


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_serve_runs_web_and_cluster_and_sigint_leaves_no_orphans():
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url_for_subprocess())
    _serve_then_interrupt(["--addr", f"127.0.0.1:{port}"], env, lambda: _healthy(port))


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_serve_demo_connects_the_emulator_and_fills_the_hub(tmp_path):
    """What `make run` does: emulator demo org, OAuth connection, syncs, data in the hub."""
    from syncs.management.commands.setup_demo import DEMO_SYNCS
    from syncs.models import Sync, SyncRun
    from workspace.models import Event, Object, Person, Relationship

    port, emulator_port = free_port(), free_port_pair()
    env = dict(os.environ, DATABASE_URL=database_url_for_subprocess(),
               FORCEBRIDGE_VAR_DIR=str(tmp_path / "var"))
    env.pop("SALESFORCE_CA_BUNDLE", None)
    names = [name for name, _ in DEMO_SYNCS]

    def first_runs_ended() -> bool:
        """Every demo sync made and its first run over: a hub with a row of each kind may
        still be filling (the contacts' run has its later pages to write)."""
        ended = Sync.objects.filter(name__in=names, run_requested="", claimed_at__isnull=True,
                                    last_status__in=["succeeded", "failed", "deferred"])
        return ended.count() == len(names)

    output = _serve_then_interrupt(
        ["--addr", f"127.0.0.1:{port}", "--demo", "--emulator-port", str(emulator_port)], env,
        lambda: _healthy(port) and first_runs_ended(),
    )
    assert "Connected to Salesforce org" in output
    assert (tmp_path / "var" / "sfemulator" / "ca.pem").exists()
    succeeded = SyncRun.objects.filter(status="succeeded", sync__isnull=False).values_list(
        "sync__name", flat=True)
    assert set(succeeded) == set(names), list(Sync.objects.values("name", "last_error"))
    assert all(model.objects.exists() for model in (Object, Relationship, Event))
    assert Person.objects.filter(email__isnull=False).count() > 1000


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], str]:
    """One request that does not follow redirects: status, headers, body."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), ""


@pytest.mark.cluster
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_production_serves_the_admin_styled_with_debug_off(tmp_path, browser):
    """README's production settings behind a TLS proxy: gunicorn serves hashed, compressed CSS."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = production_env(tmp_path / "var", ALLOWED_HOSTS="127.0.0.1",
                         DATABASE_URL=database_url_for_subprocess(),
                         REDIS_URL=os.environ.get("REDIS_URL"))
    proxied = {"X-Forwarded-Proto": "https"}  # what the TLS proxy adds
    seen: dict[str, object] = {}

    def while_serving() -> None:
        seen["plain"] = _get(f"{base}/admin/login/")
        seen["login"] = status, headers, html = _get(f"{base}/admin/login/", **proxied)
        stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', html)
        seen["css"] = stylesheet and _get(base + stylesheet.group(1), **proxied,
                                          **{"Accept-Encoding": "gzip"})
        context = browser.new_context(extra_http_headers=proxied)
        try:
            page = context.new_page()
            css = []
            page.on("response", lambda r: css.append((r.status, r.headers.get("content-type")))
                    if r.request.resource_type == "stylesheet" else None)
            page.goto(f"{base}/admin/login/")
            seen["browser_css"] = css
            seen["header_background"] = page.eval_on_selector(
                "#header", "e => getComputedStyle(e).backgroundColor")
        finally:
            context.close()

    output = _serve_then_interrupt(["--addr", f"127.0.0.1:{port}"], env, lambda: _healthy(port),
                                   while_serving)
    assert "gunicorn" in output.lower()
    assert (tmp_path / "var" / "static" / "staticfiles.json").exists()  # collectstatic ran
    status, headers, _ = seen["plain"]
    assert status == 301 and headers["Location"].startswith("https://")  # SSL redirect is on
    status, headers, html = seen["login"]
    assert status == 200 and "Strict-Transport-Security" in headers, headers
    assert seen["css"], f"no hashed stylesheet in the login page:\n{html[:3000]}"
    status, headers, _ = seen["css"]
    assert status == 200 and headers["Content-Type"].startswith("text/css"), headers
    assert headers.get("Content-Encoding") == "gzip" and "immutable" in headers["Cache-Control"]
    assert seen["browser_css"] and all(
        code == 200 and kind.startswith("text/css") for code, kind in seen["browser_css"])
    assert seen["header_background"] not in ("", "rgba(0, 0, 0, 0)")  # the admin's styles apply
