"""The inbound API over HTTP (Django's test client): keys, writes to the hub, validation of
every field, replays, size and rate limits, and batches with a bad message."""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import database_url_for_subprocess, run_manage
from workspace.models import (
    ApiKey,
    Change,
    Event,
    InboundMessage,
    Object,
    ObjectType,
    Person,
    Relationship,
    SourceRecord,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def key() -> str:
    return ApiKey.issue("website")[1]


def post(client, path: str, data: Any, key: str | None = None, *, basic: bool = False,
         content_type: str = "application/json", raw: bytes | None = None):
    headers = {}
    if key is not None:
        headers["Authorization"] = ("Basic " + base64.b64encode(f"{key}:".encode()).decode()
                                    if basic else f"Bearer {key}")
    body = raw if raw is not None else json.dumps(data)
    return client.post(f"/api/v1/{path}", body, content_type=content_type, headers=headers)


def fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# -- keys ------------------------------------------------------------------------------------

def test_identify_with_a_bearer_key_writes_a_person_with_its_outbox_row(client, key):
    response = post(client, "identify", {
        "userId": "u-1", "messageId": "m-1",
        "traits": {"email": "Ada@Example.com", "firstName": "Ada", "plan": {"tier": 2}}}, key)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 1, "duplicates": 0, "errors": []}
    person = Person.objects.get(customer_id="u-1")
    assert person.email == "ada@example.com"
    assert person.attributes == {"email": "Ada@Example.com", "firstName": "Ada",
                                 "plan": {"tier": 2}}
    api_key = ApiKey.objects.get()
    change = Change.objects.get(entity="person", entity_id=person.pk)
    assert change.op == "created" and change.origin == f"api:{api_key.pk}"
    assert SourceRecord.objects.get(source=f"api:{api_key.pk}").record_id == "u-1"
    assert api_key.last_used_at is not None


def test_http_basic_with_the_key_as_username_authenticates(client, key):
    response = post(client, "identify", {"userId": 42, "traits": {"name": "Forty"}}, key,
                    basic=True)
    assert response.status_code == 200, response.content
    assert Person.objects.get(customer_id="42").attributes == {"name": "Forty"}


@pytest.mark.parametrize("presented", [None, "fb_wrong", "", "inactive"])
def test_a_missing_wrong_or_inactive_key_is_401_with_a_challenge(client, key, presented):
    if presented == "inactive":
        ApiKey.objects.update(is_active=False)
        presented = key
    response = post(client, "identify", {"userId": "u"}, presented)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic realm=")
    assert "Bearer" in response["WWW-Authenticate"]
    assert fields(response) == ["Authorization"]
    assert not Person.objects.exists()


def test_a_malformed_basic_header_is_401(client, key):
    response = client.post("/api/v1/identify", "{}", content_type="application/json",
                           headers={"Authorization": "Basic not-base64!"})
    assert response.status_code == 401


def test_keys_are_stored_hashed_and_printed_once_by_the_command(capsys):
    call_command("create_api_key", "crm")
    printed = capsys.readouterr()
    key = printed.out.strip()
    api_key = ApiKey.objects.get(name="crm")
    assert key.startswith(api_key.prefix) and len(key) > 30
    assert api_key.hashed == ApiKey.digest(key) and key not in api_key.hashed
    assert "shown this once" in printed.err
    assert ApiKey.authenticate(key) == api_key


def test_the_admin_creates_a_key_and_shows_it_once(staff_client):
    response = staff_client.post("/admin/workspace/apikey/add/", {"name": "app"})
    assert response.status_code == 200
    api_key = ApiKey.objects.get(name="app")
    key = re.search(r'<code id="api-key">(fb_[^<]+)</code>', response.content.decode()).group(1)
    assert ApiKey.authenticate(key) == api_key
    assert key not in str(response.cookies) and key not in str(dict(staff_client.session))
    for page in ("/admin/workspace/apikey/", f"/admin/workspace/apikey/{api_key.pk}/change/"):
        shown = staff_client.get(page)
        assert shown.status_code == 200 and key not in shown.content.decode()
        assert api_key.prefix in shown.content.decode()


