"""The mapping editor of syncs and actions: rows refused by name and reason against describe,
a preview of three real records mapped with the rows as posted (nothing saved), and saving."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mappings.mapping import FieldRow, Transform
from syncs.models import Sync
from tests.syncs.conftest import contacts
from tests.syncs.push_cast import hub_people, make_action

pytestmark = pytest.mark.django_db
FETCHED = {"HTTP_X_REQUESTED_WITH": "fetch"}


def rows(*entries: tuple) -> dict[str, list[str]]:
    """The posted columns of rows given as (source, target[, transform[, default]])."""
    full = [(*entry, "", "", "")[:4] for entry in entries]
    return {key: [entry[i] for entry in full]
            for i, key in enumerate(("source", "target", "transform", "default"))}


@pytest.fixture
def sync(make_sync) -> Sync:
    return make_sync("Contact", name="Contacts → people",
                     fields=["FirstName", "LastName", "Email", "CreatedDate"])


def test_the_page_shows_the_rows_and_the_reserved_traits(staff_client, sync):
    page = staff_client.get(reverse("admin:syncs_sync_mapping", args=[sync.pk])).content.decode()
    assert page.count('name="source"') == 5  # four rows and the template of a new one
    assert 'value="FirstName"' in page and 'placeholder="firstName"' in page
    assert "reserved trait: firstName" in page and 'id="reserved-traits"' in page
    assert "<code>CreatedDate</code>" not in page.split('id="reserved-traits"')[1].split("</section>")[0]
    assert reverse("admin:syncs_sync_resync", args=[sync.pk]) in page


def test_refused_rows_are_named_with_the_reason_and_nothing_is_saved(staff_client, sync):
    url = reverse("admin:syncs_sync_mapping", args=[sync.pk])
    before = sync.field_rows()
    cases = [
        (("Emial", "email"),), "Row 1 (Emial → email): Contact has no field &#x27;Emial&#x27;",
        (("HasOptedOutOfEmail", "", "iso_to_unix"),), "HasOptedOutOfEmail is a boolean field; "
        "“ISO-8601 → Unix timestamp” reads date, datetime, string fields",
        (("Email", "", "unix_to_iso"),), "Email is a email field",
        (("", "source", "constant"),), "a constant needs its value",
        (("", "", "lower"),), "needs a source",
        (("FirstName", ""), ("", ""), ("Firstname", "x")), "Row 3 (Firstname → x): Firstname "
        "is read by row 1 already",
        (("FirstName", "name"), ("LastName", "name")), "name is written by row 1 already",
        (("Account.Nme", ""),), "Account has no field &#x27;Nme&#x27;",
        (("FirstName", "", "shout"),), "unknown transform &#x27;shout&#x27;",
        (("CreatedDate", "", "iso_to_unix", "yesterday"),), "the default &#x27;yesterday&#x27; "
        "is not a valid",
    ]
    for entries, reason in zip(cases[::2], cases[1::2], strict=True):
        response = staff_client.post(url, rows(*entries))
        text = response.content.decode()
        assert response.status_code == 200 and "The mapping was not saved" in text, entries
        assert reason in text, (entries, text[text.find("mapping-problems"):][:600])
        assert 'class="fb-map-row fb-row-error"' in text
    sync.refresh_from_db()
    assert sync.field_rows() == before


def test_preview_maps_three_salesforce_records_with_the_posted_rows(staff_client, sync,
                                                                   emulator):
    emulator.control.insert("Contact", *contacts(5))
    url = reverse("admin:syncs_sync_mapping", args=[sync.pk])
    posted = rows(("FirstName", "given", "lower"), ("Email", ""), ("LeadSource", "", "", "web"),
                  ("", "origin", "constant", "salesforce"))
    response = staff_client.post(url, {**posted, "_preview": "1"}, **FETCHED)
    text = response.content.decode()
    assert response.status_code == 200 and 'data-state="shown"' in text
    assert text.count('class="fb-table fb-preview"') == 3
    assert "<code>given</code></th><td class=\"fb-value\">first0</td>" in text
    assert "<code>email</code></th><td class=\"fb-value\">c0@example.com</td>" in text
    assert "<code>LeadSource</code></th><td class=\"fb-value\">web</td>" in text
    assert "<code>origin</code></th><td class=\"fb-value\">salesforce</td>" in text
    assert "customer id 003" in text
    sync.refresh_from_db()
    assert [row.source for row in sync.field_rows()] == ["FirstName", "LastName", "Email",
                                                         "CreatedDate"]
    refused = staff_client.post(url, {**rows(("Nope", "")), "_preview": "1"}, **FETCHED)
    assert 'data-state="refused"' in refused.content.decode()
    assert "Contact has no field" in refused.content.decode()
    # Without script, Preview re-renders the page with the preview and the rows as posted.
    page = staff_client.post(url, {**posted, "_preview": "1"}).content.decode()
    assert 'id="mapping-form"' in page and "first0" in page and 'value="given"' in page


def test_saving_replaces_the_rows(staff_client, sync):
    url = reverse("admin:syncs_sync_mapping", args=[sync.pk])
    response = staff_client.post(url, rows(("FirstName", "given", "lower"), ("", ""),
                                           ("Email", "")), follow=True)
    assert "Mapping of “Contacts → people” saved (2 rows)" in response.content.decode()
    sync.refresh_from_db()
    assert sync.field_rows() == [FieldRow("FirstName", "given", Transform.LOWER),
                                 FieldRow("Email")]


def test_the_action_editor_checks_targets_and_previews_hub_records(staff_client, connection,
                                                                   emulator):
    hub_people({"email": "ada@example.com", "first": "Ada", "signed_up": 1700000000},
               {"email": "bob@example.com", "first": "Bob", "signed_up": "soon"})
    action = make_action(connection, rows=[("first", "FirstName")])
    url = reverse("admin:syncs_action_mapping", args=[action.pk])
    page = staff_client.get(url).content.decode()
    assert 'value="first"' in page and 'value="FirstName"' in page
    refused = staff_client.post(url, rows(("first", "FirstNme"), ("first", "Birthdate", "lower"),
                                          ("", "Birthdate", "constant", "not a date"),
                                          ("signed_up", ""))).content.decode()
    assert "Row 1 (first → FirstNme): Contact has no field" in refused
    assert "Birthdate is a date field; “Lower case”" in refused
    assert "the default &#x27;not a date&#x27; is not a date" in refused
    assert "Row 4 (signed_up → (usual name)): needs the Salesforce field it writes" in refused
    not_writable = staff_client.post(url, rows(("first", "CreatedDate"))).content.decode()
    assert "CreatedDate is not updateable in Salesforce" in not_writable

    posted = rows(("first", "FirstName", "lower"), ("signed_up", "Birthdate", "unix_to_iso"))
    preview = staff_client.post(url, {**posted, "_preview": "1"}, **FETCHED).content.decode()
    assert preview.count('class="fb-table fb-preview"') == 2
    assert "<code>FirstName</code></th><td class=\"fb-value\">ada</td>" in preview
    assert "<code>Birthdate</code></th><td class=\"fb-value\">2023-11-14</td>" in preview
    assert "&#x27;soon&#x27; is not a valid Unix timestamp" in preview
    staff_client.post(url, posted)
    action.refresh_from_db()
    assert [row.target for row in action.field_rows()] == ["FirstName", "Birthdate"]


def test_the_editor_needs_the_change_permission(client, django_user_model, sync):
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    client.force_login(user)
    url = reverse("admin:syncs_sync_mapping", args=[sync.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, rows(("FirstName", ""))).status_code == 403
