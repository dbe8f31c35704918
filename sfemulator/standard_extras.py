"""Standard fields a real org's objects carry that Forcebridge itself does not read.

They make describe as wide as a real Enterprise Edition org's (Object Reference: Account,
Contact, Lead, Opportunity, Case), so clients that choose fields and paths from describe see
what they would see there: read-only system fields, merge and activity fields, phones, fax.
"""

from __future__ import annotations

from .schema import Field

F = Field
_READ_ONLY = {"createable": False, "updateable": False}
CLEAN_STATUSES = ["Matched", "Different", "Acknowledged", "NotFound", "Inactive", "Pending",
                  "SelectMatch", "Skipped"]
SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]


def _viewed() -> list[Field]:
    return [F("LastActivityDate", "date", **_READ_ONLY),
            F("LastViewedDate", "datetime", **_READ_ONLY),
            F("LastReferencedDate", "datetime", **_READ_ONLY)]


def _merged(sobject: str) -> Field:
    return F("MasterRecordId", "reference", reference_to=[sobject],
             relationship_name="MasterRecord", **_READ_ONLY)


def _data_com(id_field: str) -> list[Field]:
    return [F("Jigsaw", "string", label="Data.com Key", length=20),
            F(id_field, "string", length=20, **_READ_ONLY),
            F("CleanStatus", "picklist", picklist=CLEAN_STATUSES, restricted_picklist=True)]


def account() -> list[Field]:
    return [
        _merged("Account"), F("Fax", "phone", label="Account Fax"),
        F("Sic", "string", label="SIC Code", length=20), F("SicDesc", "string", length=80),
        F("Site", "string", label="Account Site", length=80),
        F("TickerSymbol", "string", length=20),
        F("Ownership", "picklist", picklist=["Public", "Private", "Subsidiary", "Other"]),
        F("Rating", "picklist", label="Account Rating", picklist=["Hot", "Warm", "Cold"]),
        F("AccountSource", "picklist", picklist=SOURCES),
        F("DunsNumber", "string", label="D-U-N-S Number", length=9),
        F("Tradestyle", "string", length=255), F("NaicsCode", "string", length=8),
        F("NaicsDesc", "string", length=120), F("YearStarted", "string", length=4),
        F("PhotoUrl", "url", **_READ_ONLY), *_data_com("JigsawCompanyId"), *_viewed(),
    ]


def contact() -> list[Field]:
    return [
        _merged("Contact"), F("Fax", "phone", label="Business Fax"),
        F("HomePhone", "phone"), F("OtherPhone", "phone"),
        F("AssistantName", "string", label="Assistant's Name", length=40),
        F("AssistantPhone", "phone", label="Asst. Phone"),
        F("HasOptedOutOfFax", "boolean", label="Fax Opt Out", nillable=False),
        F("EmailBouncedReason", "string", length=255), F("EmailBouncedDate", "datetime"),
        F("IsEmailBounced", "boolean", nillable=False, **_READ_ONLY),
        F("PhotoUrl", "url", **_READ_ONLY), *_data_com("JigsawContactId"), *_viewed(),
    ]


def lead() -> list[Field]:
    return [
        _merged("Lead"), F("Salutation", "picklist",
                           picklist=["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]),
        F("Fax", "phone"), F("DoNotCall", "boolean", nillable=False),
        F("HasOptedOutOfFax", "boolean", label="Fax Opt Out", nillable=False),
        F("IsUnreadByOwner", "boolean", label="Unread By Owner", nillable=False),
        F("CompanyDunsNumber", "string", label="Company D-U-N-S Number", length=9),
        F("EmailBouncedReason", "string", length=255), F("EmailBouncedDate", "datetime"),
        F("PhotoUrl", "url", **_READ_ONLY), *_data_com("JigsawContactId"), *_viewed(),
    ]


def opportunity() -> list[Field]:
    return [
        F("IsPrivate", "boolean", label="Private", nillable=False),
        F("TotalOpportunityQuantity", "double", label="Quantity"),
        F("ForecastCategoryName", "picklist", label="Forecast Category",
          picklist=["Omitted", "Pipeline", "BestCase", "Forecast", "Closed"],
          restricted_picklist=True),
        F("HasOpportunityLineItem", "boolean", label="Has Line Item", nillable=False,
          **_READ_ONLY),
        F("HasOpenActivity", "boolean", nillable=False, **_READ_ONLY),
        F("HasOverdueTask", "boolean", nillable=False, **_READ_ONLY),
        F("FiscalQuarter", "int", **_READ_ONLY), F("FiscalYear", "int", **_READ_ONLY),
        *_viewed(),
    ]


def case() -> list[Field]:
    return [
        _merged("Case"), F("SuppliedPhone", "string", label="Web Phone", length=40),
        F("SuppliedCompany", "string", label="Web Company", length=80),
        F("IsEscalated", "boolean", label="Escalated", nillable=False),
        F("Comments", "textarea", label="Internal Comments", length=4000),
        F("ContactPhone", "phone", **_READ_ONLY), F("ContactMobile", "phone", **_READ_ONLY),
        F("ContactEmail", "email", **_READ_ONLY), F("ContactFax", "phone", **_READ_ONLY),
        F("IsClosedOnCreate", "boolean", label="Closed When Created", nillable=False,
          **_READ_ONLY),
        F("LastViewedDate", "datetime", **_READ_ONLY),
        F("LastReferencedDate", "datetime", **_READ_ONLY),
    ]
