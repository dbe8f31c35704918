"""Conflicts of the two-way loop: a field changed in Salesforce and in the hub since the two
sides last exchanged it (syncs/exchanges.py).

The connection's policy names the winner: Salesforce (the default: the single source of
truth), the hub, or the newest change (Salesforce's LastModifiedDate against the hub row's
`updated_at`; a tie goes to Salesforce). Whichever run finds a conflict (a pull or a push)
logs it as a record log of outcome "conflict", code FIELD_CONFLICT, naming the field, both
values and the winner; the winner's value then ends on both sides.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from connections.models import Connection
from mappings.values import parse_datetime
from workspace.items import Outcome, Result

Policy = Connection.ConflictPolicy
SALESFORCE, HUB = "Salesforce", "the hub"
CODE = "FIELD_CONFLICT"


def winner(policy: str, salesforce_at: Any, hub_at: dt.datetime | None) -> str:
    """Who wins a conflict under `policy`: SALESFORCE or HUB."""
    if policy == Policy.HUB:
        return HUB
    if policy == Policy.NEWEST:
        sf_time = salesforce_at if isinstance(salesforce_at, dt.datetime) else \
            parse_datetime(str(salesforce_at or ""))
        if hub_at is not None and (sf_time is None or hub_at > sf_time):
            return HUB
    return SALESFORCE


def conflict(record_id: str, ref: str, field: str, *, salesforce: Any, hub: Any, last: Any,
             won: str, policy: str) -> Result:
    """The record log of one conflict."""
    rule = Policy(policy).label.lower()
    kept = salesforce if won == SALESFORCE else hub
    return Result(record_id, Outcome.CONFLICT, ref, changed=[field], error_code=CODE,
                  message=f"{field} changed on both sides since {last!r} was exchanged: "
                  f"Salesforce has {salesforce!r}, the hub has {hub!r}; {won} wins ({rule}), "
                  f"both sides keep {kept!r}")
