"""An operator presses "Initial import" on the connection page; a real cluster runs the syncs
it made (disabled ones included: ongoing import is off) and the hub fills."""

from __future__ import annotations

import time

import pytest

from syncs.models import Sync
from tests.conftest import log_in, screenshot
from tests.syncs.test_initial_import import KEY, accounts, org
from workspace.models import Person, Relationship


@pytest.mark.browser
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_initial_import_from_the_connection_page(live_server, page, staff_user, emulator,
                                                 connection, cluster):
    org(emulator)
    connection.account_external_id_field = KEY
    connection.save()
    log_in(page, live_server.url, connection.get_absolute_url())
    page.click("#initial-import")
    message = page.inner_text(".messagelist")
    assert "Initial import started: 4 sync(s) made, 0 reused" in message, message
    assert "they are then disabled" in message
    screenshot(page, "initial-import-started")

    deadline = time.monotonic() + 120
    while Sync.objects.exclude(last_status="succeeded").exists() or \
            Sync.objects.exclude(run_requested="").exists():
        assert cluster.poll() is None, "the cluster exited"
        assert time.monotonic() < deadline, list(Sync.objects.values(
            "name", "last_status", "last_error", "run_requested"))
        time.sleep(0.3)
    assert {p.email for p in Person.objects.all()} == {"ann@acme.io", "bo@initech.io"}
    assert accounts().keys() == {"acc-1", "acc-2"} and Relationship.objects.count() == 1
    assert not Sync.objects.filter(enabled=True).exists()

    # The message links to each sync's page, where the run shows as done.
    page.click(".messagelist a:has-text('Accounts')")
    page.wait_for_selector("#sync-progress [data-state='succeeded']")
    screenshot(page, "initial-import-accounts-sync")
