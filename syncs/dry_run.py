"""A dry run of an action: what its next reconcile would do to the first hub records it
covers, without writing anything to Salesforce.

The planner of a real run (syncs/planner.py) plans the first `SAMPLE` records exactly as a
reconcile would (`compare=True`): values checked against describe, the matcher query (a read)
run, each record's outcome decided. Nothing is then written, logged, counted as a run or moved
in the outbox; the steps are only described.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connections.client import SalesforceClient
from syncs.actions import Action
from syncs.drain import connection_sources
from syncs.hub_events import hub_for
from syncs.planner import Planner, Step

SAMPLE = 20
# What a step without a result would do, in the words the page uses.
WOULD = {"create": "create", "update": "update", "upsert": "upsert", "delete": "delete"}


@dataclass(frozen=True)
class Preview:
    """One hub record's planned outcome: what would be sent, or why nothing would be."""

    ref: str
    outcome: str  # create, update, upsert, delete, unchanged, skipped, failed
    sf_id: str
    fields: dict[str, Any] = field(default_factory=dict)  # sent values (update: what differs)
    code: str = ""
    reason: str = ""

    @property
    def writes(self) -> bool:
        return self.outcome in WOULD


def dry_run(action: Action, client: SalesforceClient, limit: int = SAMPLE) -> list[Preview]:
    """Plan the first `limit` hub records of the action; write nothing."""
    planner = Planner(action, client.describe,
                      lambda soql: [row for page in client.query_pages(soql) for row in page])
    records = next(hub_for(action, connection_sources(action)).every(limit), [])
    return [_preview(step, planner.external_id) for step in planner.plan(records, compare=True)]


def _preview(step: Step, external_id: str | None) -> Preview:
    if step.result is None:
        values = step.body(external_id)
        values.pop("Id", None)
        return Preview(step.ref, WOULD[step.op], step.sf_id, values,
                       reason=f"by {external_id}" if step.op == "upsert" else "")
    result = step.result
    return Preview(step.ref, result.outcome, step.sf_id, code=result.error_code,
                   reason=result.message)
