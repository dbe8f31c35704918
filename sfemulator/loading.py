"""`Org.load`: the fast bulk insert that seeding and the control API's `?load=1` use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import validation

if TYPE_CHECKING:
    from .store import Org


def load(org: Org, sobject: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Insert rows with no API counting, no lookup checks and one lock hold; return their ids.

    Any stored field may be given, audit fields included (to spread CreatedDate); required
    fields and single-field unique values are still enforced, and text values are interned.
    Rules spanning fields (one AccountContactRelation per account and contact) are left to the
    caller: checking them would index every relation of a million-contact seed.
    """
    with org.transaction():
        table = org.table(sobject)
        fields = {f.name.lower(): f for f in table.fields}
        stamp = org.stamp()
        ids = []
        for given in rows:
            values = {}
            for key, value in given.items():
                field = fields.get(key.lower())
                if field is None:
                    raise validation.no_such_column(table, key)
                values[field.name] = validation.fast_value(field, value)
            record_id = org.ids.new(table.sobject.key_prefix)
            row = org.new_row(table, record_id, stamp, values)
            validation.check_required(table, row, None)
            validation.check_unique(table, record_id, row)
            org.put_row(table, record_id, row)
            ids.append(record_id)
        return ids
