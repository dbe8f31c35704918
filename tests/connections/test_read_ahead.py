"""Pages read ahead: the next page is asked for while the caller works on the current one."""

from __future__ import annotations

import threading

import pytest

from connections.errors import SalesforceRejected, Transient
from connections.models import Connection
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db


def _read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "forcebridge-read-ahead"]


def test_the_next_rest_page_is_fetched_before_the_caller_asks(emulator, sf_client):
    emulator.control.insert("Account", *({"Name": f"Acme {n:03}"} for n in range(450)),
                            load=True)
    emulator.control.clear_counters()
    pages = sf_client.query_pages("SELECT Id, Name FROM Account ORDER BY Name", batch_size=200)
    first = next(pages)
    # The caller holds the first page; the second is already on its way.
    assert wait_until(lambda: emulator.control.counters().get("queryMore", 0) == 1, 10)
    rest = list(pages)
    assert [len(page) for page in [first, *rest]] == [200, 200, 50]
    assert [r["Name"] for page in [first, *rest] for r in page] == [
        f"Acme {n:03}" for n in range(450)]
    assert emulator.control.counters().get("queryMore", 0) == 2


def test_read_ahead_usage_is_counted_and_recorded_by_the_callers_thread(emulator, connection,
                                                                        sf_client):
    emulator.control.insert("Account", *({"Name": f"A{n}"} for n in range(450)), load=True)
    pages = list(sf_client.query_pages("SELECT Id FROM Account", batch_size=200,
                                       prepare=len))
    assert pages == [200, 200, 50]
    assert sf_client.api_calls == 3
    used = emulator.control.usage()["daily_used"]
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.api_usage_used == used  # the last page's Sforce-Limit-Info, saved
    assert not _read_ahead_threads()


def test_prepare_runs_on_the_read_ahead_thread_for_pages_after_the_first(emulator, sf_client):
    emulator.control.insert("Account", *({"Name": f"A{n}"} for n in range(450)), load=True)
    caller = threading.current_thread().name
    seen = list(sf_client.query_pages("SELECT Id FROM Account", batch_size=200,
                                      prepare=lambda records: threading.current_thread().name))
    assert seen == [caller, "forcebridge-read-ahead", "forcebridge-read-ahead"]


def test_a_failed_read_ahead_is_made_again_through_the_client(emulator, sf_client):
    emulator.control.insert("Account", *({"Name": f"A{n}"} for n in range(450)), load=True)
    pages = sf_client.query_pages("SELECT Id FROM Account", batch_size=200)
    first = next(pages)
    # Whichever read ahead comes next (page 2 may already be on its way) fails once.
    emulator.control.faults(fail_next={"count": 1, "status": 503, "kinds": ["queryMore"]})
    rest = list(pages)
    assert sum(map(len, [first, *rest])) == 450
    assert sf_client.api_calls >= 4  # three pages and the failed answer


def test_stopping_early_waits_for_the_read_and_counts_it(emulator, sf_client):
    emulator.control.insert("Account", *({"Name": f"A{n}"} for n in range(450)), load=True)
    emulator.control.faults(latency_ms=200)
    pages = sf_client.query_pages("SELECT Id FROM Account", batch_size=200)
    next(pages)
    pages.close()
    assert not _read_ahead_threads()
    assert sf_client.api_calls == 2


def test_bulk_results_pages_are_read_ahead(emulator, sf_client):
    emulator.control.insert("Contact", *({"LastName": f"L{n}"} for n in range(450)), load=True)
    caller = threading.current_thread().name
    seen = list(sf_client.bulk_query(
        "SELECT Id FROM Contact", page_records=200,
        prepare=lambda records: (len(records), threading.current_thread().name)))
    assert seen == [(200, caller), (200, "forcebridge-read-ahead"),
                    (50, "forcebridge-read-ahead")]


def test_an_error_in_prepare_is_raised_not_taken_for_a_failed_read(emulator, sf_client):
    emulator.control.insert("Account", *({"Name": f"A{n}"} for n in range(450)), load=True)
    emulator.control.clear_counters()
    prepared: list[int] = []

    def prepare(records: list[dict]) -> int:
        prepared.append(len(records))
        if len(prepared) == 2:
            raise KeyError("a bug in prepare")
        return len(records)

    with pytest.raises(KeyError, match="a bug in prepare"):
        list(sf_client.query_pages("SELECT Id FROM Account", batch_size=200, prepare=prepare))
    assert prepared == [200, 200]  # the second page was read once, not read again
    assert emulator.control.counters().get("queryMore", 0) == 1


def test_a_read_ahead_that_keeps_failing_costs_the_attempts_of_any_call(emulator, sf_client,
                                                                       settings):
    settings.SALESFORCE_MAX_RETRIES = 2
    emulator.control.insert("Account", *({"Name": f"A{n}"} for n in range(450)), load=True)
    # A call made directly: the first attempt and two retries.
    emulator.control.faults(fail_next={"count": 3, "status": 503, "kinds": ["query"]})
    with pytest.raises(Transient):
        sf_client.count("SELECT COUNT() FROM Account")
    emulator.control.clear_counters()
    # The same for the read of page 2 made ahead: its failure is the first attempt.
    emulator.control.faults(fail_next={"count": 9, "status": 503, "kinds": ["queryMore"]})
    with pytest.raises(Transient):
        list(sf_client.query_pages("SELECT Id FROM Account", batch_size=200))
    assert emulator.control.counters().get("queryMore", 0) == 3


def test_a_read_ahead_refused_with_a_4xx_is_not_sent_again(emulator, sf_client):
    emulator.control.insert("Account", *({"Name": f"A{n}"} for n in range(450)), load=True)
    emulator.control.clear_counters()
    emulator.control.faults(fail_next={"count": 9, "status": 400, "kinds": ["queryMore"],
                                       "error_code": "INVALID_QUERY_LOCATOR"})
    with pytest.raises(SalesforceRejected) as refused:
        list(sf_client.query_pages("SELECT Id FROM Account", batch_size=200))
    assert refused.value.error_code == "INVALID_QUERY_LOCATOR"
    assert emulator.control.counters().get("queryMore", 0) == 1
    assert sf_client.api_calls == 2  # the query and the refused read, both counted
