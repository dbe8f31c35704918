"""The client's heartbeat: called from the caller's thread at least every `heartbeat_every`
seconds while it waits (bulk polling, backoff, a page read ahead); what it raises ends the wait."""

from __future__ import annotations

import threading
import time

import pytest

from connections.client import SalesforceClient
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db


class ClaimLost(Exception):
    """What a run's heartbeat raises once another worker took its claim."""


class Heartbeat:
    """Records the thread of every beat; raises ClaimLost from beat number `fail_at` on."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.threads: list[str] = []
        self.fail_at = fail_at

    def __call__(self) -> None:
        self.threads.append(threading.current_thread().name)
        if self.fail_at is not None and len(self.threads) >= self.fail_at:
            raise ClaimLost("another worker holds the claim")


def test_a_client_beats_at_least_every_ten_seconds_by_default(connection):
    assert SalesforceClient.heartbeat_every <= 10
    SalesforceClient.for_connection(connection).heartbeat()  # the default does nothing


def test_waiting_on_a_bulk_job_beats_from_the_callers_thread(emulator, connection, settings):
    settings.SALESFORCE_BULK_POLL_INTERVAL = 0.3
    settings.SALESFORCE_BULK_POLL_MAX_INTERVAL = 0.3
    emulator.control.faults(bulk_mode="hang")  # the job stays InProgress
    beat = Heartbeat(fail_at=12)
    client = SalesforceClient.for_connection(connection, heartbeat=beat)
    client.heartbeat_every = 0.05
    started = time.monotonic()
    with pytest.raises(ClaimLost):
        list(client.bulk_query("SELECT Id FROM Account", poll_timeout=60))
    assert time.monotonic() - started < 10  # the wait ended at the beat, not at the timeout
    assert beat.threads == [threading.current_thread().name] * 12
    polls = emulator.control.counters()["bulk"] - 1  # after the job's creation
    assert 1 <= polls < 12  # a poll interval longer than heartbeat_every is split
    client.close()


def test_backoff_beats_and_a_raising_heartbeat_stops_the_retries(emulator, sf_client, settings):
    # Backoffs of 0.4 to 0.8 s in slices of 0.05 s: eight slices or more each, so even on a
    # busy machine whose sleeps overrun (a 0.05 s sleep taking 0.15 s) each has two or more.
    settings.SALESFORCE_RETRY_BASE_DELAY = 0.8
    settings.SALESFORCE_RETRY_MAX_DELAY = 0.8
    beat = Heartbeat()
    sf_client.heartbeat = beat  # settable after the client was made
    sf_client.heartbeat_every = 0.05
    emulator.control.faults(fail_next={"count": 2, "status": 503, "kinds": ["query"]})
    assert sf_client.count("SELECT COUNT() FROM Account") == 0
    assert len(beat.threads) >= 2 * 2  # two backoffs, each beating more than once

    emulator.control.clear_counters()
    sf_client.heartbeat = Heartbeat(fail_at=1)
    emulator.control.faults(fail_next={"count": 2, "status": 503, "kinds": ["query"]})
    with pytest.raises(ClaimLost):
        sf_client.count("SELECT COUNT() FROM Account")
    assert emulator.control.counters()["query"] == 1  # no retry after the claim was lost


def test_waiting_for_a_page_read_ahead_beats_only_in_the_callers_thread(emulator, sf_client):
    emulator.control.insert("Account", *({"Name": f"A{n}"} for n in range(450)), load=True)
    emulator.control.faults(latency_ms=300)
    beat = Heartbeat()
    sf_client.heartbeat = beat
    sf_client.heartbeat_every = 0.05
    pages = list(sf_client.query_pages("SELECT Id FROM Account", batch_size=200, prepare=len))
    assert pages == [200, 200, 50]
    assert len(beat.threads) >= 2  # the caller waited on two reads made ahead
    assert set(beat.threads) == {threading.current_thread().name}

    sf_client.heartbeat = Heartbeat(fail_at=1)
    with pytest.raises(ClaimLost):
        list(sf_client.query_pages("SELECT Id FROM Account", batch_size=200))
    # The read it stopped waiting for ends on its own.
    assert wait_until(lambda: not [t for t in threading.enumerate()
                                   if t.name == "forcebridge-read-ahead"], 10)
