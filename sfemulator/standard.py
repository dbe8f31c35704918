"""The standard objects Forcebridge syncs, plus the default custom fields and objects.

Fields are a realistic subset of the real ones, with the same names, types, references and
required/unique/external-id flags, so that describe-driven code behaves as against a real org.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from . import standard_extras as extras
from .addresses import address_fields
from .schema import Field, FormulaContext, Schema, SObjectType, field_from_spec

F = Field


def _audit(owner: bool = True) -> list[Field]:
    """System fields every object carries; never writable through the API."""
    fixed = {"createable": False, "updateable": False, "nillable": False}
    fields = [
        F("IsDeleted", "boolean", label="Deleted", **fixed),
        F("CreatedDate", "datetime", **fixed),
        F("CreatedById", "reference", reference_to=["User"], relationship_name="CreatedBy", **fixed),
        F("LastModifiedDate", "datetime", **fixed),
        F("LastModifiedById", "reference", reference_to=["User"],
          relationship_name="LastModifiedBy", **fixed),
        F("SystemModstamp", "datetime", label="System Modstamp", **fixed),
    ]
    if owner:
        fields.append(F("OwnerId", "reference", nillable=False, defaulted=True, reference_to=["User"],
                        relationship_name="Owner"))
    return fields


def _id() -> Field:
    return F("Id", "id", label="Record ID", nillable=False, createable=False, updateable=False,
             id_lookup=True, case_sensitive=True)


def _full_name(record: Mapping[str, Any]) -> str | None:
    parts = [record.get("FirstName"), record.get("LastName")]
    return " ".join(p for p in parts if p) or None


def _ext_id() -> Field:
    return F("Forcebridge_Id__c", "string", label="Forcebridge ID", length=64, unique=True,
             external_id=True)


def days_since_created(record: Mapping[str, Any], context: FormulaContext) -> int | None:
    """Contact.Days_Since_Created__c: TODAY() - DATEVALUE(CreatedDate); changes daily."""
    created = record.get("CreatedDate")
    if not created:
        return None
    day = created[:10]
    ordinal = context.cache.get(day)
    if ordinal is None:
        ordinal = context.cache[day] = dt.date.fromisoformat(day).toordinal()
    return context.today_ordinal - ordinal


def _is_closed(record: Mapping[str, Any]) -> bool:
    return str(record.get("StageName") or "").startswith("Closed")


INDUSTRIES = ["Agriculture", "Banking", "Education", "Energy", "Healthcare", "Media", "Retail",
              "Technology", "Telecommunications"]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
          "Negotiation/Review", "Closed Won", "Closed Lost"]
LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                 "Closed - Not Converted"]


def _account() -> SObjectType:
    return SObjectType("Account", "001", [
        _id(), F("Name", "string", nillable=False), F("AccountNumber", "string", length=40),
        F("Type", "picklist", picklist=["Prospect", "Customer - Direct", "Partner", "Other"]),
        F("Industry", "picklist", picklist=INDUSTRIES),
        F("ParentId", "reference", reference_to=["Account"], relationship_name="Parent"),
        F("Website", "url"), F("Phone", "phone"), F("NumberOfEmployees", "int"),
        F("AnnualRevenue", "currency"), F("Description", "textarea"),
        *address_fields("Billing", "BillingAddress", "Billing Address"),
        *address_fields("Shipping", "ShippingAddress", "Shipping Address"), *extras.account(),
        *_audit(), _ext_id(),
    ])


def _contact() -> SObjectType:
    return SObjectType("Contact", "003", [
        _id(), F("AccountId", "reference", reference_to=["Account"], relationship_name="Account"),
        F("Salutation", "picklist", picklist=["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]),
        F("FirstName", "string", length=40), F("LastName", "string", length=80, nillable=False),
        F("Name", "string", label="Full Name", length=121, derive=_full_name),
        F("Email", "email", id_lookup=True), F("Phone", "phone"), F("MobilePhone", "phone"),
        F("Title", "string", length=128), F("Department", "string", length=80),
        F("LeadSource", "picklist", picklist=LEAD_SOURCES), F("Birthdate", "date"),
        F("ReportsToId", "reference", reference_to=["Contact"], relationship_name="ReportsTo"),
        F("HasOptedOutOfEmail", "boolean", label="Email Opt Out", nillable=False),
        F("DoNotCall", "boolean", nillable=False), F("Description", "textarea"),
        *address_fields("Mailing", "MailingAddress", "Mailing Address"),
        *address_fields("Other", "OtherAddress", "Other Address"), *extras.contact(),
        *_audit(), _ext_id(),
        F("Days_Since_Created__c", "double", scale=0, formula=days_since_created),
    ])


def _lead() -> SObjectType:
    converted = {"createable": False, "updateable": False}
    return SObjectType("Lead", "00Q", [
        _id(), F("FirstName", "string", length=40),
        F("LastName", "string", length=80, nillable=False),
        F("Name", "string", label="Full Name", length=121, derive=_full_name),
        F("Company", "string", nillable=False), F("Title", "string", length=128),
        F("Email", "email", id_lookup=True), F("Phone", "phone"), F("MobilePhone", "phone"),
        F("Website", "url"), F("Status", "picklist", nillable=False, restricted_picklist=True,
                               picklist=LEAD_STATUSES,
                               default="Open - Not Contacted"),
        F("LeadSource", "picklist", picklist=LEAD_SOURCES),
        F("Industry", "picklist", picklist=INDUSTRIES),
        F("Rating", "picklist", picklist=["Hot", "Warm", "Cold"]),
        F("NumberOfEmployees", "int"), F("AnnualRevenue", "currency"),
        F("HasOptedOutOfEmail", "boolean", label="Email Opt Out", nillable=False),
        F("Description", "textarea"), *address_fields("", "Address"), *extras.lead(),
        F("IsConverted", "boolean", label="Converted", nillable=False, **converted),
        F("ConvertedDate", "date", **converted),
        F("ConvertedAccountId", "reference", reference_to=["Account"],
          relationship_name="ConvertedAccount", **converted),
        F("ConvertedContactId", "reference", reference_to=["Contact"],
          relationship_name="ConvertedContact", **converted),
        F("ConvertedOpportunityId", "reference", reference_to=["Opportunity"],
          relationship_name="ConvertedOpportunity", **converted),
        *_audit(), _ext_id(),
    ])


def _opportunity() -> SObjectType:
    return SObjectType("Opportunity", "006", [
        _id(), F("Name", "string", length=120, nillable=False),
        F("AccountId", "reference", reference_to=["Account"], relationship_name="Account"),
        F("StageName", "picklist", label="Stage", nillable=False, picklist=STAGES,
          restricted_picklist=True),
        F("CloseDate", "date", nillable=False), F("Amount", "currency"),
        F("Probability", "percent", scale=0), F("Type", "picklist",
                                                picklist=["New Business", "Existing Business"]),
        F("LeadSource", "picklist", picklist=LEAD_SOURCES), F("NextStep", "string"),
        F("IsClosed", "boolean", label="Closed", derive=_is_closed),
        F("IsWon", "boolean", label="Won", derive=lambda r: r.get("StageName") == "Closed Won"),
        F("CampaignId", "reference", reference_to=["Campaign"], relationship_name="Campaign"),
        F("Description", "textarea"), *extras.opportunity(), *_audit(),
    ], label_plural="Opportunities")


def _task() -> SObjectType:
    return SObjectType("Task", "00T", [
        _id(), F("Subject", "string"),
        F("WhoId", "reference", label="Name ID", reference_to=["Contact", "Lead"],
          relationship_name="Who"),
        F("WhatId", "reference", label="Related To ID",
          reference_to=["Account", "Opportunity", "Case", "Campaign"], relationship_name="What"),
        F("ActivityDate", "date", label="Due Date Only"),
        F("Status", "picklist", nillable=False, restricted_picklist=True, default="Not Started",
          picklist=["Not Started", "In Progress", "Completed", "Waiting on someone else",
                    "Deferred"]),
        F("Priority", "picklist", nillable=False, default="Normal",
          picklist=["High", "Normal", "Low"]),
        F("Type", "picklist", picklist=["Call", "Email", "Meeting", "Other"]),
        F("TaskSubtype", "picklist", picklist=["Task", "Email", "Call"]),
        F("CallDurationInSeconds", "int", label="Call Duration"),
        F("IsClosed", "boolean", label="Closed",
          derive=lambda r: r.get("Status") == "Completed"),
        F("Description", "textarea", label="Comments"), *_audit(),
        # An org's own external id on activities (e.g. what wrote each Task from an event).
        _ext_id(),
    ])


def _case() -> SObjectType:
    return SObjectType("Case", "500", [
        _id(), F("CaseNumber", "string", length=30, createable=False, updateable=False),
        F("Subject", "string"), F("Description", "textarea"),
        F("Status", "picklist", nillable=False, restricted_picklist=True, default="New",
          picklist=["New", "Working", "Escalated", "Closed"]),
        F("Priority", "picklist", default="Medium", picklist=["High", "Medium", "Low"]),
        F("Origin", "picklist", label="Case Origin", picklist=["Phone", "Email", "Web"]),
        F("Type", "picklist", picklist=["Question", "Problem", "Feature Request"]),
        F("Reason", "picklist", label="Case Reason", picklist=["Installation", "Performance",
                                                               "Other"]),
        F("AccountId", "reference", reference_to=["Account"], relationship_name="Account"),
        F("ContactId", "reference", reference_to=["Contact"], relationship_name="Contact"),
        F("ParentId", "reference", reference_to=["Case"], relationship_name="Parent"),
        F("SuppliedEmail", "email", label="Web Email"), F("SuppliedName", "string", length=80),
        F("IsClosed", "boolean", label="Closed", derive=lambda r: r.get("Status") == "Closed"),
        F("ClosedDate", "datetime", createable=False, updateable=False), *extras.case(),
        *_audit(),
    ])


def _campaign() -> SObjectType:
    return SObjectType("Campaign", "701", [
        _id(), F("Name", "string", length=80, nillable=False),
        F("Type", "picklist", picklist=["Conference", "Webinar", "Email", "Advertisement"]),
        F("Status", "picklist", picklist=["Planned", "In Progress", "Completed", "Aborted"]),
        F("StartDate", "date"), F("EndDate", "date"),
        F("IsActive", "boolean", label="Active", nillable=False),
        F("BudgetedCost", "currency"), F("ActualCost", "currency"),
        F("ParentId", "reference", reference_to=["Campaign"], relationship_name="Parent"),
        F("Description", "textarea"), *_audit(),
    ])


def _campaign_member() -> SObjectType:
    return SObjectType("CampaignMember", "00v", [
        _id(), F("CampaignId", "reference", nillable=False, reference_to=["Campaign"],
                 relationship_name="Campaign", updateable=False),
        F("LeadId", "reference", reference_to=["Lead"], relationship_name="Lead",
          updateable=False),
        F("ContactId", "reference", reference_to=["Contact"], relationship_name="Contact",
          updateable=False),
        F("Status", "picklist", default="Sent", picklist=["Sent", "Responded"]),
        F("HasResponded", "boolean", label="Responded", nillable=False),
        F("FirstRespondedDate", "date"), *_audit(owner=False),
    ])


def _account_contact_relation() -> SObjectType:
    return SObjectType("AccountContactRelation", "07k", [
        _id(), F("AccountId", "reference", nillable=False, reference_to=["Account"],
                 relationship_name="Account", updateable=False),
        F("ContactId", "reference", nillable=False, reference_to=["Contact"],
          relationship_name="Contact", updateable=False),
        F("IsDirect", "boolean", nillable=False, createable=False, updateable=False),
        F("IsActive", "boolean", label="Active", nillable=False, default=True),
        F("Roles", "multipicklist", picklist=["Business User", "Decision Maker", "Evaluator",
                                              "Influencer", "Technical Buyer"]),
        F("StartDate", "date"), F("EndDate", "date"), *_audit(owner=False),
    ], label="Account Contact Relationship")


def _opportunity_contact_role() -> SObjectType:
    return SObjectType("OpportunityContactRole", "00K", [
        _id(), F("OpportunityId", "reference", nillable=False, reference_to=["Opportunity"],
                 relationship_name="Opportunity", updateable=False),
        F("ContactId", "reference", nillable=False, reference_to=["Contact"],
          relationship_name="Contact"),
        F("Role", "picklist", picklist=["Business User", "Decision Maker", "Economic Buyer",
                                        "Evaluator", "Influencer", "Technical Buyer"]),
        F("IsPrimary", "boolean", label="Primary", nillable=False), *_audit(owner=False),
    ])


def _user() -> SObjectType:
    return SObjectType("User", "005", [
        _id(), F("Username", "string", length=80, nillable=False, unique=True),
        F("FirstName", "string", length=40), F("LastName", "string", length=80, nillable=False),
        F("Name", "string", label="Full Name", length=121, derive=_full_name),
        F("Email", "email", nillable=False), F("Alias", "string", length=8),
        F("IsActive", "boolean", label="Active", nillable=False, default=True),
        F("TimeZoneSidKey", "picklist", label="Time Zone", default="GMT",
          picklist=["GMT", "Europe/Paris", "America/Los_Angeles"]),
        F("Title", "string", length=80), *_audit(owner=False),
    ], deletable=False)


def subscription_object() -> dict[str, Any]:
    """The default custom object, in the same shape callers pass to `custom_objects=`."""
    return {
        "name": "Subscription__c", "label": "Subscription",
        "fields": [
            {"name": "Contact__c", "type": "reference", "referenceTo": ["Contact"]},
            {"name": "Account__c", "type": "reference", "referenceTo": ["Account"]},
            {"name": "Plan__c", "type": "picklist", "restrictedPicklist": True,
             "picklistValues": ["Free", "Starter", "Pro", "Enterprise"]},
            {"name": "Status__c", "type": "picklist", "restrictedPicklist": True,
             "picklistValues": ["Trial", "Active", "Past Due", "Cancelled"]},
            {"name": "Amount__c", "type": "currency"},
            {"name": "Started_On__c", "type": "date"},
            {"name": "Renews_At__c", "type": "datetime"},
            {"name": "Active__c", "type": "boolean"},
            {"name": "External_Key__c", "type": "string", "length": 64, "externalId": True,
             "unique": True},
        ],
    }


def custom_object(spec: Mapping[str, Any], schema: Schema) -> SObjectType:
    """Build a custom object from `{"name", "label", "labelPlural", "fields": [...]}`."""
    name = spec["name"]
    if not name.endswith("__c"):
        raise ValueError(f"custom object {name!r} must end with __c")
    fields = [_id(), F("Name", "string", length=80, label=spec.get("nameLabel", "Name"))]
    fields += [field_from_spec(item) for item in spec.get("fields", [])]
    fields += _audit()
    return SObjectType(name, spec.get("keyPrefix") or schema.next_custom_prefix(), fields,
                       label=spec.get("label", ""), label_plural=spec.get("labelPlural", ""))


def build_schema(
    custom_objects: list[Mapping[str, Any]] | None = None,
    custom_fields: Mapping[str, list[Mapping[str, Any]]] | None = None,
) -> Schema:
    """The standard objects, the default custom object, then the caller's customisations."""
    schema = Schema([
        _account(), _contact(), _lead(), _opportunity(), _task(), _case(), _campaign(),
        _campaign_member(), _account_contact_relation(), _opportunity_contact_role(), _user(),
    ])
    for spec in [subscription_object(), *(custom_objects or [])]:
        schema.add(custom_object(spec, schema))
    for sobject_name, specs in (custom_fields or {}).items():
        sobject = schema.get(sobject_name)
        if sobject is None:
            raise ValueError(f"custom_fields names unknown sObject {sobject_name!r}")
        for spec in specs:
            sobject.add_field(field_from_spec(spec))
    return schema
