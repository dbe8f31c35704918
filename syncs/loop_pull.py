"""The pull's side of the two-way loop: what a page of Salesforce records may change in the hub.

Built once per run of a sync of people or objects, for the fields whose attributes an action
of the same connection writes (no action, no loop: nothing is remembered); used by the page
applier, inside the page's transaction (syncs/applier.py):
1. `raw(records)` (off the database, on the read-ahead thread) keeps each record's values of
   the mapped top-level fields as Salesforce sent them, and its change time;
2. `before(items, page)`: one query reads the page's exchanged fields, one more the linked hub
   rows' current attributes (only when some record has exchanged fields); then per field:
   - the pulled value equals the last exchanged one: not a Salesforce change (nothing new, or
     our own push read back): the attribute is not written, so the hub keeps its value and is
     not rewritten;
   - it differs and the hub's value differs from the last exchanged one too (and from the
     pulled one): a conflict, logged; the policy decides (once the page's conflicts are
     known: when the newest change wins, one query dates the hub's changes of those fields),
     and when the hub wins the attribute is not written (the hub's value goes out with its
     own outbox change);
   - otherwise the pulled value is written as before;
   a record holding a push's write and otherwise what the hub has keeps its audit fields
   (LastModifiedDate, LastModifiedById, SystemModstamp) out of the hub too: our own write
   read back changes nothing;
3. `after(results, page)` upserts the exchanged fields of the records applied: the value read
   and the hub's value once written (a lead's value that the contact owns is not the hub's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from logs.models import RecordLog
from mappings.mapping import Format
from mappings.transform import SYSTEM_FIELDS
from mappings.values import InvalidValue
from syncs.actions import Action
from syncs.conflicts import HUB, HubTimes, Policy, conflict, winner
from syncs.exchanges import ExchangeBook, Known, hub_key
from workspace.items import Item, Outcome, Result
from workspace.models import SourceRecord
from workspace.sql_rows import select_in

if TYPE_CHECKING:
    from mappings.transform import Transformer
    from syncs.models import Sync

APPLIED = (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED)
AUDIT_FIELDS = ("LastModifiedDate", "LastModifiedById", "SystemModstamp")
MISSING = object()


class Clash(NamedTuple):
    """A field a record and the hub both changed since it was exchanged."""

    item: Item
    hub_id: int
    path: str
    attribute: str
    salesforce: Any
    hub: Any
    last: Any


@dataclass(slots=True)
class Exchanged:
    """What `raw` kept of a page, and what `before` decided for it."""

    values: dict[str, dict[str, Any]]  # record id → mapped path → value as read
    times: dict[str, Any]  # record id → LastModifiedDate (else SystemModstamp)
    known: dict[tuple[str, str], Known] = field(default_factory=dict)
    sent: set[tuple[str, str]] = field(default_factory=set)  # last written by a push
    unchanged: set[tuple[str, str]] = field(default_factory=set)  # not a Salesforce change
    lost: set[tuple[str, str]] = field(default_factory=set)  # the hub won the conflict


class PullLoop:
    """The loop's rules for one sync's pages."""

    def __init__(self, sync: Sync, transformer: Transformer, pushed: set[str], *,
                 force: bool) -> None:
        mapping = transformer.mapping
        self.book = ExchangeBook(sync.connection_id, sync.sobject, RecordLog.Direction.IN)
        self.policy = sync.connection.conflict_policy
        self.source = sync.source
        self.force = force
        self.entity = "person" if mapping.format == Format.PERSON else "object"
        self.transformer = transformer
        # The attributes of the fields every write changes (none of them written back).
        self.audit = {transformer.targets[path] for path in AUDIT_FIELDS
                      if path in transformer.targets}
        # (Salesforce field, hub attribute) of the mapped top-level fields that are pushed.
        self.fields = [(path, transformer.targets[path]) for path in dict.fromkeys(mapping.fields)
                       if "." not in path and path not in SYSTEM_FIELDS
                       and transformer.targets[path] in pushed]

    @classmethod
    def for_sync(cls, sync: Sync, transformer: Transformer, *, force: bool) -> PullLoop | None:
        """The loop of a sync of people or objects whose attributes some action of the same
        connection writes back (None otherwise: with no way back there is no loop, and the
        pull remembers nothing)."""
        shape = transformer.mapping.format
        if shape not in (Format.PERSON, Format.OBJECT):
            return None
        actions = Action.objects.filter(connection_id=sync.connection_id)
        if shape == Format.PERSON:
            actions = actions.filter(entity=Action.Entity.PEOPLE)
        else:
            actions = actions.filter(entity=Action.Entity.OBJECTS,
                                     object_type_id=sync.object_type_id)
        pushed = {row.source for action in actions.prefetch_related("field_mappings")
                  for row in action.field_rows() if row.target}
        loop = cls(sync, transformer, pushed, force=force)
        return loop if loop.fields else None

    def select(self, fields: list[str], described: dict) -> list[str]:
        """The SELECT list, with LastModifiedDate when the newest change wins."""
        names = {f["name"] for f in described["fields"]}
        if self.policy == Policy.NEWEST and "LastModifiedDate" in names \
                and "LastModifiedDate" not in fields:
            return [*fields, "LastModifiedDate"]
        return fields

    def raw(self, records: list[dict]) -> Exchanged:
        paths = [path for path, _ in self.fields]
        values, times = {}, {}
        for record in records:
            key = str(record.get("Id"))
            values[key] = {path: record.get(path) for path in paths}
            times[key] = record.get("LastModifiedDate") or record.get("SystemModstamp")
        return Exchanged(values, times)

    def same(self, path: str, one: Any, other: Any) -> bool:
        """Two Salesforce values of a field, read the way the pull reads them, are equal."""
        try:
            return self.transformer.value({path: one}, path) == \
                self.transformer.value({path: other}, path)
        except InvalidValue:
            return one == other

    def before(self, items: list[Item], page: Exchanged) -> list[Result]:
        """Leave out of each item what is no Salesforce change or lost a conflict; the
        conflicts found."""
        page.known, page.sent = self.book.by_records(item.key for item in items)
        if not page.known:
            return []
        linked = {key for key, _ in page.known}
        hub = {record_id: (kind_id, attributes) for record_id, kind_id, attributes, deleted_at
               in select_in(SourceRecord.objects.filter(source=self.source),
                            ["record_id", f"{self.entity}_id", f"{self.entity}__attributes",
                             f"{self.entity}__deleted_at"],
                            record_id=[item.key for item in items if item.key in linked])
               if kind_id is not None and deleted_at is None}
        found: list[Clash] = []
        ours = []
        for item in items:
            if item.key in hub:
                hub_id, current = hub[item.key]
                if self._item(item, page, hub_id, current, found):
                    ours.append((item, current))
        conflicts = self._settle(found, page)
        for item, current in ours:
            self._read_back(item, current)
        return conflicts

    def _item(self, item: Item, page: Exchanged, hub_id: int, current: dict[str, Any],
              found: list[Clash]) -> bool:
        """Leave out of the item what is no Salesforce change, add its conflicts to `found`;
        whether it holds a push's write read back."""
        ours = False
        for path, attribute in self.fields:
            last = page.known.get((item.key, path))
            if last is None or attribute not in item.attributes:
                continue
            pulled = page.values[item.key][path]
            now = current.get(attribute, MISSING)
            hub_changed = last.attribute == attribute and now is not MISSING \
                and now != last.hub_value
            if self.same(path, pulled, last.value):
                page.unchanged.add((item.key, path))
                ours = ours or (item.key, path) in page.sent
                if now is not MISSING and (hub_changed or not self.force):
                    del item.attributes[attribute]
                continue
            if hub_changed and now != item.attributes[attribute]:
                found.append(Clash(item, hub_id, path, attribute, pulled, now, last.value))
        return ours

    def _settle(self, found: list[Clash], page: Exchanged) -> list[Result]:
        """Each conflict decided by the policy; the hub's winning values are kept (one query
        for the hub's change times of the page, when the newest change wins)."""
        times = HubTimes(self.entity, {clash.hub_id for clash in found})
        conflicts = []
        for item, hub_id, path, attribute, pulled, now, last in found:
            won = winner(self.policy, page.times.get(item.key), times, hub_id, attribute)
            conflicts.append(conflict(item.key, f"{self.entity}:{hub_id}", path,
                                      salesforce=pulled, hub=now, last=last, won=won,
                                      policy=self.policy))
            if won == HUB:
                page.lost.add((item.key, path))
                del item.attributes[attribute]
        return conflicts

    def _read_back(self, item: Item, current: dict[str, Any]) -> None:
        """A record that holds a push's write and otherwise what the hub has: only its audit
        fields (LastModifiedDate...) changed, by our own write, so the hub is not rewritten."""
        audit = [name for name in self.audit if name in item.attributes]
        if audit and all(current.get(name, MISSING) == value
                         for name, value in item.attributes.items() if name not in audit):
            for name in audit:
                del item.attributes[name]

    def after(self, results: list[Result], items: list[Item], page: Exchanged) -> None:
        """Remember the fields of the records applied (one upsert; changed rows only)."""
        rows: list[tuple] = []
        attributes = {item.key: item.attributes for item in items}
        fields, values, known = self.fields, page.values, page.known
        for result in results:
            key = result.key
            linked = hub_key(result.ref) if result.outcome in APPLIED else None
            if linked is None or key not in values:
                continue
            written = result.attributes if result.attributes is not None else \
                attributes.get(key, {})
            read = values[key]
            if not known:  # nothing remembered for this page yet (a first sync): every field
                rows += [(key, path, *linked, attribute, read[path], written.get(attribute))
                         for path, attribute in fields]
                continue
            for path, attribute in fields:
                where = (key, path)
                if where in page.unchanged:
                    continue
                last = known.get(where)
                if where in page.lost:  # Salesforce's value seen and lost: the hub's goes out
                    # (to the record the page wrote: a merge in the page moved the link)
                    row = last._replace(value=read[path], entity=linked[0], hub_id=linked[1])
                else:
                    row = Known(key, path, *linked, attribute, read[path],
                                written.get(attribute))
                if row != last:
                    rows.append(row)
        self.book.save(rows)

    def forget(self, record_ids: list[str]) -> None:
        """Records deleted in Salesforce: their links are gone."""
        self.book.forget(record_ids)
