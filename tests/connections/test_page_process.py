"""Bulk results pages prepared in a forked helper process (connections/page_process.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from connections import page_process
from connections.errors import SalesforceRejected
from connections.page_process import PageProcess, PageProcessFailed
from tests.conftest import ROOT
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db


def _gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for a parent that does not reap counts)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def _pages_apart(sf_client, prepare, records: int = 450):
    return [page.prepared for page in sf_client.bulk_api.resumable_query(
        "SELECT Id, LastName FROM Contact", page_records=200, prepare=prepare, apart=True)]


def test_pages_are_prepared_in_one_helper_process_that_ends_with_the_query(emulator,
                                                                          sf_client):
    emulator.control.insert("Contact", *({"LastName": f"L{n}"} for n in range(450)), load=True)
    seen = _pages_apart(sf_client, lambda records: (os.getpid(), [r["LastName"] for r in records]))
    pids = {pid for pid, _ in seen}
    assert len(pids) == 1 and os.getpid() not in pids
    assert sorted(name for _, names in seen for name in names) == sorted(
        f"L{n}" for n in range(450))
    assert [len(names) for _, names in seen] == [200, 200, 50]
    assert _gone(pids.pop())  # reaped when the last page was read


class Refused(Exception):
    """An error whose constructor takes other arguments than its `args` hold."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        super().__init__(f"{code}: {detail}")


def test_an_error_in_the_helper_is_raised_in_the_caller_as_the_same_type(emulator, sf_client):
    emulator.control.insert("Contact", *({"LastName": f"L{n}"} for n in range(450)), load=True)
    parent = os.getpid()

    def prepare(records: list[dict]) -> int:
        if any(r["LastName"] == "L300" for r in records):
            raise Refused("BAD_PAGE", f"L300 was prepared in {os.getpid()}")
        return len(records)

    pages = sf_client.bulk_api.resumable_query("SELECT Id, LastName FROM Contact",
                                               page_records=200, prepare=prepare, apart=True)
    with pytest.raises(Refused) as raised:
        for page in pages:
            assert page.prepared == 200
    assert re.fullmatch(r"BAD_PAGE: L300 was prepared in \d+", str(raised.value))
    assert raised.value.code == "BAD_PAGE"
    assert str(parent) not in str(raised.value)
    assert any("raised in the helper process" in note and "prepare" in note
               for note in raised.value.__notes__)


def test_a_typed_salesforce_error_keeps_its_fields(emulator, sf_client):
    emulator.control.insert("Contact", {"LastName": "Only"}, load=True)

    def prepare(records: list[dict]) -> int:
        raise SalesforceRejected("INVALID_FIELD", "no such column", ["Foo__c"], status=400)

    with pytest.raises(SalesforceRejected) as raised:
        _pages_apart(sf_client, prepare)
    assert (raised.value.error_code, raised.value.fields, raised.value.status) == (
        "INVALID_FIELD", ["Foo__c"], 400)
    assert str(raised.value) == "INVALID_FIELD: no such column (fields: Foo__c)"


def test_an_error_that_cannot_be_pickled_is_named_in_a_plain_one(emulator, sf_client):
    emulator.control.insert("Contact", {"LastName": "Only"}, load=True)

    class Local(Exception):  # a local class cannot be pickled by reference
        pass

    def prepare(records: list[dict]) -> int:
        raise Local("only in the helper")

    with pytest.raises(PageProcessFailed, match=r"Local: only in the helper"):
        _pages_apart(sf_client, prepare)


def test_a_helper_that_dies_mid_page_is_an_error_not_a_hang():
    with PageProcess(lambda payload: time.sleep(60)) as helper:
        threading.Timer(0.3, os.kill, (helper.pid, signal.SIGKILL)).start()
        started = time.monotonic()
        with pytest.raises(PageProcessFailed, match=r"was killed by signal 9 before answering"):
            helper.run(b"page")
        assert time.monotonic() - started < 30
    assert _gone(helper.pid)


def test_a_helper_that_stops_answering_is_killed_and_an_error(monkeypatch):
    monkeypatch.setattr(page_process, "ANSWER_TIMEOUT", 0.5)
    monkeypatch.setattr(page_process, "EXIT_GRACE", 0.5)
    with PageProcess(lambda payload: time.sleep(60)) as helper:
        with pytest.raises(PageProcessFailed, match=r"did not stop and was killed before "
                                                    r"answering \(no answer in 0.5 s\)"):
            helper.run(b"page")
        with pytest.raises(PageProcessFailed, match="is closed"):
            helper.run(b"page")
    assert _gone(helper.pid)


PARENT = textwrap.dedent("""
    import os, sys, threading, time
    from connections.page_process import PageProcess

    def start():
        # The helper says when it has a page, then sleeps on it.
        helper = PageProcess(lambda payload: (print("busy", flush=True), time.sleep(3600)))
        print(helper.pid, flush=True)
        if sys.argv[1] == "busy":
            helper.run(b"page")  # never answered: the child sleeps
        time.sleep(3600)

    if sys.argv[2] == "main":
        start()
    else:  # forked from a thread that lives on (no PDEATHSIG: the pipe's end stops it)
        threading.Thread(target=start).start()
""")


@pytest.mark.parametrize(("state", "thread"), [("busy", "main"), ("idle", "main"),
                                               ("idle", "other")])
def test_a_killed_parent_leaves_no_helper_running(state, thread):
    parent = subprocess.Popen(  # noqa: S603 - our own argv
        [sys.executable, "-c", PARENT, state, thread], cwd=ROOT, stdout=subprocess.PIPE,
        text=True, start_new_session=True)
    try:
        child = int(parent.stdout.readline())
        if state == "busy":  # killed only once the helper works on the page
            assert parent.stdout.readline() == "busy\n", "the helper never got the page"
        assert not _gone(child)
        parent.kill()  # SIGKILL of the parent alone, not of its process group
        parent.wait(10)
        assert wait_until(lambda: _gone(child), 10), f"helper {child} outlived its parent"
    finally:
        try:
            os.killpg(parent.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        parent.wait(10)
