"""The logs browser: filters on indexed columns, search by id or e-mail, one record's history
across directions, errors by code, pages by position and the streamed CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from connections.models import Connection
from logs.keyset import Position, page_of
from logs.models import RecordLog
from syncs.models import Sync, SyncRun
from workspace.models import Person

BROWSE = "admin:logs_recordlog_browse"


@pytest.fixture
def cast(db):
    """Two syncs on two orgs, a run each, and logs of a person both ways."""
    now = timezone.now()
    orgs = [Connection.objects.create(name=f"Org {i}") for i in (1, 2)]
    contacts = Sync.objects.create(connection=orgs[0], name="Contacts", sobject="Contact",
                                   person_id_field="Id")
    leads = Sync.objects.create(connection=orgs[1], name="Leads", sobject="Lead",
                                person_id_field="Email")
    run = SyncRun.objects.create(sync=contacts, trigger="manual", status="succeeded", failed=2)
    other = SyncRun.objects.create(sync=leads, trigger="schedule", status="succeeded")
    ada = Person.objects.create(customer_id="003A", email="ada@example.com")
    ref = f"person:{ada.pk}"
    rows = [
        RecordLog(created_at=now - dt.timedelta(hours=3), sync=contacts, run=run,
                  sobject="Contact", record_id="003000000000001AAA", hub_ref=ref,
                  outcome="created"),
        RecordLog(created_at=now - dt.timedelta(hours=2), direction="out", sobject="Contact",
                  record_id="003000000000001AAA", hub_ref=ref, outcome="updated",
                  changed_fields=["Title"]),
        RecordLog(created_at=now - dt.timedelta(hours=1), sync=contacts, run=run,
                  sobject="Contact", record_id="003000000000002AAA", outcome="failed",
                  error_code="INVALID_EMAIL", message="=cmd|' /C calc'!A0"),
        RecordLog(created_at=now - dt.timedelta(hours=1), sync=contacts, run=run,
                  sobject="Contact", record_id="003000000000003AAA", outcome="failed",
                  error_code="INVALID_EMAIL", message="bad address"),
        RecordLog(created_at=now, sync=leads, run=other, sobject="Lead",
                  record_id="00Q000000000001AAA", outcome="failed", error_code="DUPLICATE_EMAIL"),
    ]
    RecordLog.objects.bulk_create(rows)
    return {"contacts": contacts, "leads": leads, "run": run, "orgs": orgs, "ref": ref}


def records(response) -> list[str]:
    return [log.record_id for log in response.context["page"].rows]


def test_each_filter_narrows_the_logs(staff_client, cast):
    url = reverse(BROWSE)
    assert len(records(staff_client.get(url))) == 5
    assert records(staff_client.get(url, {"direction": "out"})) == ["003000000000001AAA"]
    assert records(staff_client.get(url, {"sync": cast["leads"].pk})) == ["00Q000000000001AAA"]
    assert len(records(staff_client.get(url, {"connection": cast["orgs"][0].pk}))) == 3
    assert len(records(staff_client.get(url, {"outcome": "failed"}))) == 3
    assert len(records(staff_client.get(url, {"error_code": "INVALID_EMAIL"}))) == 2
    assert len(records(staff_client.get(url, {"run": cast["run"].pk}))) == 3
    since = (timezone.now() - dt.timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M")
    until = (timezone.now() - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    assert len(records(staff_client.get(url, {"since": since, "until": until}))) == 2


def test_search_by_salesforce_id_hub_ref_or_email(staff_client, cast):
    url = reverse(BROWSE)
    by_email = records(staff_client.get(url, {"q": "Ada@Example.com"}))
    assert by_email == ["003000000000001AAA", "003000000000001AAA"]
    assert records(staff_client.get(url, {"q": cast["ref"]})) == by_email
    assert records(staff_client.get(url, {"q": "00Q000000000001AAA"})) == ["00Q000000000001AAA"]
    assert records(staff_client.get(url, {"q": "nobody@example.com"})) == []


def test_errors_are_grouped_by_code_with_counts(staff_client, cast):
    response = staff_client.get(reverse(BROWSE))
    groups = [(code, count) for code, count, _ in response.context["groups"]]
    assert groups == [("INVALID_EMAIL", 2), ("DUPLICATE_EMAIL", 1)]
    only_leads = staff_client.get(reverse(BROWSE), {"sync": cast["leads"].pk})
    assert [code for code, _, _ in only_leads.context["groups"]] == ["DUPLICATE_EMAIL"]


def test_a_bad_filter_names_the_field_and_the_reason(staff_client, cast):
    response = staff_client.get(reverse(BROWSE), {"since": "yesterday-ish",
                                                  "sync": "999999"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-since"' in page and "Enter a valid date/time" in page
    assert 'id="error-sync"' in page and records(response) == []


def test_history_shows_one_record_in_both_directions(staff_client, cast):
    response = staff_client.get(reverse("admin:logs_recordlog_history"),
                                {"record": "003000000000001AAA", "hub": cast["ref"]})
    logs = response.context["logs"]
    assert [log.direction for log in logs] == ["out", "in"]
    page = response.content.decode()
    assert "hub → Salesforce" in page and "Salesforce → hub" in page and "Title" in page
    assert reverse("admin:workspace_person_change", args=[cast["ref"].split(":")[1]]) in page


def test_pages_follow_positions_through_rows_with_one_timestamp(db):
    now = timezone.now()
    RecordLog.objects.bulk_create([RecordLog(created_at=now, sobject="Contact",
                                             record_id=f"r{i}", outcome="created")
                                   for i in range(25)])
    logs = RecordLog.objects.order_by("-created_at", "-id")
    seen, before = [], None
    while True:
        page = page_of(logs, before=before, per_page=10)
        seen += [log.record_id for log in page.rows]
        if page.older is None:
            break
        before = page.older
    assert seen == [f"r{i}" for i in range(24, -1, -1)]
    back = page_of(logs, after=Position.parse(str(page.newer)), per_page=10)
    assert [log.record_id for log in back.rows] == [f"r{i}" for i in range(14, 4, -1)]


def test_csv_export_streams_the_filter_without_formulas(staff_client, cast):
    response = staff_client.get(reverse("admin:logs_recordlog_export"),
                                {"outcome": "failed", "sync": cast["contacts"].pk})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["created_at", "direction", "sync"]
    assert sorted(row[5] for row in rows[1:]) == ["003000000000002AAA", "003000000000003AAA"]
    assert "'=cmd|' /C calc'!A0" in [row[9] for row in rows[1:]]


@pytest.mark.django_db
def test_the_browser_needs_the_view_permission(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="clerk-pass-1",
                                                 is_staff=True)
    client.force_login(user)
    assert client.get(reverse(BROWSE)).status_code == 403
    assert client.get(reverse("admin:logs_recordlog_export")).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_recordlog"))
    assert client.get(reverse(BROWSE)).status_code == 200
