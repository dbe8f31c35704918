"""The recycle bin: soft delete with Salesforce's cascades, undelete, and purge (hard delete).

Deleting a record also deletes the records that cannot live without it: an Account takes its
Contacts, Opportunities, Cases, relations and activities along, a Contact its account
relations, opportunity roles and tasks, and so on down (see `CASCADES`). Every record deleted
this way gets IsDeleted, the parent's new SystemModstamp and its own `deleted/` entry, and the
org remembers which records went with which parent (`org.cascades`), so undeleting the parent
restores exactly those and purging it purges them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import validation
from .errors import not_found
from .values import RecordError

if TYPE_CHECKING:
    from .store import Org
    from .table import Row, Table

# For each parent sObject, the (child sObject, lookup field) pairs whose records go with it.
# Activities (Task) and junction rows follow every parent they hang from; plain lookups such as
# Case.ContactId are not listed, as Salesforce only clears those.
CASCADES: dict[str, tuple[tuple[str, str], ...]] = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId"), ("Case", "AccountId"),
                ("AccountContactRelation", "AccountId"), ("Task", "WhatId")),
    "Contact": (("AccountContactRelation", "ContactId"), ("OpportunityContactRole", "ContactId"),
                ("CampaignMember", "ContactId"), ("Task", "WhoId")),
    "Opportunity": (("OpportunityContactRole", "OpportunityId"), ("Task", "WhatId")),
    "Lead": (("CampaignMember", "LeadId"), ("Task", "WhoId")),
    "Case": (("Task", "WhatId"),),
    "Campaign": (("CampaignMember", "CampaignId"),),
}


def delete(org: Org, sobject: str | None, record_id: str) -> str:
    """Soft delete to the recycle bin; SystemModstamp moves so queryAll pollers see it."""
    with org.transaction():
        table, normal, row = org.live(sobject, record_id)
        if not table.sobject.deletable:
            raise RecordError(400, "INSUFFICIENT_ACCESS_OR_READONLY",
                              "insufficient access rights on object id")
        _bin(org, table, normal, row, org.stamp())
        return normal


def undelete(org: Org, record_id: str) -> str:
    """Restore a record from the bin, with the children its deletion took along."""
    with org.transaction():
        found = org.locate(record_id)
        if found is None:
            raise not_found()
        table, row = found
        if not row[table.deleted_col]:
            raise RecordError(400, "UNDELETE_FAILED", "Entity is not in the recycle bin")
        normal = row[table.col["Id"]]
        _restore(org, table, normal, row, org.stamp())
        return normal


def hard_delete(org: Org, record_id: str) -> str:
    """Remove a record for good (Bulk hardDelete, recycle-bin purge), its cascade included.

    queryAll can no longer see it, so, as in Salesforce, the deletion stays listed by
    `deleted/` (getDeleted) for its window: a record purged from the recycle bin keeps its
    soft-delete date, one hard-deleted while live is listed with the time of the purge.
    """
    with org.transaction():
        found = org.locate(record_id)
        if found is None:
            raise not_found()
        table, row = found
        normal = row[table.col["Id"]]
        _purge(org, table, normal, row, org.stamp())
        return normal


def _children(org: Org, table: Table, record_id: str) -> list[tuple[Table, str]]:
    """The live records that go with `record_id`, each with its table."""
    found = []
    for sobject, field in CASCADES.get(table.sobject.name, ()):
        child_table = org.tables[sobject]
        found += [(child_table, child) for child in child_table.children_of(field, record_id)]
    return found


def _bin(org: Org, table: Table, record_id: str, row: Row, stamp: str) -> None:
    changed = list(row)
    changed[table.deleted_col] = True
    org.touch(table, changed, stamp)
    org.put_row(table, record_id, tuple(changed))
    org.remember(org.delete_log, record_id, (table.sobject.name, stamp))
    taken = []
    for child_table, child_id in _children(org, table, record_id):
        # An earlier branch of this cascade may already have taken the child (a task on both
        # a deleted contact and its deleted account).
        child = child_table.get(child_id)
        if child is not None and not child[child_table.deleted_col]:
            _bin(org, child_table, child_id, child, stamp)
            taken.append(child_id)
    org.remember(org.cascades, record_id, taken or None)


def _restore(org: Org, table: Table, record_id: str, row: Row, stamp: str) -> None:
    changed = list(row)
    changed[table.deleted_col] = False
    org.touch(table, changed, stamp)
    restored = tuple(changed)
    validation.check_unique(table, record_id, restored)
    org.put_row(table, record_id, restored)
    org.remember(org.delete_log, record_id, None)
    for child_id in org.cascades.get(record_id) or ():
        found = org.locate(child_id)
        # A child undeleted or purged on its own since then is left as it is.
        if found is not None and found[1][found[0].deleted_col]:
            _restore(org, found[0], child_id, found[1], stamp)
    org.remember(org.cascades, record_id, None)


def _purge(org: Org, table: Table, record_id: str, row: Row, stamp: str) -> None:
    if row[table.deleted_col]:
        children = list(org.cascades.get(record_id) or ())
    else:
        children = [child_id for _, child_id in _children(org, table, record_id)]
    entry = org.delete_log.get(record_id) or (table.sobject.name, stamp)
    org.put_row(table, record_id, None)
    org.remember(org.delete_log, record_id, entry)
    org.remember(org.cascades, record_id, None)
    for child_id in children:
        found = org.locate(child_id)
        if found is not None:
            _purge(org, found[0], child_id, found[1], stamp)