def test_an_operator_revokes_a_key_in_the_admin(staff_client, client, key):
    api_key = ApiKey.objects.get()
    response = staff_client.post(f"/admin/workspace/apikey/{api_key.pk}/change/",
                                 {"name": "website"})  # "active" unticked
    assert response.status_code == 302
    assert post(client, "identify", {"userId": "u"}, key).status_code == 401


def test_nothing_else_opened_the_admin_still_needs_a_login(client, key):
    for path in ("/admin/", "/admin/workspace/person/", "/admin/workspace/apikey/"):
        response = client.get(path, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 302 and "/login/" in response["Location"], path


def test_a_staff_session_is_no_api_key(staff_client):
    response = post(staff_client, "identify", {"userId": "u"})
    assert response.status_code == 401


def test_only_post_is_allowed(client, key):
    response = client.get("/api/v1/identify", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 405 and response["Allow"] == "POST"


# -- what each call writes -------------------------------------------------------------------

def test_group_writes_an_account_related_to_the_person(client, key):
    response = post(client, "group", {"userId": "u-1", "groupId": "acme",
                                      "traits": {"name": "Acme", "employees": 40}}, key)
    assert response.status_code == 200, response.content
    account = Object.objects.get(object_id="acme")
    assert (account.type.singular, account.type.plural) == ("Account", "Accounts")
    assert account.attributes == {"name": "Acme", "employees": 40}
    relationship = Relationship.objects.get()
    assert relationship.person.customer_id == "u-1" and relationship.object == account


def test_group_names_its_object_type_by_a_trait(client, key):
    ObjectType.objects.create(singular="Opportunity", plural="Opportunities")
    response = post(client, "group", {"anonymousId": "a", "groupId": "o-1", "traits": {
        "object_type_id": "opportunities", "amount": 5}}, key)
    assert response.status_code == 200, response.content
    deal = Object.objects.get(object_id="o-1")
    assert deal.type.singular == "Opportunity" and deal.attributes == {"amount": 5}
    assert not Relationship.objects.exists()


def test_track_writes_an_event_for_the_person(client, key):
    response = post(client, "track", {"userId": "u-1", "event": "Signed Up", "messageId": "e-1",
                                      "properties": {"plan": "pro"},
                                      "timestamp": "2026-12-01T10:00:00+01:00"}, key)
    assert response.status_code == 200, response.content
    event = Event.objects.get()
    assert (event.name, event.properties, event.person.customer_id) == (
        "Signed Up", {"plan": "pro"}, "u-1")
    assert event.timestamp.isoformat() == "2026-12-01T09:00:00+00:00"
    assert event.source_id == f"api:{ApiKey.objects.get().pk}:e-1"


def test_identify_by_anonymous_id_and_email(client, key):
    response = post(client, "identify", {"anonymousId": "anon-9",
                                         "traits": {"email": "x@y.io"}}, key)
    assert response.status_code == 200, response.content
    person = Person.objects.get()
    assert person.customer_id is None and person.email == "x@y.io"


def test_an_identify_whose_email_belongs_to_someone_else_is_refused_409(client, key):
    post(client, "identify", {"userId": "u-1", "traits": {"email": "a@x.io"}}, key)
    response = post(client, "identify", {"userId": "u-2", "traits": {"email": "a@x.io"}}, key)
    assert response.status_code == 409
    assert fields(response) == ["traits.email"] and "already belongs" in response.json()[
        "errors"][0]["message"]
    assert not Person.objects.filter(customer_id="u-2").exists()


# -- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "message", "field"), [
    ("identify", {}, "userId"),
    ("identify", {"userId": None, "anonymousId": None}, "userId"),
    ("identify", {"userId": 1.5}, "userId"),
    ("identify", {"userId": True}, "userId"),
    ("identify", {"userId": "  "}, "userId"),
    ("identify", {"userId": "u" * 201}, "userId"),
    ("identify", {"anonymousId": ["a"]}, "anonymousId"),
    ("identify", {"userId": "u", "messageId": {"id": 1}}, "messageId"),
    ("identify", {"userId": "u", "traits": ["email"]}, "traits"),
    ("identify", {"userId": "u", "traits": "a@x.io"}, "traits"),
    ("identify", {"userId": "u", "traits": {"email": "not-an-address"}}, "traits.email"),
    ("identify", {"userId": "u", "traits": {"email": 12}}, "traits.email"),
    ("identify", {"anonymousId": "a", "traits": {"name": "A"}}, "traits.email"),
    ("identify", {"userId": "u", "timestamp": "yesterday"}, "timestamp"),
    ("identify", {"userId": "u", "timestamp": "2026-13-45T00:00:00Z"}, "timestamp"),
    ("identify", {"userId": "u", "timestamp": 1764900000}, "timestamp"),
    ("identify", ["userId", "u"], "message"),
    ("group", {"userId": "u"}, "groupId"),
    ("group", {"userId": "u", "groupId": ""}, "groupId"),
    ("group", {"userId": "u", "groupId": "g", "traits": 3}, "traits"),
    ("group", {"userId": "u", "groupId": "g", "traits": {"object_type_id": ""}},
     "traits.object_type_id"),
    ("group", {"userId": "u", "groupId": "g", "traits": {"objectTypeId": "Planets"}},
     "traits.object_type_id"),
    ("track", {"userId": "u"}, "event"),
    ("track", {"userId": "u", "event": "  "}, "event"),
    ("track", {"userId": "u", "event": "e" * 256}, "event"),
    ("track", {"userId": "u", "event": "E", "properties": [1]}, "properties"),
    ("track", {"anonymousId": "a", "event": "E"}, "userId"),
])
def test_each_bad_field_is_a_400_naming_it(client, key, path, message, field):
    response = post(client, path, message, key)
    assert response.status_code == 400, response.content
    assert field in fields(response), response.json()
    assert all(e["message"] for e in response.json()["errors"])
    assert not Person.objects.exists() and not Object.objects.exists()


