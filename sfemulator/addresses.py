"""Compound address fields: one read-only `address` value over writable component fields.

As on a real org (Object Reference, "Compound Fields"; REST API Developer Guide, "Address
Compound Fields"): `MailingAddress` is readable in REST queries and describes as type
`address`, not createable, updateable or filterable; its components (`MailingStreet`, ...,
`MailingLatitude`, `MailingGeocodeAccuracy`) are what clients write, and Bulk queries refuse it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from .schema import Field

GEOCODE_ACCURACIES = ["Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip",
                      "Neighborhood", "City", "County", "State", "Unknown"]
# Component suffix → key in the compound value, in the order Salesforce renders them.
_KEYS = (("City", "city"), ("Country", "country"), ("GeocodeAccuracy", "geocodeAccuracy"),
         ("Latitude", "latitude"), ("Longitude", "longitude"), ("PostalCode", "postalCode"),
         ("State", "state"), ("Street", "street"))


def _compound(prefix: str) -> Callable[[Mapping[str, Any]], dict[str, Any] | None]:
    components = itemgetter(*[prefix + suffix for suffix, _ in _KEYS])
    keys = [key for _, key in _KEYS]
    empty = (None,) * len(_KEYS)

    def derive(record: Mapping[str, Any]) -> dict[str, Any] | None:
        values = components(record)
        return None if values == empty else dict(zip(keys, values, strict=True))

    return derive


def address_fields(prefix: str, compound: str, label: str = "") -> list[Field]:
    """The components of an address (`Mailing` → `MailingStreet`, ...) and its compound field."""
    coordinate = {"scale": 15, "precision": 18}
    return [
        Field(prefix + "Street", "textarea", length=255, filterable=True),
        Field(prefix + "City", "string", length=40),
        Field(prefix + "State", "string", length=80),
        Field(prefix + "PostalCode", "string", length=20),
        Field(prefix + "Country", "string", length=80),
        Field(prefix + "Latitude", "double", **coordinate),
        Field(prefix + "Longitude", "double", **coordinate),
        Field(prefix + "GeocodeAccuracy", "picklist", picklist=GEOCODE_ACCURACIES,
              restricted_picklist=True),
        Field(compound, "address", label=label or compound, derive=_compound(prefix)),
    ]
