"""The small shared cast: a staff user, a logged-in client, a headless Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

pytest_plugins = ["tests.salesforce_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


@pytest.fixture(scope="session", autouse=True)
def _static_files_without_collectstatic(tmp_path_factory) -> Iterator[None]:
    """Pages render in tests without a collectstatic: plain static file names, not hashed ones.

    Production's hashed, compressed files (WhiteNoise) need collectstatic first, which `serve`
    does; tests/config/test_production.py runs it and checks the real thing. The empty
    STATIC_ROOT only spares WhiteNoise's warning about a missing one.
    """
    from django.test import override_settings

    plain = {**settings.STORAGES,
             "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=plain, STATIC_ROOT=tmp_path_factory.mktemp("static")):
        yield


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        "operator", password="operator-pass-1", is_staff=True, is_superuser=True
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def database_url_for_subprocess() -> str:
    """A DATABASE_URL that points a child process at the database the tests are using."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def run_manage(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``manage.py`` (or ``python -c``) in a child with a controlled environment."""
    return subprocess.run(  # noqa: S603 - our own argv
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A real headless Chromium (Debian's package) driven by Playwright."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `apt-get install chromium` "
                    "(`make test` does where it can) or set CHROMIUM_PATH")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
    # tests between page actions are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def cluster(emulator):
    """`manage.py qcluster` on the test database, trusting the emulator like the web server."""
    env = dict(os.environ, DATABASE_URL=database_url_for_subprocess(),
               SALESFORCE_CA_BUNDLE=str(emulator.ca_path),
               SALESFORCE_LOGIN_URL=emulator.login_url,
               SALESFORCE_CLIENT_ID=emulator.client_id,
               SALESFORCE_CLIENT_SECRET=emulator.client_secret)
    # A process group of its own: a cluster that does not stop in time is killed whole (its
    # guard, pusher and workers too), so none of its workers lives on into the next test.
    process = subprocess.Popen(  # noqa: S603 - our own argv
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def log_in(page, server_url: str, path: str) -> None:
    """Open `path` as the `staff_user` operator through the admin's login form, loaded.

    Playwright's click returns once the navigation it starts commits: the new document may
    still be half parsed and its DOMContentLoaded scripts (the pages' handlers) not yet run.
    So after a click that opens a page, a test waits for the load (`wait_for_load_state`)
    before it counts rows, reads what may be hidden or uses what a script drives.
    """
    page.goto(f"{server_url}{path}")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "operator-pass-1")
    page.click("input[type=submit]")
    page.wait_for_load_state()


def screenshot(page, name: str) -> Path:
    """Save the whole page under screenshots/ (git-ignored) for a person to look at."""
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
