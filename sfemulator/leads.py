"""Business automation the org runs on writes: lead conversion and direct account relations."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from .values import RecordError

if TYPE_CHECKING:
    from .store import Org
    from .table import Row

_CONTACT_FROM_LEAD = {
    "FirstName": "FirstName", "LastName": "LastName", "Email": "Email", "Phone": "Phone",
    "MobilePhone": "MobilePhone", "Title": "Title", "LeadSource": "LeadSource",
    "HasOptedOutOfEmail": "HasOptedOutOfEmail", "Street": "MailingStreet", "City": "MailingCity",
    "State": "MailingState", "PostalCode": "MailingPostalCode", "Country": "MailingCountry",
    "Description": "Description",
}


def convert(org: Org, lead_id: str, *, account_id: str | None = None,
            contact_id: str | None = None, create_opportunity: bool = True,
            converted_status: str = "Closed - Converted",
            at: dt.datetime | None = None) -> dict[str, str | None]:
    """Convert a lead like Salesforce's convertLead: returns the ids it created or used.

    1. Create (or reuse) the Account named after the Company.
    2. Create (or reuse) the Contact under it, copying the lead's person fields.
    3. Optionally create an Opportunity.
    4. Mark the lead converted; from then on it cannot be updated.

    `at` dates the conversion in the past (seeding): every record it writes is stamped then.
    """
    if at is not None:
        with org.clock.pinned(at):
            return convert(org, lead_id, account_id=account_id, contact_id=contact_id,
                           create_opportunity=create_opportunity,
                           converted_status=converted_status)
    with org.transaction():
        lead = org.get_record(lead_id)
        if lead is None or lead["IsDeleted"] or not lead_id.startswith("00Q"):
            raise RecordError(404, "NOT_FOUND", "The requested resource does not exist")
        if lead["IsConverted"]:
            raise RecordError(400, "CANNOT_UPDATE_CONVERTED_LEAD",
                              "cannot reference converted lead")
        if account_id is None:
            account_id = org.insert("Account", {
                "Name": lead["Company"], "Industry": lead["Industry"], "Phone": lead["Phone"],
                "Website": lead["Website"], "NumberOfEmployees": lead["NumberOfEmployees"],
                "AnnualRevenue": lead["AnnualRevenue"], "BillingCity": lead["City"],
                "BillingCountry": lead["Country"]})
        if contact_id is None:
            person = {target: lead[source] for source, target in _CONTACT_FROM_LEAD.items()}
            contact_id = org.insert("Contact", {**person, "AccountId": account_id})
        opportunity_id = None
        if create_opportunity:
            close = org.now().date() + dt.timedelta(days=30)
            opportunity_id = org.insert("Opportunity", {
                "Name": f"{lead['Company']}-", "AccountId": account_id,
                "StageName": "Prospecting", "CloseDate": close.isoformat(),
                "LeadSource": lead["LeadSource"]})
        _mark_converted(org, lead["Id"], {
            "IsConverted": True, "ConvertedDate": org.now().date().isoformat(),
            "ConvertedAccountId": account_id, "ConvertedContactId": contact_id,
            "ConvertedOpportunityId": opportunity_id, "Status": converted_status})
        return {"leadId": lead["Id"], "accountId": account_id, "contactId": contact_id,
                "opportunityId": opportunity_id}


def _mark_converted(org: Org, lead_id: str, values: dict[str, Any]) -> None:
    """The conversion fields are read-only to the API, so they are written directly."""
    table = org.tables["Lead"]
    row = list(table.get(lead_id) or ())
    for name, value in values.items():
        row[table.col[name]] = value
    org.touch(table, row)
    org.put_row(table, lead_id, tuple(row))


def after_write(org: Org, sobject: str, record_id: str, old: Row | None, new: Row) -> None:
    """Keep each contact's direct AccountContactRelation in step with Contact.AccountId.

    Salesforce creates the direct relation when a contact gets an account; when the account
    changes, the old relation stays as an indirect one and the new account's relation becomes
    the direct one: an existing indirect relation is promoted, otherwise one is created.
    """
    if sobject != "Contact":
        return
    column = org.tables["Contact"].col["AccountId"]
    before = old[column] if old is not None else None
    after = new[column]
    if before == after:
        return
    relations = org.tables["AccountContactRelation"]
    col = relations.col
    # A new contact has no relations yet: skip the lookup (and building its index on seeding).
    existing = relations.children_of("ContactId", record_id) if old is not None else []
    promoted = False
    for relation_id in existing:
        row = relations.get(relation_id)
        assert row is not None  # the index only lists stored, live relations
        direct = row[col["AccountId"]] == after
        if row[col["IsDirect"]] != direct:
            changed = list(row)
            changed[col["IsDirect"]] = direct
            org.touch(relations, changed)
            org.put_row(relations, relation_id, tuple(changed))
        promoted = promoted or direct
    if after is not None and not promoted:
        relation_id = org.ids.new(relations.sobject.key_prefix)
        org.put_row(relations, relation_id, org.new_row(
            relations, relation_id, org.stamp(),
            {"AccountId": after, "ContactId": record_id, "IsDirect": True, "IsActive": True}))
