"""sync_now, resync and setup_demo, against the emulator over HTTPS."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from connections import oauth
from connections.models import Connection
from logs.models import RecordLog
from sfemulator import Emulator
from sfemulator.ports import free_port
from syncs.actions import Action
from syncs.management.commands.setup_demo import CONNECTION_NAME, DEMO_ACTIONS, DEMO_SYNCS
from syncs.models import Sync, SyncRun
from syncs.pull import run_sync
from syncs.push import run_action
from tests.syncs.conftest import contacts
from tests.syncs.push_cast import hub_people
from workspace.models import Event, Object, Person, Relationship

pytestmark = pytest.mark.django_db


def command(*args: str, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_sync_now_runs_the_sync_and_prints_the_run(emulator, make_sync):
    emulator.control.insert("Contact", *contacts(3))
    sync = make_sync("Contact", name="Contacts → people")

    output = command("sync_now", "contacts")

    run = SyncRun.objects.get(sync=sync)
    assert run.status == SyncRun.Status.SUCCEEDED and run.trigger == Sync.Trigger.MANUAL
    assert f"Run {run.pk} of 'Contacts → people' (manual, full): succeeded" in output
    assert "fetched 3, created 3" in output and f"API calls {run.api_calls}" in output
    assert Person.objects.count() == 3

    emulator.control.update("Contact", emulator.control.records("Contact")[0]["Id"],
                            {"Title": "CEO"})
    assert "(manual, incremental)" in command("sync_now", str(sync.pk))
    output = command("sync_now", str(sync.pk), "--full")
    assert "(resync, full)" in output and "fetched 3" in output


def test_resync_starts_over(emulator, make_sync):
    emulator.control.insert("Contact", *contacts(2))
    sync = make_sync("Contact")
    run_sync(sync.pk)

    output = command("resync", sync.name)

    run = SyncRun.objects.filter(sync=sync).first()
    assert run.trigger == Sync.Trigger.RESYNC and run.fetched == 2
    assert "(resync, full): succeeded" in output


def test_unknown_and_ambiguous_names_are_refused(connection, make_sync):
    make_sync("Contact", name="Contacts → people")
    make_sync("Lead", name="Leads → people")
    with pytest.raises(CommandError, match="No sync named or numbered 'Nope'.*Contacts → people"):
        command("sync_now", "Nope")
    with pytest.raises(CommandError, match="matches several syncs.*Give the id"):
        command("resync", "people")


def test_a_failed_run_exits_non_zero_with_the_reason(emulator, make_sync):
    sync = make_sync("Contact")
    # Saved without the Salesforce check, as if the field was deleted in the org since.
    Sync.objects.filter(pk=sync.pk).update(filter="Gone__c != null")
    with pytest.raises(CommandError, match="failed: .*INVALID_FIELD") as caught:
        command("sync_now", sync.name)
    assert caught.value.returncode == 1
    assert SyncRun.objects.get(sync=sync).status == SyncRun.Status.FAILED


def test_a_disabled_sync_is_not_run(connection, make_sync):
    sync = make_sync("Contact", enabled=False)
    with pytest.raises(CommandError, match="disabled"):
        command("sync_now", sync.name)
    assert not SyncRun.objects.exists()


@pytest.fixture
def demo_org(tmp_path, settings):
    with Emulator.running(seed="demo", data_dir=tmp_path / "demo-emulator") as running:
        settings.SALESFORCE_CA_BUNDLE = str(running.ca_path)
        yield running


def test_setup_demo_connects_through_oauth_and_creates_the_syncs(demo_org):
    arguments = ["setup_demo", "--emulator-url", demo_org.base_url,
                 "--authorize-url", demo_org.http_url]

    output = command(*arguments)

    connection = Connection.objects.get()
    assert connection.name == CONNECTION_NAME and connection.status == Connection.Status.CONNECTED
    assert connection.login_url == demo_org.base_url
    assert connection.authorize_url == demo_org.http_url
    assert connection.client_id == "forcebridge-demo" and connection.client_secret == "demo-secret"
    assert connection.org_id == demo_org.org.org_id
    # The grant was made through the consent page and the token endpoint, not minted.
    counters = demo_org.control.counters()
    assert counters.get("oauth-authorize") == 1
    assert "Connected to Salesforce org" in output
    syncs = {s.sobject: s for s in Sync.objects.all()}
    assert set(syncs) == {sobject for _, sobject in DEMO_SYNCS}
    assert all(s.schedule_kind == "minutes" and s.every_minutes == 5 for s in syncs.values())
    assert all(s.run_requested == Sync.Trigger.MANUAL for s in syncs.values())

    # Idempotent: nothing is duplicated and the working connection is not re-authorized.
    again = command(*arguments)
    assert "already connected" in again
    assert Connection.objects.count() == 1 and Sync.objects.count() == len(DEMO_SYNCS)
    assert demo_org.control.counters().get("oauth-authorize") == 1

    # The requested first runs bring the demo org into the hub.
    for sync in Sync.objects.all():
        run = run_sync(sync.pk)
        assert run.status == SyncRun.Status.SUCCEEDED, (sync.name, run.error)
    assert Person.objects.count() > 3000
    assert Object.objects.filter(type__singular="Account").count() == 345
    assert Relationship.objects.exists() and Event.objects.exists()


def test_setup_demo_reconnects_when_the_tokens_stopped_working(demo_org):
    arguments = ["setup_demo", "--emulator-url", demo_org.base_url,
                 "--authorize-url", demo_org.http_url, "--no-run"]
    command(*arguments)
    # The grant revoked at Salesforce (as an emulator restart forgets it): the tokens are dead.
    connection = Connection.objects.get()
    oauth.revoke(connection, connection.refresh_token)

    output = command(*arguments)

    assert "Connected to Salesforce org" in output
    assert Connection.objects.get().status == Connection.Status.CONNECTED
    assert Sync.objects.count() == len(DEMO_SYNCS)


def test_setup_demo_says_when_the_emulator_is_not_reachable(db):
    port = free_port()
    with pytest.raises(CommandError, match=f"not reachable at https://127.0.0.1:{port}"):
        command("setup_demo", "--emulator-url", f"https://127.0.0.1:{port}")
    assert not Connection.objects.exists()


def test_setup_demo_creates_the_demo_actions_which_echo_nothing(demo_org):
    command("setup_demo", "--emulator-url", demo_org.base_url, "--authorize-url",
            demo_org.http_url, "--no-run")
    actions = {a.name: a for a in Action.objects.all()}
    assert set(actions) == {spec[0] for spec in DEMO_ACTIONS}
    assert all(a.enabled and a.operation == "update" and not a.allow_create
               for a in actions.values())
    contacts_action = actions["People → Contacts"]
    assert contacts_action.matchers == [["email", "Email"]]
    assert [r.target for r in contacts_action.field_rows()] == ["FirstName", "LastName", "Phone",
                                                                "Title"]
    assert actions["Accounts → Accounts"].object_type.singular == "Account"
    for sync in Sync.objects.all():
        assert run_sync(sync.pk).status == SyncRun.Status.SUCCEEDED
    # What the demo syncs pulled came from this org: nothing is pushed back.
    for action in actions.values():
        run = run_action(action.pk)
        assert (run.status, run.fetched) == (SyncRun.Status.SUCCEEDED, 0), run.error
    # A reconcile of the untouched demo writes nothing. (The demo org has a few contacts that
    # share an e-mail address: those people match several and are logged, not written.)
    demo_org.control.clear_counters()
    for action in actions.values():
        run = run_action(action.pk, full=True)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert (run.created, run.updated) == (0, 0) and run.fetched > 300
        assert set(RecordLog.objects.filter(run=run, outcome="failed").values_list(
            "error_code", flat=True)) <= {"MULTIPLE_MATCHES"}
    assert demo_org.control.counters().get("composite") is None
    # A change from elsewhere than Salesforce is written.
    person = Person.objects.filter(customer_id__startswith="003").exclude(email="").first()
    hub_people({**person.attributes, "email": person.email, "customer_id": person.customer_id,
                "title": "Chief Demo Officer"})
    assert run_action(contacts_action.pk).updated == 1
    assert demo_org.control.record("Contact", person.customer_id)["Title"] == "Chief Demo Officer"
