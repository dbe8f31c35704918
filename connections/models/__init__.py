"""The connections app's models, one module each; import them from here.

connection.py: `Connection` (one org: login, tokens, health, API budget); event.py:
`ConnectionEvent` (its recent history); schema_cache.py: `SchemaCache` (describe results);
pending.py: `PendingAuthorization` (an OAuth flow between its start and its callback).
"""

from connections.models.connection import (
    Connection,
    _default_api_version,  # named by migration 0001 as connections.models._default_api_version
)
from connections.models.event import ConnectionEvent
from connections.models.pending import PendingAuthorization
from connections.models.schema_cache import SchemaCache

__all__ = ["Connection", "ConnectionEvent", "PendingAuthorization", "SchemaCache",
           "_default_api_version"]