def test_every_problem_of_a_message_is_named_at_once(client, key):
    response = post(client, "track", {"userId": 3.5, "event": 4, "timestamp": "soon"}, key)
    assert response.status_code == 400
    assert set(fields(response)) == {"userId", "event", "timestamp"}


def test_a_wrong_content_type_or_bad_json_is_400(client, key):
    wrong = post(client, "identify", None, key, content_type="text/plain", raw=b'{"userId":"u"}')
    assert wrong.status_code == 400 and fields(wrong) == ["Content-Type"]
    broken = post(client, "identify", None, key, raw=b'{"userId": "u",')
    assert broken.status_code == 400 and fields(broken) == ["body"]
    latin = post(client, "identify", None, key, raw=b'{"userId": "\xe9"}')
    assert latin.status_code == 400 and fields(latin) == ["body"]


@pytest.mark.parametrize("body", [{"batch": "x"}, {"messages": []}, [], {"batch": []}])
def test_a_batch_that_is_not_a_list_of_messages_is_400(client, key, body):
    response = post(client, "batch", body, key)
    assert response.status_code == 400 and fields(response) == ["batch"]


# -- limits ---------------------------------------------------------------------------------

def test_a_body_over_500_kb_is_413(client, key):
    big = {"userId": "u", "traits": {"notes": "x" * (500 * 1024)}}
    response = post(client, "identify", big, key)
    assert response.status_code == 413 and fields(response) == ["body"]
    assert not Person.objects.exists()


def test_a_batch_over_1000_messages_is_413(client, key):
    batch = [{"type": "identify", "userId": str(i)} for i in range(1001)]
    response = post(client, "batch", {"batch": batch}, key)
    assert response.status_code == 413 and fields(response) == ["batch"]
    assert not Person.objects.exists()


def test_over_the_rate_limit_is_429_with_retry_after(client, key, settings):
    settings.FORCEBRIDGE_API_RATE_LIMIT = 2
    batch = [{"type": "identify", "userId": f"u{i}"} for i in range(6)]
    assert post(client, "batch", {"batch": batch}, key).status_code == 200
    response = post(client, "identify", {"userId": "late"}, key)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3
    assert "2 messages a second" in response.json()["errors"][0]["message"]
    assert not Person.objects.filter(customer_id="late").exists()


def test_the_rate_limit_is_per_key(client, key, settings):
    settings.FORCEBRIDGE_API_RATE_LIMIT = 1
    other = ApiKey.issue("other")[1]
    two = [{"type": "identify", "userId": "a"}, {"type": "identify", "userId": "b"}]
    assert post(client, "batch", {"batch": two}, key).status_code == 200
    assert post(client, "identify", {"userId": "b"}, key).status_code == 429
    assert post(client, "identify", {"userId": "c"}, other).status_code == 200


# -- replays and batches --------------------------------------------------------------------

