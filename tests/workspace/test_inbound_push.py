"""End to end: an identify sent to the inbound API reaches Salesforce (the emulator) through an
update-only People → Contacts action run by a real cluster, within seconds; an unknown
e-mail creates nothing there and is logged as skipped."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from logs.models import RecordLog
from tests.syncs.push_cast import make_action
from tests.waiting import wait_until
from workspace.models import ApiKey, Person

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

SECONDS = 30  # "within seconds" on a shared, busy machine; usually one or two


def identify(client, key: str, email: str, title: str):
    response = client.post("/api/v1/identify", {
        "userId": f"web-{email}", "messageId": f"m-{email}-{title}",
        "traits": {"email": email, "title": title}},
        content_type="application/json", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.content
    return Person.objects.get(customer_id=f"web-{email}")


def test_an_identify_reaches_the_matching_demo_contact_and_an_unknown_email_is_skipped(
        client, emulator, connection, cluster):
    emulator.control.seed("demo", rng_seed=7)
    contacts = emulator.control.records("Contact")
    emails = Counter(c.get("Email") for c in contacts)
    contact = next(c for c in contacts if c.get("Email") and emails[c["Email"]] == 1)
    action = make_action(connection, rows=[("title", "Title")])  # update only, by e-mail
    assert not action.allow_create
    key = ApiKey.issue("website")[1]

    sent = time.monotonic()
    person = identify(client, key, contact["Email"], "Chief Inbound Officer")
    assert wait_until(lambda: emulator.control.record("Contact", contact["Id"]).get("Title")
                      == "Chief Inbound Officer", SECONDS, 0.2), cluster_output(cluster)
    assert time.monotonic() - sent < SECONDS
    # The run commits its logs just after Salesforce answered: wait for them too.
    logged = logs_of(person, action, cluster)[0]
    assert (logged.outcome, logged.record_id) == ("updated", contact["Id"])

    stranger = identify(client, key, "nobody-here@example.org", "Ghost")
    skipped = logs_of(stranger, action, cluster)
    assert {(log.outcome, log.error_code) for log in skipped} == {("skipped", "NO_MATCH")}
    assert len(emulator.control.records("Contact")) == len(contacts)
    assert not any(c.get("Email") == "nobody-here@example.org"
                   for c in emulator.control.records("Contact"))


def logs_of(person: Person, action, cluster) -> list[RecordLog]:
    """The action's record logs of a person, oldest first, once there is one."""
    logs = RecordLog.objects.filter(action=action, hub_ref=f"person:{person.pk}").order_by("id")
    assert wait_until(logs.exists, SECONDS, 0.2), cluster_output(cluster)
    return list(logs)


def cluster_output(cluster) -> str:
    """What the cluster said so far, if it stopped (a failed wait names why)."""
    return "cluster stopped:\n" + cluster.stdout.read()[-3000:] if cluster.poll() is not None \
        else "the cluster is running"
