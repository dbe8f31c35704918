"""Typical mappings from the data-in docs, and the order objects are offered in.

Contacts and Leads become people (leads identified by e-mail so they graduate to contacts),
Tasks become events, Accounts / Opportunities / Campaigns become custom objects, and
AccountContactRelation / OpportunityContactRole become relationships. New actions start
from the usual outbound mapping: people by e-mail with their names and phone, Accounts by the
connection's External ID for accounts (else the domain) with domain and name.
"""

from __future__ import annotations

from typing import Any

POPULAR = ("Contact", "Lead", "Account", "Opportunity", "Task", "Campaign",
           "AccountContactRelation", "OpportunityContactRole")

PRESETS: dict[str, dict[str, Any]] = {
    "Contact": {"data_format": "person", "person_id_field": "Id", "person_match": "customer_id"},
    "Lead": {"data_format": "person", "person_id_field": "Email", "person_match": "email"},
    "Task": {"data_format": "event", "person_id_field": "WhoId", "person_match": "customer_id",
             "event_name_field": "Subject", "event_timestamp_field": "CreatedDate"},
    "Account": {"data_format": "object", "object_id_field": "Id", "object_type": "Account"},
    "Opportunity": {"data_format": "object", "object_id_field": "Id",
                    "object_type": "Opportunity"},
    "Campaign": {"data_format": "object", "object_id_field": "Id", "object_type": "Campaign"},
    "AccountContactRelation": {"data_format": "relationship", "person_id_field": "ContactId",
                               "person_match": "customer_id", "object_id_field": "AccountId",
                               "object_type": "Account"},
    "OpportunityContactRole": {"data_format": "relationship", "person_id_field": "ContactId",
                               "person_match": "customer_id", "object_id_field": "OpportunityId",
                               "object_type": "Opportunity"},
}
# What a new action maps before the operator changes it (hub attribute → Salesforce field):
# the hub's own trait names, as the Contacts and Leads syncs write them (mappings/reserved.py).
PEOPLE_ROWS = (("email", "Email"), ("firstName", "FirstName"), ("lastName", "LastName"),
               ("phone", "Phone"))
ACCOUNT_ROWS = (("domain", "Website"), ("name", "Name"))
# Types that cannot be synced as plain values (compound fields are read through their parts).
UNSYNCABLE_TYPES = frozenset({"address", "location", "base64", "anyType", "complexvalue"})


def object_choices(describe_global: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(name, label)]) for a select: popular objects first, then every other
    queryable object (custom `__c` objects included), by label."""
    queryable = {o["name"]: o for o in describe_global.get("sobjects", []) if o.get("queryable")}
    popular = [(n, queryable[n]["labelPlural"] or n) for n in POPULAR if n in queryable]
    others = sorted(((n, o.get("labelPlural") or o.get("label") or n)
                     for n, o in queryable.items() if n not in POPULAR),
                    key=lambda pair: pair[1].lower())
    return [("Popular", popular), ("Other objects", others)]


def default_fields(describe: dict) -> list[str]:
    """Every readable plain field of the object (the operator toggles off what is not needed)."""
    return [f["name"] for f in describe["fields"]
            if f.get("type") not in UNSYNCABLE_TYPES and f["name"] != "IsDeleted"]


def preset_for(sobject: str, describe: dict) -> dict[str, Any]:
    """Sync settings for an object: its typical mapping, or a custom object keyed by Id."""
    preset = dict(PRESETS.get(sobject) or {"data_format": "object", "object_id_field": "Id",
                                           "object_type": sobject})
    type_name = preset.pop("object_type", None)
    if type_name == sobject:
        preset["object_type_names"] = (describe.get("label") or sobject,
                                       describe.get("labelPlural") or _plural(sobject))
    elif type_name:
        # A relationship's objects are of its parent's type (AccountContactRelation → Account).
        preset["object_type_names"] = (type_name, _plural(type_name))
    preset["fields"] = default_fields(describe)
    return preset


def _plural(name: str) -> str:
    return name[:-1] + "ies" if name.endswith("y") else name + "s"


def action_defaults(sobject: str, people: bool, account_key: str = "") -> dict[str, list]:
    """Field mappings and matchers pre-filled on a new action ({} for other objects)."""
    if people and sobject in ("", "Contact", "Lead"):
        return {"field_mappings": [list(row) for row in PEOPLE_ROWS],
                "matchers": [["email", "Email"]]}
    if not people and sobject == "Account":
        return {"field_mappings": [list(row) for row in ACCOUNT_ROWS],
                "matchers": [["object_id", account_key] if account_key else ["domain", "Website"]]}
    return {}
