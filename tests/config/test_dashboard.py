"""The dashboard: connections with usage, syncs with their last day, the 14-day chart, failures
first and linked to their error."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.dashboard import dashboard_context
from connections.models import Connection
from syncs.actions import Action
from syncs.models import Sync, SyncRun


def sync_of(connection: Connection, name: str, **values) -> Sync:
    return Sync.objects.create(connection=connection, name=name, sobject="Contact",
                               person_id_field="Id", **values)


@pytest.mark.django_db
def test_dashboard_lists_failing_items_first_with_usage_and_a_chart(staff_client):
    now = timezone.now()
    healthy = Connection.objects.create(name="Healthy org", api_usage_used=300,
                                        api_usage_max=1000, api_usage_at=now)
    Connection.objects.filter(pk=healthy.pk).update(status=Connection.Status.CONNECTED)
    broken = Connection.objects.create(name="Broken org")
    Connection.objects.filter(pk=broken.pk).update(status=Connection.Status.NEEDS_REAUTH,
                                                   last_error="The refresh token was revoked")
    good = sync_of(healthy, "A contacts")
    bad = sync_of(healthy, "Z leads")
    SyncRun.objects.create(sync=good, trigger="manual", status="succeeded", fetched=5,
                           created=4, updated=1, started_at=now - dt.timedelta(hours=1))
    SyncRun.objects.create(sync=good, trigger="schedule", status="succeeded", created=7,
                           started_at=now - dt.timedelta(days=3))
    failed = SyncRun.objects.create(sync=bad, trigger="manual", status="failed", failed=2,
                                    error="INVALID_FIELD: No such column 'Foo__c'",
                                    started_at=now - dt.timedelta(minutes=5))
    Sync.objects.filter(pk=bad.pk).update(last_status="failed", last_run_id=failed.pk,
                                          last_run_at=failed.started_at,
                                          last_error=failed.error)

    response = staff_client.get(reverse("dashboard"))

    assert response.status_code == 200
    page = response.content.decode()
    # Failing first: the broken org before the healthy one, the failed sync before the good one.
    assert page.index("Broken org") < page.index("Healthy org")
    assert page.index("Z leads") < page.index("A contacts")
    assert reverse("admin:syncs_syncrun_change", args=[failed.pk]) in page
    assert "No such column" in page and "The refresh token was revoked" in page
    assert "300 / 1000 calls (30%)" in page
    rows = {row.item.name: row for row in response.context["rows"]}
    assert (rows["A contacts"].moved, rows["A contacts"].runs) == (5, 1)
    assert rows["Z leads"].state == "failed" and rows["Z leads"].failed == 2
    assert response.context["failing"] == 2
    start = page.index('<svg class="fb-chart"')
    svg = page[start:page.index("</svg>", start)]
    # Runs: two days ok, one with a failed run; records: two days moved something.
    assert svg.count('class="fb-bar-ok"') == 2 and svg.count('class="fb-bar-failed"') == 1
    assert svg.count('class="fb-bar-records"') == 2
    assert "cdn" not in page.lower() and "<script" not in svg


@pytest.mark.django_db
def test_the_admin_index_offers_the_dashboard_first(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()
    assert page.index(reverse("dashboard")) < page.index("Task queue")


@pytest.mark.django_db
def test_dashboard_is_staff_only(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_dashboard_lists_actions_with_their_runs(staff_client):
    org = Connection.objects.create(name="Org")
    action = Action.objects.create(connection=org, name="People → Contacts",
                                   sobject="Contact", matchers=[["email", "Email"]])
    run = SyncRun.objects.create(action=action, sync=None, direction="out", trigger="change",
                                 status="failed", failed=3, error="INVALID_FIELD: nope")
    Action.objects.filter(pk=action.pk).update(last_status="failed", last_run_id=run.pk,
                                               last_run_at=run.started_at, last_error=run.error)

    page = staff_client.get(reverse("dashboard")).content.decode()

    assert "People → Contacts" in page and "INVALID_FIELD: nope" in page
    assert reverse("admin:syncs_action_change", args=[action.pk]) in page


@pytest.mark.django_db
def test_the_dashboard_reads_runs_through_the_start_time_index():
    """Months of runs (FORCEBRIDGE_RUN_RETENTION_DAYS keeps 90 days by default) are never
    read whole: each window the dashboard reads (24 h totals of syncs and of actions, the
    14-day chart) is an index range on `started_at`, as the database's own plan says; the
    chart's is `syncrun_started_idx` (PostgreSQL plans from statistics, hence ANALYZE)."""
    now = timezone.now()
    org = Connection.objects.create(name="Org")
    owners = [{"sync": sync_of(org, "Every minute")},
              {"action": Action.objects.create(connection=org, name="People → Contacts",
                                               sobject="Contact", matchers=[["email", "Email"]])}]
    SyncRun.objects.bulk_create(
        SyncRun(**owners[i % 2], trigger="schedule", status="succeeded", created=1,
                started_at=now - dt.timedelta(minutes=30 * i)) for i in range(6000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as queries:
        dashboard_context(now)
    windows = [q["sql"] for q in queries
               if 'FROM "syncs_syncrun"' in q["sql"] and '"started_at" >=' in q["sql"]]
    assert len(windows) == 3
    plans = [plan_of(sql) for sql in windows]
    for plan in plans:
        # SQLite: "SEARCH syncs_syncrun USING INDEX i (... started_at>?)"; PostgreSQL:
        # "Index Scan using i ... Index Cond: (started_at >= ...)" (or a Bitmap Index Scan).
        assert re.search(r"SEARCH syncs_syncrun USING INDEX \w+ \(.*started_at>\?\)"
                         r"|Index Cond: \(started_at >=", plan), plan
        assert "SCAN syncs_syncrun" not in plan and "Seq Scan" not in plan, plan
    assert "syncrun_started_idx" in plans[-1], plans[-1]


def plan_of(sql: str) -> str:
    """The database's plan of one captured query, as one line."""
    with connection.cursor() as cursor:
        cursor.execute(f"{connection.ops.explain_query_prefix()} {sql}")
        return " ".join(str(column) for row in cursor.fetchall() for column in row)