def test_a_replayed_message_changes_nothing_and_is_accepted(client, key):
    message = {"userId": "u-1", "messageId": "m-1", "traits": {"plan": "free"}}
    assert post(client, "identify", message, key).status_code == 200
    changes = Change.objects.count()
    replay = post(client, "identify", {**message, "traits": {"plan": "pro"}}, key)
    assert replay.status_code == 200
    assert replay.json() == {"accepted": 1, "duplicates": 1, "errors": []}
    assert Person.objects.get().attributes == {"plan": "free"}
    assert Change.objects.count() == changes


def test_a_replayed_track_makes_no_second_event_and_other_keys_have_their_own_ids(client, key):
    message = {"userId": "u-1", "event": "Paid", "messageId": "m-7"}
    for _ in range(2):
        assert post(client, "track", message, key).status_code == 200
    assert Event.objects.count() == 1
    other = ApiKey.issue("other")[1]
    assert post(client, "track", message, other).json()["duplicates"] == 0
    assert Event.objects.count() == 2
    # Forgotten messageIds (past retention) still update their event rather than add one.
    InboundMessage.objects.all().delete()
    assert post(client, "track", {**message, "properties": {"v": 2}}, key).status_code == 200
    assert Event.objects.count() == 2


def test_a_batch_with_one_bad_message_writes_the_rest_and_names_it_by_index(client, key):
    batch = [{"type": "identify", "userId": f"u{i}", "traits": {"n": i}} for i in range(5)]
    batch[3] = {"type": "identify", "userId": "u3", "traits": {"email": "nope"}}
    batch.append({"type": "page", "userId": "u9"})
    batch.append({"type": "track", "userId": "u0", "event": "Seen", "messageId": "t-1"})
    batch.append({"type": "group", "userId": "u1", "groupId": "acme"})
    response = post(client, "batch", {"batch": batch}, key)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 6
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(3, "traits.email"),
                                                                  (5, "type")]
    assert set(Person.objects.values_list("customer_id", flat=True)) == {"u0", "u1", "u2",
                                                                         "u4"}
    assert Event.objects.get().person.customer_id == "u0"
    assert Relationship.objects.get().person.customer_id == "u1"


def test_messages_about_one_person_in_a_batch_apply_in_order(client, key):
    batch = [{"type": "identify", "userId": "u", "traits": {"plan": "free", "a": 1}},
             {"type": "track", "userId": "u", "event": "Upgraded"},
             {"type": "identify", "userId": "u", "traits": {"plan": "pro"}},
             {"type": "identify", "userId": "u", "messageId": "same"},
             {"type": "identify", "userId": "u", "messageId": "same", "traits": {"x": 1}}]
    response = post(client, "batch", {"batch": batch}, key)
    assert response.json() == {"accepted": 5, "duplicates": 1, "errors": []}
    assert Person.objects.get().attributes == {"plan": "pro", "a": 1}
    assert Event.objects.get().person.customer_id == "u"


def test_a_batch_of_only_bad_messages_is_400(client, key):
    response = post(client, "batch", {"batch": [{"type": "identify"}]}, key)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 0, "field": "userId",
                                          "message": "userId or anonymousId is required"}]


def test_remembered_message_ids_are_pruned_after_the_retention(client, key):
    post(client, "identify", {"userId": "u", "messageId": "old"}, key)
    assert InboundMessage.prune(days=1) == 0
    InboundMessage.objects.update(received_at="2020-01-01T00:00:00Z")
    assert InboundMessage.prune(days=1) == 1


@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_is_shared_by_every_process(client, settings):
    """Another web process spent the key's allowance: this one answers 429 too."""
    settings.FORCEBRIDGE_API_RATE_LIMIT = 1
    api_key, key = ApiKey.issue("shared")
    spend = (f"import django; django.setup(); from workspace.models import ApiKey; "
             f"print(ApiKey.objects.get(pk={api_key.pk}).take(5, 1))")
    done = run_manage(["-c", spend], dict(os.environ, DATABASE_URL=database_url_for_subprocess()))
    assert done.returncode == 0 and done.stdout.split() == ["0"], done.stderr[-2000:]
    response = post(client, "identify", {"userId": "u"}, key)
    assert response.status_code == 429 and 2 <= int(response["Retry-After"]) <= 4
