"""What a search box over record logs finds: exact matches on indexed columns only.

A term is a Salesforce id (15 or 18 characters), a hub reference (`person:12`), or an e-mail
address / customer id, which is turned into the hub reference of that person first. Substring
search over millions of rows is deliberately not offered.
"""

from __future__ import annotations

import re

from django.db.models import Q

from workspace.models import Person

SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
HUB_REF = re.compile(r"^(person|object|relationship|event):\d+$")
PEOPLE_MATCHED = 50
HELP = ("A Salesforce id, an e-mail address or customer id, or a hub reference such as "
        "person:12 (exact match).")


def matching(term: str) -> Q:
    """The condition on RecordLog for one search term (never a substring scan)."""
    term = term.strip()
    if HUB_REF.match(term):
        return Q(hub_ref=term)
    condition = Q(record_id=term) if SALESFORCE_ID.match(term) else Q(pk__in=[])
    people = Person.objects.filter(
        Q(email=Person.normalize_email(term)) | Q(customer_id=term)
    ).values_list("pk", flat=True)[:PEOPLE_MATCHED]
    refs = [f"person:{pk}" for pk in people]
    if refs:
        condition |= Q(hub_ref__in=refs)
    return condition
