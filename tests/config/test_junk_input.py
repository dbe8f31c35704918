"""Generated junk posted to every form and endpoint that takes input: always an answer with a
message or a redirect, never a 500, and no row changed by a refused request."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connections.models import Connection
from syncs.models import Sync
from tests.syncs.conftest import contacts

pytestmark = pytest.mark.django_db

# Characters that break SOQL, HTML, CSV, JSON and SQL when mishandled.
METACHARACTERS = "'\"\\%_;,<>&{}[]()\n\r\t\x00`$#|*?"
JUNK = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60),
    st.text(alphabet=METACHARACTERS, max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.just("x" * 100_000),
    st.integers(min_value=1, max_value=3000).map(lambda depth: "[" * depth + "]" * depth),
    st.recursive(st.none() | st.booleans() | st.text(max_size=5),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                 max_leaves=10).map(json.dumps),
)
SYNC_FIELDS = ["name", "connection", "sobject", "enabled", "data_format", "person_id_field",
               "person_match", "object_id_field", "related_id_field", "object_type",
               "event_name_field", "event_timestamp_field", "fields", "renames",
               "convert_dates", "filter", "on_delete", "refresh_days", "schedule_kind",
               "every_minutes", "cron", "start_at", "bulk_threshold", "batch_size", "use_preset"]
CONNECTION_FIELDS = ["name", "enabled", "environment", "login_url", "authorize_url",
                     "client_id", "client_secret", "api_version", "daily_budget_percent",
                     "account_external_id_field", "allow_org_change", "code", "state", "error"]
HYPOTHESIS = settings(max_examples=15, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture,
                                             HealthCheck.too_slow])


def junk_for(fields: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional={name: JUNK for name in fields})


# What an operator sets on a connection (its API usage and token bookkeeping change with every
# call the pages make to Salesforce, which is not a write of the refused input).
CONNECTION_SETTINGS = ["pk", "name", "enabled", "environment", "login_url", "authorize_url",
                       "client_id", "client_secret_encrypted", "api_version",
                       "daily_budget_percent", "account_external_id_field"]


def snapshot() -> list:
    return [list(Sync.objects.order_by("pk").values()),
            list(Connection.objects.order_by("pk").values(*CONNECTION_SETTINGS))]


def check(response, before: list) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code not in (301, 302):  # refused (or only shown): nothing changed
        assert snapshot() == before


@pytest.fixture
def pages(staff_client, connection, emulator, make_sync):
    emulator.control.insert("Contact", *contacts(2))
    sync = make_sync("Contact", fields=["LastName"])
    return staff_client, connection, sync


@HYPOTHESIS
@given(data=junk_for(SYNC_FIELDS))
def test_the_sync_forms_answer_junk_with_messages(pages, data):
    client, _, sync = pages
    for url in (reverse("admin:syncs_sync_add"),
                reverse("admin:syncs_sync_change", args=[sync.pk])):
        before = snapshot()
        check(client.post(url, data), before)


@HYPOTHESIS
@given(data=junk_for(CONNECTION_FIELDS))
def test_the_connection_forms_and_buttons_answer_junk(pages, data):
    client, connection, sync = pages
    urls = [reverse("admin:connections_connection_change", args=[connection.pk]),
            reverse("admin:connections_connection_connect", args=[connection.pk]),
            reverse("admin:connections_connection_test", args=[connection.pk]),
            reverse("admin:connections_connection_refresh_schema", args=[connection.pk])]
    for url in urls:
        before = snapshot()
        response = client.post(url, data)
        assert response.status_code < 500, (url, response.content[:500])
        if url == urls[0] and response.status_code == 200:
            assert snapshot() == before
    # The OAuth callback takes its input in the query string.
    before = snapshot()
    check(client.get(reverse("admin:connections_connection_oauth_callback"), data), before)


@HYPOTHESIS
@given(data=junk_for(["q", "o", "p", "outcome", "direction", "run__id__exact", "sync__id__exact",
                      "e", "all"]))
def test_list_pages_answer_junk_queries(pages, data):
    client, _, _ = pages
    for name in ("logs_recordlog", "syncs_sync", "syncs_syncrun", "workspace_person",
                 "connections_connection"):
        response = client.get(reverse(f"admin:{name}_changelist"), data)
        assert response.status_code < 500, (name, response.content[:500])


@HYPOTHESIS
@given(data=junk_for(["username", "password", "next"]))
def test_login_and_health_answer_junk(client, data):
    assert client.post(reverse("admin:login"), data).status_code < 500
    assert client.get(reverse("healthz"), data).status_code in (200, 503)


def test_a_search_too_long_for_the_database_is_refused_with_a_message(pages):
    client, _, _ = pages
    for name in ("logs_recordlog", "syncs_sync", "syncs_syncrun", "workspace_person",
                 "connections_connection"):
        response = client.get(reverse(f"admin:{name}_changelist"), {"q": "x" * 100_000},
                              follow=True)
        assert response.status_code == 200, name
        assert "Search not run: 100,000 characters; at most 200." in response.content.decode()
