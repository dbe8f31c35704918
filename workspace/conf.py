"""Defaults of the inbound API's settings; config/settings.py reads and validates them."""

from __future__ import annotations

DEFAULTS: dict[str, int] = {
    # Messages per second one API key may send (a batch counts each of its messages); above
    # it the API answers 429 with Retry-After. Shared by every web process through the
    # database (`ApiKey.take`).
    "FORCEBRIDGE_API_RATE_LIMIT": 5000,
}
